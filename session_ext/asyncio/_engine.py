"""The asyncio engine layer, reached lazily.

session_ext never imports ``sqlalchemy.ext.asyncio`` when it is imported:
that package's ``__init__`` also loads ``sqlalchemy.orm`` (through its
session module), and session_ext keeps the ORM out of the process.  The
engine names are imported on first use instead; an application that calls
``create_async_engine()`` has imported them already.

An ``AsyncSession`` only needs what the engine wraps: ``AsyncEngine.sync_engine``
or ``AsyncConnection.sync_connection``, driven under greenlets exactly as
Core's own asyncio layer drives them.
"""

from __future__ import annotations

import importlib
from typing import Any

from sqlalchemy.engine import Connection, Engine

from .. import exc

#: the names re-exported by session_ext.asyncio, from SQLAlchemy's engine layer
ENGINE_NAMES = {
    "create_async_engine": "sqlalchemy.ext.asyncio.engine",
    "async_engine_from_config": "sqlalchemy.ext.asyncio.engine",
    "AsyncEngine": "sqlalchemy.ext.asyncio.engine",
    "AsyncConnection": "sqlalchemy.ext.asyncio.engine",
    "AsyncTransaction": "sqlalchemy.ext.asyncio.engine",
    "AsyncResult": "sqlalchemy.ext.asyncio.result",
    "AsyncScalarResult": "sqlalchemy.ext.asyncio.result",
    "AsyncMappingResult": "sqlalchemy.ext.asyncio.result",
}


def engine_name(name: str) -> Any:
    """One of :data:`ENGINE_NAMES`, imported now."""
    return getattr(importlib.import_module(ENGINE_NAMES[name]), name)


def sync_bind(bind: Any) -> Engine | Connection:
    """The sync ``Engine``/``Connection`` an async bind drives.

    Accepts an ``AsyncEngine``, an ``AsyncConnection``, or a sync Engine or
    Connection whose dialect is an asyncio one (``AsyncEngine.sync_engine``);
    a bind on a blocking driver is refused, since running it from the event
    loop would block it.
    """
    sync = getattr(bind, "sync_engine", None)
    if sync is None:
        sync = getattr(bind, "sync_connection", None)
        if sync is None and isinstance(bind, (Engine, Connection)):
            sync = bind
    if sync is None:
        raise exc.ArgumentError(
            f"AsyncSession bind {bind!r} is not an engine or connection: pass an AsyncEngine "
            "(create_async_engine('sqlite+aiosqlite:///...')) or an AsyncConnection"
        )
    if not sync.dialect.is_async:
        raise exc.ArgumentError(
            f"AsyncSession needs an asyncio driver, but {sync.dialect.name}+"
            f"{sync.dialect.driver} blocks: use create_async_engine() with "
            "'sqlite+aiosqlite://' or 'postgresql+psycopg_async://' (or keep a sync Session)"
        )
    return sync  # type: ignore[no-any-return]


def async_connection_for(sync_connection: Connection) -> Any:
    """The ``AsyncConnection`` proxy of a sync connection (one per connection)."""
    cls = engine_name("AsyncConnection")
    return cls._retrieve_proxy_for_target(sync_connection)


def async_result(result: Any) -> Any:
    """``result`` (a sync Result over a streaming cursor) as an ``AsyncResult``."""
    return engine_name("AsyncResult")(result)
