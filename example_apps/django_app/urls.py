"""URLs of the example project."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.note_list, name="note-list"),
    path("notes/<int:pk>", views.note_detail, name="note-detail"),
    path("notes/<int:pk>/delete", views.note_delete, name="note-delete"),
    path("api/notes", views.api_notes, name="api-notes"),
    path("api/notes/<int:pk>", views.api_note, name="api-note"),
    path("api/async/notes", views.api_notes_async, name="api-notes-async"),
    path("api/async/notes/<int:pk>", views.api_note_async, name="api-note-async"),
    path("ping", views.ping, name="ping"),
]
