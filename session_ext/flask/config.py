"""Reading and checking the ``SESSION_EXT_*`` configuration of one app.

Everything is read once, in ``init_app``, so a typo or a wrong type fails at
start-up with the key's name instead of on the first request.  The result is
an :class:`AppConfig`; :func:`create_engines` turns it into engines.
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
from sqlalchemy.pool import StaticPool

from ..asyncio._engine import is_async_url, sync_url
from ..engines import engine_option_problems, prepare_engine

PREFIX = "SESSION_EXT_"
KEY_URI = PREFIX + "DATABASE_URI"
KEY_BINDS = PREFIX + "BINDS"
KEY_ENGINE_OPTIONS = PREFIX + "ENGINE_OPTIONS"
KEY_ECHO = PREFIX + "ECHO"
KEY_RECORD_QUERIES = PREFIX + "RECORD_QUERIES"
KEY_COMMIT_ON_TEARDOWN = PREFIX + "COMMIT_ON_TEARDOWN"

#: every key this extension reads (for error messages and the docs)
KNOWN_KEYS = (
    KEY_URI,
    KEY_BINDS,
    KEY_ENGINE_OPTIONS,
    KEY_ECHO,
    KEY_RECORD_QUERIES,
    KEY_COMMIT_ON_TEARDOWN,
)


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

    @property
    def label(self) -> str:
        return "default" if self.key is None else repr(self.key)


@dataclass(frozen=True)
class AppConfig:
    binds: dict[str | None, BindConfig]
    record_queries: bool
    commit_on_teardown: bool


def _bool(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = config.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ConfigError(
            f"{key} must be True or False, not {value!r} ({type(value).__name__})"
        )
    return value


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

    Option precedence, lowest first: the extension's ``engine_options``,
    ``SESSION_EXT_ENGINE_OPTIONS``, ``SESSION_EXT_ECHO``, then the options
    given with a bind in ``SESSION_EXT_BINDS``.
    """
    config = app.config
    _refuse_unknown_keys(config)
    base = dict(extension_engine_options)
    base.update(_options(config.get(KEY_ENGINE_OPTIONS), KEY_ENGINE_OPTIONS))
    if _bool(config, KEY_ECHO, False):
        base["echo"] = True

    binds: dict[str | None, BindConfig] = {}
    uri = config.get(KEY_URI)
    if uri is not None:
        binds[None] = _resolve(app, BindConfig(None, _url(uri, KEY_URI), dict(base)))

    raw_binds = config.get(KEY_BINDS)
    if raw_binds is not None:
        if not isinstance(raw_binds, Mapping):
            raise ConfigError(
                f"{KEY_BINDS} must be a dict of {{bind_key: url}} or "
                f"{{bind_key: {{'url': url, **engine_options}}}}, not {type(raw_binds).__name__}"
            )
        for bind_key, value in raw_binds.items():
            where = f"{KEY_BINDS}[{bind_key!r}]"
            if not isinstance(bind_key, str) or not bind_key:
                raise ConfigError(
                    f"{KEY_BINDS} keys must be non-empty strings (the __bind_key__ of "
                    f"models), not {bind_key!r}; the default database is {KEY_URI}"
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
            binds[bind_key] = _resolve(app, BindConfig(bind_key, url, options))

    if not binds:
        raise ConfigError(
            f"Neither {KEY_URI} nor {KEY_BINDS} is set: set app.config[{KEY_URI!r}] "
            "(e.g. 'sqlite:///app.sqlite3', relative to the instance folder) before "
            "calling init_app()"
        )
    record = config.get(KEY_RECORD_QUERIES)
    if record is None:
        record = bool(app.debug or app.testing)
    elif not isinstance(record, bool):
        raise ConfigError(f"{KEY_RECORD_QUERIES} must be True or False, not {record!r}")
    return AppConfig(
        binds=binds,
        record_queries=record,
        commit_on_teardown=_bool(config, KEY_COMMIT_ON_TEARDOWN, False),
    )


def _resolve(app: Flask, bind: BindConfig) -> BindConfig:
    """SQLite specifics: relative paths live in the instance folder, and an
    in-memory database is one connection that every thread may use."""
    url = bind.url
    if url.get_backend_name() != "sqlite":
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
    return BindConfig(bind.key, url, options)


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
    where = KEY_URI if key is None else f"{KEY_BINDS}[{key!r}]"
    problems = engine_option_problems(bind.options)
    if problems:
        raise ConfigError(
            f"Bad engine option for {where} ({KEY_ENGINE_OPTIONS} or the bind's own options): "
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
