"""ORM bulk INSERT and bulk UPDATE by primary key (``Session.execute`` of an
``insert(Model)`` / ``update(Model)`` with a list of parameter dictionaries).

* Bulk INSERT: the dictionaries (attribute keys) are grouped, in order, by the
  keys they give (keys whose value is None are left out, as SQLAlchemy does,
  so that server defaults apply, unless ``render_nulls=True``), and each group
  runs as one executemany.  A joined-table subclass is written one table at a
  time, root first, the root's generated primary keys passed on to the
  others; the discriminator is filled in.
* Bulk UPDATE by primary key: each dictionary names a row by its full primary
  key; one ``UPDATE .. WHERE pk = ?`` executemany per group of keys and per
  table of a joined-table subclass that has values to set.  Objects of the
  session with those keys get the new values (attributes with unflushed
  changes are left alone).

Results are Core results; :mod:`session_ext.execution` turns RETURNING rows
of entities into objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, insert, select, tuple_, update

from . import exc
from .compat import dml_values, returning_elements, where_criteria

if TYPE_CHECKING:
    from .mapping.mapper import Mapper
    from .protocols import SessionLike as Session


def is_bulk(params: Any) -> bool:
    """A list of parameter dictionaries (executemany), as opposed to one or none."""
    return isinstance(params, (list, tuple)) and bool(params) and isinstance(params[0], dict)


def _column_keys(mapper: Mapper, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` (attribute keys) with the columns' keys (bind parameter names)."""
    if mapper.same_column_keys:
        return row
    to_col = mapper.attr_to_column_key
    return {to_col.get(k, k): v for k, v in row.items()}


def _groups(rows: list[dict[str, Any]], keep_nones: bool) -> list[list[dict[str, Any]]]:
    """Consecutive rows giving the same keys, in order."""
    out: list[list[dict[str, Any]]] = []
    last: Any = None
    for row in rows:
        if not keep_nones and None in row.values():
            row = {k: v for k, v in row.items() if v is not None}
        keys = row.keys()
        if out and keys == last:
            out[-1].append(row)
        else:
            out.append([row])
            last = keys
    return out


def bulk_insert(
    mapper: Mapper, conn: Any, statement: Any, rows: list[dict[str, Any]], opts: Any,
    core_opts: Any,
) -> list[Any]:
    """Run an ORM bulk INSERT; the Core result of each statement run, in order."""
    keep_nones = bool(opts.get("render_nulls"))
    if not mapper.table_parts:
        rows = [_column_keys(mapper, r) for r in rows]
        return [conn.execute(statement, group, execution_options=core_opts)
                for group in _groups(rows, keep_nones)]
    return [_joined_insert(mapper, conn, statement, rows, keep_nones, core_opts)]


def _joined_insert(mapper: Mapper, conn: Any, statement: Any, rows: list[dict[str, Any]],
                   keep_nones: bool, core_opts: Any) -> Any:
    """A joined-table subclass: each table's INSERT, root first; the primary
    keys (given or generated) in row order, as a Core result of one column
    per key column (what :func:`joined_returning` reads)."""
    if dml_values(statement):
        raise exc.InvalidRequestError(
            f"insert({mapper.class_.__name__}).values(...) with a list of parameter "
            "dictionaries: a joined-table subclass's bulk INSERT takes its values from "
            "the dictionaries only; put the fixed values in each dictionary"
        )
    disc = mapper.polymorphic_on
    disc_key = mapper.col_to_key.get(disc) if disc is not None else None
    rows = [dict(r) for r in rows]
    if disc_key is not None and mapper.polymorphic_identity is not None:
        for r in rows:
            r.setdefault(disc_key, mapper.polymorphic_identity)
    pk_keys = mapper.pk_keys
    keys: list[tuple[Any, ...]] = []
    for n, part in enumerate(mapper.table_parts):
        part_rows = [{k: v for k, v in r.items() if k in part.column_attr_set} for r in rows]
        if n == 0:
            stmt = insert(part.local_table).returning(
                *part.primary_key, sort_by_parameter_order=True)
            for group in _groups([_column_keys(part, r) for r in part_rows], keep_nones):
                keys.extend(tuple(row) for row in conn.execute(
                    stmt, group, execution_options=core_opts))
            for r, key in zip(rows, keys):
                r.update(zip(pk_keys, key))
            continue
        for r, key in zip(part_rows, keys):
            r.update(zip(part.pk_keys, key))
        for group in _groups([_column_keys(part, r) for r in part_rows], keep_nones):
            conn.execute(insert(part.local_table), group, execution_options=core_opts)
    return keys


def joined_returning(session: Session, mapper: Mapper, statement: Any, keys: list[Any],
                     populate: bool) -> list[Any]:
    """``insert(Sub).returning(Sub)`` of a joined-table subclass: the new
    objects in row order, loaded by their keys."""
    elements = returning_elements(statement)
    if len(elements) != 1:
        raise exc.InvalidRequestError(
            f"insert({mapper.class_.__name__}).returning(...) of a joined-table subclass "
            f"returns the entity only; select other columns afterwards"
        )
    if not keys:
        return []
    pk = mapper.primary_key
    crit = (pk[0].in_([k[0] for k in keys]) if len(pk) == 1
            else tuple_(*pk).in_(keys))
    stmt = select(mapper.class_).where(crit)
    found = session.execute(
        stmt, execution_options={"autoflush": False, "populate_existing": populate}
    ).scalars().all()
    by_key = {tuple(getattr(o, k) for k in mapper.pk_keys): o for o in found}
    return [by_key[k] for k in keys]


def bulk_update(session: Session, mapper: Mapper, conn: Any, statement: Any,
                rows: list[dict[str, Any]], core_opts: Any) -> Any:
    """Run an ORM bulk UPDATE by primary key; the last Core result."""
    pk_keys = mapper.pk_keys
    for n, r in enumerate(rows):
        missing = [k for k in pk_keys if r.get(k) is None]
        if missing:
            raise exc.InvalidRequestError(
                f"bulk UPDATE of {mapper.class_.__name__} by primary key: parameter "
                f"dictionary {n} has no value for the primary key attribute(s) {missing}; "
                "every dictionary must give the full primary key (for an UPDATE matching "
                "rows otherwise, use .where() and .values(), or session.connection()"
                ".execute())"
            )
    extra = where_criteria(statement)
    parts = mapper.table_parts or (mapper,)
    result = None
    for part in parts:
        settable = part.column_attr_set.difference(part.pk_keys)
        names = [f"_se_pk_{i}" for i in range(len(part.primary_key))]
        crit = and_(*(c == bindparam(nm) for c, nm in zip(part.primary_key, names)), *extra)
        part_rows = []
        for r in rows:
            values = {k: v for k, v in r.items() if k in settable}
            if values:
                values = _column_keys(part, values)
                values.update(zip(names, (r[k] for k in pk_keys)))
                part_rows.append(values)
        for group in _groups(part_rows, True):
            stmt = update(part.local_table).where(crit)
            result = conn.execute(stmt, group, execution_options=core_opts)
    _sync_updated(session, mapper, rows)
    return result


def _sync_updated(session: Session, mapper: Mapper, rows: list[dict[str, Any]]) -> None:
    """Objects of the session with an updated row get its new values."""
    by_key = session.identity_map.by_key
    if not by_key:
        return
    icls = mapper.identity_class
    pk_keys = mapper.pk_keys
    attrs = mapper.column_attr_set
    for r in rows:
        state = by_key.get((icls, tuple(r[k] for k in pk_keys), None))
        if state is None:
            continue
        obj = state.obj()
        if obj is None or not isinstance(obj, mapper.class_):
            continue
        d = obj.__dict__
        committed = state.committed
        for k, v in r.items():
            if k in attrs and k not in committed:
                d[k] = v
