"""``db.async_session``: an ``AsyncSession`` per app context for ``async def`` views.

Flask runs an ``async def`` view in an event loop of its own (through
asgiref, ``pip install 'flask[async]'``); inside it ``await
db.async_session.get(...)`` and friends use the app's database through its
asyncio driver and never block that loop.  The configured URI may name the
asyncio driver itself (``sqlite+aiosqlite:///...``,
``postgresql+psycopg_async://...``; ``db.engine`` and ``db.session`` then use
the blocking driver of the same database) or a blocking one, whose asyncio
twin is used (``sqlite`` -> ``sqlite+aiosqlite``, ``postgresql+psycopg`` ->
``postgresql+psycopg_async``).

Every view runs in a new event loop, so the async engines keep no pool
(``NullPool``): a pooled connection would belong to a loop that is gone.
The session is removed at app-context teardown, like ``db.session``
(committed first with ``SESSION_EXT_COMMIT_ON_TEARDOWN`` when no error
occurred), which closes its connection.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from flask import current_app
from sqlalchemy.pool import NullPool

from ..asyncio import AsyncSession, async_scoped_session
from ..asyncio._engine import async_url, engine_name
from .config import ConfigError
from .session import app_context_scope
from .state import state_for

#: engine options that configure a pool, which the async engines do not have
_POOL_OPTIONS = ("pool_size", "max_overflow", "pool_timeout", "pool_recycle",
                 "pool_pre_ping", "pool_use_lifo", "poolclass", "pool_reset_on_return")
_lock = threading.Lock()


def async_engines(state: Any) -> dict[str | None, Any]:
    """The app's async engines by bind key, made on first use."""
    engines = getattr(state, "async_engines", None)
    if engines is None:
        with _lock:
            engines = getattr(state, "async_engines", None)
            if engines is None:
                engines = {key: _create(key, bind) for key, bind in state.config.binds.items()}
                state.async_engines = engines  # type: ignore[attr-defined]
    return engines


def _create(key: str | None, bind: Any) -> Any:
    try:
        url = async_url(bind.url)
    except Exception as err:
        raise ConfigError(f"db.async_session, bind {bind.label}: {err}") from None
    options = {k: v for k, v in bind.options.items() if k not in _POOL_OPTIONS}
    return engine_name("create_async_engine")(url, poolclass=NullPool, **options)


class FlaskAsyncSession(AsyncSession):
    """An ``AsyncSession`` on the current app's async engines; models and tables
    with a bind key go to that bind's."""

    def __init__(self, db: Any, **kw: Any) -> None:
        state = state_for(current_app._get_current_object(), db)  # type: ignore[attr-defined]
        engines = async_engines(state)
        if kw.get("bind") is None and None in engines:
            kw["bind"] = engines[None]
        routes = {
            target: bind for target, bind in state.bind_routes(engines).items()
            if hasattr(bind, "sync_engine")  # not a MissingBind: those use the default
        }
        if routes:
            kw["binds"] = {**routes, **(kw.get("binds") or {})}
        super().__init__(**kw)


def scoped_for(db: Any) -> async_scoped_session[FlaskAsyncSession]:
    """``db.async_session`` (made once per extension)."""
    scoped = db.__dict__.get("_async_session")
    if scoped is None:
        options = {k: v for k, v in db.session_options.items()
                   if k not in ("class_", "query_cls")}

        def factory(**kw: Any) -> FlaskAsyncSession:
            return FlaskAsyncSession(db, **{**options, **kw})

        scoped = db.__dict__.setdefault(
            "_async_session", async_scoped_session(factory, app_context_scope)
        )
    return scoped  # type: ignore[no-any-return]


def teardown(db: Any, error: BaseException | None, commit: bool) -> None:
    """End the app context's async session, if an async view made one."""
    scoped = db.__dict__.get("_async_session")
    if scoped is None or not scoped.has():
        return

    async def end() -> None:
        session = scoped()
        try:
            if commit and error is None:
                await session.commit()
        finally:
            await scoped.remove()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(end())  # the usual case: teardown runs outside any event loop
        return
    # a loop runs in this thread (cannot be re-entered): close in a thread of its own
    worker = threading.Thread(target=asyncio.run, args=(end(),))
    worker.start()
    worker.join()
