"""``manage.py session_ext_drop_all [--bind NAME]... [--noinput]``: drop the
model tables, after asking (every row in them is lost)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from ...facade import db
from ..common import add_bind_argument, label, selected_keys, table_names


class Command(BaseCommand):
    help = "Drop the tables of the session_ext models, and every row in them."

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_bind_argument(parser)
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive",
            help="do not ask for confirmation",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        keys = selected_keys(options["binds"])
        plan = {key: table_names(key) for key in keys}
        if options["interactive"]:
            listing = "\n".join(
                f"  {label(key)} ({db.get_engine(key).url.render_as_string(hide_password=True)})"
                f": {', '.join(names) or '-'}"
                for key, names in plan.items()
            )
            self.stdout.write(f"This drops these tables and every row in them:\n{listing}")
            answer = input("Type 'yes' to continue, or anything else to cancel: ")
            if answer.strip().lower() != "yes":
                self.stdout.write("Cancelled; nothing was dropped.")
                return
        for key, names in plan.items():
            db.drop_all(key)
            self.stdout.write(
                f"{label(key)}: {len(names)} table(s) dropped"
                f"{': ' + ', '.join(names) if names else ''}"
            )
