"""Fixtures for the Flask adapter tests.

A word on pytest-flask: when a test uses a fixture named ``app`` (directly or
through ``client``), pytest-flask pushes ONE request context for the whole
test, so every test-client request in that test shares one app context and
no app-context teardown runs between them.  The ``app`` fixture here is for
tests where that does not matter (404 helpers, pagination, CLI, the rollback
fixtures).  Tests about per-request sessions and teardown build their apps
with ``make_app`` instead, which pytest-flask does not know about, so each
request pushes and pops its own app context.

``backend`` is overridden here: Flask tests run on a SQLite file unless they
are parametrized (``flask_support.on_databases``) to run on PostgreSQL too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_support import db, views

_app_numbers = itertools.count(1)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The default database of the test apps (``sqlite_file`` unless parametrized)."""
    return getattr(request, "param", "sqlite_file")


@pytest.fixture
def database_uri(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for the backend's empty database (PostgreSQL is emptied after the test)."""
    if backend == "postgresql":
        engine = request.getfixturevalue("pg_engine")
        return engine.url.render_as_string(hide_password=False)
    if backend == "sqlite_memory":
        return "sqlite://"
    return f"sqlite:///{tmp_path / 'app.sqlite3'}"


AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(database_uri: str, tmp_path: Path) -> Iterator[AppFactory]:
    """``make_app(**config)``: a new app with ``db`` and the test views,
    tables created; its engines are disposed after the test."""
    apps: list[Flask] = []

    def factory(*, create_tables: bool = True, register: bool = True, **config: Any) -> Flask:
        number = next(_app_numbers)
        app = Flask(f"flask_test_app_{number}", root_path=str(tmp_path),
                    instance_path=str(tmp_path / "instance"))
        app.config.update(
            SESSION_EXT_DATABASE_URI=database_uri,
            SESSION_EXT_BINDS={"audit": f"sqlite:///{tmp_path / f'audit{number}.sqlite3'}"},
        )
        app.config.update(config)
        app.extensions["test_seen_sessions"] = []
        app.register_blueprint(views)
        if register:
            db.init_app(app)
            apps.append(app)
            if create_tables:
                with app.app_context():
                    db.create_all()
        return app

    yield factory
    for app in apps:
        for engine in app.extensions["session_ext"].engines.values():
            engine.dispose()


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The pytest-flask app (one request context for the whole test)."""
    return make_app(TESTING=True)
