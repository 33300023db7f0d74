"""Programs: random sequences of session operations, run on both libraries.

A program is a list of *operations* drawn by Hypothesis.  Operations refer to
objects through *handles*: the variables ``u0``, ``a1``, ``k2``... a program
creates (``u0 = User(name='ann')``) or that receive objects the session
returns (``u5 = _r`` after ``_r = session.get(User, 2)``).  Drawn operations
hold plain integers where they need a handle; :meth:`Op.bind` turns them into
a :class:`Step` with the handle names filled in (``n % len(candidates)``), or
None when the program has no object of the needed kind yet, so every drawn
list is a valid program and shrinking needs no care.

A step is Python source.  :class:`Runner` ``exec``-utes that same source in a
namespace holding one library's ``Session``, loader options and models, so
the script printed for a failing example (:func:`render_script`) is exactly
what ran on both sides.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import delete, event, select, text, update

from .models import COLUMNS, MODEL_NAMES, RELATIONSHIPS, SETTABLE, Models

PREFIX = {"User": "u", "Address": "a", "Note": "n", "Keyword": "k"}

#: values a program may give each attribute (None included where it means something)
VALUES: dict[tuple[str, str], list[Any]] = {
    ("User", "name"): ["ann", "bob", "cy", None],
    ("User", "nickname"): ["x", "y", None],
    ("User", "age"): [0, 1, 2, 3, None],
    ("Address", "email"): ["e1", "e2", "e3", None],
    ("Address", "user_id"): [1, 2, 3, None],
    ("Note", "text"): ["t1", "t2", None],
    ("Note", "user_id"): [1, 2, None],
    ("Keyword", "weight"): [0, 1, 2, None],
    ("Keyword", "word"): ["a", "b", "c"],
}
#: attributes a program may assign on an existing object
ASSIGNABLE: dict[str, tuple[str, ...]] = {
    "User": SETTABLE["User"],
    "Address": (*SETTABLE["Address"], "user_id"),
    "Note": (*SETTABLE["Note"], "user_id"),
    "Keyword": (*SETTABLE["Keyword"], "word"),
}
#: constructor arguments of a new object: (always given, sometimes given)
CONSTRUCTOR: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "User": (("name",), ("nickname", "age")),
    "Address": (("email",), ()),
    "Note": ((), ("text",)),
    "Keyword": (("word",), ("weight",)),
}
#: loader options per model, as source
LOADER_OPTIONS: dict[str, list[str]] = {
    "User": [
        "selectinload(User.addresses)",
        "joinedload(User.addresses)",
        "selectinload(User.keywords)",
        "joinedload(User.notes)",
    ],
    "Address": ["joinedload(Address.user)", "selectinload(Address.user)"],
    "Note": ["joinedload(Note.author)"],
    "Keyword": ["selectinload(Keyword.users)"],
}
#: WHERE criteria per model; "{User}" is replaced by a User handle
CRITERIA: dict[str, list[str]] = {
    "User": [
        "User.age >= 1",
        "User.name == 'ann'",
        "User.nickname.is_(None)",
        "User.addresses.any()",
        "User.keywords.any(Keyword.word == 'a')",
    ],
    "Address": [
        "Address.email == 'e1'",
        "Address.user_id == 1",
        "Address.user_id.is_(None)",
        "Address.user == {User}",
    ],
    "Note": ["Note.text == 't1'", "Note.author == {User}"],
    "Keyword": ["Keyword.word == 'a'", "Keyword.weight >= 1", "Keyword.users.any()"],
}
#: SET clauses of UPDATE statements per model
UPDATE_VALUES: dict[str, list[str]] = {
    "User": ["nickname='z'", "age=User.age + 1", "name='bob'"],
    "Address": ["email='e3'", "user_id=None"],
    "Note": ["text='t9'"],
    "Keyword": ["weight=Keyword.weight + 1", "word='z'"],
}
PK_ORDER = {
    "User": "User.id", "Address": "Address.id", "Note": "Note.id", "Keyword": "Keyword.word"
}
IDENTS: dict[str, list[Any]] = {
    "User": [1, 2, 3, 4],
    "Address": [1, 2, 3],
    "Note": [1, 2],
    "Keyword": ["a", "b", "c"],
}
SYNC = ["auto", False, "evaluate", "fetch"]
#: plain SQL strings (session_ext runs them as text(); SQLAlchemy needs text())
SQL_STRINGS = [
    "UPDATE users SET age = 1 WHERE age IS NULL",
    "UPDATE addresses SET email = 'e9'",
    "DELETE FROM notes",
]
CONNECTION_OPTIONS = ['{"isolation_level": "SERIALIZABLE"}', '{"logging_token": "t"}']
#: how the program's Session is made (shrinks towards the defaults)
SESSION_KWARGS = ["", ", autoflush=False", ", expire_on_commit=False"]


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class Step:
    """One bound operation: the source both libraries run.

    ``result`` says what the statement leaves in ``_r`` for comparison:
    "none", or "value" (compared as is, mapped objects as handle names; new
    objects become handles).  ``sa_code`` replaces ``code`` on SQLAlchemy for
    a kept difference named by ``tolerance`` (see tolerances.py).
    """

    kind: str
    code: str
    result: str = "none"
    handles: tuple[str, ...] = ()
    sa_code: str | None = None
    tolerance: str | None = None
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    def code_for(self, library: str) -> str:
        if library == "sqlalchemy" and self.sa_code is not None:
            return self.sa_code
        return self.code

    @property
    def defines(self) -> tuple[str, ...]:
        """Handles the step's own source assigns (``u3 = User(...)``)."""
        return self.handles if self.kind in ("new", "new+add") else ()


@dataclass
class HandleView:
    """What binding needs to know of the program so far (same on both sides)."""

    names: list[str]
    models: dict[str, str]
    in_nested: bool = False
    has_old_session: bool = False
    may_keep_old: bool = True

    def of(self, model: str) -> list[str]:
        return [n for n in self.names if self.models[n] == model]

    def pick(self, model: str, n: int) -> str | None:
        candidates = self.of(model)
        return candidates[n % len(candidates)] if candidates else None

    def pick_any(self, n: int) -> str | None:
        return self.names[n % len(self.names)] if self.names else None


class Op:
    """A drawn operation; ``bind`` makes it a Step (or None: skip it)."""

    def bind(self, hv: HandleView, new_name: Callable[[str], str]) -> Step | None:
        raise NotImplementedError


def _kwargs(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())


@dataclass(frozen=True)
class New(Op):
    model: str
    values: tuple[tuple[str, Any], ...]
    add: bool

    def bind(self, hv, new_name):
        name = new_name(self.model)
        code = f"{name} = {self.model}({_kwargs(dict(self.values))})"
        if self.add:
            code += f"\nsession.add({name})"
        return Step("new+add" if self.add else "new", code, handles=(name,),
                    info={"model": self.model})


@dataclass(frozen=True)
class OnObject(Op):
    """An operation on one object of any model: ``session.<verb>(obj)``."""

    verb: str  # add, delete, expunge
    h: int

    def bind(self, hv, new_name):
        name = hv.pick_any(self.h)
        if name is None:
            return None
        return Step(self.verb, f"session.{self.verb}({name})", handles=(name,),
                    info={"model": hv.models[name]})


@dataclass(frozen=True)
class SetAttr(Op):
    model: str
    attr: str
    value: Any
    h: int

    def bind(self, hv, new_name):
        name = hv.pick(self.model, self.h)
        if name is None:
            return None
        return Step("set_attr", f"{name}.{self.attr} = {self.value!r}", handles=(name,),
                    info={"model": self.model, "attr": self.attr})


@dataclass(frozen=True)
class ReadAttr(Op):
    model: str
    attr: str
    h: int

    def bind(self, hv, new_name):
        name = hv.pick(self.model, self.h)
        if name is None:
            return None
        return Step("read_attr", f"_r = {name}.{self.attr}", "value", handles=(name,),
                    info={"model": self.model, "attr": self.attr})


@dataclass(frozen=True)
class ExpireOrRefresh(Op):
    verb: str  # expire, refresh
    model: str
    attr: str | None
    h: int

    def bind(self, hv, new_name):
        name = hv.pick(self.model, self.h)
        if name is None:
            return None
        attrs = "" if self.attr is None else f", [{self.attr!r}]"
        return Step(self.verb, f"session.{self.verb}({name}{attrs})", handles=(name,),
                    info={"model": self.model, "attr": self.attr})


@dataclass(frozen=True)
class Merge(Op):
    h: int
    load: bool

    def bind(self, hv, new_name):
        name = hv.pick_any(self.h)
        if name is None:
            return None
        load = "" if self.load else ", load=False"
        return Step("merge" if self.load else "merge_noload", f"_r = session.merge({name}{load})",
                    "value", handles=(name,), info={"model": hv.models[name]})


@dataclass(frozen=True)
class IsModified(Op):
    h: int

    def bind(self, hv, new_name):
        name = hv.pick_any(self.h)
        if name is None:
            return None
        return Step("is_modified", f"_r = session.is_modified({name})", "value", handles=(name,))


@dataclass(frozen=True)
class Simple(Op):
    """A session method without arguments (flush, commit, rollback...)."""

    code: str

    def bind(self, hv, new_name):
        if self.code.startswith("session.get_nested_transaction()") and not hv.in_nested:
            return None
        kind = self.code.removeprefix("session.").replace("()", "").replace(".", "_")
        return Step(kind, self.code)


@dataclass(frozen=True)
class NewSession(Op):
    """Close the session (or keep it, rolled back, as ``old_session``) and
    continue in a new one: the program's objects are now detached (or
    attached to the old session)."""

    keep_old: bool

    def bind(self, hv, new_name):
        if self.keep_old and hv.may_keep_old:
            lines = ["old_session.close()"] if hv.has_old_session else []
            lines += ["session.rollback()", "old_session = session"]
            kind = "new_session_keep_old"
        else:
            lines = ["session.close()"]
            kind = "new_session"
        lines.append("session = Session(engine{session_kwargs})")
        # a session closed after a failed flush is kept alive by a reference
        # cycle (the error's traceback) in both libraries, until gc runs: the
        # objects whose DELETE it flushed report "deleted" until then
        lines.append("gc.collect()")
        return Step(kind, "\n".join(lines))


@dataclass(frozen=True)
class Get(Op):
    model: str
    ident: Any
    option: str | None
    populate_existing: bool

    def bind(self, hv, new_name):
        extra = ""
        if self.option is not None:
            extra += f", options=[{self.option}]"
        if self.populate_existing:
            extra += ", populate_existing=True"
        return Step("get", f"_r = session.get({self.model}, {self.ident!r}{extra})", "value",
                    info={"model": self.model, "option": self.option,
                          "populate_existing": self.populate_existing})


def _criterion(model: str, index: int | None, h: int, hv: HandleView) -> str | None:
    """The source of a WHERE criterion, "" for none, None if a handle is missing."""
    if index is None:
        return ""
    crit = CRITERIA[model][index % len(CRITERIA[model])]
    if "{User}" in crit:
        user = hv.pick("User", h)
        if user is None:
            return None
        crit = crit.replace("{User}", user)
    return crit


@dataclass(frozen=True)
class Select(Op):
    model: str
    criterion: int | None
    h: int
    option: str | None
    unique: bool

    def bind(self, hv, new_name):
        crit = _criterion(self.model, self.criterion, self.h, hv)
        if crit is None:
            return None
        stmt = f"select({self.model})"
        if crit:
            stmt += f".where({crit})"
        stmt += f".order_by({PK_ORDER[self.model]})"
        if self.option:
            stmt += f".options({self.option})"
        unique = ".unique()" if self.unique else ""
        return Step("select", f"_r = session.scalars({stmt}){unique}.all()", "value",
                    info={"model": self.model, "criterion": crit, "option": self.option})


def _sync_option(sync: Any) -> str:
    if sync == "auto":
        return ""
    return f', execution_options={{"synchronize_session": {sync!r}}}'


@dataclass(frozen=True)
class DmlUpdate(Op):
    model: str
    criterion: int | None
    h: int
    values: int
    sync: Any

    def bind(self, hv, new_name):
        crit = _criterion(self.model, self.criterion, self.h, hv)
        if crit is None:
            return None
        vals = UPDATE_VALUES[self.model][self.values % len(UPDATE_VALUES[self.model])]
        stmt = f"update({self.model})"
        if crit:
            stmt += f".where({crit})"
        stmt += f".values({vals})"
        return Step("dml_update",
                    f"_r = session.execute({stmt}{_sync_option(self.sync)}).rowcount", "value",
                    info={"model": self.model, "criterion": crit, "sync": self.sync,
                          "values": vals})


@dataclass(frozen=True)
class DmlDelete(Op):
    model: str
    criterion: int | None
    h: int
    sync: Any

    def bind(self, hv, new_name):
        crit = _criterion(self.model, self.criterion, self.h, hv)
        if crit is None:
            return None
        stmt = f"delete({self.model})" + (f".where({crit})" if crit else "")
        return Step("dml_delete",
                    f"_r = session.execute({stmt}{_sync_option(self.sync)}).rowcount", "value",
                    info={"model": self.model, "criterion": crit, "sync": self.sync})


@dataclass(frozen=True)
class ExecuteSQL(Op):
    """A plain SQL string: session_ext runs it as text() (a kept difference),
    SQLAlchemy is given the text() it requires."""

    sql: str

    def bind(self, hv, new_name):
        return Step("execute_sql", f"_r = session.execute({self.sql!r}).rowcount", "value",
                    sa_code=f"_r = session.execute(text({self.sql!r})).rowcount",
                    tolerance="plain-sql-strings")


@dataclass(frozen=True)
class Connection(Op):
    options: str

    def bind(self, hv, new_name):
        return Step("connection", f"session.connection(execution_options={self.options})",
                    info={"options": self.options})


def _parent_child(rel_owner: str, rel: str) -> str:
    return RELATIONSHIPS[rel_owner][rel][0]


@dataclass(frozen=True)
class Append(Op):
    model: str
    rel: str
    parent: int
    child: int
    remove: bool

    def bind(self, hv, new_name):
        parent = hv.pick(self.model, self.parent)
        child = hv.pick(_parent_child(self.model, self.rel), self.child)
        if parent is None or child is None:
            return None
        verb = "remove" if self.remove else "append"
        return Step(f"collection_{verb}", f"{parent}.{self.rel}.{verb}({child})",
                    handles=(parent, child), info={"model": self.model, "rel": self.rel})


@dataclass(frozen=True)
class Pop(Op):
    model: str
    rel: str
    parent: int
    index: int

    def bind(self, hv, new_name):
        parent = hv.pick(self.model, self.parent)
        if parent is None:
            return None
        return Step("collection_pop", f"_r = {parent}.{self.rel}.pop({self.index})", "value",
                    handles=(parent,), info={"model": self.model, "rel": self.rel})


@dataclass(frozen=True)
class ReplaceCollection(Op):
    model: str
    rel: str
    parent: int
    children: tuple[int, ...]

    def bind(self, hv, new_name):
        parent = hv.pick(self.model, self.parent)
        if parent is None:
            return None
        target = _parent_child(self.model, self.rel)
        children = []
        for c in self.children:
            name = hv.pick(target, c)
            if name is None:
                return None
            if name not in children:
                children.append(name)
        return Step("collection_replace", f"{parent}.{self.rel} = [{', '.join(children)}]",
                    handles=(parent, *children), info={"model": self.model, "rel": self.rel})


@dataclass(frozen=True)
class SetScalar(Op):
    model: str
    rel: str
    child: int
    parent: int | None

    def bind(self, hv, new_name):
        child = hv.pick(self.model, self.child)
        if child is None:
            return None
        if self.parent is None:
            target = "None"
        else:
            target = hv.pick(_parent_child(self.model, self.rel), self.parent)
            if target is None:
                return None
        return Step("scalar_set", f"{child}.{self.rel} = {target}", handles=(child,),
                    info={"model": self.model, "rel": self.rel, "to_none": target == "None"})


# --------------------------------------------------------------------------- strategies

_handle = st.integers(0, 31)
_models = st.sampled_from(MODEL_NAMES)


@st.composite
def _new(draw: Any) -> New:
    model = draw(_models)
    required, optional = CONSTRUCTOR[model]
    values = [(a, draw(st.sampled_from(VALUES[(model, a)]))) for a in required]
    for a in optional:
        if draw(st.booleans()):
            values.append((a, draw(st.sampled_from(VALUES[(model, a)]))))
    return New(model, tuple(values), draw(st.booleans().map(lambda b: not b)))


@st.composite
def _set_attr(draw: Any) -> SetAttr:
    model = draw(_models)
    attr = draw(st.sampled_from(ASSIGNABLE[model]))
    return SetAttr(model, attr, draw(st.sampled_from(VALUES[(model, attr)])), draw(_handle))


def _all_attrs(model: str) -> tuple[str, ...]:
    return COLUMNS[model] + tuple(RELATIONSHIPS[model])


@st.composite
def _read_attr(draw: Any) -> ReadAttr:
    model = draw(_models)
    return ReadAttr(model, draw(st.sampled_from(_all_attrs(model))), draw(_handle))


@st.composite
def _expire_refresh(draw: Any) -> ExpireOrRefresh:
    model = draw(_models)
    attr = draw(st.none() | st.sampled_from(_all_attrs(model)))
    return ExpireOrRefresh(draw(st.sampled_from(["expire", "refresh"])), model, attr,
                           draw(_handle))


@st.composite
def _get(draw: Any) -> Get:
    model = draw(_models)
    return Get(model, draw(st.sampled_from(IDENTS[model])),
               draw(st.none() | st.sampled_from(LOADER_OPTIONS[model])), draw(st.booleans()))


_criterion_index = st.none() | st.integers(0, 7)


@st.composite
def _select(draw: Any) -> Select:
    model = draw(_models)
    return Select(model, draw(_criterion_index), draw(_handle),
                  draw(st.none() | st.sampled_from(LOADER_OPTIONS[model])),
                  draw(st.booleans().map(lambda b: not b)))


@st.composite
def _dml(draw: Any) -> Op:
    model = draw(_models)
    crit, h, sync = draw(_criterion_index), draw(_handle), draw(st.sampled_from(SYNC))
    if draw(st.booleans()):
        return DmlDelete(model, crit, h, sync)
    return DmlUpdate(model, crit, h, draw(st.integers(0, 3)), sync)


_relationships = [
    (model, rel, many) for model, rels in RELATIONSHIPS.items() for rel, (_, many) in rels.items()
]
_collections = [(m, r) for m, r, many in _relationships if many]
_scalars = [(m, r) for m, r, many in _relationships if not many]


@st.composite
def _collection_op(draw: Any) -> Op:
    model, rel = draw(st.sampled_from(_collections))
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return Append(model, rel, draw(_handle), draw(_handle), remove=False)
    if kind == 1:
        return Append(model, rel, draw(_handle), draw(_handle), remove=True)
    if kind == 2:
        return Pop(model, rel, draw(_handle), draw(st.integers(0, 2)))
    return ReplaceCollection(model, rel, draw(_handle),
                             tuple(draw(st.lists(_handle, max_size=3))))


@st.composite
def _scalar_op(draw: Any) -> SetScalar:
    model, rel = draw(st.sampled_from(_scalars))
    return SetScalar(model, rel, draw(_handle), draw(st.none() | _handle))


SIMPLE = [
    "session.flush()",
    "session.commit()",
    "session.rollback()",
    "session.begin_nested()",
    "session.get_nested_transaction().commit()",
    "session.get_nested_transaction().rollback()",
    "session.expire_all()",
    "session.expunge_all()",
    "session.close()",
]

operations = st.one_of(
    _new(),
    _set_attr(),
    st.sampled_from(SIMPLE).map(Simple),
    st.builds(OnObject, st.sampled_from(["add", "delete", "expunge"]), _handle),
    _collection_op(),
    _scalar_op(),
    _read_attr(),
    _expire_refresh(),
    _get(),
    _select(),
    _dml(),
    st.builds(Merge, _handle, st.booleans().map(lambda b: not b)),
    st.builds(NewSession, st.booleans()),
    st.builds(IsModified, _handle),
    st.sampled_from(SQL_STRINGS).map(ExecuteSQL),
    st.sampled_from(CONNECTION_OPTIONS).map(Connection),
)


@dataclass(frozen=True)
class Program:
    """The drawn program: how the Session is made, then (operation, recover) pairs.

    ``recover``: after a step that raised on both libraries, roll the session back.
    """

    session_kwargs: str
    ops: tuple[tuple[Op, bool], ...]


def programs(max_steps: int) -> st.SearchStrategy[Program]:
    """Programs of up to ``max_steps`` operations (the length is drawn first:
    ``st.lists`` alone would favour very short programs)."""
    step = st.tuples(operations, st.booleans().map(lambda b: not b))
    return st.builds(
        Program,
        st.sampled_from(SESSION_KWARGS),
        st.integers(0, max_steps).flatmap(
            lambda n: st.lists(step, min_size=n, max_size=n).map(tuple)
        ),
    )


# --------------------------------------------------------------------------- running


class Raised:
    """The outcome of a step that raised: compared by class name."""

    def __init__(self, error: BaseException) -> None:
        # the message only: the error's traceback would keep the session alive
        self.message = str(error).split("\n")[0][:160]
        self.name = type(error).__name__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Raised) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"raised {self.name}({self.message!r})"


def library_namespace(library: str, models: Models) -> dict[str, Any]:
    """The names a program's source uses, bound to one library."""
    if library == "sqlalchemy":
        from sqlalchemy import inspect
        from sqlalchemy.orm import Session, joinedload, selectinload
    else:
        from session_ext import Session, inspect, joinedload, selectinload
    return {
        "Session": Session,
        "inspect": inspect,
        "joinedload": joinedload,
        "selectinload": selectinload,
        "select": select,
        "update": update,
        "delete": delete,
        "text": text,
        "gc": gc,
        **{name: models.model(name) for name in MODEL_NAMES},
    }


_code_cache: dict[str, Any] = {}


def _compiled(source: str) -> Any:
    code = _code_cache.get(source)
    if code is None:
        code = _code_cache[source] = compile(source, "<program step>", "exec")
    return code


class Runner:
    """Runs a program's steps on one library's session and database."""

    def __init__(self, library: str, models: Models, engine: Any, session_kwargs: str) -> None:
        self.library = library
        self.models = models
        self.engine = engine
        self.session_kwargs = session_kwargs
        self.checked_out = 0
        event.listen(engine, "checkout", self._on_checkout)
        event.listen(engine, "checkin", self._on_checkin)
        self.ns: dict[str, Any] = library_namespace(library, models)
        self.ns.update(engine=engine, old_session=None, _r=None)
        self.handles: list[str] = []
        self.exec_source(f"session = Session(engine{session_kwargs})")

    def _on_checkout(self, *args: Any) -> None:
        self.checked_out += 1

    def _on_checkin(self, *args: Any) -> None:
        self.checked_out -= 1

    @property
    def session(self) -> Any:
        return self.ns["session"]

    @property
    def old_session(self) -> Any:
        return self.ns["old_session"]

    def obj(self, name: str) -> Any:
        return self.ns[name]

    def exec_source(self, source: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(_compiled(source.replace("{session_kwargs}", self.session_kwargs)), self.ns)

    def run(self, step: Step) -> Any:
        """Run one step: its ``_r`` (see :meth:`describe`) or a :class:`Raised`."""
        self.ns["_r"] = None
        try:
            self.exec_source(step.code_for(self.library))
        except Exception as error:  # compared with the other library's outcome
            return Raised(error)
        self.handles.extend(step.defines)
        return self.ns["_r"] if step.result != "none" else None

    def close(self) -> None:
        for name in ("session", "old_session"):
            session = self.ns.get(name)
            if session is not None:
                try:
                    session.close()
                except Exception:  # the comparison already saw what went wrong
                    pass
        event.remove(self.engine, "checkout", self._on_checkout)
        event.remove(self.engine, "checkin", self._on_checkin)


# --------------------------------------------------------------------------- rendering

SCRIPT_HEADER = '''\
# A differential-test program (tests/differential); run it from the repository root
# with LIBRARY set to either library and compare the output.
import gc  # noqa: F401
import sys

sys.path.insert(0, "tests")
from sqlalchemy import create_engine, delete, select, text, update  # noqa: E402
from sqlalchemy.pool import StaticPool  # noqa: E402, F401

from differential.models import build_models  # noqa: E402
from session_ext.engines import configure_sqlite  # noqa: E402  (pure Core event listeners)

LIBRARY = "session_ext"  # or "sqlalchemy"
if LIBRARY == "sqlalchemy":
    from sqlalchemy import inspect
    from sqlalchemy.orm import Session, joinedload, selectinload
else:
    from session_ext import Session, inspect, joinedload, selectinload

models = build_models(LIBRARY)
User, Address, Note, Keyword = models.User, models.Address, models.Note, models.Keyword
engine = configure_sqlite(create_engine({url!r}{engine_kwargs}))
models.metadata.drop_all(engine)
models.metadata.create_all(engine)
old_session = None
session = Session(engine{session_kwargs})
'''


def render_script(
    url: str,
    engine_kwargs: str,
    session_kwargs: str,
    lines: list[str],
) -> str:
    """A program as a script that runs on either library."""
    header = SCRIPT_HEADER.format(url=url, engine_kwargs=engine_kwargs,
                                  session_kwargs=session_kwargs)
    return header + "\n".join(lines) + "\n"
