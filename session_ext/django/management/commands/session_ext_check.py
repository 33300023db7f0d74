"""``manage.py session_ext_check``: connect to each database and report.

One line per bind: ``ok`` or ``FAIL``, the URL without its password, the
server version, the time to connect and run ``SELECT 1``, and which model
tables exist.  Fails (exit status 1) when a database is unreachable or
misses tables.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ....web.schema import check_database
from ...facade import db
from ..common import add_bind_argument, label, selected_keys, table_names


class Command(BaseCommand):
    help = "Connect to each session_ext database and check that the model tables exist."
    requires_system_checks: list[str] = []  # report broken settings here, as a failure

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_bind_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        failures = [key for key in selected_keys(options["binds"]) if not self._check(key)]
        if failures:
            raise CommandError(
                f"{len(failures)} database(s) failed: {', '.join(label(k) for k in failures)}"
            )

    def _check(self, key: str | None) -> bool:
        report = check_database(label(key), db.get_engine(key), table_names(key))
        style = self.style.SUCCESS if report.ok else self.style.ERROR
        self.stdout.write(style(report.line("manage.py session_ext_create_all")))
        return report.ok
