"""Demo data for a fresh database (``flask --app example_apps.flask_app seed``)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from .models import Comment, Post, User, db

_USERS = ("ada", "grace", "linus")
_TOPICS = (
    "Unit of work, explained",
    "Why an identity map",
    "SAVEPOINTs in tests",
    "Pagination without surprises",
    "Binds: one model, another database",
)


def seed_demo_data(posts: int = 23) -> bool:
    """Fill an empty database with users, posts and comments; returns False
    (and writes nothing) if there is already a user."""
    if db.session.scalar(select(func.count(User.id))):
        return False
    users = [User(name=name) for name in _USERS]
    db.session.add_all(users)
    for n in range(1, posts + 1):
        author = users[n % len(users)]
        post = Post(
            title=f"{_TOPICS[n % len(_TOPICS)]} (part {n})",
            body=f"Demo post number {n}, written by {author.name}.",
            author=author,
        )
        for k in range(n % 3):
            post.comments.append(
                Comment(body=f"Comment {k + 1} on post {n}.", author=users[(n + k + 1) % 3])
            )
        db.session.add(post)  # in order, so post ids follow n
    db.session.commit()
    return True


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Add demo users, posts and comments to an empty database."""
    if seed_demo_data():
        click.echo("Demo data added.")
    else:
        click.echo("The database already has users; nothing added.")
