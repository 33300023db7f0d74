"""The Django example app as the reliability suite serves it.

* ``rely_django:application``: WSGI (gunicorn), the example's ``wsgi.py``;
* ``rely_django:asgi_application``: ASGI (uvicorn), the example's ``asgi.py``
  behind a small wrapper that answers the lifespan protocol (Django does
  not) so that the process reports its figures at shutdown.

Settings: ``rely_django_settings`` (the example's, plus the test-only URLs of
``rely_django_urls``); the database from ``SESSION_EXT_DATABASE_URL``.
``python rely_django.py setup`` creates the tables and the demo notes.
"""

from __future__ import annotations

import os
import sys
from typing import Any

os.environ["DJANGO_SETTINGS_MODULE"] = "rely_django_settings"

import rely_stats  # noqa: E402

from example_apps.django_app.asgi import application as _django_asgi  # noqa: E402
from example_apps.django_app.wsgi import application  # noqa: E402
from session_ext.django import registry  # noqa: E402


def _figures() -> dict[str, Any]:
    from session_ext.django import asyncio as async_views

    return {
        "sessions": len(registry.session.registry) + len(async_views.session.registry),
        "checked_out": sum(e.pool.checkedout() for e in registry.engines.values())
        + async_views.async_engines.checked_out(),
    }


rely_stats.register(_figures)


async def asgi_application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "lifespan":
        await _django_asgi(scope, receive, send)
        return
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            rely_stats.dump()
            await send({"type": "lifespan.shutdown.complete"})
            return


def setup_database() -> None:
    from example_apps.django_app.seed import seed
    from session_ext.django import db

    db.create_all()
    seed()
    registry.dispose()


__all__ = ["application", "asgi_application"]

if __name__ == "__main__" and sys.argv[1:] == ["setup"]:
    setup_database()
