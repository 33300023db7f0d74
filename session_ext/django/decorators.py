"""``no_auto_commit``: a view that never commits at teardown.

With ``COMMIT_ON_TEARDOWN`` on, the middleware commits a successful
request's session.  A view decorated with :func:`no_auto_commit` (a dry run,
a report that flushes only to get ids) is rolled back instead, whatever its
status, for sync and async views alike; its explicit ``commit()`` calls
still commit.  On a class-based view use ``method_decorator(no_auto_commit,
name="dispatch")``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import iscoroutinefunction

#: the request attribute the middleware reads
FLAG = "session_ext_no_auto_commit"

_V = TypeVar("_V", bound=Callable[..., Any])


def no_auto_commit(view: _V) -> _V:
    """Opt ``view`` out of ``COMMIT_ON_TEARDOWN``: its request is rolled back."""
    if iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            setattr(request, FLAG, True)
            return await view(request, *args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(view)
    def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
        setattr(request, FLAG, True)
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def wants_commit(request: Any, status: int) -> bool:
    """Whether the end of ``request`` may commit: a status below 400 and a view
    not decorated with :func:`no_auto_commit`."""
    return status < 400 and not getattr(request, FLAG, False)
