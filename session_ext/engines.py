"""Engine helpers that make every backend behave the same under a session."""

from __future__ import annotations

import os
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .compat import option_engine_parent
from .direct import raise_as_core

_configured: weakref.WeakSet[Engine] = weakref.WeakSet()
#: engines whose pools a forked child must not share (see dispose_in_forked_children)
_fork_guarded: weakref.WeakSet[Engine] = weakref.WeakSet()


#: create_engine() keywords with a fixed type, checked before an engine is made
#: (SQLAlchemy's own errors for them do not name the option)
_OPTION_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "pool_size": ((int,), "an integer"),
    "max_overflow": ((int,), "an integer"),
    "pool_timeout": ((int, float), "a number of seconds"),
    "pool_recycle": ((int, float), "a number of seconds (-1: never)"),
    "pool_pre_ping": ((bool,), "True or False"),
    "pool_use_lifo": ((bool,), "True or False"),
    "echo_pool": ((bool, str), "True, False or 'debug'"),
    "echo": ((bool, str), "True, False or 'debug'"),
    "connect_args": ((dict,), "a dict of driver connect() arguments"),
    "execution_options": ((dict,), "a dict"),
    "isolation_level": ((str,), "a string such as 'SERIALIZABLE'"),
}


def engine_option_problems(options: Any) -> list[str]:
    """What is wrong with ``create_engine()`` keyword values, one message each
    (empty when nothing is): the option, the value, what it must be."""
    problems = []
    for name, value in options.items():
        expected = _OPTION_TYPES.get(name)
        if expected is None or value is None:
            continue
        types, what = expected
        wrong_bool = isinstance(value, bool) and bool not in types
        if wrong_bool or not isinstance(value, types):
            problems.append(f"{name} must be {what}, not {value!r}")
    return problems


def prepare_engine(engine: Engine) -> Engine:
    """What the Flask and Django adapters do to every engine they create:
    :func:`configure_sqlite` and :func:`dispose_in_forked_children`."""
    return dispose_in_forked_children(configure_sqlite(engine))


def dispose_in_forked_children(engine: Engine) -> Engine:
    """Give a process forked from this one a fresh, empty pool for ``engine``.

    A pooled connection is a socket (or a file handle) that must never be used
    by two processes: servers that load the application before forking their
    workers (``gunicorn --preload``, multiprocessing) would otherwise hand the
    parent's idle connections to every child.  In the child the engine's pool
    is replaced without closing the parent's connections
    (``engine.dispose(close=False)``).  Returns the engine.
    """
    _fork_guarded.add(engine)
    return engine


def _dispose_pools_in_child() -> None:
    for engine in list(_fork_guarded):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_dispose_pools_in_child)


def configure_sqlite(
    engine: Engine, *, foreign_keys: bool = True, journal_mode: str | None = None
) -> Engine:
    """Make a pysqlite engine safe for concurrent requests and SAVEPOINTs.

    * A transaction takes SQLite's write lock when it first writes
      (``BEGIN IMMEDIATE``, sent by the driver right before the first
      INSERT/UPDATE/DELETE), not when it first reads.  Reads before that hold
      no lock between statements, so two requests that read and then write
      queue for the lock (up to the driver's ``timeout``, 5 s by default)
      instead of deadlocking into "database is locked", and a session that
      only read leaves nothing open on a shared connection.
    * ``begin_nested()`` begins the transaction first when nothing has been
      written yet, so a SAVEPOINT is always inside a real transaction (SQLite
      would otherwise make the SAVEPOINT the transaction, and its RELEASE a
      COMMIT).
    * Foreign keys are enforced (``foreign_keys=False`` turns that off).
    * ``journal_mode="WAL"`` (file databases) lets readers and one writer
      work at the same time; the default leaves the database file's mode as
      it is.

    Returns the engine; non-SQLite engines are returned unchanged.
    """
    if engine.dialect.name != "sqlite" or engine in _configured:
        return engine
    parent = option_engine_parent(engine)  # an engine.execution_options() copy
    if parent is not None and parent in _configured:
        return engine  # its parent's listeners already apply to it
    _configured.add(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = _BEGIN_MODE
        if foreign_keys:
            dbapi_connection.execute("PRAGMA foreign_keys=ON")
        if journal_mode is not None:
            dbapi_connection.execute(f"PRAGMA journal_mode={journal_mode}")

    event.listen(engine, "checkout", _restore_begin_mode)
    event.listen(engine, "savepoint", _begin_before_savepoint)
    return engine


#: how the driver begins a transaction before the first write (sqlite3's
#: ``isolation_level``)
_BEGIN_MODE = "IMMEDIATE"


def _restore_begin_mode(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A connection that ran with an ``isolation_level`` execution option is
    reset by SQLAlchemy's dialect to the driver's deferred default when it
    returns to the pool: give it the write-lock-at-first-write mode again."""
    if dbapi_connection.isolation_level != _BEGIN_MODE:
        dbapi_connection.isolation_level = _BEGIN_MODE


def _begin_before_savepoint(conn: Any, name: Any) -> None:
    """A SAVEPOINT outside a transaction would start one that its RELEASE
    commits: begin the real transaction first."""
    begin_now(conn)


def begin_now(conn: Any) -> None:
    """Make the database transaction of ``conn`` (in a Core transaction)
    real now rather than at its first write.

    Only SQLite's driver begins late; for it this sends ``BEGIN IMMEDIATE``,
    so that everything after it, DDL included, is undone by a rollback (what
    a rolled-back test transaction needs).  Other databases: nothing to do.
    """
    if conn.dialect.name != "sqlite":
        return
    dbapi_connection = conn.connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
        except BaseException as err:  # "database is locked": SQLAlchemy's class, as Core
            raise_as_core(conn, err, "BEGIN IMMEDIATE", ())


#: the driver's transaction status for "in a failed transaction" (libpq's
#: PQTRANS_INERROR: psycopg 3's TransactionStatus.INERROR, psycopg2's
#: TRANSACTION_STATUS_INERROR)
_PQTRANS_INERROR = 3


def transaction_aborted(conn: Any) -> bool:
    """Whether the database has aborted the transaction of Core connection
    ``conn`` after a failed statement (PostgreSQL), so that its COMMIT would
    quietly roll back.  False for drivers that do not say."""
    if conn.dialect.name != "postgresql" or conn.closed or conn.invalidated:
        return False
    dbapi_connection = conn.connection.dbapi_connection
    info = getattr(dbapi_connection, "info", None)
    status = getattr(info, "transaction_status", None)
    if status is None:
        getter = getattr(dbapi_connection, "get_transaction_status", None)
        status = getter() if getter is not None else None
    return status is not None and int(status) == _PQTRANS_INERROR
