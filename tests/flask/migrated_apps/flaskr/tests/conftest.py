"""Fixtures of flaskr's tests: an app per test on a fresh database holding
two users and one post.

Next to what flaskr's own test suite does, this file adds only what running
inside this repository needs: each test runs on in-memory SQLite (flaskr's
choice) and on PostgreSQL, the instance folder is a temporary directory, and
pytest-flask (installed for the other Flask tests) does not push its
whole-test request context, which flaskr's tests were not written for.
"""

from datetime import datetime

import flask
import pytest
from flaskr import create_app, db, init_db
from flaskr.auth.models import User
from flaskr.blog.models import Post
from werkzeug.security import generate_password_hash

# hashing is slow: the two users' hashes are made once
_TEST_HASH = generate_password_hash("test")
_OTHER_HASH = generate_password_hash("other")


@pytest.fixture(autouse=True)
def _instance_folder(tmp_path, monkeypatch):
    """Apps made by a test keep their instance folder under tmp_path."""
    monkeypatch.setattr(flask.Flask, "auto_find_instance_path",
                        lambda self: str(tmp_path / "instance"))


@pytest.fixture
def _push_request_context():
    """pytest-flask's fixture of this name pushes one request context for the
    whole test; flaskr's requests each push their own, as in production."""


@pytest.fixture(params=["sqlite_memory", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def app(backend, database_uri):
    """A new app on an empty database, with users "test" and "other" and
    one post by "test"."""
    uri = "sqlite:///:memory:" if backend == "sqlite_memory" else database_uri
    app = create_app({"TESTING": True, "SESSION_EXT_DATABASE_URI": uri})
    with app.app_context():
        init_db()
        test_user = User(username="test", password_hash=_TEST_HASH)
        db.session.add_all([
            test_user,
            User(username="other", password_hash=_OTHER_HASH),
            Post(title="test title", body="test\nbody", author=test_user,
                 created=datetime(2018, 1, 1)),
        ])
        db.session.commit()
    yield app
    for engine in app.extensions["session_ext"].engines.values():
        engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    """Log the test client in and out."""

    def __init__(self, client):
        self._client = client

    def login(self, username="test", password="test"):
        return self._client.post("/auth/login",
                                 data={"username": username, "password": password})

    def logout(self):
        return self._client.get("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)
