from datetime import UTC, datetime

from flask import url_for
from sqlalchemy import ForeignKey

from flaskr import db
from flaskr.auth.models import User
from session_ext import Mapped, mapped_column, relationship  # was: from sqlalchemy.orm import ...


def now_utc() -> datetime:
    return datetime.now(UTC)


class Post(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created: Mapped[datetime] = mapped_column(default=now_utc)
    title: Mapped[str]
    body: Mapped[str]

    # the author comes with the post, in the same SELECT
    author: Mapped[User] = relationship(lazy="joined", back_populates="posts")

    @property
    def update_url(self) -> str:
        return url_for("blog.update", id=self.id)

    @property
    def delete_url(self) -> str:
        return url_for("blog.delete", id=self.id)
