"""Pages (a paginated list with a form, a note, delete) and a JSON API."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from sqlalchemy import select

from session_ext.django import db

from .forms import check_note
from .models import Note


def _newest_first() -> object:
    return select(Note).order_by(Note.id.desc())


@require_http_methods(["GET", "POST"])
def note_list(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = check_note(request.POST)
        if not errors:
            note = Note(**values)
            db.session.add(note)
            db.session.commit()
            return redirect("note-detail", pk=note.id)
    page = db.paginate(request, _newest_first(), per_page=settings.NOTES_PER_PAGE)
    status = 400 if errors else 200
    return render(request, "notes/list.html",
                  {"page": page, "errors": errors, "form": request.POST}, status=status)


def note_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "notes/detail.html", {"note": db.get_object_or_404(Note, pk)})


@require_POST
def note_delete(request: HttpRequest, pk: int) -> HttpResponse:
    db.session.delete(db.get_object_or_404(Note, pk))
    db.session.commit()
    return redirect("note-list")


# A JSON client (curl, fetch() from another origin, a script) has no CSRF
# cookie: the API answers it.  The app has no login, so there is no ambient
# credential a forged cross-site request could borrow; an app that adds
# cookie-based login must protect this view again (a token, or CSRF).
@csrf_exempt
@require_http_methods(["GET", "POST"])
def api_notes(request: HttpRequest) -> JsonResponse:
    if request.method == "POST":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return JsonResponse({"errors": {"body": "Send a JSON object."}}, status=400)
        values, errors = check_note(data if isinstance(data, dict) else {})
        if errors:
            return JsonResponse({"errors": errors}, status=400)
        note = Note(**values)
        db.session.add(note)
        db.session.commit()
        return JsonResponse(note.to_dict(), status=201)
    page = db.paginate(request, _newest_first())
    return JsonResponse({"notes": [n.to_dict() for n in page.items], "page": page.page,
                         "pages": page.pages, "total": page.total})


def api_note(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(db.get_object_or_404(Note, pk).to_dict())


# Async views (served under ASGI: `uvicorn example_apps.django_app.asgi:application`)
# use db.async_session, which the middleware removes at the end of each request;
# they never block the event loop. Sync views above keep db.session.
@csrf_exempt
@require_http_methods(["GET", "POST"])
async def api_notes_async(request: HttpRequest) -> JsonResponse:
    if request.method == "POST":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return JsonResponse({"errors": {"body": "Send a JSON object."}}, status=400)
        values, errors = check_note(data if isinstance(data, dict) else {})
        if errors:
            return JsonResponse({"errors": errors}, status=400)
        note = Note(**values)
        db.async_session.add(note)
        await db.async_session.commit()  # expire_on_commit=False: to_dict() needs no SQL
        return JsonResponse(note.to_dict(), status=201)
    page = await db.apaginate(request, _newest_first())
    return JsonResponse({"notes": [n.to_dict() for n in page.items], "page": page.page,
                         "pages": page.pages, "total": page.total})


async def api_note_async(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse((await db.aget_object_or_404(Note, pk)).to_dict())


async def ping(request: HttpRequest) -> JsonResponse:
    """No database: how fast the server answers while other requests wait on theirs."""
    return JsonResponse({"pong": True})
