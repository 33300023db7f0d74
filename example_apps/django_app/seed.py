"""Demo notes for a first start, so the list has pages to show."""

from __future__ import annotations

from sqlalchemy import func, select

from session_ext.django import db

from .models import Note


def seed(count: int = 25) -> int:
    """Add ``count`` notes when there are none; returns how many were added."""
    with db.scope():
        if db.session.scalar(select(func.count()).select_from(Note)):
            return 0
        db.session.add_all(
            Note(title=f"Note {i}", body=f"The body of demo note {i}.") for i in range(1, count + 1)
        )
        db.session.commit()
    return count
