"""Reading and checking the ``SESSION_EXT`` setting.

::

    SESSION_EXT = {
        "DATABASES": {                                   # optional; see below
            "default": "sqlite:///app.sqlite3",          # relative to BASE_DIR
            "audit": {"URL": "postgresql+psycopg://...", "ENGINE_OPTIONS": {"pool_size": 2}},
            "replica": {"DJANGO_DATABASE": "replica"},   # the URL of a Django database
        },
        "ENGINE_OPTIONS": {"pool_pre_ping": True},       # create_engine() keywords, every bind
        "SESSION_OPTIONS": {"expire_on_commit": False},  # Session() keywords
        "COMMIT_ON_TEARDOWN": False,
        "ECHO": False,
    }

Without ``DATABASES`` the default database is Django's own
``DATABASES["default"]`` (sqlite3 and postgresql backends), so both ORMs
share one database.

:func:`read_settings` never raises on bad input: it returns what it could
read plus a list of :class:`Problem` records, which the system checks report
(``session_ext.E001`` ...) and the registry refuses to start with.
"""

from __future__ import annotations

import difflib
import inspect
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError as SAArgumentError
from sqlalchemy.pool import StaticPool

from ..session import Session as CoreSession
from .djangodb import url_from_django

SETTING = "SESSION_EXT"
DEFAULT_KEY = "default"
#: the ``bind`` argument of ``create_all()``/``drop_all()`` meaning every bind
ALL_BINDS = "__all__"

KNOWN_KEYS = ("DATABASES", "ENGINE_OPTIONS", "SESSION_OPTIONS", "COMMIT_ON_TEARDOWN", "ECHO")
BIND_ENTRY_KEYS = ("URL", "DJANGO_DATABASE", "ENGINE_OPTIONS")

# What each check id means (docs/django.md has the same table).
E_NOT_A_DICT = "session_ext.E001"
E_UNKNOWN_KEY = "session_ext.E002"
E_WRONG_TYPE = "session_ext.E003"
E_BAD_URL = "session_ext.E004"
E_BAD_BIND_KEY = "session_ext.E005"
E_BAD_ENTRY = "session_ext.E006"
E_NOT_DERIVABLE = "session_ext.E007"
E_SESSION_OPTIONS = "session_ext.E008"
E_ENGINE = "session_ext.E009"
E_UNKNOWN_MODEL_BIND = "session_ext.E010"
W_NO_DEFAULT = "session_ext.W001"
W_NO_MIDDLEWARE = "session_ext.W002"
W_SQLITE_DIR = "session_ext.W003"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the settings: a future ``checks.Error``/``Warning``."""

    id: str
    where: str  # e.g. "SESSION_EXT['DATABASES']['audit']"
    message: str
    hint: str

    @property
    def is_error(self) -> bool:
        return ".E" in self.id

    def __str__(self) -> str:
        return f"{self.where}: ({self.id}) {self.message} HINT: {self.hint}"


@dataclass(frozen=True)
class BindSettings:
    """The URL and engine options of one bind (``key`` None: the default)."""

    key: str | None
    url: URL
    options: dict[str, Any]
    where: str
    #: the ``settings.DATABASES`` alias the URL was derived from, if it was
    django_alias: str | None = None

    @property
    def label(self) -> str:
        return DEFAULT_KEY if self.key is None else self.key


@dataclass(frozen=True)
class Settings:
    """The validated ``SESSION_EXT`` setting."""

    binds: dict[str | None, BindSettings] = field(default_factory=dict)
    session_options: dict[str, Any] = field(default_factory=dict)
    commit_on_teardown: bool = False


def _hide_password(url: str) -> str:
    """``url`` with the password of ``scheme://user:password@host`` masked, for
    messages about URLs that cannot be parsed (and so cannot hide it themselves)."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url, count=1)


def bind_key(name: str) -> str | None:
    """The internal key of a bind name: ``"default"`` is None."""
    return None if name == DEFAULT_KEY else name


class _Reader:
    """Collects problems while reading; one method per part of the setting."""

    def __init__(
        self, django_databases: Mapping[str, Any], base_dir: Any, session_class: type
    ) -> None:
        self.django_databases = django_databases
        self.base_dir = base_dir
        self.session_class = session_class
        self.problems: list[Problem] = []

    def problem(self, id_: str, where: str, message: str, hint: str) -> None:
        self.problems.append(Problem(id_, where, message, hint))

    # -- scalar values -----------------------------------------------------------
    def boolean(self, raw: Mapping[str, Any], key: str) -> bool:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            self.problem(E_WRONG_TYPE, f"{SETTING}[{key!r}]",
                         f"must be True or False, not {value!r} ({type(value).__name__}).",
                         f"Set {SETTING}[{key!r}] = True (or False, the default).")
            return False
        return value

    def options(self, value: Any, where: str, example: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.problem(E_WRONG_TYPE, where,
                         f"must be a dict of keyword arguments, not {type(value).__name__}.",
                         f"Use a dict such as {example}.")
            return {}
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            self.problem(E_WRONG_TYPE, where, f"has option names that are not strings: {bad!r}.",
                         f"Use a dict with string keys, such as {example}.")
            return {}
        return dict(value)

    def unknown_keys(self, raw: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
        for key in raw:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key).upper(), known, n=1)
            hint = f"Did you mean {close[0]!r}? " if close else ""
            self.problem(E_UNKNOWN_KEY, where, f"has an unknown key {key!r}.",
                         f"{hint}The known keys are {', '.join(known)}.")

    # -- URLs and binds ----------------------------------------------------------
    def url(self, value: Any, where: str) -> URL | None:
        if isinstance(value, URL):
            return value
        example = "'sqlite:///app.sqlite3' or 'postgresql+psycopg://user:pass@host/dbname'"
        if not isinstance(value, str) or not value.strip():
            self.problem(E_BAD_URL, where, f"is not a database URL: {value!r}.",
                         f"Give a SQLAlchemy URL such as {example}.")
            return None
        try:
            return make_url(value.strip())
        except (SAArgumentError, ValueError) as err:  # ValueError: a port that is no number
            shown = _hide_password(value)
            reason = str(err).replace(value, shown)
            self.problem(E_BAD_URL, where, f"cannot be parsed as a database URL: {shown!r} "
                         f"({reason}).", f"Give a SQLAlchemy URL such as {example}.")
            return None

    def derived(self, alias: Any, where: str) -> tuple[URL, dict[str, Any]] | None:
        if not isinstance(alias, str):
            self.problem(E_WRONG_TYPE, where,
                         f"must be the name of a Django database (a string), not {alias!r}.",
                         "Use {'DJANGO_DATABASE': 'default'}, or any other key of "
                         "settings.DATABASES.")
            return None
        entry = self.django_databases.get(alias)
        if entry is not None and not isinstance(entry, Mapping):
            self.problem(E_NOT_DERIVABLE, where,
                         f"names settings.DATABASES[{alias!r}], which is not a dict but "
                         f"{type(entry).__name__}.",
                         f"Fix settings.DATABASES[{alias!r}] (a dict with ENGINE and NAME), or "
                         f"give {SETTING}['DATABASES'] a SQLAlchemy URL for this bind.")
            return None
        if not entry:
            self.problem(E_NOT_DERIVABLE, where,
                         f"names the Django database {alias!r}, which settings.DATABASES "
                         f"does not define (it has {sorted(self.django_databases)}).",
                         f"Define settings.DATABASES[{alias!r}], or give {SETTING}"
                         "['DATABASES'] a SQLAlchemy URL for this bind.")
            return None
        try:
            return url_from_django(entry)
        except ValueError as err:
            self.problem(E_NOT_DERIVABLE, where,
                         f"cannot be derived from settings.DATABASES[{alias!r}]: {err}.",
                         f"Fix settings.DATABASES[{alias!r}] if it is wrong; otherwise give "
                         f"{SETTING}['DATABASES'] a SQLAlchemy URL for this bind, e.g. "
                         "'mysql+pymysql://user:pass@host/dbname'.")
            return None

    def entry(self, name: str, value: Any, base: dict[str, Any]) -> BindSettings | None:
        where = f"{SETTING}['DATABASES'][{name!r}]"
        options = dict(base)
        if isinstance(value, (str, URL)):
            url = self.url(value, where)
            return None if url is None else self.resolved(name, url, options, where)
        if not isinstance(value, Mapping):
            self.problem(E_WRONG_TYPE, where,
                         f"must be a URL string or a dict, not {type(value).__name__}.",
                         "Use 'sqlite:///app.sqlite3', {'URL': ..., 'ENGINE_OPTIONS': {...}} "
                         "or {'DJANGO_DATABASE': 'default'}.")
            return None
        self.unknown_keys(value, BIND_ENTRY_KEYS, where)
        if ("URL" in value) == ("DJANGO_DATABASE" in value):
            self.problem(E_BAD_ENTRY, where, "needs exactly one of 'URL' and 'DJANGO_DATABASE'.",
                         "Use {'URL': 'sqlite:///app.sqlite3'} for a URL, or {'DJANGO_DATABASE':"
                         " 'default'} for the database of a Django DATABASES alias.")
            return None
        if "URL" in value:
            url = self.url(value["URL"], f"{where}['URL']")
        else:
            found = self.derived(value["DJANGO_DATABASE"], f"{where}['DJANGO_DATABASE']")
            url = None if found is None else found[0]
            if found is not None:
                options.update(found[1])
        options.update(self.options(value.get("ENGINE_OPTIONS"), f"{where}['ENGINE_OPTIONS']",
                                    "{'pool_size': 5}"))
        if url is None:
            return None
        return self.resolved(name, url, options, where, django_alias=value.get("DJANGO_DATABASE"))

    def resolved(
        self, name: str, url: URL, options: dict[str, Any], where: str,
        django_alias: str | None = None,
    ) -> BindSettings:
        """SQLite specifics: relative paths of our URLs are relative to
        ``BASE_DIR`` (a path from Django's DATABASES stays the one Django
        opens), and an in-memory database is one connection every thread may use."""
        if url.get_backend_name() == "sqlite":
            url, options = self.sqlite(url, options, where,
                                       relative_to_base=django_alias is None)
        return BindSettings(bind_key(name), url, options, where, django_alias)

    def sqlite(
        self, url: URL, options: dict[str, Any], where: str, relative_to_base: bool
    ) -> tuple[URL, dict[str, Any]]:
        database = url.database or ""
        uri_mode = str(url.query.get("uri", "")).lower() in ("true", "1")
        in_memory = database in ("", ":memory:") or (
            uri_mode and ("mode=memory" in database or url.query.get("mode") == "memory")
        )
        if in_memory:
            options.setdefault("poolclass", StaticPool)
            connect_args = options.get("connect_args") or {}
            if isinstance(connect_args, Mapping):  # anything else: create_engine() says (E009)
                options["connect_args"] = {"check_same_thread": False, **connect_args}
            return url, options
        path = database[5:].split("?")[0] if uri_mode and database.startswith("file:") else database
        base_dir = self.base_dir if isinstance(self.base_dir, (str, os.PathLike)) else None
        if not os.path.isabs(path) and base_dir is not None and relative_to_base \
                and not uri_mode:
            path = os.path.join(os.fspath(base_dir), path)
            url = url.set(database=path)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            self.problem(W_SQLITE_DIR, where,
                         f"is a SQLite file in {folder!r}, a directory that does not exist.",
                         "Create the directory (SQLite creates the file, not its folders), or "
                         "fix the path.")
        return url, options

    def databases(self, raw: Mapping[str, Any], base: dict[str, Any]) -> dict[str | None, Any]:
        where = f"{SETTING}['DATABASES']"
        if "DATABASES" not in raw:
            found = self.derived(DEFAULT_KEY, where + " (not set, so Django's 'default')")
            if found is None:
                return {}
            url, options = found
            where = "settings.DATABASES['default']"
            return {None: self.resolved(DEFAULT_KEY, url, {**base, **options}, where,
                                        django_alias=DEFAULT_KEY)}
        value = raw["DATABASES"]
        if not isinstance(value, Mapping) or not value:
            self.problem(E_WRONG_TYPE, where,
                         f"must be a non-empty dict of {{name: url}}, not {value!r}.",
                         f"Use {{'default': 'sqlite:///app.sqlite3'}}, or remove {SETTING}"
                         "['DATABASES'] to use Django's DATABASES['default'].")
            return {}
        binds: dict[str | None, Any] = {}
        for name, entry in value.items():
            if not isinstance(name, str) or not name.strip() or name == ALL_BINDS:
                self.problem(E_BAD_BIND_KEY, f"{where}[{name!r}]",
                             f"{name!r} cannot be a bind name.",
                             "Bind names are non-empty strings: 'default' for models without "
                             f"__bind_key__, any other name ({ALL_BINDS!r} is reserved) for "
                             "models whose __bind_key__ is that name.")
                continue
            bind = self.entry(name, entry, base)
            if bind is not None:
                binds[bind.key] = bind
        if DEFAULT_KEY not in value:
            self.problem(W_NO_DEFAULT, where, "has no 'default' database.",
                         "Only models with a __bind_key__ can be used. Add 'default' if "
                         "other models exist.")
        return binds

    def session_options(self, value: Any) -> dict[str, Any]:
        where = f"{SETTING}['SESSION_OPTIONS']"
        options = self.options(value, where, "{'expire_on_commit': False}")
        allowed = session_keywords()
        for key in list(options):
            if key in ("bind", "binds"):
                self.problem(E_SESSION_OPTIONS, where, f"sets {key!r}, which the adapter "
                             "manages.", f"Configure databases in {SETTING}['DATABASES'] and "
                             "give models a __bind_key__.")
            elif key == "class_":
                cls = options[key]
                if isinstance(cls, type) and issubclass(cls, self.session_class):
                    continue
                self.problem(E_SESSION_OPTIONS, where, f"'class_' is {cls!r}, not a subclass "
                             "of session_ext.django.Session.", "Subclass "
                             "session_ext.django.Session (it finds the configured engines).")
            elif key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f"Did you mean {close[0]!r}? " if close else ""
                self.problem(E_SESSION_OPTIONS, where, f"{key!r} is not a Session() keyword.",
                             f"{hint}Known keywords: {', '.join(sorted(allowed))}.")
            else:
                continue
            del options[key]
        return options


def session_keywords() -> set[str]:
    """The keyword arguments of the core ``Session()`` that settings may give."""
    params = inspect.signature(CoreSession.__init__).parameters
    return {name for name in params if name not in ("self", "bind", "binds")}


def read_settings(
    raw: Any,
    django_databases: Mapping[str, Any],
    base_dir: Any = None,
    *,
    session_class: type = CoreSession,
) -> tuple[Settings, list[Problem]]:
    """Validate ``settings.SESSION_EXT`` (``raw``; None when unset).

    ``django_databases`` is ``settings.DATABASES`` (for derived URLs) and
    ``base_dir`` the folder relative SQLite paths are in (``settings.BASE_DIR``);
    a ``SESSION_OPTIONS['class_']`` must subclass ``session_class`` (the
    registry passes ``session_ext.django.Session``).  Returns the settings
    read and the problems found; with any error-level problem the settings
    must not be used.
    """
    reader = _Reader(django_databases or {}, base_dir, session_class)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        reader.problem(E_NOT_A_DICT, SETTING, f"must be a dict, not {type(raw).__name__}.",
                       f"Set {SETTING} = {{'DATABASES': {{'default': 'sqlite:///app.sqlite3'}}}}"
                       ", or remove it to share Django's DATABASES['default'].")
        return Settings(), reader.problems
    reader.unknown_keys(raw, KNOWN_KEYS, SETTING)
    base = reader.options(raw.get("ENGINE_OPTIONS"), f"{SETTING}['ENGINE_OPTIONS']",
                          "{'pool_pre_ping': True}")
    if reader.boolean(raw, "ECHO"):
        base["echo"] = True
    settings = Settings(
        binds=reader.databases(raw, base),
        session_options=reader.session_options(raw.get("SESSION_OPTIONS")),
        commit_on_teardown=reader.boolean(raw, "COMMIT_ON_TEARDOWN"),
    )
    return settings, reader.problems
