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

import time
from typing import TYPE_CHECKING, Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import inspect, text

if TYPE_CHECKING:
    from .extension import SessionExt

DEFAULT_NAME = "default"


def _label(key: str | None) -> str:
    return DEFAULT_NAME if key is None else key


def _selected(db: SessionExt, names: tuple[str, ...]) -> list[str | None]:
    engines = db._state_for(current_app).engines
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


def _tables(db: SessionExt, key: str | None) -> list[str]:
    return [t.name for t in db._tables_for(key)]


def make_cli(db: SessionExt) -> AppGroup:
    """The ``session-ext`` command group for one extension."""
    group = AppGroup("session-ext", help="Create, drop and check the session_ext databases.")
    bind_option = click.option(
        "--bind",
        "binds",
        multiple=True,
        metavar="KEY",
        help=f"Only this bind ('{DEFAULT_NAME}' for SESSION_EXT_DATABASE_URI); repeatable.",
    )

    @group.command("create-all")
    @bind_option
    def create_all(binds: tuple[str, ...]) -> None:
        """Create the tables of every model that do not exist yet."""
        keys = _selected(db, binds)
        db.create_all(bind_key=keys)
        for key in keys:
            names = _tables(db, key)
            click.echo(f"{_label(key)}: {len(names)} table(s) ensured: {', '.join(names) or '-'}")

    @group.command("drop-all")
    @bind_option
    @click.confirmation_option(
        "--yes", prompt="Drop every table of the models (and their data)?",
        help="Do not ask for confirmation.",
    )
    def drop_all(binds: tuple[str, ...]) -> None:
        """Drop the tables of every model (data is lost)."""
        keys = _selected(db, binds)
        db.drop_all(bind_key=keys)
        for key in keys:
            names = _tables(db, key)
            click.echo(f"{_label(key)}: {len(names)} table(s) dropped: {', '.join(names) or '-'}")

    @group.command("check")
    def check() -> None:
        """Connect to each bind and report whether the model tables exist."""
        state = db._state_for(current_app)
        failed = False
        for key, engine in state.engines.items():
            url = engine.url.render_as_string(hide_password=True)
            started = time.perf_counter()
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                    present = set(inspect(conn).get_table_names())
                    version = _server_version(conn)
            except Exception as err:
                failed = True
                click.echo(f"FAIL {_label(key)}: {url}: {type(err).__name__}: {err}")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            expected = _tables(db, key)
            missing = [name for name in expected if name not in present]
            status = "ok  "
            detail = f"{len(expected) - len(missing)}/{len(expected)} model tables present"
            if missing:
                failed = True
                status = "FAIL"
                detail += f"; missing: {', '.join(missing)} (run `flask session-ext create-all`)"
            click.echo(
                f"{status} {_label(key)}: {url} ({engine.dialect.name} {version}, "
                f"{elapsed:.1f} ms): {detail}"
            )
        if failed:
            raise click.exceptions.Exit(1)

    return group


def _server_version(conn: Any) -> str:
    info = conn.dialect.server_version_info
    return ".".join(str(part) for part in info) if info else "?"
