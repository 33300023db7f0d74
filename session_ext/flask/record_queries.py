"""Record the statements run during an app context (debug toolbars, tests).

When ``SESSION_EXT_RECORD_QUERIES`` is on (the default in debug and testing
mode), Core ``before_cursor_execute``/``after_cursor_execute`` listeners on
each of the app's engines time every statement and append a
:class:`QueryInfo` to a list on ``flask.g``; :func:`get_recorded_queries`
returns that list for the current app context (one request, one CLI
command).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

from flask import g, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine

_G_KEY = "_session_ext_recorded_queries"
_START = "_session_ext_query_start"

#: frames in these top-level packages are never a query's "location"
_LIBRARY_PACKAGES = frozenset(
    {
        "sqlalchemy",
        "session_ext",
        "flask",
        "werkzeug",
        "click",
        "asgiref",
        "contextlib",
        "threading",
        "concurrent",
        "asyncio",
        "socketserver",
        "functools",
        "runpy",
    }
)


@dataclass(frozen=True)
class QueryInfo:
    """One recorded statement."""

    #: the SQL string sent to the driver
    statement: str
    #: its parameters as given to the driver: a list with one entry (a tuple
    #: or a dict, as the driver's paramstyle has it) per parameter set, so an
    #: ``executemany()`` has several, as Flask-SQLAlchemy records them
    parameters: Any
    #: ``time.perf_counter()`` values around the driver call
    start_time: float
    end_time: float
    #: ``"path/to/file.py:42 (function)"`` of the first caller outside libraries
    location: str

    @property
    def duration(self) -> float:
        """Seconds spent in the driver."""
        return self.end_time - self.start_time


def get_recorded_queries() -> list[QueryInfo]:
    """The statements recorded so far in the current app context.

    Empty when recording is off for the app or outside an app context.
    """
    if not has_app_context():
        return []
    return list(g.get(_G_KEY, ()))


def _caller_location() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.split(".", 1)[0] not in _LIBRARY_PACKAGES:
            code = frame.f_code
            return f"{code.co_filename}:{frame.f_lineno} ({code.co_name})"
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>"


def _before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
            executemany: bool) -> None:
    if context is not None and has_app_context():
        setattr(context, _START, time.perf_counter())


def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
           executemany: bool) -> None:
    start = getattr(context, _START, None) if context is not None else None
    if start is None or not has_app_context():
        return
    end = time.perf_counter()
    recorded = getattr(context, "parameters", None)
    if not isinstance(recorded, list):
        recorded = list(parameters) if executemany else [parameters]
    queries = g.setdefault(_G_KEY, [])
    queries.append(QueryInfo(statement, recorded, start, end, _caller_location()))


def record_queries_on(engine: Engine) -> None:
    """Attach the recording listeners to ``engine`` (idempotent)."""
    if not event.contains(engine, "before_cursor_execute", _before):
        event.listen(engine, "before_cursor_execute", _before)
        event.listen(engine, "after_cursor_execute", _after)
