"""Models, views and helpers shared by the Flask adapter tests.

``db`` is one module-level ``SessionExt`` (as in a real project); every test
app made by the ``make_app`` fixture registers it and the ``views``
blueprint.  ``AuditLog`` lives in the ``audit`` bind, which ``make_app``
always points at a SQLite file of its own, so bind routing is visible even
when the default database is PostgreSQL.
"""

from __future__ import annotations

import pytest
from flask import Blueprint, current_app, request
from sqlalchemy import Column, ForeignKey, Integer, String, func, select

from session_ext import relationship
from session_ext.flask import SessionExt

#: run a test on a file SQLite database and on PostgreSQL
on_databases = pytest.mark.parametrize("backend", ["sqlite_file", "postgresql"], indirect=True)

db = SessionExt()


class User(db.Model):
    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False, unique=True)
    posts = relationship("BlogPost", back_populates="author", order_by="BlogPost.id")


class BlogPost(db.Model):
    id = Column(Integer, primary_key=True)
    title = Column(String(100), nullable=False)
    author_id = Column(Integer, ForeignKey("user.id"), nullable=False)
    author = relationship("User", back_populates="posts")


class AuditLog(db.Model):
    __bind_key__ = "audit"
    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True)
    message = Column(String(200), nullable=False)


views = Blueprint("views", __name__)


def seen_sessions() -> list:
    """Sessions the views used, in request order (per app)."""
    return current_app.extensions["test_seen_sessions"]


@views.get("/session")
def session_view():
    session = db.session()
    seen_sessions().append(session)
    return {"hash_key": session.hash_key, "users": session.scalar(select(func.count(User.id)))}


@views.post("/users")
def create_user():
    user = User(name=request.form["name"])
    db.session.add(user)
    db.session.commit()
    return {"id": user.id}, 201


@views.post("/users/uncommitted")
def create_user_uncommitted():
    session = db.session()
    seen_sessions().append(session)
    session.add(User(name=request.form["name"]))
    session.flush()  # written in the request's transaction, never committed
    return {"flushed": True}


@views.post("/users/then-fail")
def create_user_then_fail():
    session = db.session()
    seen_sessions().append(session)
    session.add(User(name=request.form["name"]))
    session.flush()
    raise RuntimeError("view failed after a flush")


@views.get("/users/<int:user_id>")
def get_user(user_id: int):
    user = db.get_or_404(User, user_id, description=f"No user {user_id}.")
    return {"id": user.id, "name": user.name}


@views.get("/users")
def list_users():
    page = db.paginate(select(User).order_by(User.id))
    return {
        "names": [u.name for u in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }


@views.get("/users/query")
def list_users_query():
    page = User.query.order_by(User.id).paginate()
    return {"names": [u.name for u in page.items], "page": page.page,
            "per_page": page.per_page, "total": page.total}


@views.get("/audit")
def audit_view():
    db.session.add(AuditLog(message=request.args.get("m", "viewed")))
    db.session.commit()
    return {"count": db.session.scalar(select(func.count(AuditLog.id)))}
