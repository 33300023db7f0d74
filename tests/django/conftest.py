"""Fixtures for the Django adapter tests.

Django's settings are configured here, in ``pytest_configure`` (pytest-django's
settings-less mode), so the rest of the suite never sees a Django setting: only
collecting ``tests/django`` configures Django.  ``INSTALLED_APPS`` has the
adapter and the example app; ``ROOT_URLCONF`` is :mod:`django_support`.

Every test gets fresh SQLite files for the ``default`` and ``audit`` databases
(``databases``), tables created, through pytest-django's ``settings`` fixture,
whose overrides make the adapter rebuild its engines.  ``configure(...)``
changes the ``SESSION_EXT`` setting further.  After each test the thread's
session is removed and the registry must be empty: nothing leaked.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import django
import pytest
from django.conf import settings as django_settings
from django.test import AsyncClient, Client
from django_support import SEEN

from session_ext.django import db, registry

_TMP: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    if django_settings.configured:
        return
    tmp = tempfile.mkdtemp(prefix="session_ext_django_")
    _TMP.append(tmp)
    django_settings.configure(
        DEBUG=False,
        SECRET_KEY="session_ext tests",
        ALLOWED_HOSTS=["testserver", "localhost"],
        INSTALLED_APPS=["session_ext.django", "example_apps.django_app", "library"],
        MIDDLEWARE=["session_ext.django.middleware.SessionExtMiddleware"],
        ROOT_URLCONF="django_support",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                               "NAME": os.path.join(tmp, "django.sqlite3")}},
        SESSION_EXT={"DATABASES": {"default": {"DJANGO_DATABASE": "default"},
                                   "audit": f"sqlite:///{tmp}/audit.sqlite3"}},
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                    "APP_DIRS": True}],
        USE_TZ=True,
    )
    django.setup()


#: tests that create Django's test database themselves: they run before any test
#: makes pytest-django create it for the rest of the session (``django_db``, a
#: ``TestCase``), after which DATABASES already names the test database
CREATE_THEIR_OWN_TEST_DATABASE = {"test_derived_database_follows_djangos_test_database"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    first = [item for item in items
             if getattr(item, "originalname", None) in CREATE_THEIR_OWN_TEST_DATABASE]
    if first:
        items[:] = first + [item for item in items if item not in first]


def pytest_unconfigure(config: pytest.Config) -> None:
    registry.dispose()
    for tmp in _TMP:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def databases(settings: Any, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The test's database URLs; the adapter uses them, tables created."""
    urls = {"default": f"sqlite:///{tmp_path / 'default.sqlite3'}",
            "audit": f"sqlite:///{tmp_path / 'audit.sqlite3'}"}
    settings.SESSION_EXT = {"DATABASES": urls}
    db.create_all()
    SEEN.clear()
    yield urls
    SEEN.clear()
    db.session.remove()
    assert len(db.session.registry) == 0, "a session outlived its request or test"


@pytest.fixture(autouse=True)
def _fresh_databases(databases: dict[str, str]) -> None:
    """Every test of this folder runs on its own databases."""


@pytest.fixture(autouse=True, scope="session")
def _template_engines_loaded_in_the_main_thread() -> None:
    """Django sets up its template engines and loaders (importing every
    installed templatetag module) on first use. A 500 page rendered by an async view's
    worker thread would do that there, and compiling modules in a thread
    sometimes hits CPython 3.11's "AST constructor recursion depth mismatch"
    SystemError (python/cpython#106905), failing an unrelated test. Set them
    up once, here."""
    from django.template import engines
    from django.test import RequestFactory
    from django.views.defaults import server_error

    assert engines.all(), "no template engine configured"
    # and the 500 page's own path (its template loaders are imported on first use)
    assert server_error(RequestFactory().get("/")).status_code == 500


@pytest.fixture
def client() -> Client:
    """Django's test client (the suite's plain ``client`` is pytest-flask's)."""
    return Client()


@pytest.fixture
def async_client() -> AsyncClient:
    return AsyncClient()


@pytest.fixture
def temporary_models() -> Iterator[list[type]]:
    """Models a test appends here are forgotten afterwards (their tables leave
    ``db.metadata``, their mappers ``db.Model.registry``), so later tests'
    ``create_all()`` and checks do not see them."""
    models: list[type] = []
    yield models
    db.session.remove()
    for model in models:
        db.metadata.remove(model.__table__)
        db.Model.registry.mappers.remove(model.__mapper__)


ConfigureFn = Callable[..., Any]


@pytest.fixture
def configure(settings: Any, databases: dict[str, str]) -> ConfigureFn:
    """``configure(COMMIT_ON_TEARDOWN=True, ...)``: SESSION_EXT with these keys
    (``DATABASES`` defaults to the test's), tables created; returns the registry."""

    def apply(create: bool = True, **keys: Any) -> Any:
        keys.setdefault("DATABASES", databases)
        settings.SESSION_EXT = keys
        if create and not any(p.is_error for p in registry.problems):
            db.create_all()
        return registry

    return apply
