"""Reading and checking the ``SESSION_EXT_*`` configuration of one app.

Everything is read once, in ``init_app``, so a typo or a wrong type fails at
start-up with the key's name instead of on the first request.  The result is
an :class:`AppConfig`; :func:`create_engines` turns it into engines.

Flask-SQLAlchemy's spelling of a key (``SQLALCHEMY_DATABASE_URI`` ...) is
read when the ``SESSION_EXT_*`` key is not set, so an app moves over by
changing its imports; setting both spellings to different values is an error.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError as SAArgumentError
from sqlalchemy.pool import QueuePool, StaticPool

from ..asyncio._engine import is_async_url, sync_url
from ..engines import engine_option_problems, prepare_engine

PREFIX = "SESSION_EXT_"
KEY_URI = PREFIX + "DATABASE_URI"
KEY_BINDS = PREFIX + "BINDS"
KEY_ENGINE_OPTIONS = PREFIX + "ENGINE_OPTIONS"
KEY_ECHO = PREFIX + "ECHO"
KEY_RECORD_QUERIES = PREFIX + "RECORD_QUERIES"
KEY_COMMIT_ON_TEARDOWN = PREFIX + "COMMIT_ON_TEARDOWN"
KEY_TRACK_MODIFICATIONS = PREFIX + "TRACK_MODIFICATIONS"

#: every key this extension reads (for error messages and the docs)
KNOWN_KEYS = (
    KEY_URI,
    KEY_BINDS,
    KEY_ENGINE_OPTIONS,
    KEY_ECHO,
    KEY_RECORD_QUERIES,
    KEY_COMMIT_ON_TEARDOWN,
    KEY_TRACK_MODIFICATIONS,
)

#: Flask-SQLAlchemy's name of a key, read when the ``SESSION_EXT_*`` one is not set
FLASK_SQLALCHEMY_KEYS = {
    KEY_URI: "SQLALCHEMY_DATABASE_URI",
    KEY_BINDS: "SQLALCHEMY_BINDS",
    KEY_ENGINE_OPTIONS: "SQLALCHEMY_ENGINE_OPTIONS",
    KEY_ECHO: "SQLALCHEMY_ECHO",
    KEY_RECORD_QUERIES: "SQLALCHEMY_RECORD_QUERIES",
    KEY_TRACK_MODIFICATIONS: "SQLALCHEMY_TRACK_MODIFICATIONS",
}

#: MySQL servers drop connections idle for 8 hours: recycle them after 2
MYSQL_POOL_RECYCLE = 7200


class ConfigError(RuntimeError):
    """A ``SESSION_EXT_*`` setting is missing or malformed.

    The message names the key and says what a valid value looks like.
    """


@dataclass(frozen=True)
class BindConfig:
    """The URL and engine options of one bind (``key`` None is the default)."""

    key: str | None
    url: URL
    options: dict[str, Any] = field(default_factory=dict)
    #: the config key it was read from, for error messages
    where: str = ""

    @property
    def label(self) -> str:
        return "default" if self.key is None else repr(self.key)


@dataclass(frozen=True)
class AppConfig:
    binds: dict[str | None, BindConfig]
    record_queries: bool
    commit_on_teardown: bool
    #: send ``models_committed``/``before_models_committed`` (see :mod:`.signals`)
    track_modifications: bool = False


class _Settings:
    """The app's config read through both spellings of each key.

    ``get(key)`` returns ``(value, name)``: the ``SESSION_EXT_*`` value if it
    is set (not None), else the Flask-SQLAlchemy one; ``name`` is the key the
    value came from, for error messages.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        for key, alias in FLASK_SQLALCHEMY_KEYS.items():
            ours, theirs = config.get(key), config.get(alias)
            if ours is not None and theirs is not None and not _same(ours, theirs):
                raise ConfigError(
                    f"{key} and {alias} are both set, to different values ({ours!r} and "
                    f"{theirs!r}); session_ext reads {alias} only when {key} is not set. "
                    f"Remove one of them"
                )

    def get(self, key: str) -> tuple[Any, str]:
        value = self.config.get(key)
        alias = FLASK_SQLALCHEMY_KEYS.get(key)
        if value is None and alias is not None and self.config.get(alias) is not None:
            return self.config[alias], alias
        return value, key

    def bool(self, key: str, default: bool) -> bool:
        value, name = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConfigError(
                f"{name} must be True or False, not {value!r} ({type(value).__name__})"
            )
        return value


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # a value whose == is not a plain comparison
        return a is b


def _options(value: Any, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{key} must be a dict of create_engine() keyword arguments, "
            f"not {type(value).__name__}"
        )
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise ConfigError(f"{key} has non-string option names {bad!r}")
    return dict(value)


def _url(value: Any, key: str) -> URL:
    if isinstance(value, URL):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"{key} must be a database URL such as 'sqlite:///app.sqlite3' or "
            f"'postgresql+psycopg://user:pass@host/db', not {value!r}"
        )
    try:
        return make_url(value.strip())
    except SAArgumentError as err:
        raise ConfigError(f"{key} is not a valid database URL ({value!r}): {err}") from None


def _refuse_unknown_keys(config: Mapping[str, Any]) -> None:
    """A mistyped ``SESSION_EXT_*`` key would be ignored silently: refuse it."""
    for key in config:
        if isinstance(key, str) and key.startswith(PREFIX) and key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ConfigError(
                f"Unknown setting {key}: {hint}session_ext reads "
                f"{', '.join(KNOWN_KEYS)}. Remove or rename it."
            )


def read_config(app: Flask, extension_engine_options: Mapping[str, Any]) -> AppConfig:
    """Validate the app's ``SESSION_EXT_*`` keys and resolve each bind's options.

    Engine options, as Flask-SQLAlchemy combines them (later ones win): the
    extension's ``engine_options`` (every engine); ``SESSION_EXT_ECHO``, the
    default of ``echo`` and ``echo_pool`` (every engine); the options given
    with a bind in ``SESSION_EXT_BINDS``; for the default database,
    ``SESSION_EXT_ENGINE_OPTIONS``.  Then the drivers' defaults fill in what is
    still missing (SQLite paths and in-memory pools, MySQL's ``pool_recycle``
    and ``charset``).
    """
    config = app.config
    _refuse_unknown_keys(config)
    settings = _Settings(config)
    base = dict(extension_engine_options)
    echo = settings.bool(KEY_ECHO, False)
    base.setdefault("echo", echo)
    base.setdefault("echo_pool", echo)

    binds: dict[str | None, BindConfig] = {}
    uri, uri_key = settings.get(KEY_URI)
    if uri is not None:
        options = dict(base)
        engine_options, options_key = settings.get(KEY_ENGINE_OPTIONS)
        options.update(_options(engine_options, options_key))
        binds[None] = _resolve(app, BindConfig(None, _url(uri, uri_key), options, uri_key))

    raw_binds, binds_key = settings.get(KEY_BINDS)
    if raw_binds is not None:
        if not isinstance(raw_binds, Mapping):
            raise ConfigError(
                f"{binds_key} must be a dict of {{bind_key: url}} or "
                f"{{bind_key: {{'url': url, **engine_options}}}}, not {type(raw_binds).__name__}"
            )
        for bind_key, value in raw_binds.items():
            binds[bind_key] = _resolve(app, _bind(binds_key, bind_key, value, base, uri_key))

    if not binds:
        raise ConfigError(
            f"Neither {KEY_URI} nor {KEY_BINDS} is set: set app.config[{KEY_URI!r}] "
            "(e.g. 'sqlite:///app.sqlite3', relative to the instance folder) before "
            f"calling init_app() ({FLASK_SQLALCHEMY_KEYS[KEY_URI]} is read too)"
        )
    record, record_key = settings.get(KEY_RECORD_QUERIES)
    if record is None:
        record = bool(app.debug or app.testing)
    elif not isinstance(record, bool):
        raise ConfigError(f"{record_key} must be True or False, not {record!r}")
    return AppConfig(
        binds=binds,
        record_queries=record,
        commit_on_teardown=settings.bool(KEY_COMMIT_ON_TEARDOWN, False),
        track_modifications=settings.bool(KEY_TRACK_MODIFICATIONS, False),
    )


def _bind(binds_key: str, bind_key: Any, value: Any, base: Mapping[str, Any],
          uri_key: str) -> BindConfig:
    """One entry of ``SESSION_EXT_BINDS``: a URL, or a dict with ``url`` and
    engine options (which win over ``base``)."""
    where = f"{binds_key}[{bind_key!r}]"
    if not isinstance(bind_key, str) or not bind_key:
        raise ConfigError(
            f"{binds_key} keys must be non-empty strings (the __bind_key__ of "
            f"models), not {bind_key!r}; the default database is {uri_key}"
        )
    options = dict(base)
    if isinstance(value, Mapping):
        extra = _options(value, where)
        if "url" not in extra:
            raise ConfigError(
                f"{where} is a dict, so it needs a 'url' entry next to its engine "
                f"options, e.g. {{'url': 'sqlite:///{bind_key}.sqlite3', 'echo': True}}"
            )
        url = _url(extra.pop("url"), f"{where}['url']")
        options.update(extra)
    else:
        url = _url(value, where)
    return BindConfig(bind_key, url, options, where)


def _resolve(app: Flask, bind: BindConfig) -> BindConfig:
    """Driver defaults: SQLite's relative paths live in the instance folder,
    and an in-memory database is one connection that every thread may use;
    MySQL gets ``pool_recycle`` and ``charset=utf8mb4`` (see :func:`_mysql`)."""
    url = bind.url
    backend = url.get_backend_name()
    if backend in ("mysql", "mariadb"):
        return _mysql(bind)
    if backend != "sqlite":
        return bind
    options = dict(bind.options)
    database = url.database or ""
    uri_mode = str(url.query.get("uri", "")).lower() in ("true", "1")
    if uri_mode:
        in_memory = url.query.get("mode") == "memory" or database.startswith(":memory:")
        path = database[5:] if database.startswith("file:") else database
        if not in_memory and path and not os.path.isabs(path):
            os.makedirs(app.instance_path, exist_ok=True)
            url = url.set(database="file:" + os.path.join(app.instance_path, path))
    else:
        in_memory = database in ("", ":memory:")
        if not in_memory and not os.path.isabs(database):
            os.makedirs(app.instance_path, exist_ok=True)
            url = url.set(database=os.path.join(app.instance_path, database))
    if in_memory:
        # One connection (StaticPool) so every session sees the same database,
        # usable from the request threads of a threaded server.
        options.setdefault("poolclass", StaticPool)
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("check_same_thread", False)
        options["connect_args"] = connect_args
    return BindConfig(bind.key, url, options, bind.where)


def _mysql(bind: BindConfig) -> BindConfig:
    """MySQL and MariaDB close connections idle for 8 hours (``wait_timeout``):
    with the default queue pool, connections are recycled after 2 hours unless
    ``pool_recycle`` is given.  Text is ``utf8mb4`` (all of Unicode, not
    MySQL's 3-byte ``utf8``) unless the URL names a ``charset``."""
    options = dict(bind.options)
    poolclass = options.get("poolclass")
    if poolclass is None or poolclass is QueuePool:
        options.setdefault("pool_recycle", MYSQL_POOL_RECYCLE)
    url = bind.url
    if "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    return BindConfig(bind.key, url, options, bind.where)


def create_engines(config: AppConfig) -> dict[str | None, Engine]:
    """One engine per bind, each through :func:`session_ext.engines.prepare_engine`."""
    engines: dict[str | None, Engine] = {}
    try:
        for key, bind in config.binds.items():
            engines[key] = prepare_engine(_create_engine(key, bind))
    except BaseException:
        for engine in engines.values():
            engine.dispose()
        raise
    return engines


def _create_engine(key: str | None, bind: BindConfig) -> Engine:
    where = bind.where or (KEY_URI if key is None else f"{KEY_BINDS}[{key!r}]")
    problems = engine_option_problems(bind.options)
    if problems:
        raise ConfigError(
            f"Bad engine option for {where} ({KEY_ENGINE_OPTIONS}, the bind's own options or "
            "the extension's engine_options): "
            + "; ".join(problems)
        )
    url = bind.url
    if is_async_url(url):  # db.engine/db.session: the same database's blocking driver
        url = sync_url(url)
    try:
        return create_engine(url, **bind.options)
    except (TypeError, SAArgumentError) as err:
        raise ConfigError(
            f"Could not create the engine for {where} ({bind.url!r}) with options "
            f"{sorted(bind.options)}: {err}"
        ) from err
    except ImportError as err:
        raise ConfigError(
            f"The database driver for {where} ({bind.url.drivername}) is not installed: "
            f"{err}. For PostgreSQL install 'session_ext[postgresql]' and use "
            "'postgresql+psycopg://...'"
        ) from err
