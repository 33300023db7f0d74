"""The Flask example app with the reliability suite's test-only routes.

``rely_flask:app`` is what gunicorn serves.  The example app itself is not
changed: this module builds it with ``create_app()`` and registers one more
blueprint under ``/_rely``:

* ``POST /_rely/flush-then-raise`` adds a post titled ``UNCOMMITTED-<token>``,
  flushes it (the row is in the database, inside the request's transaction)
  and raises: a deliberate 500 whose row must never be seen by anyone;
* ``GET /_rely/raise`` reads, then raises (a deliberate 500);
* ``GET /_rely/probe`` counts the ``UNCOMMITTED-`` posts this request can see
  (must always be 0);
* ``GET /_rely/stats`` the process's scoped registry size and checked-out
  connections.

The database comes from ``SESSION_EXT_DATABASE_URI`` (the example's own
variable); ``RELY_SEED=1`` adds the demo data (the suite does that once,
before starting the server, so that workers never race to seed).
"""

from __future__ import annotations

import os
from typing import Any

import rely_stats
from flask import Blueprint, Flask, request
from rely_logging import NotDeliberate
from sqlalchemy import func, select

from example_apps.flask_app import create_app
from example_apps.flask_app.models import Post, User, db
from session_ext.flask.state import EXTENSION_KEY

UNCOMMITTED = "UNCOMMITTED-"

rely = Blueprint("rely", __name__)


class DeliberateError(RuntimeError):
    """Raised by the test-only views that must answer 500."""


@rely.post("/flush-then-raise")
def flush_then_raise():
    token = (request.get_json(silent=True) or {}).get("token", "none")
    author = db.session.scalar(select(User).order_by(User.id).limit(1))
    db.session.add(Post(title=f"{UNCOMMITTED}{token}", body="never committed", author=author))
    db.session.flush()
    raise DeliberateError(f"deliberate failure after a flush ({token})")


@rely.get("/raise")
def read_then_raise():
    db.session.scalar(select(func.count(Post.id)))
    raise DeliberateError("deliberate failure after a read")


@rely.get("/probe")
def probe():
    visible = db.session.scalar(
        select(func.count(Post.id)).where(Post.title.startswith(UNCOMMITTED))
    )
    return {"visible": visible}


@rely.get("/stats")
def stats():
    return rely_stats.snapshot()


def build() -> Flask:
    flask_app = create_app({"SEED_DEMO_DATA": os.environ.get("RELY_SEED") == "1"})
    flask_app.register_blueprint(rely, url_prefix="/_rely")
    flask_app.logger.addFilter(NotDeliberate())
    return flask_app


app = build()


def _figures() -> dict[str, Any]:
    state = app.extensions[EXTENSION_KEY]
    return {
        "sessions": len(db.session.registry),
        "checked_out": sum(e.pool.checkedout() for e in state.engines.values()),
    }


rely_stats.register(_figures)
