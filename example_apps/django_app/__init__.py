"""A small Django notes app on session_ext (embedded SQLite).

``python -m example_apps.django_app`` serves it on http://127.0.0.1:$PORT/
(PORT defaults to 8000); ``python -m example_apps.django_app <command>`` runs
a management command, as ``manage.py`` would.  Its models are session_ext
models (``db.Model``); Django's own ORM is not used.
"""
