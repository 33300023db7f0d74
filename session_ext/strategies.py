"""Relationship loading: lazy, selectin, joined, raise, noload; loader options;
N+1 detection.

* lazy ("select"): one SELECT on first access; a many-to-one whose target is
  already in the identity map costs no SQL.
* selectin: after the parent rows are loaded, one SELECT ... WHERE key IN (...)
  per relationship for all of them.
* joined: the parent SELECT gets a LEFT OUTER JOIN to the target (through an
  alias) and children are read from the same rows; parent rows repeated by a
  collection join are returned once.
* raise / noload: access raises ``InvalidRequestError`` / gives an empty value.

Options (``selectinload(User.posts).selectinload(Post.comments)``) travel on
the statement (``select(...).options(...)``, ``query.options(...)``); a
relationship's ``lazy=`` is its default when no option names it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select, tuple_

from . import exc
from .compat import (
    WITH_OPTIONS,
    ClauseAdapter,
    PathOption,
    has_limit_or_offset,
    order_by_clauses,
)
from .mapping.relationships import MANYTOMANY, MANYTOONE, ONETOMANY, InstrumentedList, Relationship
from .state import NO_VALUE, STATE_ATTR, InstanceState, instance_state

if TYPE_CHECKING:
    from .mapping.mapper import Mapper
    from .session import Session

#: IN lists longer than this are split (SQLite allows 32,766 parameters)
IN_CHUNK = 30_000

#: execution option of session_ext's own queries: their results may be used
#: without ``.unique()`` when they joined-eager-load a collection (each parent
#: comes once anyway); a user's ``select()`` needs ``.unique()`` as in SQLAlchemy
UNIQUE_OK = "_se_unique_ok"


# --------------------------------------------------------------------------- options
class LoaderOption(PathOption):
    """A path of (relationship, strategy) steps, e.g. User.posts -> Post.comments."""

    def __init__(self, path: tuple[tuple[Relationship, str], ...]) -> None:
        self.path = path
        self.path_key = tuple((rel.class_attribute, strategy) for rel, strategy in path)

    def _chain(self, attr: Any, strategy: str) -> LoaderOption:
        rel = _as_relationship(attr)
        last = self.path[-1][0]
        last.parent.registry.configure()  # type: ignore[union-attr]
        if rel.parent is not last.mapper:
            raise exc.ArgumentError(
                f"Can't chain {rel.class_attribute} after {last.class_attribute}: it is not a "
                f"relationship of {last.mapper.class_.__name__}"
            )
        return LoaderOption(self.path + ((rel, strategy),))

    def selectinload(self, attr: Any) -> LoaderOption:
        return self._chain(attr, "selectin")

    def joinedload(self, attr: Any) -> LoaderOption:
        return self._chain(attr, "joined")

    def lazyload(self, attr: Any) -> LoaderOption:
        return self._chain(attr, "select")

    def raiseload(self, attr: Any) -> LoaderOption:
        return self._chain(attr, "raise")

    def noload(self, attr: Any) -> LoaderOption:
        return self._chain(attr, "noload")

    def __repr__(self) -> str:
        return " -> ".join(f"{s}({rel.class_attribute})" for rel, s in self.path)


def _as_relationship(attr: Any) -> Relationship:
    if not isinstance(attr, Relationship):
        raise exc.ArgumentError(
            f"Loader options take a relationship attribute such as User.addresses, not {attr!r}"
        )
    attr.parent.registry.configure()  # type: ignore[union-attr]
    return attr


def selectinload(attr: Any) -> LoaderOption:
    """Load the relationship for all parents with one extra SELECT ... IN."""
    return LoaderOption(((_as_relationship(attr), "selectin"),))


def joinedload(attr: Any) -> LoaderOption:
    """Load the relationship in the same SELECT through a LEFT OUTER JOIN."""
    return LoaderOption(((_as_relationship(attr), "joined"),))


def lazyload(attr: Any) -> LoaderOption:
    """Load the relationship on first access (one SELECT per object)."""
    return LoaderOption(((_as_relationship(attr), "select"),))


def raiseload(attr: Any) -> LoaderOption:
    """Make access to the unloaded relationship raise instead of emitting SQL."""
    return LoaderOption(((_as_relationship(attr), "raise"),))


def noload(attr: Any) -> LoaderOption:
    """Leave the relationship empty (None / []) without loading it."""
    return LoaderOption(((_as_relationship(attr), "noload"),))


# --------------------------------------------------------------------------- N+1 detection
class NPlusOneWarning(exc.SAWarning):
    """The same relationship was lazy-loaded for many objects of one query."""


class NPlusOneError(exc.InvalidRequestError):
    """Raised instead of warning when the session's ``n_plus_one="raise"``."""

    help_anchor = "nplusoneerror"


class LoadContext:
    """Objects loaded by one statement share one of these (N+1 detection only)."""

    __slots__ = ("counts", "reported")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.reported: set[str] = set()


def _note_lazy_load(session: Session, state: InstanceState, rel: Relationship) -> None:
    ctx = state.load_context
    if ctx is None:
        return
    key = rel.key
    n = ctx.counts.get(key, 0) + 1
    ctx.counts[key] = n
    if n < session.n_plus_one_threshold or key in ctx.reported:
        return
    ctx.reported.add(key)
    fix = "selectinload" if rel.uselist else "joinedload"
    message = (
        f"N+1 queries: {rel.class_attribute} was lazy-loaded for {n} "
        f"{rel.parent.class_.__name__} objects of the same query, one SELECT each. "  # type: ignore[union-attr]
        f"Load it with the query instead: .options({fix}({rel.class_attribute})), or set "
        f"relationship(..., lazy=\"selectin\")"
    )
    if session.n_plus_one == "raise":
        raise NPlusOneError(message)
    warnings.warn(message, NPlusOneWarning, stacklevel=4)


# --------------------------------------------------------------------------- lazy loading
def load_relationship(rel: Relationship, obj: Any) -> Any:
    """Attribute access on an unloaded relationship."""
    rel.parent.registry.configure()  # type: ignore[union-attr]
    state = instance_state(obj)
    d = obj.__dict__
    if state.key is None:
        # never loaded: empty, but not a value to flush or merge until changed
        return rel.unsaved_empty(state) if rel.uselist else None
    strategy = rel.lazy
    if state.load_options and rel.key in state.load_options:
        strategy = state.load_options[rel.key]
    if strategy == "raise":
        raise exc.InvalidRequestError(
            f"'{rel.class_attribute}' is not available due to lazy='raise': load it with the "
            f"query (.options(selectinload({rel.class_attribute}))) before using it"
        )
    if strategy == "noload":
        value = rel.empty_value(state)
        d[rel.key] = value
        return value
    session = state.session
    if session is None:
        raise exc.DetachedInstanceError(
            f"Parent instance {exc.state_str(state)} is not bound to a Session; lazy load "
            f"operation of attribute '{rel.key}' cannot proceed. Load it before the session "
            "closes (e.g. with selectinload), or keep the session open"
        )
    value = lazy_load(session, rel, state, obj)
    d[rel.key] = value
    return value


def _values(obj: Any, keys: Sequence[str]) -> tuple[Any, ...] | None:
    vals = tuple(getattr(obj, k) for k in keys)
    return None if any(v is None for v in vals) else vals


def lazy_load(session: Session, rel: Relationship, state: InstanceState, obj: Any) -> Any:
    values = _values(obj, rel.parent_keys)
    if values is None:
        return rel.empty_value(state)
    if rel.direction == MANYTOONE and rel.uses_target_pk and rel._primaryjoin is None:
        target_state = session.identity_map._dict.get((rel.mapper.class_, values, None))
        if target_state is not None:
            target = target_state.obj()
            if target is not None and target_state not in session._deleted:
                return target
        from .loading import get_by_identity

        if session.n_plus_one:
            _note_lazy_load(session, state, rel)
        return get_by_identity(session, rel.mapper, values)  # autoflushes on a miss
    if session.n_plus_one:
        _note_lazy_load(session, state, rel)
    params = {f"_se_rel_{i}": v for i, v in enumerate(values)}
    result = session.execute(rel.lazy_stmt, params, execution_options={UNIQUE_OK: True})
    items = list(result.scalars().all())
    if rel.uselist:
        return InstrumentedList(items, state, rel)
    return items[0] if items else None


# --------------------------------------------------------------------------- query-time plans
Path = list[tuple[Relationship, str]]


def collect_options(statement: Any) -> list[LoaderOption]:
    return [o for o in getattr(statement, WITH_OPTIONS, ()) if isinstance(o, LoaderOption)]


def plan_for(
    mapper: Mapper,
    option_paths: list[Path],
    visited: frozenset[Relationship] = frozenset(),
    defaults: bool = True,
) -> dict[str, tuple[str, list[Path]]]:
    """What to do with each relationship of objects of ``mapper``: explicit option
    paths first, then each relationship's own ``lazy=`` default (skipping
    relationships already on the path, so mutual defaults terminate).

    Returns ``key -> (strategy, option paths for the related objects)``.
    """
    mapper.registry.configure()
    steps: dict[str, tuple[str, list[Path]]] = {}
    for path in option_paths:
        if not path:
            continue
        rel, strategy = path[0]
        if rel.parent is not mapper:
            continue
        rest = path[1:]
        current = steps.get(rel.key)
        if current is None:
            steps[rel.key] = (strategy, [rest] if rest else [])
        elif rest:
            current[1].append(rest)
    if defaults:
        for key, rel in mapper.relationships.items():
            if key not in steps and rel not in visited and rel.lazy != "select":
                steps[key] = (rel.lazy, [])
    return steps


class JoinedStep:
    """One LEFT OUTER JOIN added for joined eager loading."""

    __slots__ = ("rel", "parent_slot", "slot", "offset", "loader")

    def __init__(self, rel: Relationship, parent_slot: int, slot: int, offset: int) -> None:
        self.rel = rel
        self.parent_slot = parent_slot
        self.slot = slot
        self.offset = offset
        self.loader: Any = None


def apply_joined(
    statement: Any,
    layout: list[tuple[Any, int]],
    entity_paths: dict[int, list[Path]],
    defaults: bool = True,
) -> tuple[Any, list[JoinedStep], dict[int, tuple[Mapper, list[Path], frozenset[Relationship]]]]:
    """Add the joins of joined-eager relationships to ``statement``.

    Slots ``0..len(layout)-1`` are the statement's own elements; each joined
    relationship adds a slot.  Returns the new statement, the joined steps and,
    per slot, what is left to load after the rows (selectin, raise, ...).
    """
    width = sum(n for _, n in layout)
    stmt = statement
    steps: list[JoinedStep] = []
    post: dict[int, tuple[Mapper, list[Path], frozenset[Relationship]]] = {}
    queue: list[tuple[int, Mapper, Any, list[Path], frozenset[Relationship]]] = [
        (i, mapper, mapper.table, entity_paths.get(i, []), frozenset())
        for i, (mapper, _n) in enumerate(layout)
        if mapper is not None
    ]
    limited = has_limit_or_offset(statement)
    collection_joins = limited and any(
        strategy == "joined" and mapper.relationships[key].uselist
        for _i, mapper, _f, paths, _v in queue
        for key, (strategy, _cp) in plan_for(mapper, paths, frozenset(), defaults).items()
    )
    wrapped = False
    if collection_joins and len(layout) == 1:
        # LIMIT/OFFSET count parents: apply them in a subquery, join the children outside
        inner = statement.subquery()
        adapter = ClauseAdapter(inner)
        stmt = select(inner)
        if order_by_clauses(statement):
            stmt = stmt.order_by(*[adapter.traverse(c) for c in order_by_clauses(statement)])
        i, mapper, _f, paths, visited0 = queue[0]
        queue[0] = (i, mapper, inner, paths, visited0)
        wrapped = True
    next_slot = len(layout)
    while queue:
        slot, mapper, from_elem, paths, visited = queue.pop(0)
        rest: list[Path] = []
        for key, (strategy, child_paths) in plan_for(mapper, paths, visited, defaults).items():
            rel = mapper.relationships[key]
            unsafe = collection_joins and not wrapped and slot < len(layout) and rel.uselist
            if strategy != "joined" or rel._primaryjoin is not None or unsafe:
                strategy = "selectin" if strategy == "joined" else strategy
                rest.append([(rel, strategy)])
                rest.extend([(rel, strategy), *cp] for cp in child_paths)
                continue
            stmt, talias = _add_join(stmt, rel, from_elem)
            stmt = stmt.add_columns(*[talias.c[c.key] for c in rel.mapper.columns])
            steps.append(JoinedStep(rel, slot, next_slot, width))
            width += len(rel.mapper.columns)
            queue.append((next_slot, rel.mapper, talias, child_paths, visited | {rel}))
            next_slot += 1
        post[slot] = (mapper, rest, visited)
    return stmt, steps, post


def _add_join(stmt: Any, rel: Relationship, from_elem: Any) -> tuple[Any, Any]:
    target = rel.mapper
    talias = target.table.alias()

    def local(c: Any) -> Any:
        return c if from_elem is c.table else from_elem.c[c.key]

    if rel.direction == MANYTOMANY:
        salias = rel.secondary.alias()  # type: ignore[union-attr]
        on1 = and_(*(local(pc) == salias.c[sc.key] for pc, sc in rel.secondary_parent_pairs))
        on2 = and_(*(talias.c[tc.key] == salias.c[sc.key] for tc, sc in rel.secondary_target_pairs))
        stmt = stmt.outerjoin(salias, on1).outerjoin(talias, on2)
    elif rel.direction == ONETOMANY:
        stmt = stmt.outerjoin(
            talias, and_(*(local(ref) == talias.c[fk.key] for ref, fk in rel.sync_pairs))
        )
    else:
        stmt = stmt.outerjoin(
            talias, and_(*(talias.c[ref.key] == local(fk) for ref, fk in rel.sync_pairs))
        )
    if rel.order_by:
        stmt = stmt.order_by(
            *(talias.c[c.key] if getattr(c, "table", None) is target.table else c
              for c in rel.order_by)
        )
    return stmt, talias


# --------------------------------------------------------------------------- post loading
def set_loaded(rel: Relationship, state: InstanceState, obj: Any, value: Any,
               populate: bool) -> None:
    d = obj.__dict__
    if rel.key in d and not populate:
        return
    if rel.key in state.committed:
        return  # unflushed changes win
    if rel.uselist:
        d[rel.key] = InstrumentedList(value, state, rel)
    else:
        d[rel.key] = value


def post_load(session: Session, mapper: Mapper, objects: list[Any],
              option_paths: list[Path],
              visited: frozenset[Relationship] = frozenset(),
              populate: bool = False, defaults: bool = True) -> None:
    """Apply selectin/raise/noload (and the rest of option paths) to loaded objects."""
    if not objects:
        return
    plan = plan_for(mapper, option_paths, visited, defaults)
    for key, (strategy, child_paths) in plan.items():
        rel = mapper.relationships[key]
        if strategy in ("raise", "noload", "select"):
            if strategy != rel.lazy:
                for obj in objects:
                    st = instance_state(obj)
                    if st.load_options is None:
                        st.load_options = {}
                    st.load_options[key] = strategy
            continue
        if rel.eager_unsupported:
            for obj in objects:  # criteria eager loading can't express: load one by one
                getattr(obj, key)
            continue
        # joined steps right below a selectin step ride along in its SELECT
        joined = [p for p in child_paths if p[0][1] == "joined" and p[0][0]._primaryjoin is None]
        rest = [p for p in child_paths if not any(p is j for j in joined)]
        children = selectin_load(session, rel, objects, populate, joined)
        if children or rest:
            post_load(session, rel.mapper, children, rest, visited | {rel}, populate)


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i : i + IN_CHUNK] for i in range(0, len(values), IN_CHUNK)] or [[]]


def _in(cols: list[Any], values: list[tuple[Any, ...]]) -> Any:
    if len(cols) == 1:
        return cols[0].in_([v[0] for v in values])
    return tuple_(*cols).in_(values)


def _run(session: Session, stmt: Any, joined: list[Path]) -> Any:
    opts: dict[str, Any] = {"autoflush": False, UNIQUE_OK: True}
    if joined:
        stmt = stmt.options(*[LoaderOption(tuple(p)) for p in joined])
        opts["_se_explicit_eager_only"] = True
    return session.execute(stmt, execution_options=opts)


def selectin_load(session: Session, rel: Relationship, objects: list[Any],
                  populate: bool, joined: list[Path] | None = None) -> list[Any]:
    """Load ``rel`` for all ``objects`` with one SELECT ... IN; returns the children.

    ``joined``: option paths starting with a joined step on the children, which
    are loaded by the same SELECT."""
    joined = joined or []
    extra = rel.extra_criteria
    pending: list[tuple[InstanceState, Any, tuple[Any, ...]]] = []
    key = rel.key
    parent_keys = rel.parent_keys
    for obj in objects:
        d = obj.__dict__
        if key in d and not populate:
            continue
        vals = tuple([d.get(k, NO_VALUE) for k in parent_keys])
        if NO_VALUE in vals:
            vals = tuple([getattr(obj, k) for k in parent_keys])
        pending.append((d[STATE_ATTR], obj, vals))
    if not pending:
        return []
    children: list[Any] = []
    target = rel.mapper
    if rel.direction == MANYTOONE:
        imap = session.identity_map._dict
        wanted: dict[tuple[Any, ...], Any] = {}
        missing: list[tuple[Any, ...]] = []
        for _st, _obj, vals in pending:
            if None in vals or vals in wanted:
                continue
            hit = None
            if rel.uses_target_pk:
                tstate = imap.get((target.class_, vals, None))
                hit = tstate.obj() if tstate is not None else None
            wanted[vals] = hit
            if hit is None:
                missing.append(vals)
        if missing:
            ref_cols = [ref for ref, _ in rel.sync_pairs]
            for chunk in _chunks(missing):
                stmt = select(target.class_).where(_in(ref_cols, chunk), *extra)
                for child in _run(session, stmt, joined).scalars():
                    key = tuple(child.__dict__[k] for k in rel.target_ref_keys)
                    wanted[key] = child
        for st, obj, vals in pending:
            child = None if None in vals else wanted.get(vals)
            set_loaded(rel, st, obj, child, populate)
            if child is not None:
                children.append(child)
        return children
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    keys = list({vals for _, _, vals in pending if None not in vals})
    if rel.direction == ONETOMANY:
        fk_cols = [fk for _, fk in rel.sync_pairs]
        for chunk in _chunks(keys):
            if not chunk:
                continue
            stmt = select(target.class_).where(_in(fk_cols, chunk), *extra)
            if rel.order_by:
                stmt = stmt.order_by(*rel.order_by)
            fk_keys = rel.child_fk_keys
            fk0 = fk_keys[0] if len(fk_keys) == 1 else None
            for child in _run(session, stmt, joined).scalars():
                cd = child.__dict__
                group_key = (cd[fk0],) if fk0 is not None else tuple([cd[k] for k in fk_keys])
                group = grouped.get(group_key)
                if group is None:
                    grouped[group_key] = [child]
                else:
                    group.append(child)
    else:
        sec = rel.secondary
        sec_cols = [s for _, s in rel.secondary_parent_pairs]
        join = and_(*(tc == sc for tc, sc in rel.secondary_target_pairs))
        for chunk in _chunks(keys):
            if not chunk:
                continue
            stmt = select(target.class_, *sec_cols).join(sec, join).where(
                _in(sec_cols, chunk), *extra
            )
            if rel.order_by:
                stmt = stmt.order_by(*rel.order_by)
            n = len(sec_cols)
            for row in _run(session, stmt, joined):
                grouped.setdefault(tuple(row[1 : 1 + n]), []).append(row[0])
    uselist = rel.uselist
    for st, obj, vals in pending:
        items = grouped.get(vals, ())
        if uselist:
            set_loaded(rel, st, obj, items, populate)
        else:
            set_loaded(rel, st, obj, items[0] if items else None, populate)
    if rel.direction == ONETOMANY:  # each child has one parent: no duplicates
        for items in grouped.values():
            children.extend(items)
        return children
    seen: set[int] = set()
    for items in grouped.values():
        for item in items:
            if id(item) not in seen:
                seen.add(id(item))
                children.append(item)
    return children
