"""The example apps served by real servers (gunicorn threads, gunicorn
``--preload`` with forked sync workers, uvicorn ASGI), under a bounded load
of reads, writes, views that raise and probes, on a SQLite file and on
PostgreSQL.

After each run: no 5xx but the deliberate ones, every acknowledged write on
disk exactly once, no request ever saw another request's flushed but
uncommitted row, every worker stopped with an empty scoped registry and no
connection checked out, and no PostgreSQL backend left idle in a transaction.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from rely_load import (
    CONFIGS,
    RESULTS,
    Budget,
    ServerConfig,
    add_worker_figures,
    django_csrf,
    figures_for,
    idle_in_transaction,
    make_plan,
    run_load,
    serve,
    settle,
)
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from session_ext.engines import configure_sqlite


@pytest.fixture
def database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[
    tuple[str, Engine]
]:
    """(URL for the server, an engine of the test's own on the same database)."""
    if backend == "postgresql":
        engine = request.getfixturevalue("pg_engine")
        yield engine.url.render_as_string(hide_password=False), engine
        return
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    engine = configure_sqlite(create_engine(url))
    try:
        yield url, engine
    finally:
        engine.dispose()


def _shorten(lines: list[str], limit: int = 15) -> str:
    more = f"\n... and {len(lines) - limit} more" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


@pytest.mark.parametrize("backend", ["sqlite_file", "postgresql"], indirect=True)
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.name)
def test_served_app_under_load(
    config: ServerConfig,
    backend: str,
    database: tuple[str, Engine],
    budget: Budget,
    tmp_path: Path,
) -> None:
    url, engine = database
    workdir = tmp_path / "run"
    workdir.mkdir()
    idle = None
    with serve(config, url, workdir) as server:
        csrf = django_csrf(server.port) if config.app == "django" else None
        plan = make_plan(config.app, budget.requests, zlib.crc32(config.name.encode()), csrf)
        outcomes, seconds = run_load(server.port, plan, budget.concurrency)
        if backend == "postgresql":
            idle = settle(lambda: idle_in_transaction(engine))
    figures = figures_for(config, backend, budget, outcomes, seconds, engine)
    figures.idle_in_transaction = idle
    add_worker_figures(figures, server)
    RESULTS.append(figures)

    log = f"\n--- server log (tail) ---\n{server.log_tail()}"
    assert not figures.unexpected, (
        f"{len(figures.unexpected)} unexpected answers:\n{_shorten(figures.unexpected)}{log}"
    )
    assert figures.deliberate_500 > 0 and figures.acknowledged_writes > 0, figures
    assert not figures.lost_writes, f"acknowledged but not on disk: {figures.lost_writes}"
    assert not figures.duplicated_writes, f"stored twice: {figures.duplicated_writes}"
    assert figures.uncommitted_seen == 0, "a request saw another request's uncommitted row"
    assert figures.uncommitted_on_disk == 0, "a flushed row of a failed request was committed"
    assert figures.processes_reporting >= config.processes, (
        f"only {figures.processes_reporting} of {config.processes} worker processes reported"
        f"{log}"
    )
    assert figures.leaked_sessions == 0, server.worker_figures
    assert figures.leaked_connections == 0, server.worker_figures
    if backend == "postgresql":
        assert idle == 0, f"{idle} backends still idle in transaction after the load"
