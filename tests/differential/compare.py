"""Observation and comparison: run a program on both libraries in lockstep.

After every step :func:`observe` records, for one library, what a user can
see without making the session do anything (no attribute loads, no
autoflush):

* the outcome of the step: its result (mapped objects as handle names) or the
  class name of the exception it raised;
* the rows of every table, read on a connection of the test's own (see
  conftest.py: committed rows on SQLite files and PostgreSQL, the session's
  own uncommitted rows on in-memory SQLite, whose one connection is shared);
* ``in_transaction()``, ``in_nested_transaction()``, the connections checked
  out of the engine's pool, and ``session.new`` / ``dirty`` / ``deleted``;
* for every object a handle refers to: which handles are the same object, its
  lifecycle state (transient/pending/persistent/deleted/detached, from the
  library's ``inspect()``), identity, session, and each attribute's loaded
  value from the object's ``__dict__`` ("<not loaded>" when absent; an
  unloaded relationship of a transient or pending object counts as the empty
  value an access would return without SQL).

:func:`run_program` compares the two observations after every step and
returns the first :class:`Difference`, with the program so far as a script.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from .models import COLUMNS, MODEL_NAMES, RELATIONSHIPS
from .program import PREFIX, HandleView, Program, Raised, Runner, Step, render_script

UNLOADED = "<not loaded>"
STATES = ("transient", "pending", "persistent", "deleted", "detached")


# --------------------------------------------------------------------------- describing values


def _model_name(rt: Runner, value: Any) -> str | None:
    name = type(value).__name__
    if name in MODEL_NAMES and type(value) is rt.models.model(name):
        return name
    return None


class Refs:
    """Mapped objects as handle names ("u3"), or "new User" for objects no
    handle refers to yet (numbered when several are in one value)."""

    def __init__(self, rt: Runner) -> None:
        self.rt = rt
        self.names: dict[int, str] = {}
        for name in rt.handles:
            self.names.setdefault(id(rt.obj(name)), name)
        self.new: dict[int, str] = {}

    def of(self, obj: Any) -> str:
        name = self.names.get(id(obj))
        if name is not None:
            return name
        known = self.new.get(id(obj))
        if known is None:
            known = self.new[id(obj)] = f"new {type(obj).__name__} #{len(self.new) + 1}"
        return known

    def describe(self, value: Any) -> Any:
        if isinstance(value, Raised):
            return value
        if _model_name(self.rt, value) is not None:
            return self.of(value)
        if isinstance(value, list | tuple):
            return [self.describe(v) for v in value]
        return value


def describe(rt: Runner, value: Any) -> Any:
    return Refs(rt).describe(value)


# --------------------------------------------------------------------------- observing


def lifecycle(rt: Runner, obj: Any) -> tuple[str, Any, str | None]:
    """(state name, identity, which session) through the library's inspect()."""
    insp = rt.ns["inspect"](obj)
    flags = [s for s in STATES if getattr(insp, s)]
    state = "+".join(flags) or "none"
    session = insp.session
    if session is None:
        where = None
    elif session is rt.session:
        where = "session"
    elif session is rt.old_session:
        where = "old_session"
    else:
        where = "another session"
    identity = insp.identity
    return state, tuple(identity) if identity is not None else None, where


def observe(rt: Runner, read_rows: Any) -> dict[str, Any]:
    """What one library shows after a step, by observation key."""
    session = rt.session
    refs = Refs(rt)
    obs: dict[str, Any] = {
        "session.in_transaction()": session.in_transaction(),
        "session.in_nested_transaction()": session.in_nested_transaction(),
        "connections checked out": rt.checked_out,
    }
    for table, rows in read_rows().items():
        obs[f"rows of {table}"] = rows
    for collection in ("new", "dirty", "deleted"):
        obs[f"session.{collection}"] = sorted(refs.of(o) for o in getattr(session, collection))
    for name in rt.handles:
        obj = rt.obj(name)
        same = refs.of(obj)
        obs[f"{name} is"] = same
        if same != name:
            continue  # observed under its first handle
        model = type(obj).__name__
        state, identity, where = lifecycle(rt, obj)
        obs[f"state of {name}"] = state
        obs[f"identity of {name}"] = identity
        obs[f"session of {name}"] = where
        d = obj.__dict__
        for col in COLUMNS[model]:
            obs[f"{name}.{col}"] = d.get(col, UNLOADED)
        for rel, (_, uselist) in RELATIONSHIPS[model].items():
            if rel in d:
                value = refs.describe(list(d[rel]) if uselist and d[rel] is not None else d[rel])
            elif state in ("transient", "pending"):
                value = [] if uselist else None
            else:
                value = UNLOADED
            obs[f"{name}.{rel}"] = value
    return obs


def show_expression(key: str) -> str:
    """Source that prints an observation in the rendered script."""
    if key.startswith("state of "):
        name = key.removeprefix("state of ")
        return (f"print([s for s in {STATES!r} if getattr(inspect({name}), s)])")
    if key.startswith(("identity of ", "session of ")):
        attr, name = key.split(" of ")
        return f"print(inspect({name}).{attr})"
    if key.startswith("session."):
        return f"print({key})"
    if key.startswith("rows of "):
        table = key.removeprefix("rows of ")
        return f"print(session.connection().exec_driver_sql('SELECT * FROM {table}').all())"
    if key.endswith(" is"):
        return f"print({key.removesuffix(' is')})"
    if "." in key and " " not in key:
        name, attr = key.split(".", 1)
        return f"print({name}.__dict__.get({attr!r}, {UNLOADED!r}))"
    return f"# ({key}: see the failure message)"


# --------------------------------------------------------------------------- the lockstep run


@dataclass
class Difference:
    """What differs between the two libraries after a step: ``diffs`` maps
    each differing observation key to (sqlalchemy value, session_ext value)."""

    diffs: dict[str, tuple[Any, Any]]
    step: Step
    steps: list[Step]  # the program so far, this step last
    masked_before: set[str]  # keys tolerated (masked) after the previous step
    raised: str | None = None  # the exception class both libraries raised in the step
    observed: dict[str, Any] = field(default_factory=dict)  # SQLAlchemy's observation
    script: str = ""

    def signature(self) -> str:
        """The kind of difference, without handle names: groups equal findings."""
        keys = sorted({_generic_key(k) for k in self.diffs})
        return f"{self.step.kind}: {', '.join(keys)}"

    def report(self) -> str:
        out = [f"The libraries differ after step {self.step.code!r}:"]
        for key, (a, b) in list(self.diffs.items())[:12]:
            out.append(f"  {key}:\n    sqlalchemy:  {a!r}\n    session_ext: {b!r}")
        if len(self.diffs) > 12:
            out.append(f"  ... and {len(self.diffs) - 12} more")
        out.append("\nProgram (save it to a file and run it from the repository root):\n")
        out.append(self.script)
        return "\n".join(out)


def _generic_key(key: str) -> str:
    """"u3.name" -> "User.name", "state of a2" -> "state of Address"."""
    models = {v: k for k, v in PREFIX.items()}

    def generic(name: str) -> str:
        head = name.rstrip("0123456789")
        return models.get(head, name) if head != name else name

    if " of " in key:
        what, name = key.split(" of ")
        return f"{what} of {generic(name)}"
    if key.endswith(" is"):
        return "object identity"
    if "." in key and " " not in key and not key.startswith("session."):
        name, attr = key.split(".", 1)
        return f"{generic(name)}.{attr}"
    return key


class Judge:
    """Decides what to do with a difference (see tolerances.py):
    ``mask(diff)`` returns the keys to ignore and go on; ``explain(diff)``
    names a tolerance that ends the example, or None (a failure)."""

    def mask(self, diff: Difference) -> set[str]:
        return set()

    def explain(self, diff: Difference) -> str | None:
        return None


@dataclass
class Outcome:
    difference: Difference | None = None  # an unexplained difference: the test fails
    tolerated: str | None = None  # the tolerance that ended the program early
    masked: set[str] = field(default_factory=set)  # tolerances that masked a step
    steps: int = 0  # steps run


@dataclass
class Database:
    """One library's database for one example (made by conftest.py)."""

    engine: Any
    read_rows: Any  # () -> {table: sorted rows}
    url: str  # for the script
    engine_kwargs: str  # source, for the script


def _render_step(step: Step, sa_out: Any, se_out: Any, session_kwargs: str) -> list[str]:
    code = step.sa_code if step.sa_code is not None else step.code
    code = code.replace("{session_kwargs}", session_kwargs)
    raised = isinstance(sa_out, Raised) or isinstance(se_out, Raised)
    if raised:
        lines = ["try:"]
        lines += ["    " + line for line in code.split("\n")]
        lines.append("except Exception as error:")
        lines.append(f"    # sqlalchemy: {_short(sa_out)}; session_ext: {_short(se_out)}")
        lines.append("    print(repr(error))")
        return lines
    lines = code.split("\n")
    if step.result != "none":
        if sa_out == se_out:
            lines[-1] += f"  # -> {_short(sa_out)}"
        else:
            lines[-1] += f"  # sqlalchemy -> {_short(sa_out)}; session_ext -> {_short(se_out)}"
    return lines


def _short(value: Any) -> str:
    if isinstance(value, Raised):
        return f"raises {value.name}"
    return repr(value)


def _registrations(described: Any, rt: Runner, new_name: Any) -> list[str]:
    """``u7 = _r`` / ``u7 = _r[2]`` for each new object in a step's result."""
    lines: list[str] = []
    seen: dict[str, str] = {}
    value = rt.ns["_r"]
    if isinstance(described, str) and described.startswith("new "):
        lines.append(f"{new_name(type(value).__name__)} = _r")
    elif isinstance(described, list):
        for i, item in enumerate(described):
            if isinstance(item, str) and item.startswith("new ") and item not in seen:
                seen[item] = new_name(type(value[i]).__name__)
                lines.append(f"{seen[item]} = _r[{i}]")
    return lines


def run_program(
    program: Program,
    sa_rt: Runner,
    se_rt: Runner,
    sa_db: Database,
    se_db: Database,
    may_keep_old: bool,
    judge: Judge,
) -> Outcome:
    """Run ``program`` on both libraries, comparing after every step."""
    hv = HandleView([], {}, may_keep_old=may_keep_old)
    counter = itertools.count()
    lines: list[str] = []
    steps: list[Step] = []
    outcome = Outcome()
    masked: set[str] = set()

    def new_name(model: str) -> str:
        name = f"{PREFIX[model]}{next(counter)}"
        hv.models[name] = model
        return name

    def judged(diffs: dict[str, tuple[Any, Any]], step: Step, raised: str | None,
               observed: dict[str, Any] | None = None) -> bool:
        """True: go on with the program; False: stop (outcome is set)."""
        nonlocal masked
        shown = replace(step, code=step.code.replace("{session_kwargs}", program.session_kwargs))
        diff = Difference(diffs, shown, list(steps), masked, raised, observed or {})
        now_masked = judge.mask(diff)
        rest = {k: v for k, v in diffs.items() if k not in now_masked}
        if not rest:
            masked = set(diffs)
            outcome.masked.add(diff.signature())
            return True
        diff.diffs = rest
        tolerated = judge.explain(diff)
        if tolerated is not None:
            outcome.tolerated = tolerated
            return False
        tail = []
        for key, (a, b) in list(rest.items())[:3]:
            tail.append(f"# DIFFERENCE: {key}: sqlalchemy={a!r}, session_ext={b!r}")
            tail.append(show_expression(key))
        diff.script = render_script(sa_db.url, sa_db.engine_kwargs, program.session_kwargs,
                                    lines + tail)
        outcome.difference = diff
        return False

    for op, recover in program.ops:
        hv.in_nested = bool(sa_rt.session.in_nested_transaction())
        hv.has_old_session = sa_rt.old_session is not None
        step = op.bind(hv, new_name)
        if step is None:
            continue
        steps.append(step)
        outcome.steps = len(steps)
        sa_out = describe(sa_rt, sa_rt.run(step))
        se_out = describe(se_rt, se_rt.run(step))
        lines += _render_step(step, sa_out, se_out, program.session_kwargs)
        if sa_out != se_out:
            judged({"outcome of the step": (sa_out, se_out)}, step, None)
            return outcome  # the two programs went different ways: nothing more to compare
        if isinstance(sa_out, Raised):
            if recover:
                lines.append("session.rollback()")
                for rt in (sa_rt, se_rt):
                    rt.exec_source("session.rollback()")
        else:
            hv.names.extend(step.defines)
            if step.result != "none":
                regs = _registrations(sa_out, sa_rt, new_name)
                for line in regs:
                    sa_rt.exec_source(line)
                    se_rt.exec_source(line)
                    name = line.split(" = ")[0]
                    sa_rt.handles.append(name)
                    se_rt.handles.append(name)
                    hv.names.append(name)
                lines += regs
        sa_obs = observe(sa_rt, sa_db.read_rows)
        se_obs = observe(se_rt, se_db.read_rows)
        if sa_obs == se_obs:
            masked = set()
            continue
        keys = list(sa_obs) + [k for k in se_obs if k not in sa_obs]
        diffs = {}
        for key in keys:
            a, b = sa_obs.get(key, "<absent>"), se_obs.get(key, "<absent>")
            if a != b:
                diffs[key] = (a, b)
        raised = sa_out.name if isinstance(sa_out, Raised) else None
        if not judged(diffs, step, raised, sa_obs):
            return outcome
    return outcome
