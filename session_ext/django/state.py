"""The one place the adapter keeps its state: a :class:`Registry`.

It holds what ``ready()`` builds from ``settings.SESSION_EXT`` (the validated
settings, the problems found, one engine per bind) and what exists from
import time on (the ``scoped_session`` behind ``db.session`` and the
``MetaData`` of ``db.Model``).  :meth:`Registry.configure` runs again when a
test overrides ``SESSION_EXT``, ``DATABASES`` or ``BASE_DIR``, replacing the
engines and disposing of the old ones.

:class:`Session` is the session class of ``db.session``: the core session
bound to a registry's engines, the default database and, for models and
tables with a ``__bind_key__``, the bind of that name (given to the core as
``binds={...}``, see :mod:`session_ext.web.binds`).  It lives here because
the two need each other: a registry makes sessions, ``Session()`` alone
uses the process's :data:`registry`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Engine

from ..engines import engine_option_problems, prepare_engine
from ..factory import sessionmaker
from ..scoping import Scope, scoped_session
from ..web.binds import BindRoutes, RoutedSession
from ..web.transactions import TestTransaction
from .conf import (
    DEFAULT_KEY,
    E_ENGINE,
    SETTING,
    BindSettings,
    Problem,
    Settings,
    read_settings,
)
from .djangodb import fingerprint
from .query import Query
from .scopes import request_or_thread_scope

logger = logging.getLogger("session_ext.django")

_FROM_DJANGO_SETTINGS = object()


class Registry:
    """Engines, settings and the scoped session of the Django adapter.

    :param session_class: the class of its sessions (``SESSION_OPTIONS
        ['class_']`` must subclass it; default :class:`Session`), made with
        ``state=`` this registry.
    :param query_class: the default ``query_cls`` of its sessions.
    :param scopefunc: the scope of ``session`` (default: the request's,
        else the thread's).
    """

    def __init__(
        self,
        session_class: type[Session] | None = None,
        query_class: type[Query[Any]] | None = None,
        scopefunc: Callable[[], Scope] = request_or_thread_scope,
    ) -> None:
        self.session_class = session_class or Session
        self.query_class = query_class or Query
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
            sessionmaker(class_=self.session_class, state=self), scopefunc=scopefunc
        )
        #: registries of other declarative bases routed like db.Model's (the
        #: classes session_ext.django.mapped() makes from Django models)
        self.mapped_registries: list[Any] = []
        #: called after every configure() (mapped Django models re-read their database)
        self.on_configure: list[Callable[[], None]] = []
        #: the test transaction new sessions join (session_ext.django.testing)
        self.active_test_transaction: TestTransaction | None = None
        self._lock = threading.Lock()
        self._follow_lock = threading.Lock()
        self._routes = BindRoutes(_lookup)
        #: what configure() read from: a dict, or settings.SESSION_EXT
        self._source: Any = _FROM_DJANGO_SETTINGS
        #: {settings.DATABASES alias: fingerprint} of the entries URLs were derived from
        self._django_sources: dict[str, tuple[Any, ...]] = {}

    # ------------------------------------------------------------------ configuration
    def configure(self, raw: Any = _FROM_DJANGO_SETTINGS) -> list[Problem]:
        """(Re)build everything from ``settings.SESSION_EXT`` (or from ``raw``,
        a dict of the same shape) and return the problems found.

        With an error the registry holds no engines and ``db.session`` raises
        ``ImproperlyConfigured`` listing the problems.  Engines made before are
        disposed of either way, and the current thread's (or scope's) session,
        which is bound to them, is removed.
        """
        source = raw
        if raw is _FROM_DJANGO_SETTINGS:
            raw = getattr(django_settings, SETTING, None)
        databases = getattr(django_settings, "DATABASES", None) or {}
        base_dir = getattr(django_settings, "BASE_DIR", None)
        settings, problems = read_settings(raw, databases, base_dir,
                                           session_class=self.session_class)
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
        session_class = factory_options.pop("class_", self.session_class)
        factory_options.setdefault("query_cls", self.query_class)
        django_sources = {
            bind.django_alias: fingerprint(databases.get(bind.django_alias))
            for bind in settings.binds.values() if bind.django_alias is not None
        }
        with self._lock:
            old = self.engines
            self.settings, self.problems, self.engines = settings, problems, engines
            self._source, self._django_sources = source, django_sources
            self._routes.clear()
            self.session.session_factory = sessionmaker(
                class_=session_class, state=self, **factory_options
            )
        if old:
            self._remove_stale_session()
        for engine in old.values():
            engine.dispose()
        for hook in self.on_configure:
            hook()
        return problems

    def _remove_stale_session(self) -> None:
        """Remove the calling scope's session: it is bound to the old engines."""
        try:
            self.session.remove()
        except Exception:  # its connection may be gone with the old settings
            logger.exception("closing the session of the previous configuration failed")

    def dispose(self) -> None:
        """Dispose of every engine and forget the settings (tests, shutdown)."""
        with self._lock:
            old, self.engines, self.settings = self.engines, {}, None
            self._routes.clear()
            self._django_sources = {}
        for engine in old.values():
            engine.dispose()

    # ------------------------------------------------------------------ lookups
    def require(self) -> dict[str | None, Engine]:
        """The engines, or ``ImproperlyConfigured`` saying what to fix.

        When a ``settings.DATABASES`` entry a URL was derived from has changed
        in place (Django's test runner points NAME at the test database without
        any signal), the registry is configured again first.
        """
        if self._django_sources and self._django_changed():
            self._follow_django()
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

    def _django_changed(self) -> bool:
        databases = getattr(django_settings, "DATABASES", None) or {}
        return any(
            fingerprint(databases.get(alias)) != seen
            for alias, seen in self._django_sources.items()
        )

    def _follow_django(self) -> None:
        with self._follow_lock:
            if not self._django_changed():  # another thread got here first
                return
            logger.info("settings.DATABASES changed (%s): session_ext reconfigures",
                        ", ".join(sorted(self._django_sources)))
            self.configure(self._source)

    @property
    def commit_on_teardown(self) -> bool:
        return self.settings is not None and self.settings.commit_on_teardown

    def engine_for(self, key: str | None) -> Engine:
        """The engine of bind ``key`` (None or "default": the default database)."""
        return _lookup(self.require(), key)

    def bind_key_users(self) -> dict[str, list[str]]:
        """``{bind_key: [model or table names]}`` for everything with a bind
        key that is a string (see :meth:`invalid_bind_keys` for the others)."""
        users: dict[str, list[str]] = {}
        for name, key in self._bind_key_uses():
            if isinstance(key, str):
                users.setdefault(key, []).append(name)
        return users

    def invalid_bind_keys(self) -> list[tuple[str, Any]]:
        """``[(model or table name, key)]`` for bind keys that are not strings."""
        return [(name, key) for name, key in self._bind_key_uses() if not isinstance(key, str)]

    def _bind_key_uses(self) -> list[tuple[str, Any]]:
        uses: list[tuple[str, Any]] = []
        named: set[Any] = set()
        if self.model_registry is not None:
            for mapper in self.model_registry.mappers:
                key = getattr(mapper.class_, "__bind_key__", None)
                if key is not None:
                    uses.append((mapper.class_.__name__, key))
                    named.add(mapper.table)
        for table in self.metadata.tables.values():
            key = table.info.get("bind_key")
            if key is not None and table not in named:
                uses.append((f"table {table.name!r}", key))
        return uses

    def bind_routes(self, engines: Mapping[str | None, Any] | None = None) -> dict[Any, Any]:
        """``binds=`` for a new session: each model and table with a bind key
        mapped to that bind's engine in ``engines`` (default: the current ones),
        a :class:`~session_ext.web.binds.MissingBind` for a key that names no
        database; cached until models or engines change."""
        if engines is None:
            engines = self.require()
        mappers = self.model_registry.mappers if self.model_registry is not None else []
        tables: Mapping[str, Any] = self.metadata.tables
        if self.mapped_registries:  # Django models mapped by session_ext.django.mapped()
            mappers = [*mappers, *(m for r in self.mapped_registries for m in r.mappers)]
            tables = {**tables, **{k: t for r in self.mapped_registries
                                   for k, t in r.metadata.tables.items()}}
        return self._routes.for_session(engines, mappers, tables)

    def clear_routes(self) -> None:
        """Forget the cached routes (a model's bind key changed)."""
        self._routes.clear()

    def settings_changed(self, setting: str, **kwargs: Any) -> None:
        """``setting_changed`` receiver: reconfigure when a test overrides a
        setting the registry was built from."""
        if setting in (SETTING, "DATABASES", "BASE_DIR") and self.settings is not None:
            self.configure()

    def __repr__(self) -> str:
        binds = ", ".join(
            f"{DEFAULT_KEY if k is None else k}={e.url!r}" for k, e in self.engines.items()
        )
        return f"<session_ext.django registry {binds or 'not configured'}>"


class Session(RoutedSession):
    """A core session on the configured databases.

    ``state`` is the registry holding the engines (``db.session``'s
    ``sessionmaker`` passes it; by default the adapter's :data:`registry`), so
    ``Session()`` alone is a session on the configured databases.  An explicit
    ``bind`` or ``binds`` entry wins over the configured ones.  A model whose
    ``__bind_key__`` names no configured database raises
    ``ImproperlyConfigured`` when a statement needs its bind.  While a test
    transaction is active (:mod:`session_ext.django.testing`) it binds to the
    test's connections and joins their transaction through SAVEPOINTs.
    """

    def __init__(self, bind: Any = None, *, state: Registry | None = None, **kwargs: Any) -> None:
        if state is None:
            state = registry
        engines = state.require()
        test_tx = state.active_test_transaction
        binds: Mapping[str | None, Any] = engines if test_tx is None else test_tx.connections
        if test_tx is not None:  # commit() only releases a SAVEPOINT of the test's transaction
            kwargs.setdefault("join_transaction_mode", "create_savepoint")
        if bind is None:
            bind = binds.get(None)
        routes = state.bind_routes(binds)
        if routes:
            kwargs["binds"] = {**routes, **(kwargs.get("binds") or {})}
        super().__init__(bind, **kwargs)
        if test_tx is not None:
            test_tx.track(self)


def _lookup(engines: Mapping[str | None, Engine], key: Any) -> Engine:
    """The engine of bind ``key`` in ``engines``, or ``ImproperlyConfigured``."""
    name = None if key == DEFAULT_KEY else key
    try:
        return engines[name]
    except (KeyError, TypeError):  # TypeError: an unhashable __bind_key__
        known = sorted(DEFAULT_KEY if k is None else k for k in engines)
        raise ImproperlyConfigured(
            f"No database named {DEFAULT_KEY if name is None else name!r} in "
            f"settings.{SETTING}['DATABASES'] (configured: {known}): add it there, or fix "
            "the model's __bind_key__ (check session_ext.E010)"
        ) from None


def _create_engines(settings: Settings) -> tuple[dict[str | None, Engine], list[Problem]]:
    engines: dict[str | None, Engine] = {}
    problems: list[Problem] = []
    for key, bind in settings.binds.items():
        bad_options = engine_option_problems(bind.options)
        if bad_options:
            problems.append(Problem(E_ENGINE, bind.where,
                                    "bad ENGINE_OPTIONS: " + "; ".join(bad_options),
                                    "Fix the option's value (create_engine() keywords)."))
            continue
        try:
            engines[key] = prepare_engine(create_engine(bind.url, **bind.options))
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


#: the adapter's state, one per process (``session_ext.django.registry``)
registry = Registry()
