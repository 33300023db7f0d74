"""The session_ext.flask.testing plugin: every test runs in a transaction rolled back at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from flask_support import AuditLog, User, db, on_databases
from sqlalchemy import create_engine, func, select, text

from session_ext.flask.testing import _state_of

ROOT = Path(__file__).resolve().parents[2]


def _count_with_a_new_connection(app, table: str, key=None) -> int:
    """Count rows through a connection of our own, outside any test transaction."""
    url = app.extensions["session_ext"].engines[key].url
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture
def database_is_empty_afterwards(app):
    """Set up before session_ext_rollback, so its check runs after the rollback."""
    yield
    assert _count_with_a_new_connection(app, "user") == 0
    assert _count_with_a_new_connection(app, "audit_log", "audit") == 0


@on_databases
def test_views_commit_inside_the_test_transaction(
    database_is_empty_afterwards, session_ext_rollback, client, app
):
    assert client.post("/users", data={"name": "ada"}).status_code == 201
    assert client.post("/users", data={"name": "bob"}).status_code == 201
    assert client.get("/audit?m=hello").json == {"count": 1}
    # the test sees what the views committed ...
    assert db.session.scalar(select(func.count(User.id))) == 2
    conn = session_ext_rollback.connection()
    assert conn.execute(select(func.count(User.id))).scalar() == 2
    assert session_ext_rollback.connection("audit").execute(
        select(func.count(AuditLog.id))).scalar() == 1
    # ... and nobody else does
    assert _count_with_a_new_connection(app, "user") == 0


def test_fixtures_give_the_app_and_db(session_ext_app, session_ext_db, app):
    assert session_ext_app is app
    assert session_ext_db is db


@on_databases
def test_fresh_request_contexts_share_the_test_transaction(make_app):
    """Without pytest-flask's shared context each request has its own session;
    all of them join the test's transaction."""
    app = make_app()
    client = app.test_client()
    with db.test_transaction(app) as tx:
        assert client.post("/users", data={"name": "ada"}).status_code == 201
        keys = {client.get("/session").json["hash_key"] for _ in range(2)}
        assert len(keys) == 2  # still a session per request
        assert client.get("/session").json["users"] == 1
        # a failing request rolls back to its savepoint only
        assert client.post("/users/then-fail", data={"name": "x"}).status_code == 500
        assert client.get("/session").json["users"] == 1
        assert tx.connection().execute(select(func.count(User.id))).scalar() == 1
        assert len(db.session.registry) == 0
    assert _count_with_a_new_connection(app, "user") == 0
    # afterwards the app uses its engines again
    assert client.post("/users", data={"name": "real"}).status_code == 201
    assert _count_with_a_new_connection(app, "user") == 1


def test_ddl_inside_the_test_transaction_is_rolled_back(make_app):
    app = make_app(create_tables=False)
    with app.app_context(), db.test_transaction():
        db.create_all()
        db.session.add(User(name="temp"))
        db.session.commit()
        assert User.query.count() == 1
    engine = app.extensions["session_ext"].engines[None]
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM sqlite_master WHERE name = 'user'")).scalar() == 0


def test_test_transactions_do_not_nest(make_app):
    app = make_app()
    with db.test_transaction(app):
        with pytest.raises(RuntimeError, match="already active"):
            with db.test_transaction(app):
                pass


def test_app_without_the_extension_is_a_usage_error(tmp_path):
    from flask import Flask

    with pytest.raises(pytest.UsageError, match="init_app"):
        _state_of(Flask("bare", root_path=str(tmp_path)))


# ---------------------------------------------------------------- the plugin, as a user gets it

_CONFTEST = '''
import os

import pytest
from flask import Flask, request
from sqlalchemy import Column, Integer, String, func, select

from session_ext.flask import SessionExt

db = SessionExt()


class Note(db.Model):
    id = Column(Integer, primary_key=True)
    text = Column(String(50), unique=True)


def create_app():
    app = Flask(__name__)
    app.config["SESSION_EXT_DATABASE_URI"] = os.environ["NOTES_DB"]
    db.init_app(app)

    @app.post("/notes")
    def add_note():
        db.session.add(Note(text=request.form["text"]))
        db.session.commit()
        return {"count": db.session.scalar(select(func.count(Note.id)))}

    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def app():
    app = create_app()
    yield app
    app.extensions["session_ext"].engines[None].dispose()


@pytest.fixture(autouse=True)
def _rollback(session_ext_rollback):
    yield
'''

_TESTS = '''
from conftest import Note, db


def test_a_writes(client):
    assert client.post("/notes", data={"text": "one"}).json == {"count": 1}
    assert client.post("/notes", data={"text": "two"}).json == {"count": 2}
    assert Note.query.count() == 2


def test_b_sees_nothing_of_a(client):
    assert Note.query.count() == 0
    assert client.post("/notes", data={"text": "one"}).json == {"count": 1}


def test_c_integrity_error_then_more_work(client):
    assert client.post("/notes", data={"text": "dup"}).status_code == 200
    assert client.post("/notes", data={"text": "dup"}).status_code == 500
    # pytest-flask shares one app context (so one session) between the test and
    # its requests: the failed request left that session waiting for rollback()
    db.session.rollback()
    assert Note.query.count() == 1
'''


@on_databases
def test_plugin_is_loaded_from_its_entry_point_and_rolls_back(tmp_path, database_uri):
    project = tmp_path / "userproject"
    project.mkdir()
    (project / "conftest.py").write_text(textwrap.dedent(_CONFTEST))
    (project / "test_notes.py").write_text(textwrap.dedent(_TESTS))
    env = dict(os.environ, NOTES_DB=database_uri)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        # -p no:django: with pytest-django installed too (the test extra), its `client`
        # fixture can shadow pytest-flask's in a project that has no pytest config
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:django",
         str(project)],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
    engine = create_engine(database_uri)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM note")).scalar_one() == 0
    finally:
        engine.dispose()


@pytest.mark.parametrize("plugin", ["session_ext.flask.testing", "session_ext.testing"])
def test_plugin_is_loaded_by_name_from_pytest_plugins(tmp_path, plugin):
    """Without the entry point (``-p no:session_ext``), a conftest that names the
    plugin (or its former home, ``session_ext.testing``) gets the fixtures."""
    project = tmp_path / "userproject"
    project.mkdir()
    conftest = f"pytest_plugins = [{plugin!r}]\n" + textwrap.dedent(_CONFTEST)
    (project / "conftest.py").write_text(conftest)
    (project / "test_notes.py").write_text(textwrap.dedent(_TESTS))
    database_uri = f"sqlite:///{tmp_path / 'notes.sqlite3'}"
    env = dict(os.environ, NOTES_DB=database_uri)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:django",
         "-p", "no:session_ext", str(project)],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
    engine = create_engine(database_uri)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM note")).scalar_one() == 0
    finally:
        engine.dispose()
