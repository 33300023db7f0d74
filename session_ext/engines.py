"""Engine helpers that make every backend behave the same under a session."""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_configured: weakref.WeakSet[Engine] = weakref.WeakSet()


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
    parent = getattr(engine, "_proxied", None)  # an engine.execution_options() copy
    if parent is not None and parent in _configured:
        return engine  # its parent's listeners already apply to it
    _configured.add(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = "IMMEDIATE"
        if foreign_keys:
            dbapi_connection.execute("PRAGMA foreign_keys=ON")
        if journal_mode is not None:
            dbapi_connection.execute(f"PRAGMA journal_mode={journal_mode}")

    event.listen(engine, "savepoint", _begin_before_savepoint)
    return engine


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
        dbapi_connection.execute("BEGIN IMMEDIATE")
