"""Django adapter: ``db.session`` per request, ``db.Model``, ``Model.query``.

::

    # settings.py
    INSTALLED_APPS = [..., "session_ext.django"]
    MIDDLEWARE = ["session_ext.django.middleware.SessionExtMiddleware", ...]
    SESSION_EXT = {"DATABASES": {"default": "sqlite:///app.sqlite3"}}   # optional

    # models.py
    from session_ext.django import db

    class Note(db.Model):                       # table "note"
        id = Column(Integer, primary_key=True)
        text = Column(String(200))

    # views.py
    def note(request, pk):
        return JsonResponse({"text": db.get_object_or_404(Note, pk).text})

See ``docs/django.md``.  The names below are imported on first use (PEP 562),
so ``import session_ext.django`` itself does not import Django.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ..pagination import Pagination
    from ..scoping import scope
    from .conf import ALL_BINDS
    from .decorators import no_auto_commit
    from .django_models import DjangoModels, mapped
    from .facade import Database, db
    from .middleware import SessionExtMiddleware
    from .model import Model
    from .pagination import paginate
    from .query import Query
    from .shortcuts import first_or_404, get_object_or_404, one_or_404
    from .state import Registry, Session, registry

_EXPORTS = {
    "ALL_BINDS": ".conf",
    "Database": ".facade",
    "DjangoModels": ".django_models",
    "Model": ".model",
    "Pagination": "..pagination",
    "Query": ".query",
    "Registry": ".state",
    "Session": ".state",
    "SessionExtMiddleware": ".middleware",
    "db": ".facade",
    "first_or_404": ".shortcuts",
    "get_object_or_404": ".shortcuts",
    "mapped": ".django_models",
    "no_auto_commit": ".decorators",
    "one_or_404": ".shortcuts",
    "paginate": ".pagination",
    "registry": ".state",
    "scope": "..scoping",
}

__all__ = [
    "ALL_BINDS",
    "Database",
    "DjangoModels",
    "Model",
    "Pagination",
    "Query",
    "Registry",
    "Session",
    "SessionExtMiddleware",
    "db",
    "first_or_404",
    "get_object_or_404",
    "mapped",
    "no_auto_commit",
    "one_or_404",
    "paginate",
    "registry",
    "scope",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
