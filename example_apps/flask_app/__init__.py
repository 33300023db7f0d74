"""A small blog on session_ext's Flask adapter: users, posts, comments.

HTML pages (a paginated list, forms with validation) and a JSON API under
``/api``.  Start it with ``./dev run`` (or ``python -m example_apps.flask_app``,
or ``flask --app example_apps.flask_app run``).  The database is the SQLite
file ``instance/flask_app.sqlite3`` unless ``SESSION_EXT_DATABASE_URI`` names
another one, e.g. ``postgresql+psycopg://user:pass@localhost/blog``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

from .api import api
from .models import Comment, Post, User, db
from .seed import seed_command, seed_demo_data
from .views import pages

DEFAULT_DATABASE_URI = "sqlite:///flask_app.sqlite3"  # relative: in the instance folder


def database_uri_from_env() -> str:
    """``SESSION_EXT_DATABASE_URI`` from the environment, or the SQLite default.

    ``postgres://`` and plain ``postgresql://`` URLs are pointed at psycopg 3
    (the driver ``session_ext[postgresql]`` installs) unless psycopg2 is there.
    """
    uri = os.environ.get("SESSION_EXT_DATABASE_URI", "").strip() or DEFAULT_DATABASE_URI
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://"):]
    if uri.startswith("postgresql://"):
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    return uri


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app factory; ``config`` overrides the defaults (tests use it)."""
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_hex(16),
        SESSION_EXT_DATABASE_URI=database_uri_from_env(),
        POSTS_PER_PAGE=10,
        SEED_DEMO_DATA=True,
    )
    if config:
        app.config.update(config)
    if not app.config["SESSION_EXT_DATABASE_URI"].startswith("sqlite"):
        # a server may restart between requests: test pooled connections first
        options = dict(app.config.get("SESSION_EXT_ENGINE_OPTIONS") or {})
        options.setdefault("pool_pre_ping", True)
        app.config["SESSION_EXT_ENGINE_OPTIONS"] = options
    db.init_app(app)
    app.register_blueprint(pages)
    app.register_blueprint(api, url_prefix="/api")
    app.cli.add_command(seed_command)
    with app.app_context():
        db.create_all()
        if app.config["SEED_DEMO_DATA"]:
            seed_demo_data()
    return app


__all__ = ["Comment", "Post", "User", "create_app", "db"]
