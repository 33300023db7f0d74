"""The example's models: users write posts, posts have comments."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text

from session_ext import relationship
from session_ext.flask import SessionExt

# Objects stay readable after commit(): a view that serialises what it just
# saved must not go back to the database (and fail) after the write is safe.
db = SessionExt(session_options={"expire_on_commit": False})


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class User(db.Model):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    name = Column(String(40), nullable=False, unique=True)
    created_at = Column(DateTime, nullable=False, default=_now)

    posts = relationship("Post", back_populates="author", order_by="Post.id")

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "created_at": self.created_at.isoformat()}


class Post(db.Model):
    __tablename__ = "posts"

    id = Column(Integer, primary_key=True)
    title = Column(String(120), nullable=False)
    body = Column(Text, nullable=False)
    author_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=_now)

    author = relationship("User", back_populates="posts")
    comments = relationship(
        "Comment", back_populates="post", cascade="all, delete-orphan", order_by="Comment.id"
    )

    def to_dict(self, *, with_comments: bool = False) -> dict:
        data = {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "author": {"id": self.author.id, "name": self.author.name},
            "created_at": self.created_at.isoformat(),
        }
        if with_comments:
            data["comments"] = [c.to_dict() for c in self.comments]
        return data


class Comment(db.Model):
    __tablename__ = "comments"

    id = Column(Integer, primary_key=True)
    post_id = Column(Integer, ForeignKey("posts.id"), nullable=False, index=True)
    author_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    body = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=_now)

    post = relationship("Post", back_populates="comments")
    author = relationship("User")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "body": self.body,
            "author": {"id": self.author.id, "name": self.author.name},
            "created_at": self.created_at.isoformat(),
        }
