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
from ..compat import async_proxy_for

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
    return async_proxy_for(cls, sync_connection)


def async_result(result: Any) -> Any:
    """``result`` (a sync Result over a streaming cursor) as an ``AsyncResult``."""
    return engine_name("AsyncResult")(result)


#: a blocking driver -> the asyncio driver of the same database
_ASYNC_DRIVERS = {
    ("sqlite", "pysqlite"): "sqlite+aiosqlite",
    ("postgresql", "psycopg"): "postgresql+psycopg_async",
    ("postgresql", "psycopg2"): "postgresql+psycopg_async",
}
_SYNC_DRIVERS = {
    ("sqlite", "aiosqlite"): "sqlite+pysqlite",
    ("postgresql", "psycopg_async"): "postgresql+psycopg",
    ("postgresql", "asyncpg"): "postgresql+psycopg",
}


def _dialect_driver(url: Any) -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    # from the URL's text alone: asking the dialect would import it (or fail on a typo)
    name, _, driver = make_url(url).drivername.partition("+")
    if name == "postgres":
        name = "postgresql"
    return name, driver or {"sqlite": "pysqlite", "postgresql": "psycopg2"}.get(name, "")


def is_async_url(url: Any) -> bool:
    """True for a URL naming an asyncio driver (``sqlite+aiosqlite``, ...)."""
    return _dialect_driver(url) in _SYNC_DRIVERS


def async_url(url: Any) -> Any:
    """The same database through its asyncio driver (``sqlite`` -> ``sqlite+aiosqlite``,
    ``postgresql+psycopg`` -> ``postgresql+psycopg_async``); an async URL as it is.
    An in-memory SQLite database cannot be reached by a second engine: refused."""
    from sqlalchemy.engine import make_url

    url = make_url(url)
    pair = _dialect_driver(url)
    if pair in _SYNC_DRIVERS:
        return url
    target = _ASYNC_DRIVERS.get(pair)
    if target is None:
        raise exc.ArgumentError(
            f"No asyncio driver is known for {pair[0]}+{pair[1]}: configure an async URL "
            "yourself ('sqlite+aiosqlite:///...', 'postgresql+psycopg_async://...')"
        )
    if pair[0] == "sqlite" and url.database in (None, "", ":memory:"):
        raise exc.ArgumentError(
            "An in-memory SQLite database belongs to one engine, so the asyncio engine "
            "would see another, empty database: use a SQLite file for async views"
        )
    return url.set(drivername=target)


def sync_url(url: Any) -> Any:
    """The same database through a blocking driver (the inverse of :func:`async_url`)."""
    from sqlalchemy.engine import make_url

    url = make_url(url)
    target = _SYNC_DRIVERS.get(_dialect_driver(url))
    return url if target is None else url.set(drivername=target)
