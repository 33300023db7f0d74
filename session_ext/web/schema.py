"""Binds as a whole: choosing them, their tables, create/drop, the check.

What ``db.create_all()``/``db.drop_all()`` and the command-line tools of
both adapters (``flask session-ext ...``, ``manage.py session_ext_*``) do
per bind.  A bind is named by its key: None for the default database, else
the name the application configured.  The adapters pass what they know as
arguments: the configured keys, how to find a key's engine (which raises
their configuration error for an unknown key), and the name the default
database has in their configuration (Django's ``"default"``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData, Table, inspect, text
from sqlalchemy.engine import Engine

#: the bind selector meaning every configured bind
ALL_BINDS = "__all__"


def select_bind_keys(
    selector: Any,
    configured: Iterable[str | None],
    check: Callable[[str | None], Any],
    *,
    argument: str = "bind_key",
    default_name: str | None = None,
    error: type[Exception] = TypeError,
) -> list[str | None]:
    """The bind keys ``selector`` names: :data:`ALL_BINDS` (every configured
    one), None or ``default_name`` (the default database), a key, or an
    iterable of those.  ``check(key)`` must raise for a key that is not
    configured; a selector of any other type raises ``error``."""
    if selector == ALL_BINDS:
        return list(configured)
    if selector is None or isinstance(selector, str):
        names: list[Any] = [selector]
    elif isinstance(selector, Iterable):
        names = list(selector)
    else:
        raise error(
            f"{argument} must be '{ALL_BINDS}', None, a bind key or a list of them, "
            f"not {selector!r}"
        )
    keys = [None if default_name is not None and name == default_name else name
            for name in names]
    for key in keys:
        check(key)
    return keys


def tables_of_bind(
    metadata: MetaData, key: str | None, *, default_name: str | None = None
) -> list[Table]:
    """The tables of ``metadata`` stored in bind ``key`` (by their
    ``info["bind_key"]``), in foreign-key order."""
    out = []
    for table in metadata.sorted_tables:
        table_key = table.info.get("bind_key")
        if default_name is not None and table_key == default_name:
            table_key = None
        if table_key == key:
            out.append(table)
    return out


def create_all(
    metadata: MetaData,
    keys: Iterable[str | None],
    tables_of: Callable[[str | None], list[Table]],
    bind_of: Callable[[str | None], Any],
) -> None:
    """Create the missing tables of each bind, on ``bind_of(key)``."""
    for key in keys:
        tables = tables_of(key)
        if tables:
            metadata.create_all(bind_of(key), tables=tables)


def drop_all(
    metadata: MetaData,
    keys: Iterable[str | None],
    tables_of: Callable[[str | None], list[Table]],
    bind_of: Callable[[str | None], Any],
) -> None:
    """Drop the tables of each bind, on ``bind_of(key)``."""
    for key in keys:
        tables = tables_of(key)
        if tables:
            metadata.drop_all(bind_of(key), tables=tables)


@dataclass(frozen=True)
class BindCheck:
    """What :func:`check_database` found for one bind."""

    label: str
    url: str
    expected: list[str]
    #: the error of connecting (None: connected)
    error: Exception | None = None
    dialect: str = ""
    version: str = "?"
    elapsed_ms: float = 0.0
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.missing

    def line(self, create_command: str) -> str:
        """One line of the report, ``ok   ...`` or ``FAIL ...``; a bind that
        misses tables is told to run ``create_command``."""
        if self.error is not None:
            return (f"FAIL {self.label}: {self.url}: cannot connect: "
                    f"{type(self.error).__name__}: {self.error}")
        present = len(self.expected) - len(self.missing)
        line = (f"{self.label}: {self.url} ({self.dialect} {self.version}, "
                f"{self.elapsed_ms:.1f} ms): {present}/{len(self.expected)} model tables present")
        if self.missing:
            return f"FAIL {line}; missing: {', '.join(self.missing)} (run `{create_command}`)"
        return f"ok   {line}"


def check_database(label: str, engine: Engine, expected: list[str]) -> BindCheck:
    """Connect, run ``SELECT 1`` and compare the tables ``expected`` with
    those the database has."""
    url = engine.url.render_as_string(hide_password=True)
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            present = set(inspect(conn).get_table_names())
            info = conn.dialect.server_version_info or ()
    except Exception as err:
        return BindCheck(label, url, expected, error=err)
    elapsed = (time.perf_counter() - started) * 1000
    return BindCheck(
        label, url, expected,
        dialect=engine.dialect.name,
        version=".".join(str(part) for part in info) or "?",
        elapsed_ms=elapsed,
        missing=[name for name in expected if name not in present],
    )
