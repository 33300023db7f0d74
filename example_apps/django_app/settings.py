"""Settings of the example project.

The session_ext database is Django's ``DATABASES["default"]`` (no
``SESSION_EXT["DATABASES"]``): a SQLite file in ``instance/``.  Set
``SESSION_EXT_DATABASE_URL`` to use another database, e.g.
``postgresql+psycopg://user:pass@localhost/notes``.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
INSTANCE_DIR = BASE_DIR / "instance"

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "session_ext-example-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "session_ext.django",
    "example_apps.django_app",
]

MIDDLEWARE = [
    "session_ext.django.middleware.SessionExtMiddleware",  # first: everything below has it
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_apps.django_app.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": INSTANCE_DIR / "django_app.sqlite3",
    }
}

SESSION_EXT: dict[str, object] = {
    "SESSION_OPTIONS": {"expire_on_commit": False},
}
if os.environ.get("SESSION_EXT_DATABASE_URL"):
    SESSION_EXT["DATABASES"] = {"default": os.environ["SESSION_EXT_DATABASE_URL"]}
    # a server may restart between requests: test pooled connections first
    SESSION_EXT["ENGINE_OPTIONS"] = {"pool_pre_ping": True}

NOTES_PER_PAGE = 10
USE_TZ = True
TIME_ZONE = "UTC"
