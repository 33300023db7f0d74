"""A SQLAlchemy URL for one entry of Django's ``settings.DATABASES``.

So that session_ext and the Django ORM can share one database without the
URL being written twice.  Only the ``sqlite3`` and ``postgresql`` backends
(and PostGIS) are understood; anything else is a :class:`ValueError` whose
message says to give ``SESSION_EXT['DATABASES']`` a URL instead.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import URL

SQLITE_BACKENDS = ("django.db.backends.sqlite3",)
POSTGRESQL_BACKENDS = (
    "django.db.backends.postgresql",
    "django.db.backends.postgresql_psycopg2",
    "django.contrib.gis.db.backends.postgis",
)
#: keys of a PostgreSQL entry's OPTIONS that Django consumes itself (the rest
#: are libpq connection parameters, passed on as ``connect_args``)
_DJANGO_ONLY_PG_OPTIONS = frozenset(
    {"isolation_level", "server_side_binding", "assume_role", "pool", "cursor_factory"}
)


_FINGERPRINT_KEYS = ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT")


def fingerprint(entry: Any) -> tuple[Any, ...]:
    """What identifies the database of a ``DATABASES`` entry, to notice that
    it changed in place (as Django's test runner changes ``NAME``)."""
    if not isinstance(entry, Mapping):
        return (entry,)
    return tuple(entry.get(key) or None for key in _FINGERPRINT_KEYS)  # Django fills in ''


def url_from_django(entry: Mapping[str, Any]) -> tuple[URL, dict[str, Any]]:
    """``(url, engine_options)`` for a ``DATABASES`` entry; ``ValueError`` if
    the backend is not one of sqlite3 and postgresql."""
    engine = str(entry.get("ENGINE") or "")
    options = entry.get("OPTIONS") or {}
    if not isinstance(options, Mapping):
        raise ValueError(f"its OPTIONS must be a dict, not {type(options).__name__}")
    if engine in SQLITE_BACKENDS:
        return _sqlite(entry, options)
    if engine in POSTGRESQL_BACKENDS:
        return _postgresql(entry, options)
    raise ValueError(
        f"its ENGINE {engine or '(none)'!r} is not supported: only "
        "'django.db.backends.sqlite3' and 'django.db.backends.postgresql' can be derived"
    )


def _sqlite(entry: Mapping[str, Any], options: Mapping[str, Any]) -> tuple[URL, dict[str, Any]]:
    name = str(entry.get("NAME") or "")
    engine_options: dict[str, Any] = {}
    if "timeout" in options:
        engine_options["connect_args"] = {"timeout": options["timeout"]}
    if name.startswith("file:"):  # a URI filename, as Django passes it with uri=True
        return URL.create("sqlite", database=name, query={"uri": "true"}), engine_options
    if name in ("", ":memory:"):
        return URL.create("sqlite"), engine_options
    # the very path Django opens (relative paths are relative to the working directory)
    return URL.create("sqlite", database=name), engine_options


def _postgresql(
    entry: Mapping[str, Any], options: Mapping[str, Any]
) -> tuple[URL, dict[str, Any]]:
    driver = "psycopg" if importlib.util.find_spec("psycopg") is not None else "psycopg2"
    host = str(entry.get("HOST") or "") or None
    query: dict[str, str] = {}
    if host is not None and host.startswith("/"):  # a unix socket directory
        query["host"] = host
        host = None
    port = entry.get("PORT")
    try:
        port_number = int(port) if port not in (None, "") else None
    except (TypeError, ValueError):
        raise ValueError(f"its PORT {port!r} is not a port number") from None
    url = URL.create(
        f"postgresql+{driver}",
        username=str(entry.get("USER") or "") or None,
        password=str(entry.get("PASSWORD") or "") or None,
        host=host,
        port=port_number,
        database=str(entry.get("NAME") or "") or None,
        query=query,
    )
    connect_args = {
        key: value
        for key, value in options.items()
        if key not in _DJANGO_ONLY_PG_OPTIONS and isinstance(value, (str, int, float))
    }
    return url, ({"connect_args": connect_args} if connect_args else {})
