"""The notes app (its ``models`` module is imported when Django starts)."""

from __future__ import annotations

from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "example_apps.django_app"
    label = "notes"
    verbose_name = "session_ext notes example"
