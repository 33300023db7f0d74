"""Shared fixtures: real databases for every test.

Fixtures
--------
``backend``          "sqlite_memory" | "sqlite_file" | "postgresql"; parametrizes the test.
``engine``           a fresh Engine on an empty database of the current ``backend``.
``sqlite_engine``    an in-memory SQLite Engine only (not parametrized).
``pg_engine``        a PostgreSQL Engine only (skipped when PostgreSQL is unavailable).
``pg_server``        the session's ``pgserver.PostgresServer`` (started on first use).
``pg_database``      the session's PG test database; ``.url``, ``.reset()`` (empties it).
``count_statements`` ``with count_statements(engine) as stmts:`` records every statement.

Tests that touch PostgreSQL get the ``postgresql`` marker automatically, so
``-m "not postgresql"`` runs the SQLite part only.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from pgserver import ENV_URL, Availability, PostgresServer
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from session_ext.engines import configure_sqlite

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    # Make `import session_ext` work from the work tree even when not installed.
    sys.path.insert(0, str(ROOT))

BACKENDS = ("sqlite_memory", "sqlite_file", "postgresql")
PG_DATABASE = "session_ext_test" + (
    f"_{os.environ['PYTEST_XDIST_WORKER']}" if os.environ.get("PYTEST_XDIST_WORKER") else ""
)
PG_SKIP_PREFIX = "PostgreSQL unavailable"
PG_FIXTURES = {"pg_engine", "pg_server", "pg_database"}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


class _PgState:
    """What the header/summary hooks report about PostgreSQL."""

    _availability: Availability | None = None
    version: str | None = None  # of the server actually used, once started
    description: str | None = None

    @classmethod
    def get_availability(cls) -> Availability:
        if cls._availability is None:
            cls._availability = PostgresServer.available()
        return cls._availability


# -- hooks -------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--full",
        action="store_true",
        default=False,
        help="tests/reliability: the full load budget (5,000 requests at 32 concurrent per "
        "server configuration) instead of CI's (400 at 16); same as "
        "SESSION_EXT_RELIABILITY_FULL=1",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "postgresql: the test uses the PostgreSQL server (added automatically; "
        "deselect with -m 'not postgresql')",
    )


@pytest.hookimpl(tryfirst=True)  # before -m deselection sees the items
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_pg = callspec is not None and callspec.params.get("backend") == "postgresql"
        if on_pg or PG_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgresql)


def _loud_lines(reason: str) -> list[str]:
    lines = [
        "!" * 78,
        "!!! PostgreSQL TESTS ARE SKIPPED: " + reason,
        "!!! Only SQLite was tested. Install PostgreSQL 15 (initdb/pg_ctl) or set",
        f"!!! ${ENV_URL} to a server URL to run them.",
    ]
    if _in_ci():
        lines.append("!!! CI=true: THIS CI RUN DID NOT TEST POSTGRESQL AT ALL.")
    lines.append("!" * 78)
    return lines


def pytest_report_header(config: pytest.Config) -> list[str]:
    availability = _PgState.get_availability()
    if not availability:
        return _loud_lines(availability.reason)
    if os.environ.get(ENV_URL):
        where = PostgresServer().display_url()
        return [f"postgresql: external server {where} (from ${ENV_URL})"]
    version = PostgresServer.binaries_version() or "unknown version"
    return [f"postgresql: {version}; private cluster started on first use, {availability.reason}"]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    skipped = [
        rep
        for rep in terminalreporter.stats.get("skipped", [])
        if PG_SKIP_PREFIX in str(getattr(rep, "longrepr", ""))
    ]
    if skipped:
        terminalreporter.write_sep("!", f"{len(skipped)} PostgreSQL tests SKIPPED", red=True)
        for line in _loud_lines(_PgState.get_availability().reason):
            terminalreporter.write_line(line, red=True, bold=True)
    elif _PgState.version is not None:
        terminalreporter.write_line(
            f"postgresql: tested against {_PgState.version}; {_PgState.description}"
        )


# -- PostgreSQL --------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server, started the first time a test needs it.

    Skips when no server can be had (binaries absent and no external URL);
    a server that exists but fails to start is an error, not a skip.
    """
    availability = _PgState.get_availability()
    if not availability:
        pytest.skip(f"{PG_SKIP_PREFIX}: {availability.reason}")
    server = PostgresServer()
    server.start()
    try:
        _PgState.version = server.server_version().split(" on ")[0]
        _PgState.description = server.describe()
        if server.startup_seconds is not None:
            _PgState.description += f", started in {server.startup_seconds:.2f}s"
        yield server
    finally:
        server.stop()


class _PgDatabase:
    """The one test database of the session, emptied after every test."""

    def __init__(self, server: PostgresServer, name: str) -> None:
        self.server = server
        self.name = name
        self.url = server.url(name)
        self.dirty = False

    def reset(self) -> None:
        """Return the database to empty, whatever the last test left behind.

        Order matters: disconnect leaked sessions (which hold locks), roll back
        prepared transactions (which hold locks without a session), then drop
        every user schema.  lock_timeout turns a would-be hang into an error.
        """
        from psycopg import sql

        with self.server.connect(self.name) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )
            gids = conn.execute(
                "SELECT gid FROM pg_prepared_xacts WHERE database = current_database()"
            ).fetchall()
            for (gid,) in gids:
                conn.execute(sql.SQL("ROLLBACK PREPARED {}").format(sql.Literal(gid)))
            schemas = conn.execute(
                "SELECT nspname FROM pg_namespace "
                "WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
            ).fetchall()
            for (schema,) in schemas:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            conn.execute("CREATE SCHEMA public")
        self.dirty = False


@pytest.fixture(scope="session")
def pg_database(pg_server: PostgresServer) -> Iterator[_PgDatabase]:
    pg_server.drop_database(PG_DATABASE)  # leftovers on an external server
    pg_server.create_database(PG_DATABASE)
    try:
        yield _PgDatabase(pg_server, PG_DATABASE)
    finally:
        if pg_server.external_url is not None:
            pg_server.drop_database(PG_DATABASE)


@contextlib.contextmanager
def _pg_engine(database: _PgDatabase) -> Iterator[Engine]:
    if database.dirty:
        database.reset()  # the previous test's teardown did not finish
    engine = create_engine(database.url)
    database.dirty = True
    try:
        yield engine
    finally:
        engine.dispose()
        database.reset()


# -- engines -----------------------------------------------------------------


def _sqlite_memory_engine() -> Engine:
    return configure_sqlite(
        create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Name of the database backend this test instance runs on."""
    return request.param


@pytest.fixture
def engine(backend: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A fresh Engine on an empty database; parametrized over all backends."""
    if backend == "postgresql":
        with _pg_engine(request.getfixturevalue("pg_database")) as pg:
            yield pg
        return
    if backend == "sqlite_memory":
        eng = _sqlite_memory_engine()
    elif backend == "sqlite_file":
        path = request.getfixturevalue("tmp_path") / "test.sqlite3"
        eng = configure_sqlite(create_engine(f"sqlite:///{path}"))
    else:  # pragma: no cover - guarded by BACKENDS
        raise AssertionError(backend)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def sqlite_engine() -> Iterator[Engine]:
    """An in-memory SQLite Engine (one shared connection, usable from any thread)."""
    eng = _sqlite_memory_engine()
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def pg_engine(pg_database: _PgDatabase) -> Iterator[Engine]:
    """A PostgreSQL Engine on the empty test database (skips if PG is unavailable)."""
    with _pg_engine(pg_database) as eng:
        yield eng


# -- statement counting ------------------------------------------------------


class ExecutedStatement(NamedTuple):
    statement: str
    parameters: Any
    executemany: bool


class StatementLog:
    """Statements seen by ``count_statements``, in order.

    Sequence of :class:`ExecutedStatement` (so ``len(stmts)``, ``stmts[0]``,
    iteration), plus ``stmts.count`` (an int, same as ``len``) and
    ``stmts.statements`` (just the SQL strings).  One entry per DBAPI cursor
    execution: an ``executemany`` is one entry, and a multi-row INSERT that
    SQLAlchemy batches ("insertmanyvalues") is one entry per batch.
    Transaction control (BEGIN, SAVEPOINT, RELEASE, ROLLBACK TO) is not counted:
    SQLite emits BEGIN as a statement where psycopg does not, and tests count
    the work, not the driver's bookkeeping.
    """

    _CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")

    def __init__(self) -> None:
        self._entries: list[ExecutedStatement] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith(self._CONTROL):
            return
        self._entries.append(ExecutedStatement(statement, parameters, executemany))

    @property
    def count(self) -> int:
        return len(self._entries)

    @property
    def statements(self) -> list[str]:
        return [entry.statement for entry in self._entries]

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index):
        return self._entries[index]

    def __iter__(self) -> Iterator[ExecutedStatement]:
        return iter(self._entries)

    def __repr__(self) -> str:
        body = "\n".join(f"  {i}: {s.statement!r}" for i, s in enumerate(self._entries))
        return f"<StatementLog {len(self._entries)} statements>\n{body}"


@pytest.fixture
def count_statements():
    """Factory: ``with count_statements(engine) as stmts: ...`` records every
    statement executed on *engine* (or on one Connection) inside the block,
    including on connections that were already open."""

    @contextlib.contextmanager
    def counter(target: Engine | Connection) -> Iterator[StatementLog]:
        log = StatementLog()
        event.listen(target, "before_cursor_execute", log._record)
        try:
            yield log
        finally:
            event.remove(target, "before_cursor_execute", log._record)

    return counter
