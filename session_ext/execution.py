"""Running statements through a session.

``Session.execute`` lands here: autoflush, choose the bind, run the statement
on the transaction's connection, and, for a ``select()`` naming mapped
classes, turn each row's entity columns into the session's objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine.result import ChunkedIteratorResult, IteratorResult, SimpleResultMetaData
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import Delete, Update

from . import exc
from .loading import entity_loader
from .mapping.mapper import Mapper, entity_of

if TYPE_CHECKING:
    from sqlalchemy.engine import Result

    from .session import Session


def statement_entities(statement: Any) -> list[tuple[Mapper | None, int]]:
    """For a select: (mapper or None, number of result columns) per selected element."""
    out: list[tuple[Mapper | None, int]] = []
    for element in statement._raw_columns:
        mapper = entity_of(element)
        if mapper is not None:
            out.append((mapper, len(mapper.columns)))
        elif hasattr(element, "_select_iterable") and element.is_selectable:
            out.append((None, len(list(element._select_iterable))))
        else:
            out.append((None, 1))
    return out


def execute(
    session: Session,
    statement: Any,
    params: Any,
    execution_options: dict[str, Any],
    bind_arguments: dict[str, Any] | None,
) -> Result[Any]:
    entities = None
    first_mapper = None
    if isinstance(statement, Select):
        layout = statement_entities(statement)
        if any(m is not None for m, _ in layout):
            entities = layout
            first_mapper = next(m for m, _ in layout if m is not None)
    opts = dict(statement._execution_options) if hasattr(statement, "_execution_options") else {}
    opts.update(execution_options)
    if opts.get("autoflush", True):
        session._autoflush()
    if bind_arguments and bind_arguments.get("bind") is not None:
        bind = bind_arguments["bind"]
    else:
        mapper = (bind_arguments or {}).get("mapper", first_mapper)
        bind = session.get_bind(mapper, clause=statement)
    conn = session._connection_for_bind(bind)
    core_opts = {k: v for k, v in execution_options.items() if k not in _SESSION_OPTIONS}
    if opts.get("yield_per") and "stream_results" not in opts:
        core_opts["stream_results"] = True
    if isinstance(statement, (Update, Delete)):
        return _execute_dml(session, conn, statement, params, core_opts, opts)
    result = conn.execute(statement, params, execution_options=core_opts)
    if entities is None:
        return result
    return _entity_result(session, entities, result, opts)


_SESSION_OPTIONS = frozenset({"autoflush", "populate_existing", "synchronize_session"})
SYNC_STRATEGIES = ("auto", "fetch", "evaluate", False, None)


def _execute_dml(
    session: Session, conn: Any, statement: Any, params: Any, core_opts: Any, opts: Any
) -> Any:
    """UPDATE/DELETE through the session, keeping its objects consistent.

    Synchronisation ("fetch", also used for "auto" and "evaluate"): when the
    session holds objects of the target class, the primary keys the
    statement's WHERE clause matches are selected first in the same
    transaction; after the statement, matched objects are expired (UPDATE:
    the next access reloads them) or marked deleted (DELETE).  With
    ``synchronize_session=False`` nothing is done.
    """
    strategy = opts.get("synchronize_session", "auto")
    if strategy not in SYNC_STRATEGIES:
        raise exc.ArgumentError(
            f"synchronize_session={strategy!r} is not one of 'auto', 'fetch', "
            "'evaluate' or False"
        )
    mapper = entity_of(statement.table)
    matched: list[Any] = []
    if strategy and mapper is not None and _has_objects_of(session, mapper):
        pk_select = select(*mapper.primary_key)
        if statement.whereclause is not None:
            pk_select = pk_select.where(statement.whereclause)
        imap = session.identity_map._dict
        for row in conn.execute(pk_select, params):
            state = imap.get((mapper.class_, tuple(row), None))
            if state is not None:
                matched.append(state)
    result = conn.execute(statement, params, execution_options=core_opts)
    if matched:
        from .loading import expire_state

        tx = session._transaction
        for state in matched:
            if isinstance(statement, Delete):
                obj = state.obj()
                session._deleted.pop(state, None)
                session.identity_map.remove_state(state)
                state.was_deleted = True
                if tx is not None and obj is not None:
                    tx._deleted[state] = obj
            else:
                expire_state(session, state, list(mapper.column_attr_keys))
    return result


def _has_objects_of(session: Session, mapper: Mapper) -> bool:
    cls = mapper.class_
    return any(key[0] is cls for key in session.identity_map._dict)


def _entity_result(
    session: Session,
    layout: list[tuple[Mapper | None, int]],
    result: Any,
    opts: dict[str, Any],
) -> Result[Any]:
    populate = bool(opts.get("populate_existing", False))
    keys = list(result.keys())
    width = sum(n for _, n in layout)
    out_keys: list[str] = []
    getters: list[Any] = []
    offset = 0
    for mapper, n in layout:
        if mapper is not None:
            out_keys.append(mapper.class_.__name__)
            getters.append(entity_loader(session, mapper, offset, width, populate))
        else:
            for i in range(offset, offset + n):
                out_keys.append(keys[i] if i < len(keys) else f"col_{i}")
                getters.append(i)
        offset += n
    if len(getters) == 1 and not isinstance(getters[0], int):
        load = getters[0]

        def convert(rows: Any) -> list[Any]:
            return [(load(r),) for r in rows]
    else:

        def convert(rows: Any) -> list[Any]:
            return [tuple(r[g] if isinstance(g, int) else g(r) for g in getters) for r in rows]

    metadata = SimpleResultMetaData(out_keys)
    yield_per = opts.get("yield_per")
    if yield_per:

        def chunks(size: int | None) -> Any:
            for partition in result.partitions(size or yield_per):
                yield convert(partition)

        streamed = ChunkedIteratorResult(metadata, chunks, raw=result, dynamic_yield_per=False)
        return streamed.yield_per(yield_per)
    return IteratorResult(metadata, iter(convert(result.all())))
