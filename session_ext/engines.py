"""Engine helpers that make every backend behave the same under a session."""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_configured: weakref.WeakSet[Engine] = weakref.WeakSet()


def configure_sqlite(engine: Engine, *, foreign_keys: bool = True) -> Engine:
    """Make a pysqlite engine transactional in the way the session expects.

    Python's ``sqlite3`` driver delays ``BEGIN`` until the first write, which
    breaks SAVEPOINTs (``begin_nested()``) and makes SELECTs run outside the
    transaction.  This turns the driver's own handling off and emits ``BEGIN``
    when Core begins a transaction (the recipe from SQLAlchemy's SQLite notes),
    and, by default, turns on foreign key enforcement.  Returns the engine;
    non-SQLite engines are returned unchanged.
    """
    if engine.dialect.name != "sqlite" or engine in _configured:
        return engine
    _configured.add(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        if foreign_keys:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    # BEGIN goes in the dialect's do_begin (a no-op for pysqlite), which Core calls
    # whenever it begins a transaction on this engine, rather than in a "begin"
    # event listener: any engine listener makes Core dispatch events at every
    # connect, statement and rollback, for all of which nobody listens here.
    engine.dialect.do_begin = _emit_begin  # type: ignore[method-assign]
    return engine


def _emit_begin(connection: Any) -> None:
    """Straight to the driver: a Core statement per transaction would cost more
    than the BEGIN itself (and is no statement anyone wants to see logged)."""
    getattr(connection, "dbapi_connection", connection).execute("BEGIN")
