"""The ASGI entry point: ``uvicorn example_apps.django_app.asgi:application``.

Create the tables first (``python -m example_apps.django_app session_ext_create_all``
or one run of ``python -m example_apps.django_app``).
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_apps.django_app.settings")

application = get_asgi_application()
