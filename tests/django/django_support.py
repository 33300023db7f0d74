"""Models, views and URLs of the Django adapter tests (``ROOT_URLCONF``).

Views record the session they used in :data:`SEEN` (the objects themselves,
so ids cannot be reused while a test compares them).
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from sqlalchemy import Column, Integer, String, func, select

from session_ext.django import db

#: sessions seen by views, in order
SEEN: list[Any] = []


class Item(db.Model):  # table "item"
    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)


class AuditEntry(db.Model):  # table "audit_entry", in the "audit" database
    __bind_key__ = "audit"
    id = Column(Integer, primary_key=True)
    message = Column(String(100), nullable=False)


audit_events = db.Table("audit_event", Column("id", Integer, primary_key=True),
                        bind_key="audit")


class Barrier:
    """Holds async views until ``parties`` of them are inside their request."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.arrived = 0
        self.event = asyncio.Event()

    async def wait(self) -> None:
        self.arrived += 1
        if self.arrived >= self.parties:
            self.event.set()
        await self.event.wait()


BARRIER: dict[str, Barrier] = {}


def _outcome(request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
    """What ``?raise=1`` / ``?status=N`` ask for, after the view did its work."""
    if request.GET.get("raise"):
        raise RuntimeError("the view failed on purpose")
    return JsonResponse(data, status=int(request.GET.get("status", 200)))


def create_item(request: HttpRequest) -> HttpResponse:
    """Add an Item (``?name=``) without committing; teardown decides."""
    session = db.session()
    SEEN.append(session)
    item = Item(name=request.GET.get("name", "x"))
    session.add(item)
    session.flush()
    return _outcome(request, {"id": item.id})


def create_and_commit(request: HttpRequest) -> HttpResponse:
    db.session.add(Item(name=request.GET.get("name", "x")))
    db.session.commit()
    return JsonResponse({"count": db.session.scalar(select(func.count()).select_from(Item))})


def session_info(request: HttpRequest) -> HttpResponse:
    session = db.session()
    SEEN.append(session)
    return JsonResponse({"session": id(session), "new": len(session.new),
                         "identity": len(session.identity_map)})


def show_item(request: HttpRequest, pk: int) -> HttpResponse:
    item = db.get_object_or_404(Item, pk)
    return JsonResponse({"id": item.id, "name": item.name})


def query_item(request: HttpRequest, pk: int) -> HttpResponse:
    item = Item.query.get_or_404(pk)
    return JsonResponse({"id": item.id, "name": item.name})


def first_item(request: HttpRequest, name: str) -> HttpResponse:
    item = db.first_or_404(select(Item).where(Item.name == name))
    return JsonResponse({"id": item.id})


def list_items(request: HttpRequest) -> HttpResponse:
    page = db.paginate(request, select(Item).order_by(Item.id))
    return JsonResponse({"ids": [i.id for i in page.items], "page": page.page,
                         "per_page": page.per_page, "total": page.total, "pages": page.pages})


def list_items_query(request: HttpRequest) -> HttpResponse:
    page = Item.query.order_by(Item.id).paginate(request, error_out=False)
    return JsonResponse({"ids": [i.id for i in page.items], "page": page.page,
                         "per_page": page.per_page})


def create_audit(request: HttpRequest) -> HttpResponse:
    db.session.add(AuditEntry(message=request.GET.get("message", "m")))
    db.session.commit()
    return JsonResponse({"ok": True})


async def async_create_item(request: HttpRequest) -> HttpResponse:
    session = db.session()
    SEEN.append(session)
    session.add(Item(name=request.GET.get("name", "async")))
    session.flush()
    return _outcome(request, {"session": id(session)})


async def async_barrier(request: HttpRequest) -> HttpResponse:
    """Take the request's session, wait until every other request has taken
    one too, then check that the session is still this request's."""
    session = db.session()
    SEEN.append(session)
    session.get(Item, 1)
    session.commit()  # give the connection back before waiting (the pool is small)
    await BARRIER[request.GET["barrier"]].wait()
    return JsonResponse({"same": db.session() is session, "session": id(session)})


urlpatterns = [
    path("items/create", create_item),
    path("items/commit", create_and_commit),
    path("items/", list_items),
    path("items/query", list_items_query),
    path("items/<int:pk>", show_item),
    path("items/<int:pk>/query", query_item),
    path("items/first/<str:name>", first_item),
    path("session", session_info),
    path("audit/create", create_audit),
    path("async/items/create", async_create_item),
    path("async/barrier", async_barrier),
]
