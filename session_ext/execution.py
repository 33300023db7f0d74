"""Running statements through a session.

``Session.execute`` lands here: autoflush, choose the bind, run the statement
on the transaction's connection, and, for a ``select()`` naming mapped
classes, turn each row's entity columns into the session's objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.sql import Select

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
    result = conn.execute(statement, params, execution_options=core_opts)
    if entities is None:
        return result
    return _entity_result(session, entities, result, opts)


_SESSION_OPTIONS = frozenset({"autoflush", "populate_existing", "synchronize_session"})


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
    rows = result.all()
    if len(getters) == 1 and not isinstance(getters[0], int):
        load = getters[0]
        data = [(load(r),) for r in rows]
    else:
        data = [
            tuple(r[g] if isinstance(g, int) else g(r) for g in getters) for r in rows
        ]
    return IteratorResult(SimpleResultMetaData(out_keys), iter(data))
