"""``SessionExtMiddleware``: one session per request, removed after it.

Each request runs inside its own ``session_ext.scope()`` block, so
``db.session`` inside the request (views, templates, other middleware below
this one) is that request's session, in WSGI threads and ASGI tasks alike.
When the request ends:

* with ``COMMIT_ON_TEARDOWN`` on, a response below 400 is committed; anything
  else is rolled back.  Django turns an exception of a view into a 4xx/5xx
  response before it gets here, so a view that raised rolls back (unless some
  middleware answers the exception with a success: roll back there);
* the session is always removed: its transaction ends, its connection goes
  back to the pool and its objects are detached.  If that commit fails, the
  session is still removed and the error becomes a 500.

Under ASGI the end of a request runs in a worker thread of its own, not in
the one thread Django runs sync views in: otherwise the next request's view,
queued on that thread, could wait for a lock (SQLite's write lock, a row
lock) that only this request's rollback releases, and time out.

A streaming response (``StreamingHttpResponse`` with a generator or an async
iterator; not a ``FileResponse``) keeps the request's scope: its body is
produced inside it, and the request ends as above when the body is exhausted
(committed when ``COMMIT_ON_TEARDOWN`` allows), closed early or raises (rolled
back).  A view decorated with :func:`~session_ext.django.no_auto_commit` is
never committed here.

An async view's ``db.async_session`` (see :mod:`session_ext.django.asyncio`)
is ended the same way, on the event loop: its close is awaited, never run in
a thread, and finishes even when the request is cancelled.

Put it near the top of ``MIDDLEWARE`` so every middleware that uses the
database runs inside the request's scope.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase

from ..scoping import Scope, entered
from ..web.streaming import AsyncScopedStream, ScopedStream
from .decorators import wants_commit
from .state import registry

logger = logging.getLogger("session_ext.django")


class SessionExtMiddleware:
    """Request-scoped ``db.session`` for sync (WSGI) and async (ASGI) stacks."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self._acall(request)
        held = Scope("request")
        with entered(held):
            try:
                response = self.get_response(request)
            except BaseException:
                _end_after_error()
                held.close()
                raise
            ok = wants_commit(request, response.status_code)
            if _streams(response):
                stream_in_scope(response, held, ok)
                return response
            try:
                end_request(ok=ok)
            finally:
                held.close()
            return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        held = Scope("request")
        with entered(held):
            try:
                response = await get_response(request)
            except BaseException:
                try:
                    await _end_async_after_error()
                    if registry.session.has():
                        await sync_to_async(_end_after_error, thread_sensitive=False)()
                finally:
                    held.close()
                raise
            ok = wants_commit(request, response.status_code)
            streams = _streams(response)
            if streams and response.is_async:
                stream_in_scope(response, held, ok)
                return response
            try:
                await _end_async(ok=ok)  # a sync body runs in a thread: no awaits there
                if streams:
                    stream_in_scope(response, held, ok)
                    return response
                if registry.session.has():  # the commit and the close block: not in the loop
                    await sync_to_async(end_request, thread_sensitive=False)(ok=ok)
            finally:
                if not streams:
                    held.close()
            return response


def _streams(response: HttpResponseBase) -> bool:
    """A streaming body to produce in the request's scope: a generator or an
    async iterator, not a file (``FileResponse`` ends the request at once, so
    a server's ``wsgi.file_wrapper`` still gets the file)."""
    return response.streaming and getattr(response, "file_to_stream", None) is None


def stream_in_scope(response: Any, held: Scope, ok: bool) -> None:
    """Produce ``response``'s body inside the request's scope ``held``, then end
    the request (commit when ``ok`` and the body was exhausted, else roll back)
    and close the scope."""
    enter = functools.partial(entered, held)
    body = response._iterator  # the raw body: Django maps make_bytes over what we set
    # its close() runs inside our stream's close, in the scope, not before it
    response._resource_closers = [
        closer for closer in response._resource_closers
        if getattr(closer, "__self__", None) is not body
    ]
    if response.is_async:

        async def afinish(exhausted: bool) -> None:
            try:
                await _end_async(ok=ok and exhausted)
                if registry.session.has():
                    await sync_to_async(end_request, thread_sensitive=False)(ok=ok and exhausted)
            finally:
                held.close()

        response.streaming_content = AsyncScopedStream(body, enter, afinish)
    else:

        def finish(exhausted: bool) -> None:
            try:
                end_request(ok=ok and exhausted)
            finally:
                held.close()

        response.streaming_content = ScopedStream(body, enter, finish)


async def _end_async(ok: bool) -> None:
    """End the request's ``db.async_session`` if an async view used it."""
    from . import asyncio as async_views

    if async_views.session.has():
        await async_views.end_request(ok)


async def _end_async_after_error() -> None:
    try:
        await _end_async(ok=False)
    except Exception:
        logger.exception("removing the async session of a failed request failed")


def end_request(ok: bool) -> None:
    """Commit the current scope's session (``COMMIT_ON_TEARDOWN`` and ``ok``),
    then remove it, which rolls back anything uncommitted; a no-op when the
    request made no session."""
    scoped = registry.session
    if not scoped.has():
        return
    session = scoped()
    try:
        if ok and registry.commit_on_teardown:
            session.commit()
    finally:
        try:
            session.close()  # rolls back whatever was not committed
        finally:
            scoped.registry.clear()  # forgotten even when closing failed


def _end_after_error() -> None:
    """Roll back and remove after ``get_response`` raised; a failure to close
    is logged, so that the exception on its way out stays the one reported."""
    try:
        end_request(ok=False)
    except Exception:
        logger.exception("removing the session of a failed request failed")
