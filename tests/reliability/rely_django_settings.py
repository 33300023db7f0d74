"""The Django example's settings, with the reliability suite's URLs on top."""

from __future__ import annotations

from example_apps.django_app.settings import *  # noqa: F403

ROOT_URLCONF = "rely_django_urls"
