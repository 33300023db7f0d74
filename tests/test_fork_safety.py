"""A forked child never uses a connection its parent's pool holds."""

from __future__ import annotations

import os

import pytest
from forking import in_child
from sqlalchemy import create_engine, text

from session_ext import Session
from session_ext.engines import dispose_in_forked_children, prepare_engine

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def backend_pid(engine) -> int:
    with Session(engine) as s:
        return s.execute(text("SELECT pg_backend_pid()")).scalar_one()


@pytest.mark.parametrize("guard", [prepare_engine, dispose_in_forked_children])
def test_a_child_gets_its_own_connections(pg_engine, guard):
    engine = guard(create_engine(pg_engine.url, pool_size=2))
    try:
        parent_pid = backend_pid(engine)  # now idle in the parent's pool
        assert engine.pool.checkedin() == 1
        child_pid = in_child(lambda: backend_pid(engine))
        assert child_pid != parent_pid
        assert backend_pid(engine) == parent_pid  # the parent's connection still works
    finally:
        engine.dispose()


def test_an_unguarded_engine_would_share_the_connection(pg_engine):
    """The failure the guard prevents (read-only: the child only asks who it is)."""
    engine = create_engine(pg_engine.url, pool_size=2)
    try:
        parent_pid = backend_pid(engine)
        assert in_child(lambda: backend_pid(engine)) == parent_pid
    finally:
        engine.dispose()


def test_the_flask_extensions_engines_are_guarded(pg_engine):
    flask = pytest.importorskip("flask")
    from session_ext.flask import SessionExt

    db = SessionExt()
    app = flask.Flask(__name__)
    app.config["SESSION_EXT_DATABASE_URI"] = pg_engine.url.render_as_string(
        hide_password=False)
    db.init_app(app)

    def pid_in_a_request() -> int:
        with app.app_context():
            return db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()

    parent_pid = pid_in_a_request()
    assert in_child(pid_in_a_request) != parent_pid
    assert pid_in_a_request() == parent_pid
    with app.app_context():
        db.engine.dispose()
