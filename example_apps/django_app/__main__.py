"""``python -m example_apps.django_app [command ...]``.

Without arguments: create the tables, add demo notes on a first start and
serve on http://$HOST:$PORT/ (127.0.0.1:8000 by default) with Django's
threaded development server.  With arguments: run that management command
(``check``, ``session_ext_check``, ``shell``, ...), as ``manage.py`` would.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_apps.django_app.settings")
    from django.conf import settings

    os.makedirs(settings.INSTANCE_DIR, exist_ok=True)
    if argv:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["python -m example_apps.django_app", *argv])
        return 0
    return serve(os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8000")))


def serve(host: str, port: int) -> int:
    import django
    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    django.setup()
    call_command("check")  # fails loudly on a bad SESSION_EXT
    from session_ext.django import db

    from .seed import seed

    db.create_all()
    added = seed()
    server = ThreadedWSGIServer((host, port), WSGIRequestHandler)
    server.set_app(get_wsgi_application())
    url = db.engine.url.render_as_string(hide_password=True)
    print(f" * session_ext Django example: http://{host}:{server.server_port}/  "
          f"(database: {url}{f', {added} demo notes added' if added else ''})",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
