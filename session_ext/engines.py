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
    parent = getattr(engine, "_proxied", None)  # an engine.execution_options() copy
    if parent is not None and parent in _configured:
        return engine  # its parent's listeners already apply to it
    _configured.add(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        if foreign_keys:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    # first in line, so that a "begin" listener of the application's own runs
    # inside the transaction, as it would on any other database
    event.listen(engine, "begin", _emit_begin, insert=True)
    return engine


def _emit_begin(conn: Any) -> None:
    """Straight to the driver: a Core statement per transaction would cost more
    than the BEGIN itself (and is no statement anyone wants to see logged)."""
    conn.connection.dbapi_connection.execute("BEGIN")
