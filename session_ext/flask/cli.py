"""``flask session-ext ...``: create, drop and check the app's databases.

::

    flask --app myapp session-ext create-all [--bind KEY]...
    flask --app myapp session-ext drop-all [--bind KEY]... [--yes]
    flask --app myapp session-ext check

``--bind`` takes a key of ``SESSION_EXT_BINDS``, or ``default`` for
``SESSION_EXT_DATABASE_URI``; without it every bind is used.  ``check``
connects to each bind, runs ``SELECT 1`` and compares the tables the models
expect with those the database has; it exits with status 1 if a bind is
unreachable or misses tables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import Table
from sqlalchemy.engine import Engine

from ..web.schema import check_database

DEFAULT_NAME = "default"

#: the current app's engines by bind key
EnginesOf = Callable[[], Mapping[str | None, Engine]]
#: the model tables of a bind
TablesOf = Callable[[str | None], list[Table]]


def _label(key: str | None) -> str:
    return DEFAULT_NAME if key is None else key


def _selected(engines: Mapping[str | None, Engine], names: tuple[str, ...]) -> list[str | None]:
    if not names:
        return list(engines)
    keys: list[str | None] = []
    for name in names:
        key: str | None = name
        if name == DEFAULT_NAME and name not in engines:
            key = None
        if key not in engines:
            known = ", ".join(_label(k) for k in engines)
            raise click.BadParameter(f"no bind {name!r}; configured: {known}", param_hint="--bind")
        keys.append(key)
    return keys


def make_cli(
    *,
    engines: EnginesOf,
    tables_of: TablesOf,
    create_all: Callable[[list[str | None]], Any],
    drop_all: Callable[[list[str | None]], Any],
) -> AppGroup:
    """The ``session-ext`` command group of one extension, given the current
    app's engines, the tables of a bind and how to create and drop them."""
    group = AppGroup("session-ext", help="Create, drop and check the session_ext databases.")
    bind_option = click.option(
        "--bind",
        "binds",
        multiple=True,
        metavar="KEY",
        help=f"Only this bind ('{DEFAULT_NAME}' for SESSION_EXT_DATABASE_URI); repeatable.",
    )

    def names(key: str | None) -> list[str]:
        return [table.name for table in tables_of(key)]

    @group.command("create-all")
    @bind_option
    def create_all_command(binds: tuple[str, ...]) -> None:
        """Create the tables of every model that do not exist yet."""
        keys = _selected(engines(), binds)
        create_all(keys)
        for key in keys:
            created = names(key)
            click.echo(f"{_label(key)}: {len(created)} table(s) ensured: "
                       f"{', '.join(created) or '-'}")

    @group.command("drop-all")
    @bind_option
    @click.confirmation_option(
        "--yes", prompt="Drop every table of the models (and their data)?",
        help="Do not ask for confirmation.",
    )
    def drop_all_command(binds: tuple[str, ...]) -> None:
        """Drop the tables of every model (data is lost)."""
        keys = _selected(engines(), binds)
        drop_all(keys)
        for key in keys:
            dropped = names(key)
            click.echo(f"{_label(key)}: {len(dropped)} table(s) dropped: "
                       f"{', '.join(dropped) or '-'}")

    @group.command("check")
    def check() -> None:
        """Connect to each bind and report whether the model tables exist."""
        failed = False
        for key, engine in engines().items():
            report = check_database(_label(key), engine, names(key))
            failed = failed or not report.ok
            click.echo(report.line("flask session-ext create-all"))
        if failed:
            raise click.exceptions.Exit(1)

    return group
