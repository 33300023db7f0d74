"""Streaming response bodies that keep their request's session.

A streaming body (a generator given to Django's ``StreamingHttpResponse`` or
to a Flask response) is produced after the view has returned, when the
adapter would already have removed the request's session.  The adapters
instead hand the body to :class:`ScopedStream` (sync iterators) or
:class:`AsyncScopedStream` (async iterators), which

* produce each chunk inside a context the adapter gives (``enter()``: the
  request's :class:`~session_ext.scoping.Scope` made current again, so that
  ``db.session`` in the body is the request's session), and
* call ``finish(ok)`` exactly once, inside that context, when the body is
  exhausted (``ok=True``), raises, or is closed before its end (a client that
  went away; ``ok=False``).  A body nobody iterated nor closed is finished
  when the stream is garbage collected (``ok=False``).

What ``finish`` does (commit or roll back, remove the session, end the
scope) is the adapter's business.  Nothing here imports Flask or Django.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any

logger = logging.getLogger("session_ext.web")

#: makes the context manager each chunk is produced in (e.g. ``lambda:
#: session_ext.scoping.entered(request_scope)``); None: no context
Enter = Callable[[], contextlib.AbstractContextManager[Any]] | None


def _enter(enter: Enter) -> contextlib.AbstractContextManager[Any]:
    return enter() if enter is not None else contextlib.nullcontext()


class ScopedStream:
    """A sync body produced inside ``enter()``, then ``finish(ok)`` once."""

    def __init__(self, body: Iterable[Any], enter: Enter, finish: Callable[[bool], None]) -> None:
        self.body = body
        self.enter = enter
        self._finish = finish
        self._iter: Iterator[Any] | None = None
        self.finished = False

    def __iter__(self) -> ScopedStream:
        return self

    def __next__(self) -> Any:
        if self.finished:
            raise StopIteration
        with _enter(self.enter):
            try:
                if self._iter is None:
                    self._iter = iter(self.body)
                return next(self._iter)
            except StopIteration:
                self._end(True)
                raise
            except BaseException:
                self._end(False)
                raise

    def close(self) -> None:
        """Close the body (its ``finally`` blocks run in the context), then finish
        with ``ok=False``; a no-op once finished."""
        if self.finished:
            return
        with _enter(self.enter):
            try:
                close = getattr(self._iter if self._iter is not None else self.body, "close", None)
                if close is not None:
                    close()
            finally:
                self._end(False)

    def _end(self, ok: bool) -> None:
        if not self.finished:
            self.finished = True
            self._finish(ok)

    def __del__(self) -> None:
        if not getattr(self, "finished", True):
            try:
                self.close()
            except Exception:
                logger.exception("finishing an abandoned streaming body failed")


class AsyncScopedStream:
    """An async body produced inside ``enter()``, then ``await finish(ok)`` once.

    ``finish`` runs to its end even when the task streaming the body is
    cancelled (a client disconnect under ASGI).  Made on the event loop that
    will stream it.
    """

    def __init__(
        self,
        body: AsyncIterable[Any],
        enter: Enter,
        finish: Callable[[bool], Awaitable[None]],
    ) -> None:
        self.body = body
        self.enter = enter
        self._finish = finish
        self._iter: AsyncIterator[Any] | None = None
        self._loop = asyncio.get_running_loop()
        self.finished = False

    def __aiter__(self) -> AsyncScopedStream:
        return self

    async def __anext__(self) -> Any:
        if self.finished:
            raise StopAsyncIteration
        with _enter(self.enter):
            try:
                if self._iter is None:
                    self._iter = aiter(self.body)
                return await anext(self._iter)
            except StopAsyncIteration:
                await self._end(True)
                raise
            except BaseException:
                await self._end(False)
                raise

    async def aclose(self) -> None:
        """Close the body (in the context), then finish with ``ok=False``."""
        if self.finished:
            return
        with _enter(self.enter):
            try:
                target = self._iter if self._iter is not None else self.body
                aclose = getattr(target, "aclose", None)
                if aclose is not None:
                    await aclose()
            finally:
                await self._end(False)

    def close(self) -> None:
        """Sync close (a framework's resource closer): :meth:`aclose` on the
        stream's loop; waits for it when called from another thread."""
        if self.finished or self._loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._loop.create_task(self.aclose())
        elif self._loop.is_running():  # another thread (Django runs close() in a worker)
            asyncio.run_coroutine_threadsafe(self.aclose(), self._loop).result()
        else:
            self._loop.run_until_complete(self.aclose())

    async def _end(self, ok: bool) -> None:
        if self.finished:
            return
        self.finished = True
        done = asyncio.ensure_future(self._finish(ok))
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            await done  # the end runs to completion, then the cancellation goes on
            raise

    def __del__(self) -> None:
        if getattr(self, "finished", True):
            return
        loop = self._loop
        if loop.is_closed():
            logger.error("a streaming body was abandoned after its event loop closed: "
                         "its session could not be removed")
            return
        loop.call_soon_threadsafe(lambda: loop.create_task(self.aclose()))

