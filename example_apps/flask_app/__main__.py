"""``python -m example_apps.flask_app``: what ``./dev run`` starts.

Serves the example on http://127.0.0.1:$PORT/ (PORT defaults to 5000) with
Flask's development server, threaded.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import create_app, db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example_apps.flask_app",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--debug", action="store_true", help="Flask debug mode and reloader")
    args = parser.parse_args(argv)

    app = create_app()
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=True)
    print(f" * session_ext example: http://{args.host}:{args.port}/  (database: {url})",
          file=sys.stderr, flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug, threaded=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
