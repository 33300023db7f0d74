"""``no_auto_commit``: a view whose request is never committed at teardown."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.test import AsyncClient, Client
from django.urls import path
from django.utils.decorators import method_decorator
from django.views import View
from django_support import Item
from sqlalchemy import select

from session_ext.django import db, no_auto_commit


@no_auto_commit
def dry_run(request: HttpRequest) -> HttpResponse:
    db.session.add(Item(name=request.GET["name"]))
    db.session.flush()
    return HttpResponse(b"flushed")


@no_auto_commit
async def async_dry_run(request: HttpRequest) -> HttpResponse:
    db.async_session.add(Item(name=request.GET["name"]))
    await db.async_session.flush()
    return HttpResponse(b"flushed")


@no_auto_commit
async def async_dry_run_sync_session(request: HttpRequest) -> HttpResponse:
    db.session.add(Item(name=request.GET["name"]))
    db.session.flush()
    return HttpResponse(b"flushed")


@no_auto_commit
def dry_run_stream(request: HttpRequest) -> StreamingHttpResponse:
    db.session.add(Item(name=request.GET["name"]))
    db.session.flush()
    return StreamingHttpResponse(iter([b"a", b"b"]))


@no_auto_commit
def explicit_commit(request: HttpRequest) -> HttpResponse:
    db.session.add(Item(name=request.GET["name"]))
    db.session.commit()  # an explicit commit still commits
    return HttpResponse(b"committed")


@method_decorator(no_auto_commit, name="dispatch")
class DryRunView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        db.session.add(Item(name=request.GET["name"]))
        return HttpResponse(b"flushed")


def plain(request: HttpRequest) -> HttpResponse:
    db.session.add(Item(name=request.GET["name"]))
    return HttpResponse(b"ok")


urlpatterns = [
    path("dry", dry_run),
    path("adry", async_dry_run),
    path("adry-sync", async_dry_run_sync_session),
    path("dry-stream", dry_run_stream),
    path("explicit", explicit_commit),
    path("cbv", DryRunView.as_view()),
    path("plain", plain),
]


@pytest.fixture(autouse=True)
def _setup(settings: Any, configure: Any) -> Iterator[None]:
    settings.ROOT_URLCONF = __name__
    configure(COMMIT_ON_TEARDOWN=True)
    yield


def committed() -> list[str]:
    with db.engine.connect() as conn:
        return [row[0] for row in conn.execute(select(Item.name).order_by(Item.id))]


@pytest.mark.parametrize("url", ["/dry", "/cbv"])
def test_sync_view_is_rolled_back_and_others_still_commit(url):
    client = Client()
    assert client.get(f"{url}?name=dry").status_code == 200
    assert client.get("/plain?name=kept").status_code == 200
    assert committed() == ["kept"]
    assert len(db.session.registry) == 0


@pytest.mark.parametrize("url", ["/adry", "/adry-sync", "/dry"])
def test_async_and_asgi_views_are_rolled_back(url):
    async def run() -> list[int]:
        client = AsyncClient()
        return [(await client.get(f"{url}?name=dry")).status_code,
                (await client.get("/plain?name=kept")).status_code]

    assert asyncio.run(run()) == [200, 200]
    assert committed() == ["kept"]
    assert len(db.session.registry) == 0 and len(db.async_session.registry) == 0


def test_streaming_view_is_rolled_back_after_its_body():
    response = Client().get("/dry-stream?name=dry")
    assert b"".join(response.streaming_content) == b"ab"
    assert committed() == []
    assert len(db.session.registry) == 0


def test_explicit_commit_in_a_no_auto_commit_view_commits():
    assert Client().get("/explicit?name=explicit").status_code == 200
    assert committed() == ["explicit"]


def test_the_decorator_keeps_the_views_name_and_async_nature():
    from asgiref.sync import iscoroutinefunction

    assert dry_run.__name__ == "dry_run" and not iscoroutinefunction(dry_run)
    assert iscoroutinefunction(async_dry_run)
