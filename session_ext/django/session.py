"""The session class behind ``db.session``, and the scope it lives in.

:class:`Session` is the core session bound to the engines of the
``SESSION_EXT`` setting: the default database, and for models and tables
with a ``__bind_key__`` the bind of that name (given to the core as
``binds={...}``, its public routing).

:func:`request_or_thread_scope` is ``db.session``'s scopefunc: inside
``with scope():`` (every request, through :class:`SessionExtMiddleware`)
the block's scope, elsewhere (management commands, the shell, scripts,
tests) one scope per thread, closed when the thread ends.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any, NoReturn

from django.core.exceptions import ImproperlyConfigured

from ..scoping import Scope, current_scope_or_none
from ..session import Session as CoreSession

if TYPE_CHECKING:
    from .state import Registry

logger = logging.getLogger("session_ext.django")


class MissingBind:
    """The bind of a model whose ``__bind_key__`` names no configured database:
    the session refuses to use it (``ImproperlyConfigured``), while sessions
    keep working for the other models."""

    def __init__(self, message: str) -> None:
        self.message = message

    def refuse(self) -> NoReturn:
        raise ImproperlyConfigured(self.message)

    def __repr__(self) -> str:
        return f"<MissingBind: {self.message}>"


class Session(CoreSession):
    """A core session on the configured databases.

    ``state`` is the registry holding the engines (``db.session``'s
    ``sessionmaker`` passes it; by default the adapter's registry), so
    ``Session()`` alone is a session on the configured databases.  An explicit
    ``bind`` or ``binds`` entry wins over the configured ones.
    """

    def __init__(self, bind: Any = None, *, state: Registry | None = None, **kwargs: Any) -> None:
        if state is None:
            from .state import registry as state
        engines = state.require()
        if bind is None:
            bind = engines.get(None)
        routes = state.bind_routes(engines)
        if routes:
            kwargs["binds"] = {**routes, **(kwargs.get("binds") or {})}
        super().__init__(bind, **kwargs)

    def get_bind(self, mapper: Any = None, clause: Any = None, **kw: Any) -> Any:
        """The core's bind lookup; a model whose ``__bind_key__`` names no
        configured database raises ``ImproperlyConfigured`` here, when used."""
        bind = super().get_bind(mapper, clause, **kw)
        if type(bind) is MissingBind:
            bind.refuse()
        return bind


class _ThreadScope(threading.local):
    """This thread's fallback scope; a sentinel whose collection (when the
    thread ends) closes that scope, so dead threads leave no sessions behind."""

    scope: Scope | None = None
    sentinel: object | None = None


class _Sentinel:
    __slots__ = ("__weakref__",)


_thread = _ThreadScope()


def _close_thread_scope(scope: Scope) -> None:
    try:
        scope.close()
    except Exception:  # the thread is gone: nobody else can hear about it
        logger.exception("closing the session of a finished thread failed")


def thread_scope() -> Scope:
    """The current thread's fallback scope (created on first use)."""
    scope = _thread.scope
    if scope is None:
        scope = _thread.scope = Scope(f"thread {threading.current_thread().name}")
        sentinel = _thread.sentinel = _Sentinel()
        weakref.finalize(sentinel, _close_thread_scope, scope)
    return scope


def request_or_thread_scope() -> Scope:
    """The scopefunc of ``db.session``: the ``with scope():`` block (a
    request) if there is one, else the thread's own scope."""
    return current_scope_or_none() or thread_scope()
