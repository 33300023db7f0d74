"""Flask adapter: ``SessionExt``, sessions per app context, ``Model.query``.

::

    from session_ext.flask import SessionExt

    db = SessionExt()

    class User(db.Model):
        id = db.Column(db.Integer, primary_key=True)

    app.config["SESSION_EXT_DATABASE_URI"] = "sqlite:///app.sqlite3"
    db.init_app(app)

See ``docs/flask.md``.  Tests get rollback-per-test fixtures from the
``session_ext.flask.testing`` pytest plugin.

The names below are imported on first use (PEP 562), so ``import
session_ext.flask`` itself does not import Flask; tools that walk the
package (``pkgutil.walk_packages``) stay framework-free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ..pagination import Pagination
    from .config import KNOWN_KEYS, ConfigError
    from .extension import ALL_BINDS, SessionExt
    from .model import Model, QueryProperty
    from .query import Query
    from .record_queries import QueryInfo, get_recorded_queries
    from .session import NoAppContextError, Session, app_context_scope
    from .signals import before_models_committed, models_committed
    from .streaming import no_auto_commit
    from .transactions import TestTransaction

_EXPORTS = {
    "ALL_BINDS": ".extension",
    "ConfigError": ".config",
    "KNOWN_KEYS": ".config",
    "Model": ".model",
    "NoAppContextError": ".session",
    "Pagination": "..pagination",
    "Query": ".query",
    "QueryInfo": ".record_queries",
    "QueryProperty": ".model",
    "Session": ".session",
    "SessionExt": ".extension",
    "TestTransaction": ".transactions",
    "app_context_scope": ".session",
    "before_models_committed": ".signals",
    "get_recorded_queries": ".record_queries",
    "models_committed": ".signals",
    "no_auto_commit": ".streaming",
}

__all__ = [
    "ALL_BINDS",
    "ConfigError",
    "KNOWN_KEYS",
    "Model",
    "NoAppContextError",
    "Pagination",
    "Query",
    "QueryInfo",
    "QueryProperty",
    "Session",
    "SessionExt",
    "TestTransaction",
    "app_context_scope",
    "before_models_committed",
    "get_recorded_queries",
    "models_committed",
    "no_auto_commit",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
