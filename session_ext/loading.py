"""Rows to objects, through the identity map; expiry and refresh.

Loading never calls ``__init__``: a new object is made with ``cls.__new__``,
its ``__dict__`` filled from the row in one ``update`` and registered in the
identity map.  A row for an object the session already has returns that
object untouched (its unflushed changes win) unless ``populate_existing`` is
asked for; attributes that were expired are filled in from the row.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import direct, exc, listening
from .compat import ForUpdateArg
from .lifecycle import autoflush
from .protocols import loaders
from .state import STATE_ATTR, InstanceState, _dead, _object_gone, sweep_dead

if TYPE_CHECKING:
    from .mapping.mapper import Mapper
    from .protocols import SessionLike as Session


def entity_loader(
    session: Session,
    mapper: Mapper,
    offset: int,
    row_width: int,
    populate_existing: bool = False,
    layout: Any = None,
    skip: frozenset[str] = frozenset(),
    identity_token: Any = None,
) -> Callable[[Any], Any]:
    """A function turning a result row into the session's object for ``mapper``,
    whose columns sit at ``row[offset : offset + len(layout.select_columns)]``
    (``layout``: ``mapper``, or the ``PolymorphicLayout`` of a
    ``with_polymorphic()`` entity, whose rows have subclass tables' columns too).
    For a class of a polymorphic hierarchy, the row's discriminator picks the
    class of each object (the choice is made here, once, not per row for
    other classes).  ``skip``: column keys the row does not carry (deferred);
    ``identity_token``: the third element of the objects' identity keys (the
    ``identity_token`` execution option)."""
    if mapper.polymorphic_on is None:
        return _object_loader(session, mapper, mapper, offset, row_width, populate_existing,
                              skip, identity_token)
    return _polymorphic_loader(session, mapper, offset, row_width, populate_existing,
                               layout or mapper, skip, identity_token)


def _polymorphic_loader(session: Session, mapper: Mapper, offset: int, row_width: int,
                        populate_existing: bool, layout: Any,
                        skip: frozenset[str] = frozenset(),
                        token: Any = None) -> Callable[[Any], Any]:
    """Rows of ``layout``'s SELECT to objects of the class their discriminator names."""
    pos = offset + layout.select_columns.index(mapper.polymorphic_on)
    default = _object_loader(session, mapper, layout, offset, row_width, populate_existing,
                             skip, token)
    by_value = {}
    for sub in mapper.self_and_descendants():
        if sub.polymorphic_identity is not None:
            by_value[sub.polymorphic_identity] = (
                default if sub is mapper
                else _object_loader(session, sub, layout, offset, row_width, populate_existing,
                                    skip, token)
            )
    get = by_value.get
    known = mapper.polymorphic_map

    def load(row: Any) -> Any:
        fn = get(row[pos])
        if fn is None:
            value = row[pos]
            if value is not None and value in known:
                raise exc.InvalidRequestError(
                    f"Row with discriminator {value!r} is a {known[value].class_.__name__}, "
                    f"not a {mapper.class_.__name__}"
                )
            if value is not None:
                raise exc.InvalidRequestError(
                    f"No such polymorphic_identity {value!r} is defined in the hierarchy "
                    f"of {mapper.class_.__name__}"
                )
            return default(row)
        return fn(row)

    return load


def _object_loader(session: Session, mapper: Mapper, layout: Any, offset: int,
                   row_width: int, populate_existing: bool,
                   skip: frozenset[str] = frozenset(),
                   token: Any = None) -> Callable[[Any], Any]:
    """Rows laid out as ``layout``'s SELECT to objects of ``mapper``'s class
    (the same mapper unless loading polymorphically)."""
    cls = mapper.class_
    new = cls.__new__
    fill_key = ("fill_positions", layout, offset, skip)
    fill = mapper._stmt_cache.get(fill_key)
    if fill is None:  # once per layout, not per session (get() builds a loader per session)
        fill = mapper._stmt_cache[fill_key] = tuple(_fill_positions(mapper, layout, offset, skip))
    # the loader refers to the identity map, never to the session: get() keeps
    # loaders on the session, and a reference cycle would keep a closed session
    # (and so its deleted objects' "deleted" state) alive until gc runs
    identity_map = session.identity_map
    imap = identity_map.by_key
    sid = session.hash_key
    State = InstanceState

    # populate_existing: loaded relationships are reset (loaded again on access,
    # or by the statement's eager loading), unless they have unflushed changes
    reset = [k for k, r in mapper.relationships.items()
             if r.lazy not in ("dynamic", "write_only")] if populate_existing else ()

    def existing(state: InstanceState, obj: Any, row: Any) -> Any:
        d = obj.__dict__
        if populate_existing:
            for k, i in fill:
                d[k] = row[i]
            for k in reset:
                if k in d and k not in state.committed:
                    del d[k]
            state.reset_changes()
            identity_map.release(state)
        else:  # expired, deferred, or with columns known to be NULL: the row fills them in
            for k, i in fill:
                if k not in d:
                    d[k] = row[i]
        if skip and state.expired and any(k not in d for k in skip):
            return obj  # expired columns this row does not carry stay expired
        state.expired = False
        state.known_none = None
        return obj

    factory = _loader_factory(mapper, layout, offset, skip)
    # rows with the columns of a subclass's own tables (a SELECT of a joined-table
    # subclass, or with_polymorphic()) fill them in on objects loaded without them
    # (by a SELECT of the base class), as SQLAlchemy's ORM does
    refill = populate_existing or (
        bool(mapper.table_parts) if layout is mapper else not hasattr(layout, "class_"))
    if ((listening.session and session.dispatch.loaded_as_persistent)  # type: ignore[attr-defined]
            or (listening.instance and (listening.listeners(mapper, "load")
                                        or listening.listeners(mapper, "refresh")))):
        return _firing_loader(session, factory, cls, new, imap, sid, mapper, existing, refill,
                              populate_existing, token)
    return factory(  # type: ignore[no-any-return]
        cls, mapper.identity_class, new, imap, sid, mapper, State, existing,
        refill, STATE_ATTR, (None,) * len(mapper.pk_indexes), token,
    )


def _firing_loader(session: Session, factory: Any, cls: type, new: Any, imap: Any, sid: int,
                   mapper: Mapper, existing: Any, refill: bool, populate: bool,
                   token: Any = None) -> Any:
    """The row loader, firing ``load`` and ``loaded_as_persistent`` for each
    object it creates and ``refresh`` for each object already present whose
    unloaded attributes a row fills in (used only while such listeners exist)."""
    created: list[Any] = []
    before: dict[int, list[str]] = {}  # id(obj): its unloaded keys before the row filled them
    refreshed: set[int] = set()  # once per object per result, as SQLAlchemy
    context = LoadContext(session)

    def recording_new(c: type) -> Any:
        obj = new(c)
        created.append(obj)
        return obj

    def recording_existing(state: InstanceState, obj: Any, row: Any) -> Any:
        before.setdefault(id(obj), unloaded_keys(state.mapper, obj))
        return existing(state, obj, row)

    load = factory(cls, mapper.identity_class, recording_new, imap, sid, mapper, InstanceState,
                   recording_existing, refill, STATE_ATTR, (None,) * len(mapper.pk_indexes),
                   token)
    as_persistent = session.dispatch.loaded_as_persistent  # type: ignore[attr-defined]
    on_load = listening.listeners(mapper, "load") if listening.instance else []
    on_refresh = listening.listeners(mapper, "refresh") if listening.instance else []

    def load_firing(row: Any) -> Any:
        obj = load(row)
        if created:
            created.clear()
            for fn in on_load:
                fn(obj, context)
            as_persistent(session, obj)
        elif on_refresh and obj is not None and id(obj) not in refreshed:
            refreshed.add(id(obj))
            attrs = before.pop(id(obj), None)
            if not populate:
                attrs = attrs if attrs is not None else unloaded_keys(mapper, obj)
                if not attrs:
                    return obj
            for fn in on_refresh:
                fn(obj, context, None if populate else attrs)
        return obj

    return load_firing


class LoadContext:
    """The ``context`` argument of the ``load`` and ``refresh`` events."""

    __slots__ = ("session",)

    def __init__(self, session: Any) -> None:
        self.session = session


def unloaded_keys(mapper: Mapper, obj: Any) -> list[str]:
    """The mapped attribute keys not loaded on ``obj`` (columns and relationships)."""
    d = obj.__dict__
    return sorted(k for k in (*mapper.column_attr_keys, *mapper.relationships) if k not in d)


def _fill_positions(mapper: Mapper, layout: Any, offset: int,
                    skip: frozenset[str] = frozenset()) -> list[tuple[str, int]]:
    """(attribute key, row index) of ``mapper``'s attributes in ``layout``'s SELECT."""
    out: list[tuple[str, int]] = []
    seen: set[str] = set(skip)
    col_to_key = mapper.col_to_key
    for i, col in enumerate(layout.select_columns):
        key = col_to_key.get(col)
        if key is not None and key not in seen:
            seen.add(key)
            out.append((key, offset + i))
    return out


def _loader_factory(mapper: Mapper, layout: Any, offset: int,
                    skip: frozenset[str] = frozenset()) -> Any:
    """A per-class row loader, generated once per (class, layout, column offset).

    The new object's ``__dict__`` is built by one dict display with the
    attribute names written in, which is several times cheaper than filling
    it key by key; the code is otherwise the same for every class.
    """
    cache_key = ("row_loader", layout, offset, skip)
    factory = mapper._stmt_cache.get(cache_key)
    if factory is not None:
        return factory
    pk_idx = [offset + layout.select_columns.index(c) for c in mapper.primary_key]
    if len(pk_idx) == 1:
        ident = (
            f"pkv = row[{pk_idx[0]}]\n"
            "        if pkv is None:\n"
            "            return None\n"
            "        key = (icls, (pkv,), token)"
        )
    else:
        items = ", ".join(f"row[{i}]" for i in pk_idx)
        ident = (
            f"ident = ({items},)\n"
            "        if ident == nones:\n"
            "            return None\n"
            "        key = (icls, ident, token)"
        )
    fill = ", ".join(f"{k!r}: row[{i}]" for k, i in _fill_positions(mapper, layout, offset, skip))
    source = f"""
def make(cls, icls, new, imap, sid, mapper, State, existing, populate, STATE, nones, token):
    imap_get = imap.get
    new_ref = weakref.ref.__new__
    gone = _object_gone

    def load(row):
        {ident}
        state = imap_get(key)
        if state is not None:
            obj = state()  # state.obj(), without the method lookup
            if obj is not None:
                if populate or state.expired or state.known_none or state.load_options:
                    return existing(state, obj, row)
                return obj
        obj = new(cls)
        st = new_ref(State, obj, gone)  # what InstanceState.__new__ does, inlined
        st.mapper = mapper
        st.key = key
        st.session_id = sid
        st.committed = {{}}
        st.modified = st.expired = st.was_deleted = False
        st._strong = st.load_options = st.load_context = st.empty_collections = None
        st.known_none = None
        obj.__dict__ = {{{fill}, STATE: st}}
        imap[key] = st
        return obj

    return load
"""
    namespace: dict[str, Any] = {"weakref": weakref, "_object_gone": _object_gone}
    exec(compile(source, f"<session_ext row loader for {mapper.class_.__name__}>", "exec"),
         namespace)
    factory = mapper._stmt_cache[cache_key] = namespace["make"]
    return factory


def _connection(session: Session, mapper: Mapper) -> Any:
    return session.transactions.connection_for_bind(session.get_bind(mapper))


def _row_by_pk(session: Session, mapper: Mapper, keys: tuple[str, ...] | None,
               pk: tuple[Any, ...], with_for_update: Any = None) -> Any:
    """The row of ``mapper.select_by_pk(keys)`` for ``pk``, or None; on the
    DB-API cursor directly when nothing could observe the difference
    (:mod:`session_ext.direct`)."""
    conn = _connection(session, mapper)
    lane = None if with_for_update else direct.lane_for(conn)
    if lane is not None:
        one = direct.select_by_pk(lane, conn.dialect, mapper, keys)
        if one is not None:
            return one.fetch_one(conn, pk)
    stmt = for_update(mapper.select_by_pk(keys), with_for_update)
    return conn.execute(stmt, mapper.pk_params(pk)).first()


def lock_arguments(with_for_update: Any) -> dict[str, Any] | None:
    """``with_for_update`` as SQLAlchemy's ``get()``/``refresh()`` take it (None
    or False: no lock; True, a dict of ``Select.with_for_update()`` arguments,
    or a ``ForUpdateArg``) as None or a non-empty dict of those arguments."""
    if with_for_update is None or with_for_update is False:
        return None
    if with_for_update is True:
        return {"nowait": False}
    if isinstance(with_for_update, dict):
        return dict(with_for_update) or {"nowait": False}
    if isinstance(with_for_update, ForUpdateArg):
        return {
            "nowait": with_for_update.nowait,
            "read": with_for_update.read,
            "of": with_for_update.of,
            "skip_locked": with_for_update.skip_locked,
            "key_share": with_for_update.key_share,
        }
    raise exc.ArgumentError(
        f"with_for_update={with_for_update!r}: pass True, a dict of "
        "Select.with_for_update() arguments (e.g. {'nowait': True}) or a ForUpdateArg"
    )


def for_update(stmt: Any, lock: dict[str, Any] | None) -> Any:
    """``stmt`` with the locking clause of :func:`lock_arguments`' result."""
    return stmt.with_for_update(**lock) if lock else stmt


def row_is_gone(session: Session, state: InstanceState, obj: object) -> bool:
    """Reload an expired object; if its row no longer exists the object is
    deleted (and restored by a rollback, as one deleted by a flush)."""
    try:
        load_expired_attributes(state, None)
    except exc.ObjectDeletedError:
        session.objects.row_deleted(state, obj, session.transactions.current)
        return True
    return False


def get_by_identity(
    session: Session,
    mapper: Mapper,
    pk: tuple[Any, ...],
    *,
    populate_existing: bool = False,
    with_for_update: Any = None,
    options: Any = None,
    execution_options: dict[str, Any] | None = None,
    bind_arguments: dict[str, Any] | None = None,
) -> Any:
    """``Session.get``: identity map first (no SQL), then one SELECT by key
    (a query with ``options`` when given: loader options apply to a miss)."""
    if None in pk:
        return None  # primary key columns are NOT NULL: no row can match
    key = (mapper.identity_class, pk, None)
    state = session.identity_map.by_key.get(key)
    if state is not None and not populate_existing and not with_for_update:
        obj = state()  # state.obj()
        if obj is not None:
            if mapper.inherits is not None and not isinstance(obj, mapper.class_):
                return None  # get(Manager, 1) when 1 is an Engineer
            if state.expired and state.unloaded_columns and row_is_gone(session, state, obj):
                return None
            return obj
    if _dead:
        sweep_dead()  # a session that only ever get()s must not collect dead entries
    autoflush(session)
    if (
        options
        or execution_options
        or bind_arguments
        or (mapper.relationships and mapper.has_eager_defaults())
        or mapper.deferred_keys
        or (listening.session and session.dispatch.do_orm_execute)  # type: ignore[attr-defined]
    ):
        # load like a query, so loader options and the relationships'
        # lazy="joined"/"selectin" apply (and no direct lane is taken); a
        # do_orm_execute listener sees it (with_loader_criteria() from there applies)
        from sqlalchemy import and_, select

        populate = populate_existing or bool(with_for_update)
        query = select(mapper.class_).where(
            and_(*(c == v for c, v in zip(mapper.primary_key, pk)))
        )
        query = for_update(query, with_for_update)
        if options:
            query = query.options(*options)
        opts = dict(execution_options) if execution_options else {}
        opts["autoflush"] = False
        opts["populate_existing"] = populate
        opts["_se_unique_ok"] = True  # strategies.UNIQUE_OK: one row at most
        return session.execute(
            query, execution_options=opts, bind_arguments=bind_arguments
        ).scalars().first()
    row = _row_by_pk(session, mapper, None, pk, with_for_update)
    if row is None:
        return None
    populate = populate_existing or bool(with_for_update)
    cache = session.objects.loader_cache
    cache_key = (mapper, populate, listening.session, listening.instance)
    loader = cache.get(cache_key)
    if loader is None:
        loader = cache[cache_key] = entity_loader(session, mapper, 0, len(row), populate)
    return loader(row)


def load_expired_attributes(state: InstanceState, key: str | None) -> None:
    """Reload the unloaded column attributes of a persistent object (one SELECT)."""
    session = state.session
    obj = state.obj()
    if session is None or obj is None:
        raise exc.DetachedInstanceError(
            f"Instance {exc.state_str(state)} is not bound to a Session; attribute "
            f"{key!r} is not loaded and cannot be loaded. Keep the session open while "
            "using its objects, add() the object to a session, or set "
            "expire_on_commit=False"
        )
    mapper = state.mapper
    d = obj.__dict__
    options = state.load_options
    if key is not None and (key in mapper.deferred_keys or (options and key in options)):
        return _load_deferred(session, state, key, d)
    known_none = state.known_none or ()
    missing = tuple(k for k in mapper.column_attr_keys if k not in d and k not in known_none)
    if missing and (mapper.deferred_keys or options):
        missing = tuple(k for k in missing if k not in mapper.deferred_keys
                        and not (options and k in options))
    if not missing:
        state.expired = False
        return
    guard = session.objects.implicit_io_guard
    if guard is not None:
        guard(state, key)
    if session.objects.flushable():
        # a load autoflushes first, as a query does (SQLAlchemy's behaviour)
        autoflush(session)
        known_none = state.known_none or ()
        missing = tuple(k for k in mapper.column_attr_keys
                        if k not in d and k not in known_none)
        if not missing:
            state.expired = False
            return
    eager = mapper.eager_relationships if mapper.relationships else ()
    # expired as a whole (not some names): the eager relationships load too
    whole = bool(eager) and all(k not in d for k in mapper.pk_keys)
    row = _row_by_pk(session, mapper, missing, state.key[1])  # type: ignore[index]
    if row is None:
        raise exc.ObjectDeletedError(
            f"Instance {exc.state_str(state)} has been deleted, or its row is otherwise not "
            f"present (primary key {state.key[1]!r}); it cannot be refreshed. Expunge it "  # type: ignore[index]
            "from the session or roll back"
        )
    unloaded = unloaded_keys(mapper, obj) if listening.instance else None
    for k, v in zip(missing, row):
        d[k] = v
    state.expired = False
    if options and mapper.expressions:
        _reload_expressions(session, state, d, options)
    if whole:
        _load_eager(mapper, state, obj, d)
    if unloaded:
        listening.fire_instance(mapper, "refresh", obj, LoadContext(session), unloaded)


def _reload_expressions(session: Session, state: InstanceState, d: dict[str, Any],
                        options: dict[str, Any]) -> None:
    """A reload of an object a query gave ``with_expression()`` values to
    evaluates those expressions again (SQLAlchemy reloads with the query's
    options)."""
    from sqlalchemy import and_, select

    mapper = state.mapper
    exprs = [(k, options[k]) for k in mapper.expressions
             if k not in d and isinstance(options.get(k), ExpressionMark)]
    if not exprs:
        return
    stmt = select(*(m.expr for _k, m in exprs)).where(
        and_(*(c == v for c, v in zip(mapper.primary_key, state.key[1]))))  # type: ignore[index]
    if mapper.table_parts:
        stmt = stmt.select_from(mapper.table)
    row = _connection(session, mapper).execute(stmt).first()
    if row is not None:
        for (k, _m), v in zip(exprs, row):
            d[k] = v


class ExpressionMark:
    """``state.load_options[key]`` of a ``with_expression()`` attribute: the
    expression the object was loaded with."""

    __slots__ = ("expr",)

    def __init__(self, expr: Any) -> None:
        self.expr = expr


def _load_deferred(session: Session, state: InstanceState, key: str, d: dict[str, Any]) -> None:
    """Load a deferred column (with the rest of its ``deferred_group``) by key."""
    guard = session.objects.implicit_io_guard
    if guard is not None:
        guard(state, key)
    if session.objects.flushable():
        autoflush(session)
    group = state.mapper.deferred_groups.get(key, (key,))
    missing = tuple(k for k in group if k not in d) or (key,)
    if key not in missing:
        missing = (key, *missing)
    row = _row_by_pk(session, state.mapper, missing, state.key[1])  # type: ignore[index]
    if row is None:
        raise exc.ObjectDeletedError(
            f"Instance {exc.state_str(state)} has been deleted, or its row is otherwise not "
            f"present (primary key {state.key[1]!r}); it cannot be refreshed. Expunge it "  # type: ignore[index]
            "from the session or roll back"
        )
    for k, v in zip(missing, row):
        d[k] = v


def _load_eager(mapper: Mapper, state: InstanceState, obj: object, d: dict[str, Any]) -> None:
    """Load the unloaded relationships that load eagerly by default (``lazy="selectin"``
    / ``"joined"``), as SQLAlchemy does when it reloads an expired or refreshed object;
    not those a loader option of the object's query made lazy (``lazyload()``),
    whose strategy the object remembers in ``load_options``."""
    overridden = state.load_options or ()
    for rel in mapper.eager_relationships:
        if rel.key not in d and rel.key not in overridden:
            rel.load_now(state, obj)


def load_before_write(session: Session, state: InstanceState, obj: object) -> None:
    """Before the flush UPDATEs or DELETEs an object whose primary key is
    expired: load its expired, unchanged attributes (one SELECT), as
    SQLAlchemy's ORM reads the key from the object; raises
    ``ObjectDeletedError`` when the row is gone."""
    mapper = state.mapper
    d = obj.__dict__
    known_none = state.known_none or ()
    committed = state.committed
    missing = tuple(k for k in mapper.column_attr_keys
                    if k not in d and k not in known_none and k not in committed)
    if not missing:
        return
    row = _row_by_pk(session, mapper, missing, state.key[1])  # type: ignore[index]
    if row is None:
        raise exc.ObjectDeletedError(
            f"Instance {exc.state_str(state)} has been deleted, or its row is otherwise not "
            f"present (primary key {state.key[1]!r}); the flush cannot write it. Expunge "  # type: ignore[index]
            "it from the session or roll back"
        )
    for k, v in zip(missing, row):
        d[k] = v
    if all(k in d or k in known_none for k in mapper.column_attr_keys):
        state.expired = False


def refresh_state(
    session: Session,
    state: InstanceState,
    attribute_names: list[str] | None,
    with_for_update: Any = None,
) -> bool:
    """Overwrite attributes from the database; False if the row is gone."""
    mapper = state.mapper
    obj = state.obj()
    assert obj is not None and state.key is not None
    names = mapper.column_attr_keys if attribute_names is None else tuple(attribute_names)
    rel_names = [n for n in names if n in mapper.relationships]
    col_names = tuple(n for n in names if n in mapper.column_attrs)
    for n in names:
        if n not in mapper.attrs:
            raise exc.InvalidRequestError(
                f"{mapper.class_.__name__} has no mapped attribute {n!r} to refresh"
            )
    d = obj.__dict__
    if col_names:
        row = _row_by_pk(session, mapper, col_names, state.key[1], with_for_update)
        if row is None:
            return False
        for k, v in zip(col_names, row):
            d[k] = v
            state.committed.pop(k, None)
    if attribute_names is None:
        state.known_none = None  # every column was just loaded
        for n in mapper.relationships:
            if n not in state.committed:
                d.pop(n, None)
        if mapper.eager_relationships:
            _load_eager(mapper, state, obj, d)
    for n in rel_names:
        d.pop(n, None)
        state.committed.pop(n, None)
        mapper.relationships[n].load_now(state, obj)
    if not state.committed:
        state.modified = False
        session.identity_map.release(state)
    state.expired = bool(state.unloaded_columns)
    if listening.instance:
        listening.fire_instance(mapper, "refresh", obj, LoadContext(session), attribute_names)
    return True


def expire_state(session: Session, state: InstanceState, attribute_names: list[str] | None) -> None:
    """Unload attributes so the next access reloads them; discards their changes."""
    obj = state.obj()
    if obj is None or state.key is None:
        return
    mapper = state.mapper
    d = obj.__dict__
    if attribute_names is None:
        for k in mapper.column_attr_keys:
            d.pop(k, None)
        for k in mapper.relationships:
            d.pop(k, None)
        for k in mapper.expressions:  # with_expression() values are not kept
            d.pop(k, None)
        state.committed = {}
        state.known_none = None
    else:
        for k in attribute_names:
            if k not in mapper.attrs:
                raise exc.InvalidRequestError(
                    f"{mapper.class_.__name__} has no mapped attribute {k!r} to expire"
                )
            d.pop(k, None)
            state.committed.pop(k, None)
        state.forget_known_none(attribute_names)
    if not state.committed:
        state.modified = False
        session.identity_map.release(state)
    state.expired = True
    if listening.instance:
        listening.fire_instance(mapper, "expire", obj, attribute_names)


def expire_all_states(session: Session, states: list[InstanceState]) -> None:
    """``expire_state(session, s, None)`` for many states, in one tight loop."""
    modified = session.identity_map.modified
    last_mapper = None
    keys: tuple[str, ...] = ()
    for state in states:
        obj = state()  # state.obj()
        if obj is None or state.key is None:
            continue
        mapper = state.mapper
        if mapper is not last_mapper:
            last_mapper = mapper
            keys = (mapper.column_attr_keys + tuple(mapper.relationships)
                    + tuple(mapper.expressions))
        pop = obj.__dict__.pop
        for k in keys:
            pop(k, None)
        if state.committed:
            state.committed = {}
        if state.modified:
            state.modified = False
            state._strong = None
            modified.discard(state)
        state.expired = True
        state.known_none = None
    if listening.instance:
        for state in states:
            obj = state()
            if obj is not None and state.key is not None:
                listening.fire_instance(state.mapper, "expire", obj, None)


loaders.load_expired_attributes = load_expired_attributes
