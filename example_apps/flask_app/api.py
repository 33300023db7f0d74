"""The JSON API: ``/api/posts``, ``/api/posts/<id>``, comments and users."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, NotFound

from session_ext import selectinload

from .forms import check_comment, check_post, check_user
from .models import Comment, Post, User, db

api = Blueprint("api", __name__)


@api.errorhandler(HTTPException)
def json_error(error: HTTPException):
    return jsonify(error=error.name, description=error.description), error.code


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _invalid(errors: dict[str, str]):
    return jsonify(error="Bad Request", errors=errors), 400


@api.get("/posts")
def list_posts():
    statement = select(Post).options(selectinload(Post.author)).order_by(Post.id.desc())
    page = db.paginate(statement, max_per_page=50)
    return {
        "items": [post.to_dict() for post in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
        "next": url_for(".list_posts", page=page.next_num, per_page=page.per_page)
        if page.has_next
        else None,
    }


@api.post("/posts")
def create_post():
    values, errors = check_post(_json_body())
    if errors:
        return _invalid(errors)
    post = Post(**values)
    db.session.add(post)
    db.session.commit()
    return post.to_dict(), 201, {"Location": url_for(".get_post", post_id=post.id)}


@api.get("/posts/<int:post_id>")
def get_post(post_id: int):
    post = db.get_or_404(Post, post_id, description=f"There is no post #{post_id}.")
    return post.to_dict(with_comments=True)


@api.delete("/posts/<int:post_id>")
def delete_post(post_id: int):
    post = db.get_or_404(Post, post_id, description=f"There is no post #{post_id}.")
    db.session.delete(post)
    db.session.commit()
    return "", 204


@api.post("/posts/<int:post_id>/comments")
def add_comment(post_id: int):
    post = db.get_or_404(Post, post_id, description=f"There is no post #{post_id}.")
    values, errors = check_comment(_json_body())
    if errors:
        return _invalid(errors)
    comment = Comment(**values)
    post.comments.append(comment)
    db.session.commit()
    return comment.to_dict(), 201


@api.get("/users")
def list_users():
    return {"items": [u.to_dict() for u in User.query.order_by(User.name).all()]}


@api.post("/users")
def create_user():
    values, errors = check_user(_json_body())
    if errors:
        return _invalid(errors)
    user = User(**values)
    db.session.add(user)
    db.session.commit()
    return user.to_dict(), 201


@api.get("/async/posts/<int:post_id>")
async def get_post_async(post_id: int):
    """The same as ``get_post``, as an ``async def`` view on ``db.async_session``
    (the app context's AsyncSession, removed at teardown). Everything
    ``to_dict`` reads is loaded with the query: no lazy load happens outside
    an await."""
    post = await db.async_session.scalar(
        select(Post)
        .where(Post.id == post_id)
        .options(selectinload(Post.author),
                 selectinload(Post.comments).selectinload(Comment.author))
    )
    if post is None:
        return json_error(NotFound(f"There is no post #{post_id}."))
    return post.to_dict(with_comments=True)
