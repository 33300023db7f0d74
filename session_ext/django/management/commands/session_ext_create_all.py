"""``manage.py session_ext_create_all [--bind NAME]...``: create missing tables."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from sqlalchemy import inspect

from ...facade import db
from ..common import add_bind_argument, label, selected_keys, table_names


class Command(BaseCommand):
    help = "Create the missing tables of the session_ext models (existing ones are kept)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_bind_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        for key in selected_keys(options["binds"]):
            wanted = table_names(key)
            with db.get_engine(key).connect() as conn:
                existing = set(inspect(conn).get_table_names())
            db.create_all(key)
            created = [name for name in wanted if name not in existing]
            self.stdout.write(
                f"{label(key)}: {len(created)} table(s) created"
                f"{': ' + ', '.join(created) if created else ''}; "
                f"{len(wanted) - len(created)} already present"
            )
