"""A logging filter that drops the tracebacks of the deliberate 500s, so that
a server log holds only what went wrong unexpectedly (test-only)."""

from __future__ import annotations

import logging


class NotDeliberate(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return type(exc).__name__ != "DeliberateError"
