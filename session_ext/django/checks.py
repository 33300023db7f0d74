"""System checks (``manage.py check``, ``runserver``) for the adapter.

They report what ``ready()`` found wrong with ``settings.SESSION_EXT``
(``session_ext.E001`` - ``E009``, ``W001``, ``W003``; see ``conf.py``), models
whose ``__bind_key__`` names no configured database (``E010``), and a
``MIDDLEWARE`` without :class:`SessionExtMiddleware` (``W002``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from .conf import (
    DEFAULT_KEY,
    E_UNKNOWN_MODEL_BIND,
    SETTING,
    W_NO_MIDDLEWARE,
    Problem,
    bind_key,
)
from .middleware import SessionExtMiddleware
from .state import registry

MIDDLEWARE_PATH = "session_ext.django.middleware.SessionExtMiddleware"
TAG = "session_ext"


def _message(problem: Problem) -> checks.CheckMessage:
    cls = checks.Error if problem.is_error else checks.Warning
    return cls(problem.message, hint=problem.hint, obj=problem.where, id=problem.id)


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The problems of ``settings.SESSION_EXT`` found by the last configure()."""
    return [_message(p) for p in registry.problems]


def check_bind_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every ``__bind_key__`` (and ``db.Table(bind_key=...)``) must name a database."""
    if registry.settings is None or any(p.is_error for p in registry.problems):
        return []  # nothing to compare with; check_settings reports why
    configured = registry.settings.binds
    names = sorted(DEFAULT_KEY if k is None else k for k in configured)
    errors = [
        checks.Error(
            f"{user} has __bind_key__ {key!r}, which is not a database name (a string).",
            hint=f"Set __bind_key__ to a key of settings.{SETTING}['DATABASES'] (configured: "
            f"{names}), or leave it out for the default database.",
            obj=user,
            id=E_UNKNOWN_MODEL_BIND,
        )
        for user, key in registry.invalid_bind_keys()
    ]
    errors += [
        checks.Error(
            f"{', '.join(users)} use(s) __bind_key__ {key!r}, which is not a configured "
            "database.",
            hint=f"Add {key!r} to settings.{SETTING}['DATABASES'] (configured: {names}), or "
            "fix the __bind_key__.",
            obj=users[0],
            id=E_UNKNOWN_MODEL_BIND,
        )
        for key, users in sorted(registry.bind_key_users().items())
        if bind_key(key) not in configured
    ]
    return errors


def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Without the middleware, views share one session per server thread."""
    middleware = getattr(settings, "MIDDLEWARE", None) or []
    if any(_is_ours(path) for path in middleware):
        return []
    return [
        checks.Warning(
            "SessionExtMiddleware is not in settings.MIDDLEWARE, so db.session is per thread, "
            "not per request: a request can see what an earlier one left in the session.",
            hint=f"Add {MIDDLEWARE_PATH!r} near the top of settings.MIDDLEWARE.",
            obj="settings.MIDDLEWARE",
            id=W_NO_MIDDLEWARE,
        )
    ]


def _is_ours(path: Any) -> bool:
    if not isinstance(path, str):
        return False
    if path == MIDDLEWARE_PATH:
        return True
    try:
        cls = import_string(path)
    except Exception:  # a module that fails to import: Django reports it when it loads it
        return False
    return isinstance(cls, type) and issubclass(cls, SessionExtMiddleware)


def register() -> None:
    """Register the checks (once; ``ready()`` calls this)."""
    for check in (check_settings, check_bind_keys, check_middleware):
        checks.register(check, TAG)
