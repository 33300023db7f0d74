"""What the ``session_ext_*`` management commands share: ``--bind`` and labels."""

from __future__ import annotations

from argparse import ArgumentParser

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError

from ..conf import DEFAULT_KEY
from ..facade import db


def add_bind_argument(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--bind", action="append", dest="binds", metavar="NAME",
        help="a database of SESSION_EXT['DATABASES'] ('default' for the default one); "
        "repeat for several; every database when omitted",
    )


def selected_keys(names: list[str] | None) -> list[str | None]:
    """The bind keys named by ``--bind`` (all without it); ``CommandError``
    for a name that is not configured or settings that are broken."""
    try:
        return db.bind_keys(names if names else "__all__")
    except ImproperlyConfigured as err:
        raise CommandError(str(err)) from err


def label(key: str | None) -> str:
    return DEFAULT_KEY if key is None else key


def table_names(key: str | None) -> list[str]:
    """The model tables of bind ``key``; ``CommandError`` for bad bind keys."""
    try:
        return [table.name for table in db.tables(key)]
    except ImproperlyConfigured as err:
        raise CommandError(str(err)) from err
