"""Every use of SQLAlchemy's private API in session_ext, in one place.

session_ext is built on SQLAlchemy Core's public API, with a few exceptions
where Core offers no public way to ask something (``select()``'s LIMIT, the
entities it was given, an UPDATE's SET values, ...) or where session_ext's
fast lanes (:mod:`session_ext.direct`, driver tuples, PostgreSQL COPY) must
behave exactly as Core's own execution would.  Each such use lives here, named
after what it is for, so that a new SQLAlchemy release is checked in one file
(``tests/test_compat_boundary.py`` keeps it so).

Bottom layer: imports SQLAlchemy only.  The test suite ran with everything
here on SQLAlchemy 2.0.0, 2.0.22 (the floor in ``pyproject.toml``: earlier
releases lack batched ``INSERT .. RETURNING`` in parameter order), 2.0.59 and
2.1.9; "2.0.0-2.1.x" below means the name exists throughout.  Where releases
differ, the difference is handled here and said.

Speed: some of these are read once per statement.  Those are plain
``operator.attrgetter`` objects or attribute *names* for ``getattr`` (no
Python frame is added to the caller); the functions are for colder paths.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table
from sqlalchemy.engine import ChunkedIteratorResult, IteratorResult
from sqlalchemy.engine.default import DefaultDialect, DefaultExecutionContext
from sqlalchemy.engine.result import SimpleResultMetaData
from sqlalchemy.sql.base import ExecutableOption
from sqlalchemy.sql.selectable import ForUpdateArg
from sqlalchemy.sql.util import ClauseAdapter, find_tables, join_condition
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.util import greenlet_spawn

if TYPE_CHECKING:
    #: a statement that returns typed rows: for ``Session.scalars()``'s overloads
    #: (type checkers only; 2.1's one-entity ``select(User)`` gives ``[User]``)
    from sqlalchemy.sql.selectable import TypedReturnsRows as TypedReturnsRows

try:  # 2.1
    from sqlalchemy.util.concurrency import in_greenlet
except ImportError:  # pragma: no cover - 2.0.x
    try:
        from sqlalchemy.util._concurrency_py3k import in_greenlet
    except ImportError:  # early 2.0.x: no in_greenlet() yet

        def in_greenlet() -> bool:
            """Whether this code runs inside ``greenlet_spawn()`` (2.0.x before
            ``in_greenlet`` existed: the greenlet's class tells)."""
            try:
                from greenlet import getcurrent
                from sqlalchemy.util._concurrency_py3k import _AsyncIoGreenlet
            except ImportError:
                return False
            return isinstance(getcurrent(), _AsyncIoGreenlet)

# ----------------------------------------------------------------------------- statements
#: ``select(...)``'s elements as given (entities, tables, columns), before
#: expansion into columns.  ``Select.selected_columns`` is the public view but
#: has already expanded an entity into its columns.  2.0.0-2.1.x.
raw_columns = attrgetter("_raw_columns")

#: the elements given to ``select().select_from()`` (a tuple, empty when
#: none).  2.0.0-2.1.x.
select_froms = attrgetter("_from_obj")
#: a select()'s joins, as ``(right, onclause, left, flags)`` tuples.  2.0.0-2.1.x.
setup_joins = attrgetter("_setup_joins")


def with_setup_joins(statement: Any, joins: tuple[Any, ...]) -> Any:
    """A copy of ``statement`` with ``joins`` (see :data:`setup_joins`) instead
    of its own.  2.0.0-2.1.x."""
    stmt = statement._generate()
    stmt._setup_joins = joins
    return stmt

#: attribute name of a statement's own execution options (those set with
#: ``stmt.execution_options()``), for ``getattr(stmt, EXECUTION_OPTIONS, {})``
#: on statements that may not be ``Executable``.  Executable statements also
#: offer ``get_execution_options()``, a method call per statement.  2.0.0-2.1.x.
EXECUTION_OPTIONS = "_execution_options"

#: attribute name of the option objects given to ``stmt.options()``, for
#: ``getattr(stmt, WITH_OPTIONS, ())`` (statements without options support have
#: none).  2.0.0-2.1.x.
WITH_OPTIONS = "_with_options"

#: attribute name of a Core element's annotations (a dict, empty when not
#: annotated), for ``getattr(element, ANNOTATIONS, None)``.  2.0.0-2.1.x.
ANNOTATIONS = "_annotations"


def selected_width(element: Any) -> int:
    """How many result columns ``element`` adds to a ``select()``: all the
    columns of a table or subquery, one for a column expression.
    2.0.0-2.1.x (``_select_iterable``); anything without it counts as one."""
    if hasattr(element, "_select_iterable") and element.is_selectable:
        return len(list(element._select_iterable))
    return 1


def has_limit(statement: Any) -> bool:
    """Whether ``limit()`` was applied to a select (with a number or an
    expression).  2.0.0-2.1.x."""
    return statement._limit_clause is not None


def has_limit_or_offset(statement: Any) -> bool:
    """Whether ``limit()`` or ``offset()`` was applied to a select.  2.0.0-2.1.x."""
    return statement._limit_clause is not None or statement._offset_clause is not None


def limit_and_offset(statement: Any) -> tuple[int | None, int | None]:
    """A select's LIMIT and OFFSET as integers (None when not set).  Raises
    ``CompileError`` for a LIMIT/OFFSET that is an expression, not an integer
    (as SQLAlchemy's ORM does).  2.0.0-2.1.x."""
    return statement._limit, statement._offset


def order_by_clauses(statement: Any) -> tuple[Any, ...]:
    """A select's ORDER BY expressions (empty when none).  2.0.0-2.1.x."""
    return tuple(statement._order_by_clauses)


def dml_values(statement: Any) -> dict[Any, Any]:
    """The SET / VALUES of an UPDATE or INSERT given with ``.values()``, keyed
    by column or column name; empty when none were given (parameters passed at
    execution time are not here).  2.0.x keeps ``.ordered_values()`` apart in
    ``_ordered_values`` (a list of pairs); 2.1 keeps both in ``_values``."""
    values = getattr(statement, "_values", None)
    if values:
        return dict(values)
    return dict(getattr(statement, "_ordered_values", None) or ())


def has_multi_values(statement: Any) -> bool:
    """Whether ``.values()`` was given a list of rows (a multi-VALUES INSERT or
    an UPDATE .. FROM VALUES).  2.0.0-2.1.x."""
    return bool(statement._multi_values)


def returning_elements(statement: Any) -> tuple[Any, ...]:
    """The elements an INSERT/UPDATE/DELETE's ``.returning()`` was given, as
    coerced (an entity is its annotated table); empty when none.  2.0.0-2.1.x."""
    return tuple(getattr(statement, "_returning", ()) or ())


def dml_on_table(statement: Any, table: Any) -> Any:
    """A copy of an UPDATE/DELETE naming ``table`` as its target instead (a
    joined-table subclass's statement written to the subclass's own table),
    everything else kept.  2.0.0-2.1.x."""
    new = statement._generate()
    new.table = table
    return new


def where_criteria(statement: Any) -> tuple[Any, ...]:
    """The WHERE expressions of an UPDATE or DELETE (ANDed).  2.0.0-2.1.x."""
    return tuple(statement._where_criteria)


def annotate(element: Any, values: dict[str, Any]) -> Any:
    """A copy of ``element`` carrying ``values`` in its annotations (how a
    mapped class stands in a ``select()``: SQLAlchemy's ORM uses the same
    mechanism).  2.0.0-2.1.x."""
    return element._annotate(values)


def unannotated(element: Any) -> Any:
    """The element an annotated copy was made from (``element`` itself when it
    is no annotated copy): a ``select(Model)`` carries an annotated copy of the
    model's table.  2.0.0-2.1.x."""
    return getattr(element, "_Annotated__element", element)


# ----------------------------------------------------------------------------- schema, types
#: ``autoincrement_column(table)``: the column a database fills by itself on
#: INSERT (None if none).  The public ``Table.autoincrement_column`` arrived
#: during 2.0.x; before it only the private ``_autoincrement_column`` (the same
#: object) exists, read instead.  Chosen once, at import.
autoincrement_column = attrgetter(
    "autoincrement_column" if hasattr(Table, "autoincrement_column") else "_autoincrement_column"
)


def copy_column(column: Any) -> Any:
    """An unattached copy of a ``Column`` (for a mixin's columns: each mapped
    class gets its own).  ``Column.copy()`` is deprecated; ``_copy()`` is what
    SQLAlchemy uses itself.  2.0.0-2.1.x."""
    return column._copy()


def copy_schema_item(item: Any) -> Any:
    """An unattached copy of a ``ForeignKey``/``Sequence``/``Identity``/... given to
    ``mapped_column()`` (a mixin's column is built again for each class); other
    arguments as they are.  ``_copy()``, as :func:`copy_column`.  2.0.0-2.1.x."""
    copy = getattr(item, "_copy", None)
    return copy() if copy is not None and not isinstance(item, type) else item


def type_affinity(type_: Any) -> Any:
    """The generic type class a type behaves as (``Integer`` for ``BigInteger``,
    ``String`` for ``Unicode``), None for ``NullType``.  2.0.0-2.1.x."""
    return type_._type_affinity


def bind_processor(type_: Any, dialect: Any) -> Any:
    """``type_``'s bind processor for ``dialect`` (None when values go to the
    driver as they are), memoized per dialect as Core memoizes it itself.
    2.0.0-2.1.x; the public ``dialect_impl(dialect).bind_processor(dialect)``
    gives the same answer without the memo."""
    return type_._cached_bind_processor(dialect)


# ----------------------------------------------------------------------------- options
class PathOption(ExecutableOption):
    """Base of session_ext's loader options (``joinedload()`` and friends).

    A statement's cache key includes its options; a subclass sets
    ``self.path_key`` (hashable) and that is what the cache key is made of.
    ``_traverse_internals`` is Core's declaration of the attributes a cache
    key is made of.  2.0.0-2.1.x.
    """

    _traverse_internals = [("path_key", InternalTraversal.dp_plain_obj)]
    inherit_cache = True


# ----------------------------------------------------------------------------- results
def row_key_index(metadata: Any) -> Any:
    """What ``Row(metadata, processors, key_to_index, data)`` takes as its third
    argument, for metadata made by :func:`result_metadata`.  2.0.0-2.1.x."""
    return metadata._key_to_index


def result_metadata(keys: list[str], unique_filter: Any = None) -> Any:
    """Result metadata for rows with ``keys`` (``Result.keys()``), made without a
    cursor (``SimpleResultMetaData`` is not exported); ``unique_filter``: the
    function ``.unique()`` calls on each value (``_unique_filters``).  2.0.0-2.1.x."""
    if unique_filter is None:
        return SimpleResultMetaData(keys)
    filters = [unique_filter] * len(keys)
    if _UNIQUE_FILTERS_MADE:  # 2.1: made when .unique() is first used
        return SimpleResultMetaData(keys, _create_unique_filters=lambda result: filters)
    return SimpleResultMetaData(keys, _unique_filters=filters)


_UNIQUE_FILTERS_MADE = (
    "_create_unique_filters" in SimpleResultMetaData.__init__.__code__.co_varnames)


def rows_result(metadata: Any, rows: Any, scalars: bool) -> Any:
    """A ``Result`` over already made rows; with ``scalars`` each row is one
    object, handed to ``.scalars()`` as it is (``_source_supports_scalars``,
    a keyword of ``IteratorResult``).  2.0.0-2.1.x."""
    return IteratorResult(metadata, rows, _source_supports_scalars=scalars)


def chunked_result(metadata: Any, chunks: Any, scalars: bool, raw: Any) -> Any:
    """A streamed ``Result`` whose rows come from ``chunks(size)``; ``raw`` is the
    Core result it reads from (closed with it).  2.0.0-2.1.x."""
    return ChunkedIteratorResult(
        metadata, chunks, source_supports_scalars=scalars, raw=raw, dynamic_yield_per=False
    )


def require_unique(result: Any, refuse: Any) -> None:
    """Make ``result`` call ``refuse(row)`` for each row until ``.unique()`` is
    applied (``.unique()`` replaces the filter): how SQLAlchemy's ORM refuses
    joined-eager collections without ``.unique()``.  2.0.0-2.1.x."""
    result._unique_filter_state = (set(), refuse)


# ----------------------------------------------------------------------------- asyncio
# ``greenlet_spawn`` (run a sync function whose IO awaits the event loop) and
# ``in_greenlet`` (whether code runs inside one) live in ``sqlalchemy.util``;
# ``in_greenlet`` arrived during 2.0.x and moved in 2.1 (imported above with
# a fallback for the releases before it).


def async_proxy_for(proxy_class: Any, target: Any) -> Any:
    """The asyncio proxy (``AsyncConnection``, ...) of a sync object, made once
    per object and reused (``_retrieve_proxy_for_target``).  2.0.22-2.1.x."""
    return proxy_class._retrieve_proxy_for_target(target)


# ----------------------------------------------------------------------------- engines, connections
def option_engine_parent(engine: Any) -> Any:
    """The engine an ``engine.execution_options()`` copy was made from (its
    events are the parent's), or None for an engine of its own.  2.0.0-2.1.x."""
    return getattr(engine, "_proxied", None)


#: a ``Connection``'s execution options (``Connection.get_execution_options()``
#: is the public spelling, a method call per statement).  2.0.0-2.1.x.
connection_options = attrgetter("_execution_options")

#: the pool's connection record behind a ``Connection`` (None when closed or
#: invalidated); ``Connection.connection`` is the public spelling but may
#: reconnect.  ``.dbapi_connection`` of it is the driver's connection.
#: 2.0.0-2.1.x.
pool_connection = attrgetter("_dbapi_connection")


def unobserved_in_transaction(conn: Any) -> bool:
    """Whether a statement run on ``conn``'s DB-API cursor instead of through
    ``conn.execute`` would go unnoticed: echo off, a live DB-API connection,
    no statement listeners on the connection, its engine or its dialect, and an
    active (and, if nested, active savepoint) transaction that no ``with``
    block of Core's guards.  Anything else is Core's to begin, refuse,
    reconnect or report.  2.0.0-2.1.x."""
    if conn._echo or conn._dbapi_connection is None:
        return False
    if conn._has_events:  # listeners on this connection: its dispatcher joins the engine's
        if _watched(conn.dispatch):
            return False
    elif conn.engine._has_events and _watched(conn.engine.dispatch):
        return False
    trans = conn._transaction
    if trans is None or not trans.is_active or conn._trans_context_manager is not None:
        return False
    nested = conn._nested_transaction
    if nested is not None and not nested.is_active:
        return False
    return not conn.dialect._has_events


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


def plain_cursor_execution(dialect: Any) -> bool:
    """Whether this dialect object (including anything set on the object
    itself) runs a statement with Core's default ``cursor.execute``, making no
    cursor of its own and doing nothing before or after it: a statement run on
    the driver's cursor then does what Core would.  Compares with
    ``DefaultDialect``/``DefaultExecutionContext`` (documented for dialect
    authors).  2.0.0-2.1.x."""
    ctx = dialect.execution_ctx_cls
    return bool(
        getattr(dialect.do_execute, "__func__", None) is DefaultDialect.do_execute
        and ctx.create_cursor is DefaultExecutionContext.create_cursor
        and ctx.pre_exec is DefaultExecutionContext.pre_exec
        and ctx.post_exec is DefaultExecutionContext.post_exec
    )


class _ErrorContext:
    """What Core's error handler reads of an execution context, so that it
    treats an error of a statement session_ext ran on the driver as one of its
    own executions: driver errors wrapped, anything else raised as it is."""

    __slots__ = ()
    executemany = False

    def handle_dbapi_exception(self, e: BaseException) -> None:
        pass


_ERROR_CONTEXT = _ErrorContext()


def handle_driver_error(conn: Any, error: BaseException, statement: str, params: Any,
                        cursor: Any = None) -> None:
    """Hand ``error``, raised by a statement run on ``conn``'s driver, to Core's
    error handling, which raises: driver errors as SQLAlchemy's ``DBAPIError``
    subclasses with the statement attached, disconnects detected and the
    connection invalidated, ``handle_error`` listeners called, anything else
    as it is.  2.0.0-2.1.x (``Connection._handle_dbapi_exception``)."""
    conn._handle_dbapi_exception(error, statement, params, cursor, _ERROR_CONTEXT)


__all__ = [
    "ANNOTATIONS", "ClauseAdapter", "EXECUTION_OPTIONS", "ForUpdateArg", "PathOption",
    "WITH_OPTIONS", "annotate", "async_proxy_for", "autoincrement_column", "bind_processor",
    "chunked_result", "connection_options", "copy_column", "copy_schema_item", "dml_on_table",
    "dml_values",
    "find_tables", "join_condition",
    "greenlet_spawn", "handle_driver_error", "has_limit", "has_limit_or_offset",
    "has_multi_values", "in_greenlet", "limit_and_offset", "option_engine_parent",
    "order_by_clauses", "plain_cursor_execution", "pool_connection", "raw_columns",
    "require_unique", "result_metadata", "returning_elements", "rows_result", "select_froms",
    "selected_width", "setup_joins", "with_setup_joins",
    "type_affinity", "unannotated", "unobserved_in_transaction", "where_criteria",
]


# -- Core's event and inspection registries (events.py, inspection.py) ------------
# Checked on SQLAlchemy 2.0.22-2.1.9: an ``Events`` subclass names the class that
# receives ``dispatch`` in ``_dispatch_target``, filters targets in
# ``_accept_with`` and registers in ``_listen``; event names are kept per name in
# ``event.base._registrars``; inspection targets in ``inspection._registrars``,
# added with ``inspection._inspects``.

from sqlalchemy import event as _event  # noqa: E402
from sqlalchemy import inspection as _inspection  # noqa: E402
from sqlalchemy.event import base as _event_base  # noqa: E402


class LibraryEvents(_event.Events[Any]):
    """Base of session_ext's event classes.  Core treats every public name of
    an ``Events`` class as an event, so a subclass configures itself with
    session_ext's own underscored names: ``_se_target`` (the class given
    ``dispatch``), ``_se_accept(target)`` (what a listen() target stands for,
    or None) and ``_se_on_listen()`` (called as a listener is registered)."""

    _se_target: Any = None
    #: listen() keywords the subclass handles in _se_wrap_kw (Core's _listen refuses them)
    _se_own_keywords: tuple[str, ...] = ()

    def __init_subclass__(cls, **kw: Any) -> None:
        if cls.__dict__.get("_se_target") is not None:
            # read by Core's own __init_subclass__ (next), building dispatch
            cls._dispatch_target = cls._se_target
        super().__init_subclass__(**kw)

    @classmethod
    def _se_accept(cls, target: Any) -> Any:
        return None

    @classmethod
    def _se_on_listen(cls, identifier: str) -> None:
        pass

    @classmethod
    def _se_wrap(cls, target: Any, identifier: str, fn: Any) -> Any:
        """A function to register instead of ``fn`` (None: ``fn`` itself);
        ``event.remove()`` with the original ``fn`` still removes it."""
        return None

    @classmethod
    def _se_wrap_kw(cls, target: Any, identifier: str, fn: Any, kw: dict[str, Any]) -> Any:
        """:meth:`_se_wrap` given also listen()'s keywords (``retval``, ``raw``, ...)."""
        return cls._se_wrap(target, identifier, fn)

    @classmethod
    def _accept_with(cls, target: Any, identifier: str) -> Any:
        return cls._se_accept(target)

    @classmethod
    def _listen(cls, event_key: Any, **kw: Any) -> None:
        cls._se_on_listen(event_key.identifier)
        wrapped = cls._se_wrap_kw(event_key.target, event_key.identifier,
                                  event_key._listen_fn, kw)
        for name in cls._se_own_keywords:  # handled by _se_wrap_kw; Core takes no such keyword
            kw.pop(name, None)
        if wrapped is not None:
            event_key = event_key.with_wrapper(wrapped)
        super()._listen(event_key, **kw)


def propagated_listeners(collection: Any) -> Any:
    """The listeners of an event collection registered with ``propagate=True``."""
    return getattr(collection, "propagate", ())


def event_op(name: str) -> Any:
    """SQLAlchemy's attribute-event operation token of that name (``"APPEND"``,
    ``"REMOVE"``, ``"REPLACE"``, ``"BULK_REPLACE"``): ``sqlalchemy.util.symbol``
    returns one object per name, the one ``sqlalchemy.orm.attributes`` uses."""
    from sqlalchemy.util import symbol

    return symbol(name)


def put_events_first(*classes: type) -> None:
    """Make these event classes the first Core asks for their event names."""
    for evt_cls in classes:
        for name in evt_cls.dispatch._event_names:  # type: ignore[attr-defined]
            registered = _event_base._registrars[name]
            if evt_cls in registered:
                registered.remove(evt_cls)
            registered.insert(0, evt_cls)


def register_inspection(cls: type, fn: Any) -> None:
    """``sqlalchemy.inspect(x)`` of an instance of ``cls`` (a type's instances)
    calls ``fn(x)``; registering twice is a no-op."""
    if cls not in _inspection._registrars:
        _inspection._inspects(cls)(fn)
