"""Flask adapter: ``SessionExt``, sessions per app context, ``Model.query``.

::

    from session_ext.flask import SessionExt

    db = SessionExt()

    class User(db.Model):
        id = db.Column(db.Integer, primary_key=True)

    app.config["SESSION_EXT_DATABASE_URI"] = "sqlite:///app.sqlite3"
    db.init_app(app)

See ``docs/flask.md``.  Tests get rollback-per-test fixtures from the
``session_ext.testing`` pytest plugin.
"""

from __future__ import annotations

from ..pagination import Pagination
from .config import KNOWN_KEYS, ConfigError
from .extension import ALL_BINDS, SessionExt
from .model import Model, QueryProperty
from .query import Query
from .record_queries import QueryInfo, get_recorded_queries
from .session import NoAppContextError, Session, app_context_scope
from .transactions import TestTransaction

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
    "get_recorded_queries",
]
