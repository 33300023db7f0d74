"""What a server process reports about itself when it stops (test-only).

The app wrappers (``rely_flask``, ``rely_django``) register a function that
returns the process's figures (sessions still in the scoped registry,
connections checked out of the pool); :func:`dump` writes them as JSON to
``$RELY_STATS_DIR/<pid>.json``.  gunicorn calls it from ``worker_exit``
(``rely_gunicorn_conf.py``), the ASGI wrapper at lifespan shutdown, once every
request has been answered and torn down.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV_DIR = "RELY_STATS_DIR"

_collect: Callable[[], dict[str, Any]] | None = None


def register(collect: Callable[[], dict[str, Any]]) -> None:
    global _collect
    _collect = collect


def snapshot() -> dict[str, Any]:
    assert _collect is not None, "no app wrapper registered its figures"
    return {"pid": os.getpid(), **_collect()}


def dump() -> None:
    """Write this process's figures.  A worker thread may still be finishing
    the teardown of a request whose response was sent: wait a moment (at most
    2 s) for the registry and the pool to come back to rest first."""
    directory = os.environ.get(ENV_DIR)
    if not directory or _collect is None:
        return
    deadline = time.monotonic() + 2.0
    figures = snapshot()
    while (figures["sessions"] or figures["checked_out"]) and time.monotonic() < deadline:
        time.sleep(0.05)
        figures = snapshot()
    path = Path(directory) / f"{os.getpid()}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(figures))
    tmp.replace(path)
