"""The WSGI entry point: ``gunicorn example_apps.django_app.wsgi:application``.

Create the tables first (``python -m example_apps.django_app session_ext_create_all``
or one run of ``python -m example_apps.django_app``).
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_apps.django_app.settings")

application = get_wsgi_application()
