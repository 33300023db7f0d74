"""Streaming responses keep their request's session.

A ``StreamingHttpResponse`` body (a sync generator under WSGI, an async
iterator under ASGI) sees the request's ``db.session`` (and, async, its
``db.async_session``), including what the view flushed; the session is
removed when the body is exhausted (committed with ``COMMIT_ON_TEARDOWN``),
closed early by the client or raises (rolled back).  Under ASGI the requests
go through Django's real ``ASGIHandler``, whose client disconnect cancels the
streaming task.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.test import Client
from django.urls import path
from django_support import Item
from sqlalchemy import func, select

from session_ext.django import db
from session_ext.django.asyncio import async_engines

#: what bodies saw: ("same", bool), ("count", n), ("finally-same", bool)
LOG: list[tuple[str, Any]] = []


def _count(session: Any, name: str) -> int:
    return session.scalar(select(func.count(Item.id)).where(Item.name == name))


def stream_view(request: HttpRequest) -> StreamingHttpResponse:
    """Flushes an Item (not committed), then streams ``?n=`` chunks; each chunk
    says whether the body's db.session is the view's and sees the flush;
    ``?fail=k`` raises at chunk k."""
    session, name = db.session(), request.GET.get("name", "streamed")
    session.add(Item(name=name))
    session.flush()
    n, fail = int(request.GET.get("n", 3)), int(request.GET.get("fail", -1))

    def body() -> Iterator[bytes]:
        try:
            for i in range(n):
                if i == fail:
                    raise RuntimeError("the body failed on purpose")
                LOG.append(("same", db.session() is session))
                yield f"{i}:{_count(db.session, name)};".encode()
        finally:
            LOG.append(("finally-same", db.session() is session))

    return StreamingHttpResponse(body())


async def async_stream_view(request: HttpRequest) -> StreamingHttpResponse:
    """The async twin on db.async_session; also checks db.session's identity."""
    session, name = db.async_session(), request.GET.get("name", "astreamed")
    session.add(Item(name=name))
    await session.flush()
    n, fail = int(request.GET.get("n", 3)), int(request.GET.get("fail", -1))

    async def body() -> AsyncIterator[bytes]:
        try:
            for i in range(n):
                if i == fail:
                    raise RuntimeError("the body failed on purpose")
                LOG.append(("same", db.async_session() is session))
                count = await db.async_session.run_sync(_count, name)
                yield f"{i}:{count};".encode()
                await asyncio.sleep(0)  # let a disconnect arrive between chunks
        finally:
            LOG.append(("finally-same", db.async_session() is session))

    return StreamingHttpResponse(body())


def sync_session_async_body(request: HttpRequest) -> StreamingHttpResponse:
    """A sync view (db.session) with an async body (served under ASGI)."""
    session = db.session()
    session.add(Item(name="mixed"))
    session.flush()

    async def body() -> AsyncIterator[bytes]:
        LOG.append(("same", db.session() is session))
        yield b"x"

    return StreamingHttpResponse(body())


def file_view(request: HttpRequest) -> FileResponse:
    db.session.add(Item(name="file"))
    return FileResponse(io.BytesIO(b"file body"))


urlpatterns = [
    path("file", file_view),
    path("stream", stream_view),
    path("astream", async_stream_view),
    path("mixed", sync_session_async_body),
]


@pytest.fixture(autouse=True)
def _urls(settings: Any) -> Iterator[None]:
    settings.ROOT_URLCONF = __name__
    LOG.clear()
    yield
    LOG.clear()


@pytest.fixture(params=["sqlite_file", "postgresql"])
def backend(request: pytest.FixtureRequest, configure: Any, databases: dict[str, str]) -> str:
    urls = dict(databases)
    if request.param == "postgresql":
        pg = request.getfixturevalue("pg_engine")
        urls["default"] = pg.url.render_as_string(hide_password=False)
    # SQLite: writers queue on the file's lock; a loaded CI machine may need longer than 5 s
    options = {} if request.param == "postgresql" else {"connect_args": {"timeout": 60}}
    configure(COMMIT_ON_TEARDOWN=True, DATABASES=urls, ENGINE_OPTIONS=options)
    return request.param


def committed_names() -> list[str]:
    with db.engine.connect() as conn:
        return [row[0] for row in conn.execute(select(Item.name).order_by(Item.id))]


def assert_nothing_left() -> None:
    assert len(db.session.registry) == 0
    assert len(db.async_session.registry) == 0
    assert db.engine.pool.checkedout() == 0
    assert async_engines.checked_out() == 0


@pytest.fixture
def close_early(django_db_blocker: Any) -> Any:
    """What a WSGI server does when the client goes away: ``response.close()``.
    (Django's test client then sends request_finished twice, and the second
    reaches close_old_connections: Django's own database, which pytest-django
    blocks, has to be allowed for it.)"""

    def close(response: Any) -> None:
        with django_db_blocker.unblock():
            response.close()

    return close


# -- ASGI driver ------------------------------------------------------------------


async def asgi_get(app: ASGIHandler, url: str, *, disconnect_after: int | None = None) -> bytes:
    """GET ``url`` through Django's ASGIHandler; with ``disconnect_after=k`` the
    client disconnects once k body chunks arrived.  Returns the body received."""
    path_, _, query = url.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path_, "raw_path": path_.encode(),
             "query_string": query.encode(), "root_path": "", "headers": [(b"host", b"testserver")],
             "client": ("127.0.0.1", 1234), "server": ("testserver", 80)}
    gone = asyncio.Event()
    sent = {"request": False}
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        if not sent["request"]:
            sent["request"] = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            chunks.append(message["body"])
            if disconnect_after is not None and len(chunks) >= disconnect_after:
                gone.set()
                await asyncio.sleep(0)  # the server notices while the body is mid-way

    await app(scope, receive, send)
    return b"".join(chunks)


# -- WSGI (sync bodies) ---------------------------------------------------------------


def test_sync_body_sees_the_request_session_and_commits_when_exhausted(backend):
    response = Client().get("/stream?n=3&name=full")
    assert len(db.session.registry) == 1  # kept while the body is pending
    assert b"".join(response.streaming_content) == b"0:1;1:1;2:1;"  # the flushed row
    assert LOG.count(("same", True)) == 3 and ("finally-same", True) in LOG
    assert committed_names() == ["full"]
    assert_nothing_left()


def test_sync_body_closed_early_rolls_back_inside_the_scope(backend, close_early):
    response = Client().get("/stream?n=5&name=early")
    chunks = iter(response.streaming_content)
    assert next(chunks) == b"0:1;"
    close_early(response)
    assert LOG == [("same", True), ("finally-same", True)]  # finally ran in the scope
    assert committed_names() == []
    assert_nothing_left()


def test_sync_body_that_raises_rolls_back(backend):
    response = Client().get("/stream?n=3&fail=1&name=broken")
    with pytest.raises(RuntimeError, match="on purpose"):
        b"".join(response.streaming_content)
    assert committed_names() == []
    assert_nothing_left()


def test_without_commit_on_teardown_an_exhausted_body_rolls_back(configure):
    configure(COMMIT_ON_TEARDOWN=False)
    response = Client().get("/stream?n=2&name=nocommit")
    assert b"".join(response.streaming_content) == b"0:1;1:1;"
    assert committed_names() == []
    assert_nothing_left()


def test_sync_body_never_iterated_is_removed_when_closed(backend, close_early):
    response = Client().get("/stream?n=2&name=unread")
    close_early(response)
    assert committed_names() == []
    assert LOG == []  # the generator never started: nothing ran
    assert_nothing_left()


def test_file_response_ends_the_request_at_once(backend):
    """A FileResponse is not held open: the request commits when it returns
    (the server may hand the file to wsgi.file_wrapper)."""
    response = Client().get("/file")
    assert committed_names() == ["file"]
    assert_nothing_left()
    assert b"".join(response.streaming_content) == b"file body"


def test_thread_session_is_untouched_by_a_body(backend):
    """The server thread's own session is not the one the body uses."""
    mine = db.session()
    response = Client().get("/stream?n=1")
    b"".join(response.streaming_content)
    assert db.session() is mine and LOG[0] == ("same", True)
    db.session.remove()
    assert_nothing_left()


# -- ASGI (async bodies, and sync bodies served asynchronously) -------------------------


def test_async_body_sees_the_request_async_session_and_commits(backend):
    body = asyncio.run(asgi_get(ASGIHandler(), "/astream?n=3&name=afull"))
    assert body == b"0:1;1:1;2:1;"
    assert LOG.count(("same", True)) == 3 and ("finally-same", True) in LOG
    assert committed_names() == ["afull"]
    assert_nothing_left()


def test_async_body_client_disconnect_rolls_back(backend):
    body = asyncio.run(asgi_get(ASGIHandler(), "/astream?n=50&name=gone", disconnect_after=1))
    assert body.startswith(b"0:1;") and len(body) < len(b"0:1;") * 50
    assert ("finally-same", True) in LOG
    assert committed_names() == []
    assert_nothing_left()


def test_async_body_that_raises_rolls_back(backend):
    with pytest.raises(RuntimeError, match="on purpose"):  # Django's handler re-raises it
        asyncio.run(asgi_get(ASGIHandler(), "/astream?n=3&fail=1&name=abroken"))
    assert ("finally-same", True) in LOG
    assert committed_names() == []
    assert_nothing_left()


def test_sync_view_with_async_body_keeps_db_session(backend):
    assert asyncio.run(asgi_get(ASGIHandler(), "/mixed")) == b"x"
    assert LOG == [("same", True)]
    assert committed_names() == ["mixed"]
    assert_nothing_left()


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous")
def test_sync_body_under_asgi(backend):
    body = asyncio.run(asgi_get(ASGIHandler(), "/stream?n=2&name=sync-asgi"))
    assert body == b"0:1;1:1;"
    assert committed_names() == ["sync-asgi"]
    assert_nothing_left()


# -- 1,000 streaming requests, 10% closed early ------------------------------------------


def test_1000_streaming_requests_leave_nothing_behind(backend, close_early):
    """500 WSGI requests from several threads and 500 ASGI requests, several
    at a time; every tenth is closed after its first chunk.  Exactly the
    completed ones commit; afterwards no session is registered and no
    connection is out.  (SQLite serialises writers, whose busy handler polls:
    fewer at a time there keeps the run short.)"""
    threads, batch_size = (8, 25) if backend == "postgresql" else (2, 4)

    def wsgi_worker(thread: int) -> list[str]:
        client, done = Client(), []
        for i in range(thread, 500, threads):
            name = f"w{i}"
            response = client.get(f"/stream?n=3&name={name}")
            if i % 10 == 0:
                next(iter(response.streaming_content))
                close_early(response)
            else:
                assert b"".join(response.streaming_content) == b"0:1;1:1;2:1;"
                done.append(name)
        return done

    with ThreadPoolExecutor(max_workers=threads) as pool:
        expected = [name for names in pool.map(wsgi_worker, range(threads)) for name in names]

    async def asgi_all() -> list[str]:
        app, done = ASGIHandler(), []
        for start in range(0, 500, batch_size):
            batch = range(start, start + batch_size)
            bodies = await asyncio.gather(*(
                asgi_get(app, f"/astream?n=3&name=a{i}",
                         disconnect_after=1 if i % 10 == 0 else None)
                for i in batch))
            for i, body in zip(batch, bodies, strict=True):
                if i % 10:
                    assert body.endswith(b"2:1;"), body
                    done.append(f"a{i}")
        return done

    expected += asyncio.run(asyncio.wait_for(asgi_all(), timeout=120))
    assert len(expected) == 900
    assert sorted(committed_names()) == sorted(expected)
    assert_nothing_left()
    assert threading.active_count() < 50
