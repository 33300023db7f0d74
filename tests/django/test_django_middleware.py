"""SessionExtMiddleware: a session per request (sync and async), teardown
semantics, isolation under threads and concurrent tasks, and the session
outside requests."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.sync import iscoroutinefunction
from django.http import HttpResponse
from django.test import AsyncClient, Client
from django_support import BARRIER, SEEN, Barrier, Item
from sqlalchemy import func, select

from session_ext import scope
from session_ext.django import SessionExtMiddleware, db


def item_names() -> list[str]:
    """What is committed, seen from a fresh connection."""
    with db.engine.connect() as conn:
        return [row[0] for row in conn.execute(select(Item.name).order_by(Item.id))]


# -- the middleware object ------------------------------------------------------


def test_middleware_is_sync_and_async_capable():
    assert SessionExtMiddleware.sync_capable and SessionExtMiddleware.async_capable

    async def async_view(request: Any) -> HttpResponse:
        return HttpResponse()

    def sync_view(request: Any) -> HttpResponse:
        return HttpResponse()

    assert iscoroutinefunction(SessionExtMiddleware(async_view))
    assert not iscoroutinefunction(SessionExtMiddleware(sync_view))


# -- one session per request ------------------------------------------------------


def test_each_sync_request_gets_its_own_session_removed_afterwards():
    client = Client()
    first = client.get("/session").json()
    second = client.get("/session").json()
    assert first["session"] != second["session"]
    assert SEEN[0] is not SEEN[1]
    assert first["new"] == 0 and first["identity"] == 0
    assert len(db.session.registry) == 0
    assert db.engine.pool.checkedout() == 0


def test_request_session_is_not_the_thread_session_of_the_caller():
    outside = db.session()
    Client().get("/session")
    assert SEEN[0] is not outside
    assert db.session() is outside  # the test's own session survives the request
    assert len(db.session.registry) == 1


def test_each_async_request_gets_its_own_session():
    async def run() -> list[Any]:
        client = AsyncClient()
        return [(await client.get("/async/items/create?name=a")).status_code,
                (await client.get("/async/items/create?name=b")).status_code]

    assert asyncio.run(run()) == [200, 200]
    assert len(SEEN) == 2 and SEEN[0] is not SEEN[1]
    assert item_names() == []  # COMMIT_ON_TEARDOWN is off: both rolled back
    assert len(db.session.registry) == 0
    assert db.engine.pool.checkedout() == 0


def test_sync_view_under_asgi_uses_the_request_session():
    async def run() -> Any:
        return await AsyncClient().get("/items/create?name=sync-in-asgi")

    assert asyncio.run(run()).status_code == 200
    assert len(SEEN) == 1
    assert len(db.session.registry) == 0
    assert db.engine.pool.checkedout() == 0


def test_under_asgi_a_sync_views_teardown_runs_outside_the_sync_view_thread(monkeypatch):
    """Django runs every sync view of an ASGI app on one thread; a request's
    rollback queued behind the next request's view on that thread could only
    run after that view stopped waiting for the lock the rollback releases
    (SQLite's write lock): the teardown must run on a thread of its own."""
    from session_ext import Session as CoreSession
    from session_ext.django import middleware

    view_threads: set[int] = set()
    teardown_threads: list[int] = []
    real_flush, real_end = CoreSession.flush, middleware.end_request

    def recording_flush(self: Any, objects: Any = None) -> None:
        view_threads.add(threading.get_ident())
        real_flush(self, objects)

    def recording_end(ok: bool) -> None:
        teardown_threads.append(threading.get_ident())
        real_end(ok)

    monkeypatch.setattr(CoreSession, "flush", recording_flush)
    monkeypatch.setattr(middleware, "end_request", recording_end)

    async def run() -> list[int]:
        client = AsyncClient()
        return [(await client.get(f"/items/create?name=t{i}")).status_code for i in range(3)]

    assert asyncio.run(run()) == [200, 200, 200]
    assert len(view_threads) == 1  # Django's one thread for sync views
    assert len(teardown_threads) == 3
    assert not view_threads & set(teardown_threads)
    assert len(db.session.registry) == 0
    assert db.engine.pool.checkedout() == 0


# -- teardown: commit or roll back -------------------------------------------------


def test_without_commit_on_teardown_uncommitted_work_is_rolled_back():
    response = Client().get("/items/create?name=lost")
    assert response.status_code == 200
    assert response.json()["id"] == 1  # it was flushed inside the request
    assert item_names() == []


def test_explicit_commit_survives_without_commit_on_teardown():
    assert Client().get("/items/commit?name=kept").json() == {"count": 1}
    assert item_names() == ["kept"]


@pytest.mark.parametrize(
    ("query", "status", "committed"),
    [
        ("", 200, True),
        ("&status=302", 302, True),
        ("&status=399", 399, True),
        ("&status=400", 400, False),
        ("&status=404", 404, False),
        ("&status=500", 500, False),
        ("&raise=1", 500, False),
    ],
)
def test_commit_on_teardown_commits_only_successful_responses(configure, query, status,
                                                               committed):
    configure(COMMIT_ON_TEARDOWN=True)
    client = Client(raise_request_exception=False)
    assert client.get(f"/items/create?name=n{query}").status_code == status
    assert item_names() == (["n"] if committed else [])
    assert len(db.session.registry) == 0
    assert db.engine.pool.checkedout() == 0


@pytest.mark.parametrize(("query", "committed"), [("", True), ("&status=400", False),
                                                  ("&raise=1", False)])
def test_commit_on_teardown_async(configure, query, committed):
    configure(COMMIT_ON_TEARDOWN=True)

    async def run() -> int:
        client = AsyncClient(raise_request_exception=False)
        return (await client.get(f"/async/items/create?name=a{query}")).status_code

    assert asyncio.run(run()) == {"": 200, "&status=400": 400, "&raise=1": 500}[query]
    assert item_names() == (["a"] if committed else [])
    assert len(db.session.registry) == 0
    assert db.engine.pool.checkedout() == 0


def test_view_exception_propagates_to_the_test_client_after_rollback(configure):
    configure(COMMIT_ON_TEARDOWN=True)
    with pytest.raises(RuntimeError, match="on purpose"):
        Client().get("/items/create?name=boom&raise=1")
    assert item_names() == []
    assert len(db.session.registry) == 0
    assert db.engine.pool.checkedout() == 0


def test_failed_commit_on_teardown_still_removes_the_session(configure, settings):
    configure(COMMIT_ON_TEARDOWN=True)

    with db.engine.begin() as conn:  # a row the request's insert will collide with
        conn.execute(Item.__table__.insert().values(id=1, name="taken"))
    settings.ROOT_URLCONF = "test_django_middleware"
    response = Client(raise_request_exception=False).get("/duplicate")
    assert response.status_code == 500  # the commit failed at teardown
    assert item_names() == ["taken"]
    assert len(db.session.registry) == 0
    assert db.engine.pool.checkedout() == 0


def duplicate_view(request: Any) -> HttpResponse:
    db.session.add(Item(id=1, name="duplicate"))  # flushed only by the teardown commit
    return HttpResponse(b"ok")


urlpatterns = [__import__("django.urls").urls.path("duplicate", duplicate_view)]


# -- isolation under load ------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite_file", "postgresql"])
def test_threads_with_failing_requests_leak_nothing(configure, backend, request):
    """8 threads, 25 requests each, every fifth raising or answering 400: each
    request has its own session, exactly the good ones are committed, and the
    registry and the pool are empty afterwards."""
    if backend == "postgresql":
        url = request.getfixturevalue("pg_engine").url.render_as_string(hide_password=False)
        configure(COMMIT_ON_TEARDOWN=True, DATABASES={"default": url,
                                                       "audit": "sqlite://"})
    else:
        configure(COMMIT_ON_TEARDOWN=True)

    def worker(thread: int) -> list[str]:
        client = Client(raise_request_exception=False)
        expected = []
        for i in range(25):
            name = f"t{thread}-{i}"
            outcome = ("&raise=1", "&status=400", "", "", "")[i % 5]
            response = client.get(f"/items/create?name={name}{outcome}")
            assert response.status_code == (500 if "raise" in outcome else
                                            400 if "status" in outcome else 200)
            if not outcome:
                expected.append(name)
        return expected

    with ThreadPoolExecutor(max_workers=8) as pool:
        expected = [name for names in pool.map(worker, range(8)) for name in names]

    assert len(SEEN) == 200
    assert len({id(s) for s in SEEN}) == 200  # SEEN keeps them alive: ids are unique
    assert sorted(item_names()) == sorted(expected) and len(expected) == 120
    assert len(db.session.registry) == 0
    assert db.engine.pool.checkedout() == 0


def test_200_concurrent_async_requests_get_distinct_sessions(configure):
    """All 200 requests are inside their scope at once (a barrier holds them);
    after waiting, each still sees its own session."""
    with db.engine.begin() as conn:
        conn.execute(Item.__table__.insert().values(id=1, name="one"))
    BARRIER["200"] = Barrier(200)

    async def run() -> list[Any]:
        BARRIER["200"] = Barrier(200)  # its Event belongs to this loop
        client = AsyncClient()
        calls = [client.get("/async/barrier?barrier=200") for _ in range(200)]
        return await asyncio.wait_for(asyncio.gather(*calls), timeout=60)

    responses = asyncio.run(run())
    assert BARRIER["200"].arrived == 200
    assert all(r.status_code == 200 and r.json()["same"] for r in responses)
    assert len({r.json()["session"] for r in responses}) == 200
    assert len({id(s) for s in SEEN}) == 200
    assert len(db.session.registry) == 0
    assert db.engine.pool.checkedout() == 0


# -- outside requests --------------------------------------------------------------


def test_session_outside_a_request_is_per_thread():
    db.session.add(Item(name="script"))
    db.session.commit()
    assert item_names() == ["script"]
    here = db.session()
    seen: list[Any] = []
    thread = threading.Thread(target=lambda: seen.append(db.session()))
    thread.start()
    thread.join()
    assert seen[0] is not here
    assert db.session() is here


def test_a_finished_thread_leaves_no_session_behind():
    """A thread that used db.session and never called remove(): its session
    is closed and forgotten when the thread ends."""
    sessions: list[Any] = []

    def job() -> None:
        session = db.session()
        session.get(Item, 1)  # a transaction and a connection, never released by hand
        sessions.append(session)

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()
    assert len(db.session.registry) == 0
    assert not sessions[0].in_transaction()
    assert db.engine.pool.checkedout() == 0


def test_explicit_scope_outside_a_request():
    outer = db.session()
    with db.scope():
        inner = db.session()
        inner.add(Item(name="job"))
        inner.commit()
        assert inner is not outer
    assert db.session() is outer
    assert item_names() == ["job"]
    assert len(db.session.registry) == 1  # only the test thread's


def test_async_tasks_with_their_own_scope_do_not_share():
    async def task(barrier: Barrier) -> Any:
        async with scope():
            session = db.session()
            await barrier.wait()  # every task holds its session at once
            return session if db.session() is session else None

    async def run() -> list[Any]:
        barrier = Barrier(20)
        return await asyncio.wait_for(asyncio.gather(*(task(barrier) for _ in range(20))), 30)

    sessions = asyncio.run(run())
    assert all(s is not None for s in sessions)
    assert len({id(s) for s in sessions}) == 20
    assert len(db.session.registry) == 0


def test_count_statement_routes_to_default(configure):
    db.session.add_all([Item(name="a"), Item(name="b")])
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Item)) == 2


def test_client_fixtures_are_djangos(client, async_client):
    assert isinstance(client, Client) and isinstance(async_client, AsyncClient)
    assert client.get("/session").status_code == 200


def test_in_memory_database_is_shared_by_requests_and_the_test(configure, databases):
    """sqlite:// is one connection: what one request commits the next one and
    the test see; what a failed request did is rolled back."""
    configure(COMMIT_ON_TEARDOWN=True, DATABASES={**databases, "default": "sqlite://"})
    client = Client(raise_request_exception=False)
    assert client.get("/items/create?name=kept").status_code == 200
    assert client.get("/items/create?name=lost&raise=1").status_code == 500
    assert client.get("/items/1").json() == {"id": 1, "name": "kept"}
    assert [i.name for i in db.session.scalars(select(Item))] == ["kept"]
    assert len(SEEN) == 2 and SEEN[0] is not SEEN[1]


# -- regressions ----------------------------------------------------------------------


class ThreadRecordingSession(__import__("session_ext.django", fromlist=["Session"]).Session):
    """Records the thread each session is committed and closed in."""

    threads: list[tuple[str, int]] = []

    def commit(self) -> None:
        type(self).threads.append(("commit", threading.get_ident()))
        super().commit()

    def close(self) -> None:
        type(self).threads.append(("close", threading.get_ident()))
        super().close()


@pytest.mark.parametrize("path", ["/async/items/create?name=a", "/items/create?name=s"])
def test_async_teardown_does_not_block_the_event_loop(configure, path):
    """Under ASGI the teardown commit and close run in a worker thread, not in
    the event loop's thread (where they would stall every other request)."""
    configure(COMMIT_ON_TEARDOWN=True, SESSION_OPTIONS={"class_": ThreadRecordingSession})
    ThreadRecordingSession.threads = []

    async def run() -> tuple[int, int]:
        response = await AsyncClient().get(path)
        return response.status_code, threading.get_ident()

    status, loop_thread = asyncio.run(run())
    assert status == 200
    assert item_names() == [path.rsplit("=", 1)[1]]
    kinds = [kind for kind, _ in ThreadRecordingSession.threads]
    assert "commit" in kinds and "close" in kinds
    assert all(ident != loop_thread for _, ident in ThreadRecordingSession.threads)
    assert len(db.session.registry) == 0


class FailingCloseSession(__import__("session_ext.django", fromlist=["Session"]).Session):
    def close(self) -> None:
        super().close()
        raise RuntimeError("close failed")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_error_while_removing_does_not_replace_the_original_exception(configure, mode, caplog):
    """get_response raising (KeyboardInterrupt, a cancelled task, ...) is what
    propagates even when closing the request's session fails too."""
    configure(SESSION_OPTIONS={"class_": FailingCloseSession})

    class Interrupted(BaseException):
        pass

    def view(request: Any) -> HttpResponse:
        db.session.add(Item(name="x"))
        raise Interrupted

    async def async_view(request: Any) -> HttpResponse:
        return view(request)

    if mode == "sync":
        with pytest.raises(Interrupted):
            SessionExtMiddleware(view)(None)
    else:
        with pytest.raises(Interrupted):
            asyncio.run(SessionExtMiddleware(async_view)(None))
    assert "removing the session of a failed request failed" in caplog.text
    assert len(db.session.registry) == 0
    assert item_names() == []
