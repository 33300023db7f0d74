"""The example Flask app's own choices for running behind a real server."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event

from example_apps.flask_app import create_app, db


def make(uri: str) -> Flask:
    return create_app({"SESSION_EXT_DATABASE_URI": uri, "TESTING": True,
                       "SEED_DEMO_DATA": False})


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make(f"sqlite:///{tmp_path / 'blog.sqlite3'}")


@pytest.mark.parametrize("per_page", ["²", "٣", "1e3", "-1", "0"])
def test_odd_per_page_falls_back_to_the_default(app, per_page):
    response = app.test_client().get("/posts", query_string={"per_page": per_page})
    assert response.status_code == 200


def test_a_created_object_is_serialised_without_reading_after_commit(app):
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn, cursor, statement, *args):
        statements.append(statement)

    @event.listens_for(engine, "commit")
    def mark(conn):
        statements.append("COMMIT")

    response = app.test_client().post("/api/users", json={"name": "zed"})
    assert response.status_code == 201 and response.json["name"] == "zed"
    assert "COMMIT" in statements
    after_commit = statements[statements.index("COMMIT") + 1:]
    assert not [s for s in after_commit if s.lstrip().upper().startswith("SELECT")]


def test_a_server_database_gets_pre_ping(pg_engine):
    app = make(pg_engine.url.render_as_string(hide_password=False))
    with app.app_context():
        assert db.engine.pool._pre_ping is True
        db.drop_all()


def test_sqlite_does_not_pre_ping(app):
    with app.app_context():
        assert db.engine.pool._pre_ping is False
