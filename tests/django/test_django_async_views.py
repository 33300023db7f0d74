"""Async views get a request-scoped AsyncSession from the middleware."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.test import AsyncClient
from django_async_support import HELD, SEEN
from django_support import AuditEntry, Item
from sqlalchemy import func, select

from session_ext.django import asyncio as async_views
from session_ext.django import db


@pytest.fixture(autouse=True)
def _urls(settings: Any) -> Any:
    settings.ROOT_URLCONF = "django_async_support"
    SEEN.clear()
    yield
    SEEN.clear()
    assert len(async_views.session.registry) == 0, "an async session outlived its request"


def count_items() -> int:
    return db.session.scalar(select(func.count(Item.id)))


def run(coro: Any) -> Any:
    async def main() -> Any:
        try:
            return await coro
        finally:
            assert async_views.async_engines.checked_out() == 0
            for engine in async_views.async_engines.all():
                await engine.dispose()

    return asyncio.run(main())


def test_each_request_gets_its_own_async_session_removed_at_the_end():
    async def requests() -> list[Any]:
        client = AsyncClient()
        return await asyncio.gather(*(client.get(f"/a/create?name=n{i}") for i in range(5)))

    responses = run(requests())
    assert [r.status_code for r in responses] == [200] * 5
    assert [r.json()["count"] for r in responses] == [1] * 5  # none saw another's flush
    assert len({id(s) for s in SEEN}) == 5
    assert all(not s.in_transaction() for s in SEEN)  # closed: rolled back, not committed
    assert count_items() == 0


def test_commit_exception_and_error_status_paths():
    async def requests() -> list[int]:
        client = AsyncClient()
        ok = await client.get("/a/create?name=kept&commit=1")
        with pytest.raises(RuntimeError, match="deliberate"):  # the test client re-raises
            await client.get("/a/create?name=lost&fail=1")
        error_status = await client.get("/a/create?name=lost2&status=500")
        return [ok.status_code, error_status.status_code]

    assert run(requests()) == [200, 500]
    assert db.session.scalars(select(Item.name)).all() == ["kept"]
    assert len(SEEN) == 3 and all(not s.in_transaction() for s in SEEN)


def test_commit_on_teardown(settings: Any):
    settings.SESSION_EXT = {**settings.SESSION_EXT, "COMMIT_ON_TEARDOWN": True}
    db.create_all()

    async def requests() -> list[int]:
        client = AsyncClient()
        ok = await client.get("/a/create?name=kept")
        bad = await client.get("/a/create?name=lost&status=400")
        return [ok.status_code, bad.status_code]

    assert run(requests()) == [200, 400]
    assert db.session.scalars(select(Item.name)).all() == ["kept"]


def test_awaitable_helpers_and_binds():
    db.session.add_all([Item(name=n) for n in ("a", "b", "c")])
    db.session.commit()
    db.session.remove()

    async def requests() -> list[Any]:
        client = AsyncClient()
        return [
            await client.get("/a/items/2"),
            await client.get("/a/items/999"),
            await client.get("/a/items/not-a-number"),
            await client.get("/a/first/c"),
            await client.get("/a/first/zzz"),
            await client.get("/a/page?page=2"),
            await client.get("/a/page?page=9"),
            await client.get("/a/audit"),
        ]

    r = run(requests())
    assert r[0].json() == {"name": "b"}
    assert [x.status_code for x in r] == [200, 404, 404, 200, 404, 200, 404, 200]
    assert r[3].json() == {"same": True, "name": "c"}
    assert r[5].json() == {"names": ["c"], "total": 3}
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 1  # the "audit" bind


def test_sync_views_keep_the_sync_session():
    async def request() -> Any:
        return await AsyncClient().get("/sync/count")

    assert run(request()).json() == {"count": 0}
    assert len(async_views.session.registry) == 0


def test_a_cancelled_request_rolls_back_and_returns_its_connection():
    async def main() -> None:
        HELD["event"] = asyncio.Event()
        task = asyncio.create_task(AsyncClient().get("/a/hold"))
        await HELD["event"].wait()
        assert async_views.async_engines.checked_out() == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    assert count_items() == 0


def test_the_example_apps_async_views(settings: Any):
    from example_apps.django_app import settings as example_settings
    from example_apps.django_app.models import Note

    settings.ROOT_URLCONF = example_settings.ROOT_URLCONF
    settings.MIDDLEWARE = example_settings.MIDDLEWARE
    settings.SESSION_EXT = {**settings.SESSION_EXT,
                            "SESSION_OPTIONS": example_settings.SESSION_EXT["SESSION_OPTIONS"]}
    db.create_all()

    async def requests() -> list[Any]:
        client = AsyncClient()
        created = await client.post("/api/async/notes", {"title": "async", "body": "b"},
                                    content_type="application/json")
        return [
            created,
            await client.get(f"/api/async/notes/{created.json()['id']}"),
            await client.get("/api/async/notes?per_page=5"),
            await client.get("/api/async/notes/999"),
            await client.get("/ping"),
        ]

    created, one, listing, missing, ping = run(requests())
    assert created.status_code == 201 and one.json()["title"] == "async"
    assert listing.json()["total"] == 1 and listing.json()["notes"][0]["title"] == "async"
    assert missing.status_code == 404
    assert ping.json() == {"pong": True}
    assert db.session.scalars(select(Note.title)).all() == ["async"]
