"""The Django example's settings, with the reliability suite's URLs on top."""

from __future__ import annotations

from example_apps.django_app.settings import *  # noqa: F403

ROOT_URLCONF = "rely_django_urls"

# DEBUG is off: Django would log a view's exception nowhere visible; the
# server log gets the unexpected ones (the deliberate 500s are filtered out)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"not_deliberate": {"()": "rely_logging.NotDeliberate"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "filters": ["not_deliberate"],
        }
    },
    "loggers": {
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        "session_ext": {"handlers": ["stderr"], "level": "WARNING"},
    },
}
