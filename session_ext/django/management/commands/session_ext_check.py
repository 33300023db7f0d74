"""``manage.py session_ext_check``: connect to each database and report.

One line per bind: ``ok`` or ``FAIL``, the URL without its password, the
server version, the time to connect and run ``SELECT 1``, and which model
tables exist.  Fails (exit status 1) when a database is unreachable or
misses tables.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from sqlalchemy import inspect, text

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
        engine = db.get_engine(key)
        url = engine.url.render_as_string(hide_password=True)
        expected = table_names(key)
        started = time.perf_counter()
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                present = set(inspect(conn).get_table_names())
                info = conn.dialect.server_version_info or ()
        except Exception as err:
            self.stdout.write(self.style.ERROR(
                f"FAIL {label(key)}: {url}: cannot connect: {type(err).__name__}: {err}"
            ))
            return False
        elapsed = (time.perf_counter() - started) * 1000
        version = ".".join(str(part) for part in info) or "?"
        missing = [name for name in expected if name not in present]
        detail = f"{len(expected) - len(missing)}/{len(expected)} model tables present"
        line = f"{label(key)}: {url} ({engine.dialect.name} {version}, {elapsed:.1f} ms): {detail}"
        if missing:
            self.stdout.write(self.style.ERROR(
                f"FAIL {line}; missing: {', '.join(missing)} "
                "(run `manage.py session_ext_create_all`)"
            ))
            return False
        self.stdout.write(self.style.SUCCESS(f"ok   {line}"))
        return True
