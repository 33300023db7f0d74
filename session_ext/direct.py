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
  counters, tracing and ``handle_error`` hooks see every statement);
* no logging (``echo`` off and the ``sqlalchemy.engine`` logger quiet);
* no execution options that change the SQL or the cursor
  (``schema_translate_map``, ``stream_results``, ...);
* a dialect that executes with ``cursor.execute`` unchanged (pysqlite,
  psycopg and most others: checked once per dialect object, not by name);
* parameters that need no bind processor;
* a live connection inside an active transaction that no ``with`` block of
  Core's guards (anything else is Core's to begin, refuse or reconnect).

Errors still go through Core's handler, as they would from Core's own
execution: driver errors are raised as SQLAlchemy's ``DBAPIError`` subclasses
with the statement attached, other errors as they are, and a lost connection
still invalidates the connection and the pool.  Result values that need a
result processor (dates on SQLite, for instance) get it.

What is compiled or decided is kept on the dialect object (as SQLAlchemy keeps
its own per-dialect type memos there), so it goes away with its engine.
"""

from __future__ import annotations

import operator
import os
from typing import Any, NoReturn

from .compat import (
    connection_options,
    handle_driver_error,
    plain_cursor_execution,
    pool_connection,
    unobserved_in_transaction,
)

#: True turns every Core bypass off: the direct lane here, the driver's tuples
#: (rows read with ``cursor.fetchall()`` instead of Core's ``Row`` objects,
#: SQLite INSERT/UPDATE batches sent as tuples with ``exec_driver_sql``) and
#: PostgreSQL COPY for large INSERTs; every statement then runs through Core's
#: ``Connection.execute``.  Set by ``SESSION_EXT_CORE_ONLY=1`` in the
#: environment (read at import) or by assigning ``session_ext.direct.CORE_ONLY``
#: (see docs/performance.md).
CORE_ONLY = os.environ.get("SESSION_EXT_CORE_ONLY", "").strip().lower() not in (
    "", "0", "false", "no",
)

#: execution options that change neither the SQL nor how its cursor is made
HARMLESS_OPTIONS = frozenset(
    {
        "isolation_level", "logging_token", "compiled_cache", "preserve_rowcount",
        "insertmanyvalues_page_size", "postgresql_readonly", "postgresql_deferrable",
        "sqlite_raw_colnames", "driver_column_names", "no_parameters",
    }
)

#: the attribute of a dialect holding session_ext's per-dialect cache
_CACHE_ATTR = "_session_ext_cache"
#: entries a dialect's cache may hold before it starts over
_CACHE_BOUND = 10_000
#: whether the dialect runs statements with a plain ``cursor.execute``
_PLAIN = "plain"


def dialect_cache(dialect: Any) -> dict[Any, Any]:
    """session_ext's cache for ``dialect``: compiled statements, result
    processors, and whether the direct lane may be used at all."""
    cache = dialect.__dict__.get(_CACHE_ATTR)
    if cache is None or len(cache) > _CACHE_BOUND:
        cache = {_PLAIN: plain_cursor_execution(dialect)}
        setattr(dialect, _CACHE_ATTR, cache)
    return cache  # type: ignore[no-any-return]


def row_processors(dialect: Any, codes: tuple[Any, ...], types: tuple[Any, ...]) -> Any:
    """Each column's result processor, or None when no column needs one
    (decided once per dialect, cursor type codes and column types)."""
    cache = dialect_cache(dialect)
    cache_key = ("rows", codes, types)
    try:
        return cache[cache_key]
    except KeyError:
        pass
    procs = tuple(
        t.dialect_impl(dialect).result_processor(dialect, code) for t, code in zip(types, codes)
    )
    found = cache[cache_key] = procs if any(procs) else None
    return found


def options_change_sql(conn: Any) -> bool:
    """Whether ``conn``'s execution options change the SQL or how its cursor
    is made (``schema_translate_map``, ``stream_results``, ...): statements
    session_ext compiled itself must then go through Core."""
    options = connection_options(conn)
    return bool(options) and not options.keys() <= HARMLESS_OPTIONS


def lane_for(conn: Any) -> dict[Any, Any] | None:
    """The dialect cache to run a session_ext statement on ``conn``'s cursor
    with, or None when Core must run it."""
    if CORE_ONLY or not unobserved_in_transaction(conn) or options_change_sql(conn):
        return None
    cache = dialect_cache(conn.dialect)
    return cache if cache[_PLAIN] else None


def lane_open(conn: Any) -> bool:
    """Whether session_ext statements on ``conn`` would take the direct lane."""
    return lane_for(conn) is not None


def prepared(dialect: Any, mapper: Any, keys: tuple[str, ...] | None) -> Any:
    """The lane's compiled ``mapper.select_by_pk(keys)`` for ``dialect``: a
    :class:`OneRowSelect`, None when Core runs it, or a miss (not prepared yet)."""
    return dialect_cache(dialect).get(_pk_key(mapper, keys), _MISS)


def select_by_pk(lane: dict[Any, Any], dialect: Any, mapper: Any,
                 keys: tuple[str, ...] | None) -> OneRowSelect | None:
    """``mapper.select_by_pk(keys)`` compiled for the lane (once per dialect),
    or None when Core must run it."""
    cache_key = _pk_key(mapper, keys)
    one = lane.get(cache_key, _MISS)
    if one is _MISS:
        one = lane[cache_key] = OneRowSelect.prepare(
            mapper.select_by_pk(keys), mapper.pk_param_names, dialect
        )
    return one  # type: ignore[no-any-return]


def _pk_key(mapper: Any, keys: tuple[str, ...] | None) -> tuple[Any, ...]:
    return ("pk", mapper, keys)


#: what :func:`prepared` returns for a statement the lane never prepared
_MISS = object()
_type_code = operator.itemgetter(1)  # of a cursor.description entry


def raise_as_core(conn: Any, error: BaseException, statement: str, params: Any,
                  cursor: Any = None) -> NoReturn:
    """Raise ``error`` from a statement run on the driver behind Core's back
    exactly as Core would have: driver errors wrapped in SQLAlchemy's classes
    with the statement attached, disconnects detected and the connection
    invalidated, ``handle_error`` listeners called, anything else as it is."""
    handle_driver_error(conn, error, statement, params, cursor)
    raise error  # not reached: Core's handler raises


class OneRowSelect:
    """A SELECT compiled once for one dialect, run with positional key values.

    ``prepare`` returns None when the statement cannot take the direct lane
    (a bind processor, expanding or literal parameters); callers then use Core.
    """

    __slots__ = ("sql", "order", "named", "types", "in_order")

    def __init__(self, sql: str, order: tuple[int, ...], named: tuple[str, ...] | None,
                 types: tuple[Any, ...]) -> None:
        self.sql = sql
        self.order = order  # position in the caller's values, per driver parameter
        self.named = named  # parameter names for a named paramstyle, else None
        self.types = types  # the selected columns' types, for result processors
        #: the driver takes the caller's values as they are (the usual key lookup)
        self.in_order = named is None and order == tuple(range(len(order)))

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
        types = tuple(c.type for c in stmt.selected_columns)
        if compiled.positional:
            positions = tuple(compiled.positiontup or ())
            if any(p not in index for p in positions):
                return None
            return cls(compiled.string, tuple(index[p] for p in positions), None, types)
        if any(b not in index for b in compiled.binds):
            return None
        bound = tuple(compiled.binds)
        return cls(compiled.string, tuple(index[b] for b in bound), bound, types)

    def fetch_one(self, conn: Any, values: tuple[Any, ...]) -> Any:
        """The first row (a tuple) for ``values``, or None; Core handles errors."""
        if self.in_order and len(values) == len(self.order):
            params: Any = tuple(values)
        else:
            params = tuple(values[i] for i in self.order)
            if self.named is not None:
                params = dict(zip(self.named, params))
        cursor = None
        try:
            cursor = pool_connection(conn).dbapi_connection.cursor()
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
            description = cursor.description
            cursor.close()
        except BaseException as e:
            raise_as_core(conn, e, self.sql, params, cursor)
        if row is None:
            return None
        procs = row_processors(conn.dialect, tuple(map(_type_code, description)), self.types)
        if procs is not None:
            row = tuple(v if p is None else p(v) for p, v in zip(procs, row))
        return row
