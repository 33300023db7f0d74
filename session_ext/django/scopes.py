"""The scope ``db.session`` lives in.

:func:`request_or_thread_scope` is ``db.session``'s scopefunc: inside
``with scope():`` (every request, through :class:`SessionExtMiddleware`)
the block's scope, elsewhere (management commands, the shell, scripts,
tests) one scope per thread, closed when the thread ends.
"""

from __future__ import annotations

import logging
import threading
import weakref

from ..scoping import Scope, current_scope_or_none

logger = logging.getLogger("session_ext.django")


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
