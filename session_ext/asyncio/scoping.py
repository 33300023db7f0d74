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
from ..scoping import QueryProperty, ScopedRegistry
from .session import AsyncSession

_S = TypeVar("_S", bound=AsyncSession)


def _proxy(name: str) -> Any:
    def method(self: async_scoped_session[Any], *args: Any, **kw: Any) -> Any:
        return getattr(self.registry(), name)(*args, **kw)

    method.__name__ = name
    method.__doc__ = f"``AsyncSession.{name}`` of the current scope's session."
    return method


def _proxy_property(name: str, writable: bool = False) -> Any:
    def fget(self: async_scoped_session[Any]) -> Any:
        return getattr(self.registry(), name)

    def fset(self: async_scoped_session[Any], value: Any) -> None:
        setattr(self.registry(), name, value)

    return property(fget, fset if writable else None,
                    doc=f"``AsyncSession.{name}`` of the current scope's session.")


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
    add = _proxy("add")
    add_all = _proxy("add_all")
    begin = _proxy("begin")
    begin_nested = _proxy("begin_nested")
    close = _proxy("close")
    commit = _proxy("commit")
    connection = _proxy("connection")
    delete = _proxy("delete")
    execute = _proxy("execute")
    expire = _proxy("expire")
    expire_all = _proxy("expire_all")
    expunge = _proxy("expunge")
    expunge_all = _proxy("expunge_all")
    flush = _proxy("flush")
    get = _proxy("get")
    get_one = _proxy("get_one")
    get_bind = _proxy("get_bind")
    in_transaction = _proxy("in_transaction")
    in_nested_transaction = _proxy("in_nested_transaction")
    invalidate = _proxy("invalidate")
    is_modified = _proxy("is_modified")
    merge = _proxy("merge")
    refresh = _proxy("refresh")
    reset = _proxy("reset")
    rollback = _proxy("rollback")
    run_sync = _proxy("run_sync")
    scalar = _proxy("scalar")
    scalars = _proxy("scalars")
    stream = _proxy("stream")
    stream_scalars = _proxy("stream_scalars")

    def __contains__(self, instance: object) -> bool:
        return instance in self.registry()

    def __iter__(self) -> Iterator[object]:
        return iter(self.registry())

    bind = _proxy_property("bind")
    dirty = _proxy_property("dirty")
    deleted = _proxy_property("deleted")
    new = _proxy_property("new")
    identity_map = _proxy_property("identity_map")
    is_active = _proxy_property("is_active")
    autoflush = _proxy_property("autoflush", writable=True)
    no_autoflush = _proxy_property("no_autoflush")
    info = _proxy_property("info")
    sync_session = _proxy_property("sync_session")

    def __repr__(self) -> str:
        return f"<async_scoped_session {self.session_factory!r}>"


class _SyncView:
    """What ``QueryProperty`` reads from a registry: the current sync session."""

    __slots__ = ("_scoped",)

    def __init__(self, scoped: async_scoped_session[Any]) -> None:
        self._scoped = scoped

    def registry(self) -> Any:
        return self._scoped.registry().sync_session
