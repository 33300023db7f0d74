"""The one place the adapter keeps its state: :data:`registry`.

It holds what ``ready()`` builds from ``settings.SESSION_EXT`` (the validated
settings, the problems found, one engine per bind) and what exists from
import time on (the ``scoped_session`` behind ``db.session`` and the
``MetaData`` of ``db.Model``).  :meth:`Registry.configure` runs again when a
test overrides ``SESSION_EXT``, ``DATABASES`` or ``BASE_DIR``, replacing the
engines and disposing of the old ones.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Engine

from ..engines import configure_sqlite
from ..factory import sessionmaker
from ..scoping import scoped_session
from .conf import (
    DEFAULT_KEY,
    E_ENGINE,
    SETTING,
    BindSettings,
    Problem,
    Settings,
    read_settings,
)
from .query import Query
from .session import Session, request_or_thread_scope

logger = logging.getLogger("session_ext.django")

_FROM_DJANGO_SETTINGS = object()


class Registry:
    """Engines, settings and the scoped session of the Django adapter."""

    def __init__(self) -> None:
        #: the MetaData of ``db.Model`` and ``db.Table``
        self.metadata = MetaData()
        #: the declarative base's class registry, set by ``model.py``
        self.model_registry: Any = None
        #: the validated setting; None until :meth:`configure` ran
        self.settings: Settings | None = None
        #: what :meth:`configure` found wrong (the system checks report these)
        self.problems: list[Problem] = []
        self.engines: dict[str | None, Engine] = {}
        #: ``db.session``: one session per request, else per thread
        self.session: scoped_session[Session] = scoped_session(
            sessionmaker(class_=Session, state=self), scopefunc=request_or_thread_scope
        )
        self._lock = threading.Lock()
        self._routes: dict[Any, Engine] = {}
        self._routes_key: tuple[Any, ...] = ()

    # ------------------------------------------------------------------ configuration
    def configure(self, raw: Any = _FROM_DJANGO_SETTINGS) -> list[Problem]:
        """(Re)build everything from ``settings.SESSION_EXT`` (or from ``raw``,
        a dict of the same shape) and return the problems found.

        With an error the registry holds no engines and ``db.session`` raises
        ``ImproperlyConfigured`` listing the problems.  Engines made before are
        disposed of either way.
        """
        from django.conf import settings as django_settings

        if raw is _FROM_DJANGO_SETTINGS:
            raw = getattr(django_settings, SETTING, None)
        databases = getattr(django_settings, "DATABASES", None) or {}
        base_dir = getattr(django_settings, "BASE_DIR", None)
        settings, problems = read_settings(raw, databases, base_dir)
        engines: dict[str | None, Engine] = {}
        if not any(p.is_error for p in problems):
            engines, engine_problems = _create_engines(settings)
            problems += engine_problems
        if any(p.is_error for p in problems):
            for engine in engines.values():
                engine.dispose()
            engines = {}
            logger.error("session_ext is not configured: %s",
                         "; ".join(str(p) for p in problems if p.is_error))
        factory_options = dict(settings.session_options)
        session_class = factory_options.pop("class_", Session)
        factory_options.setdefault("query_cls", Query)
        with self._lock:
            old = self.engines
            self.settings, self.problems, self.engines = settings, problems, engines
            self._routes_key = ()
            self.session.session_factory = sessionmaker(
                class_=session_class, state=self, **factory_options
            )
        for engine in old.values():
            engine.dispose()
        return problems

    def dispose(self) -> None:
        """Dispose of every engine and forget the settings (tests, shutdown)."""
        with self._lock:
            old, self.engines, self.settings = self.engines, {}, None
            self._routes_key = ()
        for engine in old.values():
            engine.dispose()

    # ------------------------------------------------------------------ lookups
    def require(self) -> dict[str | None, Engine]:
        """The engines, or ``ImproperlyConfigured`` saying what to fix."""
        if self.engines:
            return self.engines
        if self.settings is None:
            raise ImproperlyConfigured(
                "session_ext.django is not set up: add 'session_ext.django' to "
                "settings.INSTALLED_APPS (its ready() reads settings.SESSION_EXT), or call "
                "session_ext.django.registry.configure() in a script"
            )
        errors = "\n  ".join(str(p) for p in self.problems if p.is_error)
        raise ImproperlyConfigured(
            f"settings.{SETTING} is invalid, so session_ext has no database:\n  {errors}\n"
            "(`python manage.py check` lists every problem)"
        )

    @property
    def commit_on_teardown(self) -> bool:
        return self.settings is not None and self.settings.commit_on_teardown

    def engine_for(self, key: str | None) -> Engine:
        """The engine of bind ``key`` (None or "default": the default database)."""
        engines = self.require()
        name = None if key == DEFAULT_KEY else key
        try:
            return engines[name]
        except KeyError:
            known = sorted(DEFAULT_KEY if k is None else k for k in engines)
            raise ImproperlyConfigured(
                f"No database named {DEFAULT_KEY if name is None else name!r} in "
                f"settings.{SETTING}['DATABASES'] (configured: {known}): add it there, or fix "
                "the model's __bind_key__"
            ) from None

    def bind_key_users(self) -> dict[str, list[str]]:
        """``{bind_key: [model or table names]}`` for everything with a bind key."""
        users: dict[str, list[str]] = {}
        named: set[Any] = set()
        if self.model_registry is not None:
            for mapper in self.model_registry.mappers:
                key = getattr(mapper.class_, "__bind_key__", None)
                if key is not None:
                    users.setdefault(key, []).append(mapper.class_.__name__)
                    named.add(mapper.table)
        for table in self.metadata.tables.values():
            key = table.info.get("bind_key")
            if key is not None and table not in named:
                users.setdefault(key, []).append(f"table {table.name!r}")
        return users

    def bind_routes(self) -> dict[Any, Engine]:
        """``binds=`` for a new session: each model and table with a bind key
        mapped to that bind's engine (cached until models or engines change)."""
        mappers = self.model_registry.mappers if self.model_registry is not None else ()
        key = (len(mappers), len(self.metadata.tables), id(self.engines))
        if key == self._routes_key:
            return self._routes
        routes: dict[Any, Engine] = {}
        for mapper in mappers:
            bind_key = getattr(mapper.class_, "__bind_key__", None)
            if bind_key is not None:
                routes[mapper.class_] = self.engine_for(bind_key)
                routes[mapper.table] = routes[mapper.class_]
        for table in self.metadata.tables.values():
            bind_key = table.info.get("bind_key")
            if bind_key is not None:
                routes[table] = self.engine_for(bind_key)
        self._routes, self._routes_key = routes, key
        return routes

    def __repr__(self) -> str:
        binds = ", ".join(
            f"{DEFAULT_KEY if k is None else k}={e.url!r}" for k, e in self.engines.items()
        )
        return f"<session_ext.django registry {binds or 'not configured'}>"


def _create_engines(settings: Settings) -> tuple[dict[str | None, Engine], list[Problem]]:
    engines: dict[str | None, Engine] = {}
    problems: list[Problem] = []
    for key, bind in settings.binds.items():
        try:
            engines[key] = configure_sqlite(create_engine(bind.url, **bind.options))
        except Exception as err:  # driver missing, unknown dialect, bad option
            problems.append(_engine_problem(bind, err))
    return engines, problems


def _engine_problem(bind: BindSettings, err: Exception) -> Problem:
    url = bind.url.render_as_string(hide_password=True)
    if isinstance(err, ImportError):
        hint = ("Install the database driver: for PostgreSQL `pip install "
                "'session_ext[postgresql]'` and use 'postgresql+psycopg://...'.")
    else:
        hint = (f"Check the URL's dialect and driver, and the engine options "
                f"{sorted(bind.options)} (create_engine() keywords).")
    return Problem(E_ENGINE, bind.where,
                   f"cannot create an engine for {url}: {type(err).__name__}: {err}", hint)


def settings_changed(setting: str, **kwargs: Mapping[str, Any]) -> None:
    """``setting_changed`` receiver: reconfigure when a test overrides a
    setting the registry was built from."""
    if setting in (SETTING, "DATABASES", "BASE_DIR") and registry.settings is not None:
        registry.configure()


#: the adapter's state, one per process
registry = Registry()
