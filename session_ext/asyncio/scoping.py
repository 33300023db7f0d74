"""``async_scoped_session``: one ``AsyncSession`` per scope (task, request).

``scopefunc`` is required, as in SQLAlchemy: ``asyncio.current_task`` gives
each task its own session, ``session_ext.current_scope`` the innermost
``async with session_ext.scope():`` block.  Nothing removes a scope's session
by itself: ``await registry.remove()`` at the end of the task or request
closes it (rolling back what was not committed, returning its connection) and
forgets it, so the registry never grows.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from .. import exc
from ..scoping import QueryProperty, ScopedRegistry, proxy_method, proxy_property
from .session import AsyncSession

_S = TypeVar("_S", bound=AsyncSession)


class async_scoped_session(Generic[_S]):  # noqa: N801 - SQLAlchemy's name
    """::

        Session = async_scoped_session(async_sessionmaker(engine), asyncio.current_task)

        async def handler():
            Session.add(obj)
            await Session.commit()
            await Session.remove()     # close it and forget it
    """

    def __init__(self, session_factory: Callable[..., _S], scopefunc: Callable[[], Any]) -> None:
        if scopefunc is None:
            raise exc.ArgumentError(
                "async_scoped_session needs a scopefunc: asyncio.current_task (one session "
                "per task) or session_ext.current_scope (one per `async with scope():`)"
            )
        self.session_factory = session_factory
        self.registry = ScopedRegistry(session_factory, scopefunc)

    def __call__(self, **kw: Any) -> _S:
        """The current scope's session, created (with ``kw``) if there is none."""
        if kw:
            if self.registry.has():
                raise exc.InvalidRequestError(
                    "A scoped session is already present in this scope; keyword arguments "
                    "can only be given when it is created. `await remove()` first"
                )
            session = self.session_factory(**kw)
            self.registry.set(session)
            return session
        return self.registry()  # type: ignore[no-any-return]

    def has(self) -> bool:
        """True if the current scope has a session."""
        return self.registry.has()

    async def remove(self) -> None:
        """Close the current scope's session (rolling back, returning its connection)
        and forget it; a no-op without one.  It is forgotten at once and closed
        even if the task is cancelled while closing."""
        if not self.registry.has():
            return
        session = self.registry()
        self.registry.clear()
        await asyncio.shield(session.close())

    def configure(self, **kwargs: Any) -> None:
        """Reconfigure the factory (sessions that exist already keep theirs)."""
        if self.registry.has():
            warnings.warn(
                "At least one scoped session is already present; configure() does not "
                "affect sessions that already exist. `await remove()` first if that matters",
                exc.SAWarning,
                stacklevel=2,
            )
        configure = getattr(self.session_factory, "configure", None)
        if configure is None:
            raise exc.InvalidRequestError(
                "This async_scoped_session's factory has no configure(); use an "
                "async_sessionmaker"
            )
        configure(**kwargs)

    def query_property(self, query_cls: type | None = None) -> Any:
        """``Model.query``: a legacy ``Query`` on the current scope's session's sync
        session, for building statements (``await session.execute(Model.query
        .filter_by(...).statement)``); running it needs ``run_sync``."""
        return QueryProperty(_SyncView(self), query_cls)  # type: ignore[arg-type]

    # proxied methods (coroutines where AsyncSession's are) ------------------------
    add = proxy_method("add", of="AsyncSession")
    add_all = proxy_method("add_all", of="AsyncSession")
    begin = proxy_method("begin", of="AsyncSession")
    begin_nested = proxy_method("begin_nested", of="AsyncSession")
    close = proxy_method("close", of="AsyncSession")
    commit = proxy_method("commit", of="AsyncSession")
    connection = proxy_method("connection", of="AsyncSession")
    delete = proxy_method("delete", of="AsyncSession")
    execute = proxy_method("execute", of="AsyncSession")
    expire = proxy_method("expire", of="AsyncSession")
    expire_all = proxy_method("expire_all", of="AsyncSession")
    expunge = proxy_method("expunge", of="AsyncSession")
    expunge_all = proxy_method("expunge_all", of="AsyncSession")
    flush = proxy_method("flush", of="AsyncSession")
    get = proxy_method("get", of="AsyncSession")
    get_one = proxy_method("get_one", of="AsyncSession")
    get_bind = proxy_method("get_bind", of="AsyncSession")
    in_transaction = proxy_method("in_transaction", of="AsyncSession")
    in_nested_transaction = proxy_method("in_nested_transaction", of="AsyncSession")
    invalidate = proxy_method("invalidate", of="AsyncSession")
    is_modified = proxy_method("is_modified", of="AsyncSession")
    merge = proxy_method("merge", of="AsyncSession")
    refresh = proxy_method("refresh", of="AsyncSession")
    reset = proxy_method("reset", of="AsyncSession")
    rollback = proxy_method("rollback", of="AsyncSession")
    run_sync = proxy_method("run_sync", of="AsyncSession")
    scalar = proxy_method("scalar", of="AsyncSession")
    scalars = proxy_method("scalars", of="AsyncSession")
    stream = proxy_method("stream", of="AsyncSession")
    stream_scalars = proxy_method("stream_scalars", of="AsyncSession")

    def __contains__(self, instance: object) -> bool:
        return instance in self.registry()

    def __iter__(self) -> Iterator[object]:
        return iter(self.registry())

    bind = proxy_property("bind", of="AsyncSession")
    dirty = proxy_property("dirty", of="AsyncSession")
    deleted = proxy_property("deleted", of="AsyncSession")
    new = proxy_property("new", of="AsyncSession")
    identity_map = proxy_property("identity_map", of="AsyncSession")
    is_active = proxy_property("is_active", of="AsyncSession")
    autoflush = proxy_property("autoflush", writable=True, of="AsyncSession")
    no_autoflush = proxy_property("no_autoflush", of="AsyncSession")
    info = proxy_property("info", of="AsyncSession")
    sync_session = proxy_property("sync_session", of="AsyncSession")

    def __repr__(self) -> str:
        return f"<async_scoped_session {self.session_factory!r}>"


class _SyncView:
    """What ``QueryProperty`` reads from a registry: the current sync session."""

    __slots__ = ("_scoped",)

    def __init__(self, scoped: async_scoped_session[Any]) -> None:
        self._scoped = scoped

    def registry(self) -> Any:
        return self._scoped.registry().sync_session
