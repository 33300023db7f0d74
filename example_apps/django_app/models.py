"""The example's one model: a note."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Integer, String, Text

from session_ext.django import db


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Note(db.Model):  # table "note"
    id = Column(Integer, primary_key=True)
    title = Column(String(120), nullable=False)
    body = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False, default=_now)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "body": self.body,
                "created_at": self.created_at.isoformat()}
