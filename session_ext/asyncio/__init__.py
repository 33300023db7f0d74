"""session_ext under asyncio: ``AsyncSession``, ``async_sessionmaker``,
``async_scoped_session`` and ``AsyncAttrs``, with SQLAlchemy's names.

::

    from session_ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

    engine = create_async_engine("sqlite+aiosqlite:///app.db")
    Session = async_sessionmaker(engine, expire_on_commit=False)
    async with Session.begin() as session:
        session.add(User(name="x"))

The engine names (``create_async_engine``, ``AsyncEngine``, ``AsyncConnection``,
``AsyncResult``...) are SQLAlchemy Core's, re-exported on first use: importing
this package imports neither ``sqlalchemy.ext.asyncio`` nor ``sqlalchemy.orm``.
See ``docs/asyncio.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exc import MissingGreenlet
from .factory import async_sessionmaker
from .scoping import async_scoped_session
from .session import (
    AsyncAttrs,
    AsyncSession,
    AsyncSessionTransaction,
    async_object_session,
    async_session,
    close_all_sessions,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio.engine import (  # noqa: F401
        AsyncConnection,
        AsyncEngine,
        AsyncTransaction,
        async_engine_from_config,
        create_async_engine,
    )
    from sqlalchemy.ext.asyncio.result import (  # noqa: F401
        AsyncMappingResult,
        AsyncResult,
        AsyncScalarResult,
    )


def __getattr__(name: str) -> Any:
    from ._engine import ENGINE_NAMES, engine_name

    if name in ENGINE_NAMES:
        value = engine_name(name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'session_ext.asyncio' has no attribute {name!r}")


__all__ = [
    "AsyncAttrs",
    "AsyncConnection",
    "AsyncEngine",
    "AsyncMappingResult",
    "AsyncResult",
    "AsyncScalarResult",
    "AsyncSession",
    "AsyncSessionTransaction",
    "AsyncTransaction",
    "MissingGreenlet",
    "async_engine_from_config",
    "async_object_session",
    "async_scoped_session",
    "async_session",
    "async_sessionmaker",
    "close_all_sessions",
    "create_async_engine",
]
