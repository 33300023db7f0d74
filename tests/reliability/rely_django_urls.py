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


urlpatterns = [
    path("_rely/flush-then-raise", flush_then_raise),
    path("_rely/raise", read_then_raise),
    path("_rely/probe", probe),
    path("_rely/stats", stats),
    path("", include("example_apps.django_app.urls")),
]
