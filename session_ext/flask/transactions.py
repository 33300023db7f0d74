"""Former home of :class:`TestTransaction`, now :mod:`session_ext.web.transactions`
(both adapters use it)."""

from __future__ import annotations

from ..web.transactions import TestTransaction

__all__ = ["TestTransaction"]
