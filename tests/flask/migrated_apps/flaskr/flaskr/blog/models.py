from datetime import UTC, datetime

from flask import url_for

from flaskr import db
from flaskr.auth.models import User


def now_utc() -> datetime:
    return datetime.now(UTC)


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    author_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    created = db.Column(db.DateTime, nullable=False, default=now_utc)
    title = db.Column(db.String, nullable=False)
    body = db.Column(db.String, nullable=False)

    # the author comes with the post, in the same SELECT
    author = db.relationship(User, lazy="joined", back_populates="posts")

    @property
    def update_url(self) -> str:
        return url_for("blog.update", id=self.id)

    @property
    def delete_url(self) -> str:
        return url_for("blog.delete", id=self.id)
