"""Flask: ``stream_with_context`` bodies keep the request's ``db.session``;
``no_auto_commit`` views are not committed at teardown."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask, Response, request, stream_with_context
from flask_support import User, db, on_databases
from sqlalchemy import func, select

from session_ext.flask import no_auto_commit

LOG: list[tuple[str, Any]] = []


def _names(app: Flask) -> list[str]:
    with app.app_context():
        names = list(db.session.scalars(select(User.name).order_by(User.id)))
        db.session.remove()
        return names


def _assert_nothing_left(app: Flask) -> None:
    assert len(db.session.registry) == 0
    assert sum(e.pool.checkedout() for e in app.extensions["session_ext"].engines.values()) == 0


def _add_views(app: Flask) -> Flask:
    def stream() -> Response:
        session, name = db.session(), request.args.get("name", "streamed")
        session.add(User(name=name))
        session.flush()
        n, fail = int(request.args.get("n", 3)), int(request.args.get("fail", -1))

        def body() -> Iterator[str]:
            try:
                for i in range(n):
                    if i == fail:
                        raise RuntimeError("the body failed on purpose")
                    LOG.append(("same", db.session() is session))
                    count = db.session.scalar(select(func.count(User.id)).where(User.name == name))
                    yield f"{i}:{count};"
            finally:
                LOG.append(("finally-same", db.session() is session))

        return Response(stream_with_context(body()))

    @no_auto_commit
    def dry_run() -> str:
        db.session.add(User(name=request.args["name"]))
        db.session.flush()
        return "flushed"

    @no_auto_commit
    async def async_dry_run() -> str:
        db.session.add(User(name=request.args["name"]))
        db.session.flush()
        return "flushed"

    def plain() -> str:
        db.session.add(User(name=request.args["name"]))
        return "ok"

    app.add_url_rule("/stream", view_func=stream)
    app.add_url_rule("/dry-run", view_func=dry_run)
    app.add_url_rule("/async-dry-run", view_func=async_dry_run)
    app.add_url_rule("/plain", view_func=plain)
    return app


@pytest.fixture(autouse=True)
def _log() -> Iterator[None]:
    LOG.clear()
    yield
    LOG.clear()


@on_databases
def test_streamed_body_uses_the_request_session_and_commits_when_exhausted(make_app):
    app = _add_views(make_app(SESSION_EXT_COMMIT_ON_TEARDOWN=True))
    response = app.test_client().get("/stream?n=3&name=full", buffered=False)
    assert len(db.session.registry) == 1  # kept while the body is pending
    assert b"".join(response.response) == b"0:1;1:1;2:1;"  # sees the view's flush
    response.close()
    assert LOG.count(("same", True)) == 3 and ("finally-same", True) in LOG
    assert _names(app) == ["full"]
    _assert_nothing_left(app)


@on_databases
def test_streamed_body_closed_early_rolls_back(make_app):
    app = _add_views(make_app(SESSION_EXT_COMMIT_ON_TEARDOWN=True))
    response = app.test_client().get("/stream?n=5&name=early", buffered=False)
    assert next(iter(response.response)) == b"0:1;"
    response.close()  # the client went away
    assert LOG == [("same", True), ("finally-same", True)]
    assert _names(app) == []
    _assert_nothing_left(app)


@on_databases
def test_streamed_body_that_raises_rolls_back(make_app):
    app = _add_views(make_app(SESSION_EXT_COMMIT_ON_TEARDOWN=True))
    response = app.test_client().get("/stream?n=3&fail=1&name=broken", buffered=False)
    with pytest.raises(RuntimeError, match="on purpose"):
        b"".join(response.response)
    response.close()
    assert _names(app) == []
    _assert_nothing_left(app)


def test_streamed_body_without_commit_on_teardown_rolls_back(make_app):
    app = _add_views(make_app())
    response = app.test_client().get("/stream?n=2&name=nocommit", buffered=False)
    assert b"".join(response.response) == b"0:1;1:1;"
    response.close()
    assert _names(app) == []
    _assert_nothing_left(app)


@on_databases
def test_1000_streaming_requests_leave_nothing_behind(make_app, backend):
    """1,000 streamed requests (8 threads on PostgreSQL, 1 on SQLite, whose writers
    queue), every tenth closed after its
    first chunk: exactly the others commit; the registry and the pool are empty."""
    app = _add_views(make_app(SESSION_EXT_COMMIT_ON_TEARDOWN=True))
    threads = 8 if backend == "postgresql" else 1

    def worker(thread: int) -> list[str]:
        client, done = app.test_client(), []
        for i in range(thread, 1000, threads):
            response = client.get(f"/stream?n=3&name=u{i}", buffered=False)
            if i % 10 == 0:
                next(iter(response.response))
            else:
                assert b"".join(response.response) == b"0:1;1:1;2:1;"
                done.append(f"u{i}")
            response.close()
        return done

    with ThreadPoolExecutor(max_workers=threads) as pool:
        expected = [name for names in pool.map(worker, range(threads)) for name in names]
    assert len(expected) == 900
    assert sorted(_names(app)) == sorted(expected)
    _assert_nothing_left(app)


@on_databases
@pytest.mark.parametrize("path", ["/dry-run", "/async-dry-run"])
def test_no_auto_commit_views_are_rolled_back(make_app, path):
    app = _add_views(make_app(SESSION_EXT_COMMIT_ON_TEARDOWN=True))
    client = app.test_client()
    assert client.get(f"{path}?name=dry").text == "flushed"
    assert client.get("/plain?name=kept").text == "ok"  # other views still commit
    assert _names(app) == ["kept"]
    _assert_nothing_left(app)
