"""db.session is per app context, and removed at the end of every request.

These tests build apps with ``make_app`` (not pytest-flask's ``app``), so that
each test-client request pushes and pops its own app context.
"""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask, g
from flask_support import User, db, on_databases
from sqlalchemy import func, select
from werkzeug.serving import make_server

from session_ext.flask import NoAppContextError


def _registry_size() -> int:
    return len(db.session.registry)


def _checked_out(app: Flask) -> int:
    return sum(e.pool.checkedout() for e in app.extensions["session_ext"].engines.values())


def _user_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


@on_databases
def test_each_request_gets_a_fresh_session_and_it_is_removed(make_app):
    app = make_app()
    client = app.test_client()
    keys = [client.get("/session").json["hash_key"] for _ in range(3)]
    assert len(set(keys)) == 3
    seen = app.extensions["test_seen_sessions"]
    assert len({id(s) for s in seen}) == 3
    for session in seen:  # closed by remove(): no transaction, no objects
        assert not session.in_transaction()
        assert list(session) == []
    assert _registry_size() == 0
    assert _checked_out(app) == 0


@on_databases
def test_uncommitted_work_does_not_survive_the_request(make_app):
    app = make_app()
    client = app.test_client()
    assert client.post("/users/uncommitted", data={"name": "ghost"}).status_code == 200
    assert _user_count(app) == 0
    assert _registry_size() == 0
    assert _checked_out(app) == 0


@on_databases
def test_session_removed_when_the_view_raises(make_app):
    app = make_app()  # not TESTING: the error becomes a 500 instead of propagating
    client = app.test_client()
    response = client.post("/users/then-fail", data={"name": "ghost"})
    assert response.status_code == 500
    (session,) = app.extensions["test_seen_sessions"]
    assert not session.in_transaction()
    assert _registry_size() == 0
    assert _checked_out(app) == 0
    assert _user_count(app) == 0


def test_session_removed_when_the_exception_propagates(make_app):
    app = make_app(TESTING=True)  # PROPAGATE_EXCEPTIONS: the test client re-raises
    client = app.test_client()
    with pytest.raises(RuntimeError, match="view failed"):
        client.post("/users/then-fail", data={"name": "ghost"})
    assert _registry_size() == 0
    assert _checked_out(app) == 0


@on_databases
def test_commit_on_teardown_commits_on_success_and_rolls_back_on_error(make_app):
    app = make_app(SESSION_EXT_COMMIT_ON_TEARDOWN=True)
    client = app.test_client()
    assert client.post("/users/uncommitted", data={"name": "kept"}).status_code == 200
    assert client.post("/users/then-fail", data={"name": "dropped"}).status_code == 500
    with app.app_context():
        assert db.session.scalars(select(User.name)).all() == ["kept"]
    assert _registry_size() == 0
    assert _checked_out(app) == 0


def test_commit_on_teardown_error_still_removes_the_session(make_app):
    app = make_app(SESSION_EXT_COMMIT_ON_TEARDOWN=True)

    @app.post("/duplicate")
    def duplicate():
        db.session.add(User(name="same"))
        db.session.add(User(name="same"))  # the commit at teardown fails
        return "ok"

    with pytest.raises(Exception, match="(?i)unique"):
        app.test_client().post("/duplicate")
    assert _registry_size() == 0
    assert _checked_out(app) == 0
    assert _user_count(app) == 0


def test_outside_an_app_context_is_a_clear_runtime_error(make_app):
    make_app()
    with pytest.raises(RuntimeError, match="outside a Flask application context"):
        db.session.add(User(name="x"))
    with pytest.raises(NoAppContextError):
        User.query.all()
    assert db.session.has() is False
    db.session.remove()  # a no-op, not an error


def test_nested_app_contexts_have_their_own_sessions(make_app):
    app = make_app()
    with app.app_context():
        outer = db.session()
        with app.app_context():
            inner = db.session()
            assert inner is not outer
        assert db.session() is outer
        assert _registry_size() == 1
    assert _registry_size() == 0


def test_one_extension_serves_two_apps(make_app, tmp_path):
    first = make_app()
    second = make_app(SESSION_EXT_DATABASE_URI=f"sqlite:///{tmp_path / 'second.sqlite3'}")
    first.test_client().post("/users", data={"name": "only-in-first"})
    assert _user_count(first) == 1
    assert _user_count(second) == 0
    with first.app_context():
        first_engine = db.engine
    with second.app_context():
        assert db.engine is not first_engine
        assert db.session().bind is db.engine


def test_async_view_uses_the_request_session(make_app):
    app = make_app()

    @app.before_request
    def remember_session():
        g.request_session = db.session()

    @app.get("/async")
    async def async_view():
        session = db.session()
        session.add(User(name="from-async"))
        session.commit()
        return {"same": session is g.request_session, "hash_key": session.hash_key}

    client = app.test_client()
    first = client.get("/async")
    assert first.status_code == 200, first.text
    assert first.json["same"] is True
    second = client.get("/async")
    assert second.status_code == 500  # unique name: the second insert fails
    third_app_key = client.get("/session").json["hash_key"]
    assert len({first.json["hash_key"], third_app_key}) == 2
    assert _registry_size() == 0
    assert _checked_out(app) == 0
    assert _user_count(app) == 1


# ---------------------------------------------------------------------------- threads


@on_databases
def test_1000_requests_from_8_threads_with_10_percent_failing(make_app):
    """No two requests share a session; every session is removed and every
    connection returned, whether the view succeeded or raised."""
    app = make_app()
    records: list[tuple[int, int]] = []  # (request number, session hash_key)
    lock = threading.Lock()

    @app.get("/work/<int:number>")
    def work(number: int):
        session = db.session()
        session.scalar(select(func.count(User.id)))
        with lock:
            records.append((number, session.hash_key))
        if number % 10 == 0:
            raise RuntimeError(f"request {number} fails")
        return "ok"

    total, threads = 1000, 8
    start = threading.Barrier(threads)

    def worker(numbers: range) -> list[int]:
        client = app.test_client()
        start.wait(timeout=30)
        return [client.get(f"/work/{n}").status_code for n in numbers]

    chunks = [range(i, total, threads) for i in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        statuses = [s for chunk in pool.map(worker, chunks) for s in chunk]

    assert sorted(statuses).count(500) == total // 10
    assert statuses.count(200) == total - total // 10
    assert len(records) == total
    assert len({key for _, key in records}) == total  # a fresh session per request
    assert _registry_size() == 0
    assert _checked_out(app) == 0


@on_databases
def test_threaded_server_runs_concurrent_requests_on_separate_sessions(make_app):
    """Eight requests held inside their views at the same time by a barrier,
    on a real threaded werkzeug server."""
    app = make_app()
    concurrent = 8
    inside = threading.Barrier(concurrent)

    @app.get("/overlap")
    def overlap():
        session = db.session()
        session.scalar(select(func.count(User.id)))  # holds a connection
        inside.wait(timeout=30)  # all eight are in a view now
        return {"hash_key": session.hash_key, "session_id": id(session)}

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        def fetch(_: int) -> dict:
            conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=60)
            try:
                conn.request("GET", "/overlap")
                response = conn.getresponse()
                assert response.status == 200
                return json.loads(response.read())
            finally:
                conn.close()

        with ThreadPoolExecutor(concurrent) as pool:
            results = list(pool.map(fetch, range(concurrent)))
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    assert len({r["hash_key"] for r in results}) == concurrent
    assert len({r["session_id"] for r in results}) == concurrent
    assert _registry_size() == 0
    assert _checked_out(app) == 0
