"""Run session_ext's own one-row SELECTs on the DB-API cursor when Core would
add nothing anyone can observe.

``Session.get`` and attribute refreshes run one tiny statement that
session_ext built itself.  Through ``Connection.execute`` each one costs about
15 µs of Core bookkeeping (cache key, execution context, ``CursorResult``,
``Row``) on top of the 5 µs the driver needs, which is most of a request that
loads one object.  When nobody could tell the difference, session_ext runs the
statement it compiled once per dialect on the connection's own DB-API cursor:

* no ``before/after_execute`` or ``before/after_cursor_execute`` listeners
  on the connection or engine, and no dialect event listeners (so statement
  counters and tracing see every statement);
* no logging (``echo`` off and the ``sqlalchemy.engine`` logger quiet);
* no execution options that change the SQL or the cursor
  (``schema_translate_map``, ``stream_results``, ...);
* a dialect that executes with ``cursor.execute`` unchanged (pysqlite,
  psycopg and most others: checked on the dialect, not by name);
* parameters that need no bind processor;
* a live connection (an invalidated one is Core's to reconnect).

Errors still go through Core's handler: they are raised as SQLAlchemy's
``DBAPIError`` subclasses with the statement attached, and a lost connection
still invalidates the connection and the pool.  Result values that need a
result processor (dates on SQLite, for instance) get it, decided once per
dialect, column types and the cursor's type codes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine.default import DefaultDialect, DefaultExecutionContext

#: execution options that change neither the SQL nor how its cursor is made
HARMLESS_OPTIONS = frozenset(
    {
        "isolation_level", "logging_token", "compiled_cache", "preserve_rowcount",
        "insertmanyvalues_page_size", "postgresql_readonly", "postgresql_deferrable",
        "sqlite_raw_colnames", "driver_column_names", "no_parameters",
    }
)

#: dialect class -> whether it runs a statement with a plain ``cursor.execute``
_plain_dialects: dict[type, bool] = {}

#: (dialect, cursor type codes, column types) -> result processors, or None
#: when every value arrives ready (bounded: only mapped columns are looked up)
_processor_cache: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}


def row_processors(dialect: Any, codes: tuple[Any, ...], types: tuple[Any, ...]) -> Any:
    """Each column's result processor, or None when no column needs one."""
    cache_key = (dialect, codes, types)
    try:
        return _processor_cache[cache_key]
    except KeyError:
        pass
    if len(_processor_cache) > 10_000:
        _processor_cache.clear()  # a bound, should types be made per query
    procs = tuple(
        t.dialect_impl(dialect).result_processor(dialect, code) for t, code in zip(types, codes)
    )
    found = procs if any(procs) else None
    _processor_cache[cache_key] = found
    return found


def _plain_dialect(dialect: Any) -> bool:
    cls = type(dialect)
    plain = _plain_dialects.get(cls)
    if plain is None:
        ctx = dialect.execution_ctx_cls
        plain = _plain_dialects[cls] = (
            cls.do_execute is DefaultDialect.do_execute
            and ctx.create_cursor is DefaultExecutionContext.create_cursor
            and ctx.pre_exec is DefaultExecutionContext.pre_exec
            and ctx.post_exec is DefaultExecutionContext.post_exec
        )
    return plain


def _watched(dispatch: Any) -> bool:
    """Whether anyone listens to statement execution on this dispatcher
    (a ``begin`` listener, as :func:`~session_ext.engines.configure_sqlite`
    adds, does not count: the lane runs inside a transaction Core began)."""
    return bool(
        dispatch.before_cursor_execute
        or dispatch.after_cursor_execute
        or dispatch.before_execute
        or dispatch.after_execute
    )


def lane_open(conn: Any) -> bool:
    """Whether ``conn`` may run a session_ext statement on its cursor directly."""
    if conn._echo:
        return False
    if conn._has_events:  # listeners on this connection: the dispatcher joins the engine's
        if _watched(conn.dispatch):
            return False
    elif conn.engine._has_events and _watched(conn.engine.dispatch):
        return False
    dialect = conn.dialect
    if dialect._has_events or not _plain_dialect(dialect) or conn._dbapi_connection is None:
        return False
    options = conn._execution_options
    return not options or options.keys() <= HARMLESS_OPTIONS


class OneRowSelect:
    """A SELECT compiled once for one dialect, run with positional key values.

    ``prepare`` returns None when the statement cannot take the direct lane
    (a bind processor, expanding or literal parameters); callers then use Core.
    """

    __slots__ = ("sql", "order", "named", "types")

    def __init__(self, sql: str, order: tuple[int, ...], named: tuple[str, ...] | None,
                 types: tuple[Any, ...]) -> None:
        self.sql = sql
        self.order = order  # position in the caller's values, per driver parameter
        self.named = named  # parameter names for a named paramstyle, else None
        self.types = types  # the selected columns' types, for result processors

    @classmethod
    def prepare(cls, stmt: Any, names: tuple[str, ...], dialect: Any) -> OneRowSelect | None:
        compiled = stmt.compile(dialect=dialect)
        if (compiled.literal_execute_params or compiled.post_compile_params
                or compiled.escaped_bind_names):
            return None
        for bind in compiled.binds.values():
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                return None
        index = {name: i for i, name in enumerate(names)}
        if compiled.positional:
            positions = tuple(compiled.positiontup or ())
            if any(p not in index for p in positions):
                return None
            return cls(compiled.string, tuple(index[p] for p in positions), None,
                       tuple(c.type for c in stmt.selected_columns))
        if any(b not in index for b in compiled.binds):
            return None
        bound = tuple(compiled.binds)
        return cls(compiled.string, tuple(index[b] for b in bound), bound,
                   tuple(c.type for c in stmt.selected_columns))

    def fetch_one(self, conn: Any, values: tuple[Any, ...]) -> Any:
        """The first row (a tuple) for ``values``, or None; Core handles errors."""
        params: Any = tuple(values[i] for i in self.order)
        if self.named is not None:
            params = dict(zip(self.named, params))
        cursor = None
        try:
            cursor = conn._dbapi_connection.dbapi_connection.cursor()
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
            description = cursor.description
            cursor.close()
        except BaseException as e:
            # wrapped, the statement attached, a disconnect invalidated: as Core does
            conn._handle_dbapi_exception(e, self.sql, params, cursor, None)
            raise  # not reached: Core's handler raises
        if row is None:
            return None
        procs = row_processors(conn.dialect, tuple(d[1] for d in description), self.types)
        if procs is not None:
            row = tuple(v if p is None else p(v) for p, v in zip(procs, row))
        return row
