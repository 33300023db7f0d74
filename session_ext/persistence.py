"""Emit a flush plan through Core, a table at a time, in batches.

* INSERT: rows with the same set of columns go into one ``executemany``; when
  keys or server defaults must come back, a single ``INSERT .. RETURNING``
  executemany with ``sort_by_parameter_order`` (Core's "insertmanyvalues":
  ~1,000 rows per statement) where the dialect supports it, else a statement
  per row.
* UPDATE: only columns with a net change; rows with the same changed columns
  share one ``executemany``; the primary key goes in the WHERE clause.
* DELETE: one ``executemany`` per table.

Rowcounts of UPDATE/DELETE are checked where the dialect reports them
reliably: an UPDATE that matches fewer rows raises
:class:`~session_ext.exc.StaleDataError`, a DELETE only warns (as SQLAlchemy
does without a version counter: the row is gone either way).
"""

from __future__ import annotations

import operator
import warnings
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.sql import ClauseElement

from . import direct, exc
from .compat import autoincrement_column, bind_processor
from .direct import dialect_cache, options_change_sql, raise_as_core
from .loading import load_before_write
from .state import NO_VALUE, STATE_ATTR

if TYPE_CHECKING:
    from .flushplan import FlushPlan
    from .mapping.mapper import Mapper
    from .state import InstanceState

Item = tuple["InstanceState", object]
_MISSING = object()
_second = operator.itemgetter(1)

#: types of values seen in flushed rows that are no SQL expression (grows as
#: rows show new types): a row whose values' types are all here is plain
_PLAIN_TYPES: set[type] = {int, str, float, bool, type(None), bytes}


def _has_sql(values: Any) -> bool:
    """True if one of ``values`` is a SQL expression (``Model.x + 1``,
    ``select(...).scalar_subquery()``, ``null()``): written into the statement
    itself, and its attribute expired after the flush.  One pass over the
    values' types in C: plain rows pay no Python call per value."""
    new = set(map(type, values)) - _PLAIN_TYPES
    if not new:
        return False
    if any(issubclass(t, ClauseElement) for t in new):
        return True
    if len(_PLAIN_TYPES) < 512:
        _PLAIN_TYPES.update(new)
    return False


def _run_has_sql(rows: list[Any], columns: tuple[str, ...]) -> bool:
    """True if a row of this run holds a SQL expression.  Column by column, in C:
    reading each column's values with one getter skips the rows' other entries
    (an object's own ``__dict__`` holds its state too) and builds no views."""
    dicts = list(map(_second, rows))
    for column in columns:
        get = operator.itemgetter(column)
        if not _PLAIN_TYPES.issuperset(map(type, map(get, dicts))) and _has_sql(
                map(get, dicts)):
            return True
    return False


class _DefaultContext:
    """What a Python-side ``default=``/``onupdate=`` callable may ask for."""

    __slots__ = ("current_parameters", "connection", "current_column")

    def __init__(self, params: dict[str, Any], connection: Any, column: Any) -> None:
        self.current_parameters = params
        self.connection = connection
        self.current_column = column

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict[str, Any]:
        return self.current_parameters

    @property
    def engine(self) -> Any:
        return self.connection.engine


def _default_value(default: Any, params: dict[str, Any], conn: Any, column: Any) -> Any:
    if default.is_scalar:
        return default.arg
    return default.arg(_DefaultContext(params, conn, column))


def _stmt(mapper: Mapper, key: Any, build: Any) -> Any:
    cache = mapper._stmt_cache
    stmt = cache.get(key)
    if stmt is None:
        stmt = cache[key] = build()
    return stmt


# --------------------------------------------------------------------------- INSERT
def _driver_statement(conn: Any, mapper: Mapper, kind: str, names: tuple[str, ...],
                      build: Any) -> Any:
    """SQLite: ``build()`` compiled for parameter dicts carrying exactly ``names``,
    and a function turning one such dict into the driver's tuple with each
    bind processor applied; None when Core must run the statement itself.

    Core's ``executemany`` re-processes every row's dict in Python, which costs
    more than SQLite's own ``executemany``; rows sent as ready tuples through
    ``exec_driver_sql`` still pass through Core's cursor events.
    """
    dialect = conn.dialect
    if dialect.name != "sqlite" or not dialect.positional or direct.CORE_ONLY:
        return None
    if options_change_sql(conn):
        return None  # schema_translate_map and the like: Core must render the SQL
    cache = dialect_cache(dialect)  # kept on the dialect: it goes with its engine
    cache_key = ("driver", mapper, kind, names)
    cached = cache.get(cache_key, _MISSING)
    if cached is not _MISSING:
        return cached
    compiled = build().compile(dialect=dialect, column_keys=list(names))
    order = list(compiled.positiontup or ())
    built = None
    if sorted(order) == sorted(names) and not compiled.literal_execute_params:
        procs = [
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in order
        ]
        if not order:  # INSERT .. DEFAULT VALUES: every row is the empty tuple

            def to_tuple(params: dict[str, Any]) -> tuple[Any, ...]:
                return ()
        elif len(order) == 1:
            one = order[0]

            def to_tuple(params: dict[str, Any]) -> tuple[Any, ...]:
                return (params[one],)
        else:
            to_tuple = operator.itemgetter(*order)
        if any(procs):
            plain = to_tuple

            def to_tuple(params: dict[str, Any]) -> tuple[Any, ...]:
                return tuple(
                    v if p is None or v is None else p(v) for p, v in zip(procs, plain(params))
                )
        built = (compiled.string, to_tuple)
    cache[cache_key] = built
    return built


def _executemany(conn: Any, mapper: Mapper, kind: str, names: tuple[str, ...],
                 build: Any, params: list[dict[str, Any]]) -> Any:
    """Run ``build()`` (cached per mapper and ``kind``) for each parameter dict,
    every dict carrying exactly ``names``; returns the result."""
    driver = _driver_statement(conn, mapper, kind, names, build) if len(params) > 1 else None
    if driver is None:
        stmt = _stmt(mapper, (kind,), build)
        return conn.execute(stmt, params if len(params) > 1 else params[0])
    sql, to_tuple = driver
    return conn.exec_driver_sql(sql, list(map(to_tuple, params)))


def _executemany_insert(conn: Any, mapper: Mapper, columns: tuple[str, ...],
                        params: list[dict[str, Any]]) -> None:
    """INSERT rows whose parameter dicts all carry exactly ``columns`` (column keys)."""
    _executemany(conn, mapper, "insert", columns, mapper.table.insert, params)


def insert_rows(plan: FlushPlan, mapper: Mapper, items: list[Item]) -> None:
    if mapper.table_parts:  # joined-table inheritance: the root table's row first
        for part in mapper.table_parts:
            insert_rows(plan, part, items)
        return
    conn = plan.connection(mapper)
    if mapper.has_self_reference and len(items) > 1:
        items = _sort_self_referential(mapper, items)
    for present, rows, raw in _insert_runs(conn, mapper, items, plan.undo):
        _insert_run(conn, mapper, present, rows, raw, plan.undo)


def _insert_runs(conn: Any, mapper: Mapper, items: list[Item], undo: Any) -> list[list[Any]]:
    """The parameters of the INSERTs of ``items``, as runs of consecutive objects
    that set the same columns: [columns, rows, raw] (see below)."""
    attrs = mapper.column_attrs
    keys = mapper.column_attr_keys
    col_key = {k: attrs[k].column.key for k in keys}
    same_keys = all(k == c for k, c in col_key.items())
    none_is_default = [
        k for k in keys if (k in mapper.python_defaults or k in mapper.fetch_on_insert)
        and not attrs[k].column.type.should_evaluate_none  # evaluates_none(): None is NULL
    ]
    py_defaults = mapper.python_defaults
    #: runs of consecutive objects that set the same columns, in the order they
    #: were added (so database-generated keys follow that order, as in SQLAlchemy's
    #: ORM): [columns, rows, raw], raw when rows hold the objects' own ``__dict__``
    #: (state included) rather than copies
    runs: list[list[Any]] = []
    run: list[Any] = [None, None, False]
    column_set = mapper.column_attr_set
    #: the usual new object's ``__dict__`` is column values plus its state: its key
    #: order, once checked, stands for all objects built alike
    plain_sigs: dict[tuple[str, ...], tuple[str, ...] | None] = {}
    #: the columns (in table order) of a copied dict with these keys
    value_sigs: dict[tuple[str, ...], tuple[str, ...]] = {}
    for item in items:
        d = item[1].__dict__
        if same_keys and not py_defaults:
            sig = tuple(d)
            present = plain_sigs.get(sig, _MISSING)
            if present is _MISSING:
                present = plain_sigs[sig] = _plain_present(sig, keys, column_set,
                                                           none_is_default)
            if present is not None:
                if run[0] is present or run[0] == present:
                    # a run begun with copies takes copies
                    run[1].append((item, d) if run[2] else (item, {k: d[k] for k in present}))
                else:
                    run = [present, [(item, d)], True]
                    runs.append(run)
                continue
        # the long way: a copy of the column values, defaults applied
        values = d.copy()
        del values[STATE_ATTR]
        if not column_set.issuperset(values):
            values = {k: d[k] for k in keys if k in d}
        for k in none_is_default:
            if k in values and values[k] is None:
                del values[k]
        if py_defaults:
            for k, default in py_defaults.items():
                if k not in values:
                    value = _default_value(default, values, conn, attrs[k].column)
                    values[k] = value
                    undo.set(d, k, value)
        params = values if same_keys else {col_key[k]: v for k, v in values.items()}
        sig = tuple(values)
        given = value_sigs.get(sig)
        if given is None:
            given = value_sigs[sig] = tuple(k for k in keys if k in values)
        if run[0] is given or run[0] == given:
            run[1].append((item, params))
        else:
            run = [given, [(item, params)], False]
            runs.append(run)
    return runs


def _insert_run(conn: Any, mapper: Mapper, present: tuple[str, ...], rows: list[Any],
                raw: bool, undo: Any) -> None:
    """INSERT one run of rows setting the columns ``present``; generated values
    the objects need back are stored on them (undoably)."""
    dialect = conn.dialect
    table = mapper.table
    attrs = mapper.column_attrs
    keys = mapper.column_attr_keys
    col_key = {k: attrs[k].column.key for k in keys}
    same_keys = all(k == c for k, c in col_key.items())
    fetch = [k for k in keys if k in mapper.fetch_on_insert and k not in present]
    if len(present) + len(fetch) < len(keys):
        # columns with no value and no default of any kind: NULL in the row,
        # and known to be so without being loaded (see InstanceState.known_none)
        omitted = frozenset(keys).difference(present, fetch)
        # joined-table inheritance: the INSERT of each table after the first adds its columns
        later = mapper.part_of is not None and mapper is not mapper.part_of.table_parts[0]
        for (state, _obj), _params in rows:
            state.known_none = state.known_none | omitted if later and state.known_none \
                else omitted
    columns = present if same_keys else tuple(col_key[k] for k in present)
    if _run_has_sql(rows, columns):
        _insert_with_sql(conn, mapper, present, rows, raw, undo)
        return
    keys_from_rowids = len(rows) > 1 and fetch == [mapper.pk_keys[0]] and _rowid_ordered(
        dialect, mapper, fetch
    )
    if raw and not (
        (not fetch or keys_from_rowids)
        and len(rows) > 1
        and _driver_statement(conn, mapper, "insert", columns, table.insert) is not None
    ):
        # only the driver-tuple path reads just the columns it needs: Core gets copies
        rows = [(item, {k: d[k] for k in present}) for item, d in rows]
    if not fetch:
        _executemany_insert(conn, mapper, columns, [p for _, p in rows])
        return
    if len(rows) >= COPY_THRESHOLD and _copy_capable(conn, mapper, present, fetch):
        _copy_insert(conn, mapper, rows, present, fetch, undo)
        return
    if keys_from_rowids:
        _sqlite_executemany_rowids(conn, mapper, columns, rows, undo)
        return
    _insert_returning(conn, mapper, rows, fetch, undo)


def _insert_returning(conn: Any, mapper: Mapper, rows: list[Any], fetch: list[str],
                      undo: Any) -> None:
    """INSERT rows and store the values of ``fetch`` the database generated,
    by the best means the dialect offers."""
    dialect = conn.dialect
    table = mapper.table
    ret_cols = [mapper.column_attrs[k].column for k in fetch]
    if not table.implicit_returning:
        _insert_one_by_one(conn, mapper, rows, fetch, undo)
    elif len(rows) > 1 and _rowid_ordered(dialect, mapper, fetch):
        # SQLite gives the rows of one multi-row INSERT increasing rowids in VALUES
        # order, so sorting the RETURNING rows by key pairs them with our rows.
        stmt = _stmt(
            mapper,
            ("insert_returning", tuple(fetch)),
            lambda cols=ret_cols: table.insert().returning(*cols),
        )
        result = conn.execute(stmt, [p for _, p in rows])
        pk_pos = fetch.index(mapper.pk_keys[0])
        returned = sorted(result.all(), key=lambda r: r[pk_pos])
        if len(returned) != len(rows):
            raise exc.FlushError(
                f"INSERT into {table.name!r} returned {len(returned)} rows for "
                f"{len(rows)} objects"
            )
        for ((_, obj), _p), row in zip(rows, returned):
            d = obj.__dict__
            for k, v in zip(fetch, row):
                undo.set(d, k, v)
    elif len(rows) > 1 and getattr(
        dialect, "insert_executemany_returning_sort_by_parameter_order", False
    ) and dialect.name != "sqlite":
        stmt = _stmt(
            mapper,
            ("insert_returning_sorted", tuple(fetch)),
            lambda cols=ret_cols: table.insert().returning(*cols, sort_by_parameter_order=True),
        )
        result = conn.execute(stmt, [p for _, p in rows])
        for ((_, obj), _p), row in zip(rows, result.all()):
            d = obj.__dict__
            for k, v in zip(fetch, row):
                undo.set(d, k, v)
    elif dialect.insert_returning:
        stmt = _stmt(
            mapper,
            ("insert_returning", tuple(fetch)),
            lambda cols=ret_cols: table.insert().returning(*cols),
        )
        for (_, obj), params in rows:
            row = conn.execute(stmt, params).one()
            d = obj.__dict__
            for k, v in zip(fetch, row):
                undo.set(d, k, v)
    else:
        _insert_one_by_one(conn, mapper, rows, fetch, undo)


def _insert_one_by_one(conn: Any, mapper: Mapper, rows: list[Any], fetch: list[str],
                       undo: Any) -> None:
    """No RETURNING (the dialect's or the table's ``implicit_returning=False``):
    a statement per row, the key from the driver, other generated values
    expired (loaded on access)."""
    table = mapper.table
    stmt = _stmt(mapper, ("insert",), table.insert)
    pk_fetch = [k for k in fetch if k in mapper.pk_keys]
    for (_, obj), params in rows:
        result = conn.execute(stmt, params)
        d = obj.__dict__
        inserted = result.inserted_primary_key
        for k, v in zip(mapper.pk_keys, inserted):
            if k in pk_fetch:
                undo.set(d, k, v)
        for k in fetch:
            if k not in pk_fetch:
                undo.unset(d, k)  # unknown server value: load on access


def _insert_with_sql(conn: Any, mapper: Mapper, present: tuple[str, ...], rows: list[Any],
                     raw: bool, undo: Any) -> None:
    """A run with SQL expression values: each such row is an INSERT of its own
    (the expressions rendered in it), the plain rows between them batched as
    usual; the order of the rows is kept."""
    plain: list[Any] = []
    for row in rows:
        if not _has_sql(row[1].values()):
            plain.append(row)
            continue
        if plain:
            _insert_run(conn, mapper, present, plain, raw, undo)
            plain = []
        _insert_sql_row(conn, mapper, row, undo)
    if plain:
        _insert_run(conn, mapper, present, plain, raw, undo)


def _insert_sql_row(conn: Any, mapper: Mapper, row: Any, undo: Any) -> None:
    """INSERT one row whose values include SQL expressions; the primary key
    and server defaults come back by RETURNING where there is one, the
    expressions' attributes are expired."""
    (_state, obj), params = row
    table = mapper.table
    to_attr = {c: k for k, c in mapper.attr_to_column_key.items()}
    values = {}
    exprs = {}
    for ckey, v in params.items():
        if ckey in to_attr:
            (exprs if isinstance(v, ClauseElement) else values)[ckey] = v
    stmt = table.insert().values({table.c[c]: v for c, v in exprs.items()})
    expr_keys = [to_attr[c] for c in exprs]
    given = {to_attr[c] for c in params if c in to_attr}
    fetch = [k for k in mapper.column_attr_keys if k in mapper.pk_keys and k in expr_keys
             or k in mapper.fetch_on_insert and (k not in given or k in expr_keys)]
    d = obj.__dict__
    if fetch and conn.dialect.insert_returning and table.implicit_returning:
        returned = conn.execute(
            stmt.returning(*[mapper.column_attrs[k].column for k in fetch]), values).one()
        for k, v in zip(fetch, returned):
            undo.set(d, k, v)
    else:
        inserted = conn.execute(stmt, values).inserted_primary_key
        for k, v in zip(mapper.pk_keys, inserted):
            if k in fetch:
                undo.set(d, k, v)
        for k in fetch:
            if k not in mapper.pk_keys:
                undo.unset(d, k)
    for k in expr_keys:
        if k not in fetch:
            undo.unset(d, k)  # the value the expression made: loaded on access


def _plain_present(sig: tuple[str, ...], keys: tuple[str, ...], column_set: frozenset[str],
                   none_is_default: list[str]) -> tuple[str, ...] | None:
    """The columns (in table order) of a ``__dict__`` with these keys, when it
    holds nothing but column values and the state, none of them a key whose
    None means "default" (those dicts need a look at each value); else None."""
    if STATE_ATTR not in sig:
        return None
    if not column_set.issuperset(k for k in sig if k != STATE_ATTR) or any(
        k in sig for k in none_is_default
    ):
        return None
    return tuple(k for k in keys if k in sig)


def _sqlite_executemany_rowids(conn: Any, mapper: Mapper, columns: tuple[str, ...],
                               rows: list[Any], undo: Any) -> None:
    """SQLite, key-only fetch: a plain executemany, then the keys from the rowids.

    Inside the session's write transaction no other writer can interleave, and
    SQLite gives each new row ``max(rowid) + 1``, so the rows just inserted
    hold the contiguous rowids ending at ``last_insert_rowid()``.  A COUNT over
    that range confirms it before any key is assigned.
    """
    table = mapper.table
    pk_col = mapper.primary_key[0]
    _executemany_insert(conn, mapper, columns, [p for _, p in rows])
    n = len(rows)
    last = conn.exec_driver_sql("SELECT last_insert_rowid()").scalar()
    first = last - n + 1
    check = _stmt(
        mapper,
        ("rowid_range_count",),
        lambda: select(func.count()).select_from(table).where(
            pk_col.between(bindparam("_se_first"), bindparam("_se_last"))
        ),
    )
    found = conn.execute(check, {"_se_first": first, "_se_last": last}).scalar()
    if found != n:
        raise exc.FlushError(
            f"Could not determine the keys of {n} rows inserted into {table.name!r}: SQLite "
            "did not assign consecutive rowids (is the rowid at its maximum?)"
        )
    undo.set_new([obj.__dict__ for (_, obj), _p in rows], mapper.pk_keys[0],
                 range(first, last + 1))


#: at least this many new rows of one table go through COPY on PostgreSQL.
#: COPY bypasses Core's cursor events (``before_cursor_execute`` listeners and
#: query recorders do not see those rows); raise this to turn it off.
COPY_THRESHOLD = 1000


def _copy_capable(conn: Any, mapper: Mapper, present: tuple[str, ...], fetch: list[str]) -> bool:
    """PostgreSQL + psycopg 3, one integer key drawn from a sequence, and column
    types psycopg can adapt by itself (no SQLAlchemy bind processing)."""
    dialect = conn.dialect
    if (dialect.name != "postgresql" or dialect.driver != "psycopg" or dialect.is_async
            or direct.CORE_ONLY):
        return False  # psycopg's async connection (an AsyncSession) has no blocking COPY
    if len(mapper.pk_keys) != 1 or mapper.pk_keys[0] not in fetch:
        return False
    pk_col = mapper.primary_key[0]
    if pk_col is not autoincrement_column(mapper.table) or pk_col.default is not None:
        return False
    for key in present:
        col = mapper.column_attrs[key].column
        if bind_processor(col.type, dialect) is not None:
            return False
    return True


def _copy_insert(
    conn: Any, mapper: Mapper, rows: list[Any], present: tuple[str, ...], fetch: list[str],
    undo: Any,
) -> None:
    """Reserve keys from the table's sequence, then COPY the rows with them.

    Faster than executemany for large batches; keys are still assigned back.
    Other server-generated columns are left to the database and loaded on
    first access.
    """
    table = mapper.table
    pk_key = mapper.pk_keys[0]
    pk_col = mapper.primary_key[0]
    preparer = conn.dialect.identifier_preparer
    target = preparer.format_table(table)  # quoted where needed, as SQL parses it
    seq = conn.exec_driver_sql(
        "SELECT pg_get_serial_sequence(%(t)s, %(c)s)", {"t": target, "c": pk_col.name}
    ).scalar()
    if seq is None:
        raise exc.FlushError(f"No sequence found for {target}.{pk_col.name}")
    ids = conn.exec_driver_sql(
        "SELECT nextval(%(s)s) FROM generate_series(1, %(n)s)", {"s": seq, "n": len(rows)}
    ).scalars().all()
    cols = [pk_col.name] + [mapper.column_attrs[k].column.name for k in present]
    copy_sql = f"COPY {target} ({', '.join(preparer.quote(c) for c in cols)}) FROM STDIN"
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cur, cur.copy(copy_sql) as copy:
            write = copy.write_row
            for ((_, obj), _params), ident in zip(rows, ids):
                d = obj.__dict__
                write((ident, *[d[k] for k in present]))
    except BaseException as e:
        raise_as_core(conn, e, copy_sql, None)
    for ((_, obj), _p), ident in zip(rows, ids):
        d = obj.__dict__
        undo.set(d, pk_key, ident)
        for k in fetch:
            if k != pk_key:
                undo.unset(d, k)


def _rowid_ordered(dialect: Any, mapper: Mapper, fetch: list[str]) -> bool:
    """True when SQLite's rowid order can pair RETURNING rows with parameter rows:
    the key is a single INTEGER PRIMARY KEY (a rowid alias) that SQLite assigns."""
    if dialect.name != "sqlite" or not dialect.insert_executemany_returning:
        return False
    if len(mapper.pk_keys) != 1 or mapper.pk_keys[0] not in fetch:
        return False
    col = mapper.primary_key[0]
    if not mapper.table.dialect_options["sqlite"].get("with_rowid", True):
        return False  # a WITHOUT ROWID table has no rowids to read keys from
    return col is autoincrement_column(mapper.table) and col.default is None


def _sort_self_referential(mapper: Mapper, items: list[Item]) -> list[Item]:
    """Order rows of a self-referencing table so referenced rows come first."""
    table = mapper.table
    fk_pairs = [
        (mapper.col_to_key[fk.parent], mapper.col_to_key[fk.column])
        for fk in table.foreign_keys
        if fk.column.table is table
    ]
    by_value: dict[tuple[str, Any], int] = {}
    for i, (_, obj) in enumerate(items):
        d = obj.__dict__
        for _, target in fk_pairs:
            v = d.get(target)
            if v is not None:
                by_value[(target, v)] = i
    deps: dict[int, set[int]] = {}
    for i, (_, obj) in enumerate(items):
        d = obj.__dict__
        for src, target in fk_pairs:
            v = d.get(src)
            j = by_value.get((target, v)) if v is not None else None
            if j is not None and j != i:
                deps.setdefault(i, set()).add(j)
    if not deps:
        return items
    out: list[Item] = []
    done: set[int] = set()
    visiting: set[int] = set()

    def visit(i: int) -> None:
        if i in done or i in visiting:
            return
        visiting.add(i)
        for j in deps.get(i, ()):
            visit(j)
        visiting.discard(i)
        done.add(i)
        out.append(items[i])

    for i in range(len(items)):
        visit(i)
    return out


# --------------------------------------------------------------------------- UPDATE
def _pk_where(mapper: Mapper) -> Any:
    return and_(
        *(c == bindparam(name) for c, name in zip(mapper.primary_key, mapper.pk_param_names))
    )


def update_rows(plan: FlushPlan, mapper: Mapper, items: list[Item]) -> None:
    if mapper.table_parts:
        _update_parts(plan, mapper, items)
        return
    attrs = mapper.attrs
    pk_keys = mapper.pk_keys
    pk_params = mapper.pk_param_names
    col_key = mapper.attr_to_column_key
    plain = mapper.plain_compare
    onupdates = mapper.python_onupdates
    undo = plan.undo
    unchanged = plan.unchanged
    updated = plan.updated
    groups: dict[tuple[str, ...], list[tuple[Item, dict[str, Any]]]] = {}
    conn = None
    plain_types = _PLAIN_TYPES
    for item in items:
        state, obj = item
        d = obj.__dict__
        changes: dict[str, Any] = {}
        sql = False
        for key, old in state.committed.items():
            new = d.get(key, NO_VALUE)
            if new is NO_VALUE or key not in col_key:
                continue  # expired again, or a relationship (handled by dependency.py)
            if old is NO_VALUE:
                pass
            elif key in plain:
                if old is new or old == new:
                    continue
            elif not attrs[key].values_differ(old, new):
                continue
            changes[key] = new
            if type(new) not in plain_types:
                sql = sql or _has_sql((new,))
        if not changes:
            unchanged.append(state)
            continue
        if conn is None:
            conn = plan.connection(mapper)
        if state.key is not None:
            for k in pk_keys:
                if k not in d:  # expired: SQLAlchemy reads the key, loading the object
                    load_before_write(plan.session, state, obj)
                    break
        if onupdates:
            for key, onupdate in onupdates.items():
                if key not in changes:
                    value = _default_value(onupdate, changes, conn, attrs[key].column)
                    changes[key] = value
                    undo.set(d, key, value)
        if mapper.same_column_keys:
            params = changes.copy()
        else:
            params = {col_key[k]: v for k, v in changes.items()}
        skey = state.key
        if skey is not None:
            pk = skey[1]
        else:  # a new object replacing a deleted row with the same key
            pk = tuple([d.get(k) for k in pk_keys])
        for name, v in zip(pk_params, pk):
            params[name] = v
        if skey is not None:
            for k, v in zip(pk_keys, pk):
                if k in changes and changes[k] != v:
                    plan.key_switches.append((state, skey))
                    break
        group_key: tuple[str, ...] = (*changes, _SQL_GROUP) if sql else tuple(changes)
        group = groups.get(group_key)
        if group is None:
            group = groups[group_key] = []
        group.append((item, params))
        updated.append(item)
    if groups:
        assert conn is not None
        _run_update_groups(plan, mapper, conn, groups)


def _update_parts(plan: FlushPlan, mapper: Mapper, items: list[Item]) -> None:
    """Joined-table inheritance: an UPDATE of each table with changed columns;
    an object counts as updated if any of its tables was."""
    n_unchanged, n_updated, n_switches = (
        len(plan.unchanged), len(plan.updated), len(plan.key_switches))
    for part in mapper.table_parts:
        update_rows(plan, part, items)
    updated = list(dict.fromkeys(plan.updated[n_updated:]))
    written = {state for state, _obj in updated}
    unchanged = [s for s in dict.fromkeys(plan.unchanged[n_unchanged:]) if s not in written]
    switches = list(dict.fromkeys(plan.key_switches[n_switches:]))
    plan.updated[n_updated:] = updated
    plan.unchanged[n_unchanged:] = unchanged
    plan.key_switches[n_switches:] = switches


def _run_update_groups(plan: FlushPlan, mapper: Mapper, conn: Any,
                       groups: dict[tuple[str, ...], list[tuple[Item, dict[str, Any]]]]) -> None:
    """One executemany UPDATE per set of changed columns."""
    col_key = mapper.attr_to_column_key
    pk_params = mapper.pk_param_names
    undo = plan.undo
    dialect = conn.dialect
    table = mapper.table

    def build() -> Any:
        return table.update().where(_pk_where(mapper))

    for changed, rows in groups.items():
        fetch = mapper.fetch_on_update - set(changed)
        if changed and changed[-1] is _SQL_GROUP or fetch and _eager_update(mapper, dialect):
            _update_one_by_one(conn, mapper, rows, fetch, undo)
            continue
        params_list = [p for _, p in rows]
        names = (changed if mapper.same_column_keys else tuple(col_key[k] for k in changed))
        result = _executemany(conn, mapper, "update", names + pk_params, build, params_list)
        _check_rowcount(dialect, result, len(params_list), "UPDATE", mapper)
        if fetch:
            for (_, obj), _p in rows:
                for k in fetch:
                    undo.unset(obj.__dict__, k)


#: the last key of an UPDATE group whose rows set SQL expressions
_SQL_GROUP = "\x00sql"


def _eager_update(mapper: Mapper, dialect: Any) -> bool:
    """``eager_defaults=True``: server-generated values of UPDATEs come back by RETURNING."""
    return ((mapper.part_of or mapper).eager_defaults is True and dialect.update_returning
            and mapper.table.implicit_returning)


def _update_one_by_one(conn: Any, mapper: Mapper, rows: list[Any], fetch: set[str],
                       undo: Any) -> None:
    """An UPDATE per row: rows setting SQL expressions (rendered in the
    statement, their attributes expired afterwards), or fetching
    server-generated values by RETURNING (``eager_defaults=True``)."""
    table = mapper.table
    col_of = mapper.column_attrs
    to_attr = {c: k for k, c in mapper.attr_to_column_key.items()}
    returning = sorted(fetch) if fetch and _eager_update(mapper, conn.dialect) else []
    base = table.update().where(_pk_where(mapper))
    for (_, obj), params in rows:
        exprs = {c: v for c, v in params.items() if isinstance(v, ClauseElement)}
        stmt = base.values({table.c[c]: v for c, v in exprs.items()}) if exprs else base
        values = {c: v for c, v in params.items() if c not in exprs}
        d = obj.__dict__
        if returning:
            result = conn.execute(stmt.returning(*[col_of[k].column for k in returning]),
                                  values)
            row = result.first()
            if row is None:
                raise _stale("UPDATE", mapper, 1, 0)
            for k, v in zip(returning, row):
                undo.set(d, k, v)
        else:
            result = conn.execute(stmt, values)
            _check_rowcount(conn.dialect, result, 1, "UPDATE", mapper)
            for k in fetch:
                undo.unset(d, k)
        for c in exprs:
            undo.unset(d, to_attr[c])  # the value the expression made: loaded on access


def _stale(verb: str, mapper: Mapper, expected: int, matched: int) -> exc.StaleDataError:
    return exc.StaleDataError(
        f"{verb} statement on table {mapper.table.name!r} (class {mapper.class_.__name__}) "
        f"expected to {'update' if verb == 'UPDATE' else 'delete'} {expected} row(s); "
        f"{matched} were matched. The rows were changed or deleted by another transaction "
        "or statement since they were loaded: roll back and reload them"
    )


def _check_rowcount(dialect: Any, result: Any, expected: int, verb: str, mapper: Mapper) -> None:
    if expected > 1:
        reliable = dialect.supports_sane_multi_rowcount
    else:
        reliable = dialect.supports_sane_rowcount
    if not reliable:
        return
    matched = result.rowcount
    if matched != expected:
        raise _stale(verb, mapper, expected, matched)


# --------------------------------------------------------------------------- DELETE
def load_expired_deletes(plan: FlushPlan) -> None:
    """Before the flush's first statement, load the objects to DELETE whose key
    is expired, of classes with relationships: SQLAlchemy reads those
    relationships' history first, which loads the object (a row that is gone
    fails the flush before anything is written).  Other classes load at
    their DELETE (see :func:`delete_rows`), as there."""
    session = plan.session
    for mapper, items in plan.deletes.items():
        if not any(not rel.viewonly and not rel.passive_deletes
                   for rel in mapper.relationships.values()):
            continue
        pk_keys = mapper.pk_keys
        for state, obj in items:
            d = obj.__dict__
            if state.key is not None and not all(k in d for k in pk_keys):
                load_before_write(session, state, obj)


def delete_rows(plan: FlushPlan, mapper: Mapper, items: list[Item]) -> None:
    if mapper.table_parts:  # joined-table inheritance: the subclass's row first
        for part in reversed(mapper.table_parts):
            delete_rows(plan, part, items)
        return
    conn = plan.connection(mapper)
    if mapper.has_self_reference and len(items) > 1:
        items = list(reversed(_sort_self_referential(mapper, items)))
    params_list = []
    pk_keys = mapper.pk_keys
    for state, obj in items:
        d = obj.__dict__
        for k in pk_keys:
            if k not in d:  # expired: SQLAlchemy reads the key, loading the object
                load_before_write(plan.session, state, obj)
                break
        pk = state.key[1]  # type: ignore[index]
        params_list.append({f"_se_pk_{i}": v for i, v in enumerate(pk)})
    table = mapper.table
    stmt = _stmt(mapper, ("delete",), lambda: table.delete().where(_pk_where(mapper)))
    result = conn.execute(stmt, params_list if len(params_list) > 1 else params_list[0])
    expected = len(params_list)
    dialect = conn.dialect
    if (dialect.supports_sane_multi_rowcount if expected > 1 else dialect.supports_sane_rowcount) \
            and result.rowcount != expected:
        # SQLAlchemy only warns here (there is no version counter to protect):
        # the rows are gone, whoever deleted them
        warnings.warn(
            f"DELETE statement on table {table.name!r} (class {mapper.class_.__name__}) "
            f"expected to delete {expected} row(s); {result.rowcount} were matched: the "
            "rows were already deleted (by another transaction, a statement, or a "
            "rolled-back INSERT)",
            exc.SAWarning,
            stacklevel=6,
        )


# --------------------------------------------------------------------------- relationship extras
def write_post_updates(plan: FlushPlan) -> None:
    """UPDATEs that break row-level cycles (``post_update=True`` relationships)."""
    if not plan.post_updates:
        return
    by_mapper: dict[Any, list[tuple[Any, object, dict[str, Any]]]] = {}
    for state, obj, values in plan.post_updates:
        by_mapper.setdefault(state.mapper, []).append((state, obj, values))
    for mapper, rows in by_mapper.items():
        conn = plan.connection(mapper)
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for _state, obj, values in rows:
            d = obj.__dict__
            params = dict(values)
            for i, k in enumerate(mapper.pk_keys):
                params[f"_se_pk_{i}"] = d[k]
            groups.setdefault(tuple(values), []).append(params)
        stmt = _stmt(mapper, ("update",), lambda m=mapper: m.table.update().where(_pk_where(m)))
        for params_list in groups.values():
            conn.execute(stmt, params_list if len(params_list) > 1 else params_list[0])


def write_secondary(plan: FlushPlan, deletes: bool) -> None:
    """Insert or delete association-table rows of many-to-many relationships."""
    source = plan.secondary_deletes if deletes else plan.secondary_inserts
    for table, rows in source.items():
        if not rows:
            continue
        conn = plan.connection(None, table)
        if deletes:
            cols = list(rows[0])
            stmt = table.delete().where(
                and_(*(table.c[c] == bindparam(f"_se_sec_{c}") for c in cols))
            )
            params = [{f"_se_sec_{c}": r[c] for c in cols} for r in rows]
            result = conn.execute(stmt, params if len(params) > 1 else params[0])
            reliable = (
                conn.dialect.supports_sane_multi_rowcount
                if len(params) > 1
                else conn.dialect.supports_sane_rowcount
            )
            if reliable and result.rowcount != len(params):
                raise exc.StaleDataError(
                    f"DELETE statement on association table {table.name!r} expected to delete "
                    f"{len(params)} row(s); only {result.rowcount} were matched"
                )
        else:
            conn.execute(table.insert(), rows)
