"""Async views on ``db.async_session`` (the URLconf of test_django_async_views)."""

from __future__ import annotations

import asyncio
from typing import Any

# Imported here, not first inside a request: Django imports its default error
# views when a request fails, and CPython 3.11.7 compiling a module in the
# worker thread of an async request once raised "SystemError: AST constructor
# recursion depth mismatch" (an interpreter bug, not this library's).
import django.views.defaults  # noqa: F401
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django_support import AuditEntry, Item
from sqlalchemy import func, select

from session_ext.django import db

#: async sessions seen by views, in order
SEEN: list[Any] = []
#: set by the "hold" view once its flush is done; the test cancels it then
HELD = {"event": None}


async def create(request: HttpRequest) -> HttpResponse:
    session = db.async_session()
    SEEN.append(session)
    session.add(Item(name=request.GET.get("name", "async")))
    await session.flush()
    if request.GET.get("fail"):
        raise RuntimeError("deliberate")
    if request.GET.get("commit"):
        await session.commit()
    count = await session.scalar(select(func.count(Item.id)))
    return JsonResponse({"count": count}, status=int(request.GET.get("status", 200)))


async def show(request: HttpRequest, pk: int) -> HttpResponse:
    item = await db.aget_object_or_404(Item, pk)
    return JsonResponse({"name": item.name})


async def first(request: HttpRequest, name: str) -> HttpResponse:
    item = await db.afirst_or_404(select(Item).where(Item.name == name))
    one = await db.aone_or_404(select(Item).where(Item.name == name))
    return JsonResponse({"same": item is one, "name": item.name})


async def page(request: HttpRequest) -> HttpResponse:
    result = await db.apaginate(request, select(Item).order_by(Item.id), per_page=2)
    return JsonResponse({"names": [i.name for i in result.items], "total": result.total})


async def audit(request: HttpRequest) -> HttpResponse:
    db.async_session.add(AuditEntry(message="async"))
    await db.async_session.commit()
    return JsonResponse({"ok": True})


async def hold(request: HttpRequest) -> HttpResponse:
    db.async_session.add(Item(name="held"))
    await db.async_session.flush()
    HELD["event"].set()
    await asyncio.Event().wait()  # until the request is cancelled
    raise AssertionError("not reached")


def sync_view(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"count": db.session.scalar(select(func.count(Item.id)))})


urlpatterns = [
    path("a/create", create),
    path("a/items/<int:pk>", show),
    path("a/first/<str:name>", first),
    path("a/page", page),
    path("a/audit", audit),
    path("a/hold", hold),
    path("sync/count", sync_view),
]
