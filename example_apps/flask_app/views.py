"""HTML pages: the paginated post list, a post with its comments, forms."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import func, select

from session_ext import selectinload

from .forms import check_comment, check_post, check_user
from .models import Comment, Post, User, db

pages = Blueprint("pages", __name__)


def _users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.name)))


@pages.get("/")
def index():
    return redirect(url_for("pages.list_posts"))


@pages.get("/posts")
def list_posts():
    statement = (
        select(Post)
        .options(selectinload(Post.author), selectinload(Post.comments))
        .order_by(Post.id.desc())
    )
    page = db.paginate(statement, per_page=_per_page(), max_per_page=50)
    return render_template("posts.html", page=page)


def _per_page() -> int:
    raw = request.args.get("per_page", "")
    if raw.isascii() and raw.isdigit() and int(raw) > 0:  # "²".isdigit() is True too
        return int(raw)
    return int(current_app.config["POSTS_PER_PAGE"])


@pages.route("/posts/new", methods=["GET", "POST"])
def new_post():
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        values, errors = check_post(form)
        if not errors:
            post = Post(**values)
            db.session.add(post)
            db.session.commit()
            flash(f"Post “{post.title}” published.")
            return redirect(url_for("pages.show_post", post_id=post.id))
    status = 400 if errors else 200
    return render_template("new_post.html", users=_users(), form=form, errors=errors), status


@pages.get("/posts/<int:post_id>")
def show_post(post_id: int):
    post = db.get_or_404(Post, post_id, description=f"There is no post #{post_id}.")
    return render_template("post.html", post=post, users=_users(), form={}, errors={})


@pages.post("/posts/<int:post_id>/comments")
def add_comment(post_id: int):
    post = db.get_or_404(Post, post_id, description=f"There is no post #{post_id}.")
    values, errors = check_comment(request.form)
    if errors:
        return (
            render_template("post.html", post=post, users=_users(), form=request.form,
                            errors=errors),
            400,
        )
    post.comments.append(Comment(**values))
    db.session.commit()
    flash("Comment added.")
    return redirect(url_for("pages.show_post", post_id=post.id) + "#comments")


@pages.post("/posts/<int:post_id>/delete")
def delete_post(post_id: int):
    post = db.get_or_404(Post, post_id)
    db.session.delete(post)  # its comments go with it (cascade)
    db.session.commit()
    flash(f"Post “{post.title}” deleted.")
    return redirect(url_for("pages.list_posts"))


@pages.route("/users", methods=["GET", "POST"])
def users():
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = check_user(request.form)
        if not errors:
            db.session.add(User(**values))
            db.session.commit()
            flash(f"Welcome, {values['name']}!")
            return redirect(url_for("pages.users"))
    counts = dict(
        db.session.execute(select(Post.author_id, func.count(Post.id)).group_by(Post.author_id))
        .tuples()
        .all()
    )
    return (
        render_template("users.html", users=_users(), counts=counts, form=request.form,
                        errors=errors),
        400 if errors else 200,
    )
