"""Streamed responses keep their session; ``no_auto_commit`` views.

**Streaming.**  Flask tears the app context down when the view returns, even
when the response body is a ``stream_with_context`` generator that will run
later (it pushes the same context again while it runs).  When the request
has a ``db.session`` and its response body is a generator (what
``stream_with_context`` returns), :func:`keep_session_for_stream` (an ``after_request``
hook) wraps the body in a :class:`~session_ext.web.streaming.ScopedStream`
and marks the context: the teardowns skip ``db.session`` while the body is
pending, so inside a ``stream_with_context`` body ``db.session`` is the
request's session, with what the view flushed.  When the body is exhausted
the session is committed (``SESSION_EXT_COMMIT_ON_TEARDOWN``, unless the view
is :func:`no_auto_commit`), when it raises or the client closes it early it
is rolled back; either way it is closed and forgotten.

**no_auto_commit.**  A view decorated with :func:`no_auto_commit` is never
committed by the teardown (sync and async views).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g
from flask.globals import app_ctx
from flask.wrappers import Response

from ..web.streaming import ScopedStream

#: ``g`` attribute: the view opted out of COMMIT_ON_TEARDOWN
NO_AUTO_COMMIT = "_session_ext_no_auto_commit"
#: ``g`` attribute: a streamed body still uses the context's session
STREAM_PENDING = "_session_ext_stream_pending"

_V = TypeVar("_V", bound=Callable[..., Any])


def no_auto_commit(view: _V) -> _V:
    """Opt ``view`` out of ``SESSION_EXT_COMMIT_ON_TEARDOWN``: its session is
    rolled back at teardown (explicit ``commit()`` calls still commit)."""
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            setattr(g, NO_AUTO_COMMIT, True)
            return await view(*args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        setattr(g, NO_AUTO_COMMIT, True)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def auto_commit_wanted() -> bool:
    """False inside a view decorated with :func:`no_auto_commit`."""
    return not g.get(NO_AUTO_COMMIT, False)


def stream_pending() -> bool:
    """True while a streamed body still uses this app context's session."""
    return bool(g.get(STREAM_PENDING, False))


def keep_session_for_stream(db: Any, commit_on_teardown: bool, response: Response) -> Response:
    """``after_request``: keep the session of a streamed response until its
    body ends (see the module's docstring)."""
    if not inspect.isgenerator(response.response) or not db.session.has():
        return response  # lists, files, error pages rendered by a WSGI callable
    ctx = app_ctx._get_current_object()  # type: ignore[attr-defined]
    namespace = ctx.g
    commit = commit_on_teardown and auto_commit_wanted()

    def finish(exhausted: bool) -> None:
        setattr(namespace, STREAM_PENDING, False)
        session = db.session.registry.pop_key(ctx)
        if session is None:
            return
        try:
            if exhausted and commit:
                session.commit()
        finally:
            session.close()

    setattr(namespace, STREAM_PENDING, True)
    response.response = ScopedStream(response.response, None, finish)
    return response
