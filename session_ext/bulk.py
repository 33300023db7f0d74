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

The legacy methods (``Session.bulk_save_objects``, ``bulk_insert_mappings``,
``bulk_update_mappings``) run on the same two, as SQLAlchemy's do: the objects
are not added to the session, objects of the session are not synchronized,
an UPDATE matching fewer rows than given raises ``StaleDataError``, and
``session._flushing`` is true meanwhile (for ``get_bind()`` overrides).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, insert, select, tuple_, update

from . import exc
from .compat import dml_values, returning_elements, where_criteria
from .lifecycle import make_transient_to_detached
from .mapping.mapper import class_mapper
from .state import instance_state

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
                rows: list[dict[str, Any]], core_opts: Any, *, legacy: bool = False) -> Any:
    """Run an ORM bulk UPDATE by primary key; the last Core result.  ``legacy``
    (``bulk_update_mappings``): rowcounts checked, the session's objects left alone."""
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
            if legacy:
                _check_matched(conn.dialect, result, len(group), part)
    if not legacy:
        _sync_updated(session, mapper, rows)
    return result


def _check_matched(dialect: Any, result: Any, expected: int, mapper: Mapper) -> None:
    reliable = (dialect.supports_sane_multi_rowcount if expected > 1
                else dialect.supports_sane_rowcount)
    if reliable and result.rowcount != expected:
        raise exc.StaleDataError(
            f"UPDATE statement on table {mapper.local_table.name!r} expected to update "
            f"{expected} row(s); {result.rowcount} were matched (rows of the given primary "
            "keys are missing)"
        )


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


# --------------------------------------------------------------------------- legacy methods
def _as_mapper(entity: Any) -> Mapper:
    return entity if hasattr(entity, "column_attr_set") else class_mapper(entity)


def _run_legacy(session: Session, operation: str, mapper: Mapper,
                work: Callable[[Any], None]) -> None:
    """``work(connection)`` in the session's transaction with ``session._flushing``
    true; a failure rolls the transaction back as a failed flush does."""
    stack = session.transactions
    if stack.ctx is not None:
        stack.check_ctx()
    tx = stack.autobegin(f"{operation}()")
    tx.check_active(operation)
    book = session.objects
    if book.flushing:
        raise exc.InvalidRequestError(f"{operation}() cannot run inside a flush")
    book.flushing = threading.get_ident()
    try:
        work(stack.connection_for_bind(session.get_bind(mapper.base_mapper)))
    except BaseException as error:
        tx.fail(error)
        raise
    finally:
        book.flushing = 0


def _insert_returning_defaults(mapper: Mapper, conn: Any, rows: list[dict[str, Any]],
                               render_nulls: bool) -> None:
    """INSERT ``rows`` and write the primary key and server-generated values
    of each back into it."""
    if mapper.table_parts:
        keys = _joined_insert(mapper, conn, insert(mapper.class_), rows, render_nulls, {})
        for r, key in zip(rows, keys):
            r.update(zip(mapper.pk_keys, key))
        return
    fetch = list(dict.fromkeys([*mapper.pk_keys, *sorted(mapper.fetch_on_insert)]))
    cols = [mapper.column_attrs[k].column for k in fetch]
    one_by_one = not conn.dialect.insert_executemany_returning
    stmt = insert(mapper.table).returning(*cols, sort_by_parameter_order=not one_by_one)
    start = 0
    for group in _groups(rows, render_nulls):  # in order: rows[start:] are the originals
        params = [_column_keys(mapper, r) for r in group]
        if one_by_one:
            returned = [conn.execute(stmt, p).one() for p in params]
        else:
            returned = conn.execute(stmt, params).all()
        for r, row in zip(rows[start:start + len(group)], returned):
            r.update(zip(fetch, row))
        start += len(group)


def _insert_legacy(mapper: Mapper, conn: Any, rows: list[dict[str, Any]],
                   return_defaults: bool, render_nulls: bool) -> None:
    if return_defaults:
        _insert_returning_defaults(mapper, conn, rows, render_nulls)
    else:
        bulk_insert(mapper, conn, insert(mapper.local_table), rows,
                    {"render_nulls": render_nulls}, {})


def bulk_insert_mappings(session: Session, entity: Any, mappings: Iterable[dict[str, Any]],
                         return_defaults: bool = False, render_nulls: bool = False) -> None:
    """INSERT a row per dictionary of attribute values; ``return_defaults``
    writes the new primary key and server defaults into the dictionaries."""
    mapper = _as_mapper(entity)
    keys = mapper.column_attr_set
    given = list(mappings)
    rows = [{k: v for k, v in m.items() if k in keys} for m in given]
    if not rows:
        return
    _run_legacy(session, "bulk_insert_mappings", mapper,
                lambda conn: _insert_legacy(mapper, conn, rows, return_defaults, render_nulls))
    if return_defaults:
        for m, r in zip(given, rows):
            m.update(r)


def bulk_update_mappings(session: Session, entity: Any,
                         mappings: Iterable[dict[str, Any]]) -> None:
    """UPDATE the row of each dictionary's primary key with its other values."""
    mapper = _as_mapper(entity)
    keys = mapper.column_attr_set
    rows = [{k: v for k, v in m.items() if k in keys} for m in mappings]
    if rows:
        _update_legacy(session, "bulk_update_mappings", mapper, rows)


def _update_legacy(session: Session, operation: str, mapper: Mapper,
                   rows: list[dict[str, Any]]) -> None:
    stmt = update(mapper.class_)
    _run_legacy(session, operation, mapper, lambda conn: bulk_update(
        session, mapper, conn, stmt, rows, {}, legacy=True))


def bulk_save_objects(session: Session, objects: Iterable[object], return_defaults: bool = False,
                      update_changed_only: bool = True, preserve_order: bool = True) -> None:
    """INSERT the objects without a database identity and UPDATE the others
    (their changed attributes, or all with ``update_changed_only=False``),
    without adding any to the session. ``return_defaults``: new objects get
    their primary key and server defaults and become detached."""
    items = [(instance_state(obj), obj) for obj in objects]
    if not preserve_order:
        items.sort(key=lambda item: (id(item[0].mapper), item[0].key is not None))
    for (mapper, is_update), group in itertools.groupby(
            items, lambda item: (item[0].mapper, item[0].key is not None)):
        batch = list(group)
        keys = mapper.column_attr_set
        if is_update:
            pk_keys = mapper.pk_keys
            rows = [{k: v for k, v in obj.__dict__.items() if k in keys and (
                not update_changed_only or k in state.committed or k in pk_keys)}
                for state, obj in batch]
            _update_legacy(session, "bulk_save_objects", mapper, rows)
            continue
        rows = [{k: v for k, v in obj.__dict__.items() if k in keys} for _s, obj in batch]
        _run_legacy(session, "bulk_save_objects", mapper,
                    lambda conn, m=mapper, r=rows: _insert_legacy(m, conn, r, return_defaults,
                                                                  False))
        if return_defaults:
            for (state, obj), row in zip(batch, rows):
                obj.__dict__.update(row)
                make_transient_to_detached(state)
