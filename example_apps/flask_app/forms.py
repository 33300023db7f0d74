"""Input checks shared by the HTML forms and the JSON API.

Each ``check_*`` function takes the submitted mapping and returns
``(values, errors)``: clean values to store, and a message per invalid field.
Nothing is written unless ``errors`` is empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from .models import User, db

TITLE_MAX = 120
BODY_MAX = 5000
NAME_MAX = 40


def _text(data: Mapping[str, Any], field: str) -> str:
    value = data.get(field)
    return value.strip() if isinstance(value, str) else ""


def _author(data: Mapping[str, Any], errors: dict[str, str]) -> User | None:
    raw = data.get("author_id")
    try:
        author_id = int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        errors["author_id"] = "Choose an author."
        return None
    author = db.session.get(User, author_id)
    if author is None:
        errors["author_id"] = f"There is no user #{author_id}."
    return author


def check_post(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    title, body = _text(data, "title"), _text(data, "body")
    if not title:
        errors["title"] = "Title is required."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Title must be at most {TITLE_MAX} characters."
    if not body:
        errors["body"] = "Body is required."
    elif len(body) > BODY_MAX:
        errors["body"] = f"Body must be at most {BODY_MAX} characters."
    author = _author(data, errors)
    return {"title": title, "body": body, "author": author}, errors


def check_comment(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    body = _text(data, "body")
    if not body:
        errors["body"] = "Comment text is required."
    elif len(body) > BODY_MAX:
        errors["body"] = f"Comments must be at most {BODY_MAX} characters."
    author = _author(data, errors)
    return {"body": body, "author": author}, errors


def check_user(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    name = _text(data, "name")
    if not name:
        errors["name"] = "Name is required."
    elif len(name) > NAME_MAX:
        errors["name"] = f"Name must be at most {NAME_MAX} characters."
    elif db.session.scalar(select(User.id).where(User.name == name)) is not None:
        errors["name"] = f"The name {name!r} is taken."
    return {"name": name}, errors

