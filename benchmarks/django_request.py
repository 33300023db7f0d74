"""Workload 6 (Django): one request doing one primary-key get, through Django's
WSGI handler called directly, for the session_ext middleware and its peers on
the same SQLite file.

Django's settings can be configured once per process: the first call
configures a minimal project (no installed apps, no middleware) unless the
process already has settings, and every call after that reuses them.  Each
call points session_ext at its own file through ``registry.configure()`` and
gives the Django ORM a database alias of its own, so calls never share state.
"""

from __future__ import annotations

import io
import itertools
import sqlite3
import statistics
import sys
from typing import Any

from django.http import JsonResponse
from django.urls import path
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

from .harness import Case, Workload, format_workload

BARE = "bare Django view (no database)"
RAW = "raw sqlite3 view"
SESSION_EXT = "session_ext middleware + db.session.get"
ORM = "Django ORM objects.get (CONN_MAX_AGE=0)"
ORM_PERSISTENT = "Django ORM objects.get (persistent conn)"

_aliases = itertools.count(1)
#: what the views of the current workload use (set by django_workload)
_state: dict[str, Any] = {}
_models: dict[str, Any] = {}


def django_workload(db_path: str, n: int) -> Workload:
    uri = f"sqlite:///{db_path}"
    engine = create_engine(uri)
    md = MetaData()
    table = Table("bench_req", md, Column("id", Integer, primary_key=True),
                  Column("name", String(50)))
    md.drop_all(engine)
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"id": i, "name": f"n{i}"} for i in range(1, 101)])
    engine.dispose()

    _configure_django()
    from session_ext.django import registry

    problems = registry.configure({"DATABASES": {"default": uri}})
    assert not problems, problems
    se_item, orm_item = _model_classes()
    _state.update(db_path=db_path, se_item=se_item, orm_item=orm_item,
                  orm_alias=_django_alias(db_path, conn_max_age=0),
                  persistent_alias=_django_alias(db_path, conn_max_age=None))

    plain = _handler([])
    with_session = _handler(["session_ext.django.middleware.SessionExtMiddleware"])
    cases = [
        Case(BARE, _runner(plain, "bare", n)),
        Case(RAW, _runner(plain, "raw", n)),
        Case(SESSION_EXT, _runner(with_session, "se", n)),
        Case(ORM, _runner(plain, "orm", n)),
        Case(ORM_PERSISTENT, _runner(plain, "orm-persistent", n)),
    ]
    return Workload(f"{n:,} requests, one PK get each [django, sqlite]", n, cases,
                    baseline=RAW)


def format_django_workload(workload: Workload) -> str:
    """The harness table, then each case's cost per request above the bare
    view (the database part), as a ratio of the raw sqlite3 view's."""
    per_request = {
        name: statistics.median(times) / workload.units * 1e6
        for name, times in workload.times.items()
    }
    raw = per_request[RAW] - per_request[BARE]
    lines = [format_workload(workload), "  per-request cost above the bare view:"]
    for name in (RAW, SESSION_EXT, ORM, ORM_PERSISTENT):
        extra = per_request[name] - per_request[BARE]
        ratio = extra / raw if raw > 0 else float("nan")
        lines.append(f"    {name:<42} {extra:>8.2f}µs {ratio:>8.2f}x raw sqlite3")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- set-up
def _configure_django() -> None:
    import django
    from django.apps import apps
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="session_ext benchmarks",
            ALLOWED_HOSTS=["*"],
            INSTALLED_APPS=[],
            MIDDLEWARE=[],
            ROOT_URLCONF=__name__,
            DATABASES={},
            USE_TZ=True,
        )
    if not apps.ready:
        django.setup()


def _django_alias(db_path: str, conn_max_age: int | None) -> str:
    """A Django database alias for ``db_path``, added at run time (DATABASES
    cannot change once Django has started)."""
    from django.db import connections

    alias = f"session_ext_bench_{next(_aliases)}"
    entry = {"ENGINE": "django.db.backends.sqlite3", "NAME": db_path,
             "CONN_MAX_AGE": conn_max_age}
    connections.settings[alias] = connections.configure_settings(
        {"default": {}, alias: entry}
    )[alias]
    return alias


def _model_classes() -> tuple[Any, Any]:
    """The session_ext model and the Django model of ``bench_req`` (each class
    is defined once per process: both ORMs keep a registry of classes)."""
    if not _models:
        from django.db import models

        from session_ext.django import db

        class SEBenchItem(db.Model):  # type: ignore[misc]
            __tablename__ = "bench_req"
            id = Column(Integer, primary_key=True)
            name = Column(String(50))

        class DjangoBenchItem(models.Model):
            id = models.IntegerField(primary_key=True)
            name = models.CharField(max_length=50)

            class Meta:
                app_label = "session_ext_bench"
                db_table = "bench_req"
                managed = False

        _models.update(se=SEBenchItem, orm=DjangoBenchItem)
    return _models["se"], _models["orm"]


def _handler(middleware: list[str]) -> Any:
    """A WSGI handler with this middleware and this module's URLs."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    class Handler(WSGIHandler):
        def get_response(self, request: Any) -> Any:
            request.urlconf = __name__  # whoever configured ROOT_URLCONF
            return super().get_response(request)

    with override_settings(MIDDLEWARE=middleware):
        return Handler()  # the middleware chain is built here, once


def _runner(handler: Any, prefix: str, n: int) -> Any:
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    def run() -> None:
        for i in range(n):
            environ = {
                "REQUEST_METHOD": "GET", "PATH_INFO": f"/{prefix}/{i % 100 + 1}",
                "SCRIPT_NAME": "", "QUERY_STRING": "", "SERVER_NAME": "bench",
                "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
                "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http",
                "wsgi.errors": sys.stderr,
            }
            response = handler(environ, start_response)
            b"".join(response)
            response.close()  # request_finished, as a server does
            status = statuses.pop()
            assert status.startswith("200"), status

    return run


# ---------------------------------------------------------------------------- views
def bare_view(request: Any, pk: int) -> Any:
    return JsonResponse({"id": pk})


def raw_view(request: Any, pk: int) -> Any:
    conn = sqlite3.connect(_state["db_path"])
    try:
        row = conn.execute("SELECT id, name FROM bench_req WHERE id = ?", (pk,)).fetchone()
    finally:
        conn.close()
    return JsonResponse({"id": row[0], "name": row[1]})


def se_view(request: Any, pk: int) -> Any:
    from session_ext.django import db

    obj = db.session.get(_state["se_item"], pk)
    return JsonResponse({"id": obj.id, "name": obj.name})


def orm_view(request: Any, pk: int) -> Any:
    return _orm_get(_state["orm_alias"], pk)


def orm_persistent_view(request: Any, pk: int) -> Any:
    return _orm_get(_state["persistent_alias"], pk)


def _orm_get(alias: str, pk: int) -> Any:
    obj = _state["orm_item"].objects.using(alias).get(pk=pk)
    return JsonResponse({"id": obj.id, "name": obj.name})


urlpatterns = [
    path("bare/<int:pk>", bare_view),
    path("raw/<int:pk>", raw_view),
    path("se/<int:pk>", se_view),
    path("orm/<int:pk>", orm_view),
    path("orm-persistent/<int:pk>", orm_persistent_view),
]
