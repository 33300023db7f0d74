"""The session class behind ``db.session`` and the scope it lives in.

Both are defined next to what they depend on: :class:`Session` with the
registry whose engines it uses (:mod:`session_ext.django.state`), the
scope functions in :mod:`session_ext.django.scopes`.  This module keeps
their former import path.
"""

from __future__ import annotations

from ..web.binds import MissingBind
from .scopes import request_or_thread_scope, thread_scope
from .state import Session, registry

__all__ = ["MissingBind", "Session", "registry", "request_or_thread_scope", "thread_scope"]
