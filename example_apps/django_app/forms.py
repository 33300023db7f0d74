"""Checking what a client sent for a note (HTML form or JSON alike)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TITLE_MAX = 120
BODY_MAX = 5000


def check_note(data: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """``(values, errors)``: cleaned values, and a message per bad field."""
    title = data.get("title")
    body = data.get("body", "")
    errors: dict[str, str] = {}
    if not isinstance(title, str) or not title.strip():
        errors["title"] = "A title is required."
    elif len(title.strip()) > TITLE_MAX:
        errors["title"] = f"At most {TITLE_MAX} characters."
    if not isinstance(body, str):
        errors["body"] = "The body must be text."
    elif len(body) > BODY_MAX:
        errors["body"] = f"At most {BODY_MAX} characters."
    if errors:
        return {}, errors
    return {"title": title.strip(), "body": body.strip()}, errors
