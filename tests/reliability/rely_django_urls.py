"""The Django example's URLs plus the reliability suite's test-only views
(see ``rely_flask`` for what each one does)."""

from __future__ import annotations

import json

import rely_stats
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from sqlalchemy import func, select

from example_apps.django_app.models import Note
from session_ext.django import db

UNCOMMITTED = "UNCOMMITTED-"


class DeliberateError(RuntimeError):
    """Raised by the test-only views that must answer 500."""


@csrf_exempt
@require_POST
def flush_then_raise(request: HttpRequest) -> JsonResponse:
    token = json.loads(request.body or b"{}").get("token", "none")
    db.session.add(Note(title=f"{UNCOMMITTED}{token}", body="never committed"))
    db.session.flush()
    raise DeliberateError(f"deliberate failure after a flush ({token})")


@require_GET
def read_then_raise(request: HttpRequest) -> JsonResponse:
    db.session.scalar(select(func.count(Note.id)))
    raise DeliberateError("deliberate failure after a read")


@require_GET
def probe(request: HttpRequest) -> JsonResponse:
    visible = db.session.scalar(
        select(func.count(Note.id)).where(Note.title.startswith(UNCOMMITTED))
    )
    return JsonResponse({"visible": visible})


@require_GET
def stats(request: HttpRequest) -> JsonResponse:
    return JsonResponse(rely_stats.snapshot())


async def async_read_write(request: HttpRequest) -> JsonResponse:
    """Async view (db.async_session): write a row and flush it, then count the
    uncommitted-marker rows this transaction can see. A "clean" request
    commits its row; a "dirty" one writes a marker row and never commits it
    (the middleware's removal rolls it back). ``others`` must always be 0."""
    token = request.GET["token"]
    dirty = request.GET.get("kind") == "dirty"
    session = db.async_session
    session.add(Note(title=(UNCOMMITTED if dirty else "async-") + token, body="async"))
    await session.flush()
    visible = await session.scalar(
        select(func.count(Note.id)).where(Note.title.startswith(UNCOMMITTED))
    )
    if not dirty:
        await session.commit()
    return JsonResponse({"token": token, "others": visible - (1 if dirty else 0)})


urlpatterns = [
    path("_rely/async/read-write", async_read_write),
    path("_rely/flush-then-raise", flush_then_raise),
    path("_rely/raise", read_then_raise),
    path("_rely/probe", probe),
    path("_rely/stats", stats),
    path("", include("example_apps.django_app.urls")),
]
