"""Databases and budget of the differential test.

Each library gets its own database, emptied before every example:

* ``sqlite_memory``: a new in-memory database per example (one connection,
  ``StaticPool``); rows are read on that same connection, so they include
  what the session has flushed but not committed;
* ``sqlite_file``: one file per library; rows are read on a second, autocommit
  connection (committed rows only);
* ``postgresql``: two databases on the suite's server (``<test db>_diff_sa``
  and ``<test db>_diff_se``); rows read on an autocommit connection.

Budget: the default ("ci") runs a fixed set of programs per backend (see
``MODES``); ``pytest tests/differential --long`` or
``SESSION_EXT_DIFFERENTIAL=long`` runs many more, randomly (docs/testing.md).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from session_ext.engines import configure_sqlite

from .compare import Database
from .models import LIBRARIES, TABLES, Models, build_models

ENV_MODE = "SESSION_EXT_DIFFERENTIAL"
ENV_SHRINK = "SESSION_EXT_DIFFERENTIAL_SHRINK"
ENV_EXAMPLES = "SESSION_EXT_DIFFERENTIAL_EXAMPLES"
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)
#: examples per backend and steps per program
MODES = {
    "ci": {"max_examples": 200, "max_steps": 40, "derandomize": True},
    "long": {"max_examples": 4000, "max_steps": 80, "derandomize": False},
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="differential test: run many more random programs (also: "
        f"{ENV_MODE}=long); only seen when tests/differential is on the command line",
    )


@pytest.fixture(scope="session")
def differential_mode(request: pytest.FixtureRequest) -> str:
    if request.config.getoption("--long", default=False):
        return "long"
    return os.environ.get(ENV_MODE, "ci")


@pytest.fixture(scope="session")
def budget(differential_mode: str) -> tuple[settings, int]:
    """(Hypothesis settings, maximum steps per program) of the current mode."""
    mode = MODES[differential_mode]
    return (
        settings(
            # SESSION_EXT_DIFFERENTIAL_EXAMPLES=n: n programs per backend instead
            max_examples=int(os.environ.get(ENV_EXAMPLES, mode["max_examples"])),
            derandomize=mode["derandomize"],
            deadline=None,
            database=None if mode["derandomize"] else settings.default.database,
            suppress_health_check=list(HealthCheck),
            print_blob=True,
            # SESSION_EXT_DIFFERENTIAL_SHRINK=0: report failing programs unshrunk, at
            # once (for a quick survey of what differs; shrinking can take minutes)
            phases=tuple(Phase) if os.environ.get(ENV_SHRINK, "1") != "0" else NO_SHRINK,
        ),
        mode["max_steps"],
    )


@pytest.fixture(scope="session")
def models() -> dict[str, Models]:
    """Each library's models, built once (mapper configuration is not free)."""
    return {library: build_models(library) for library in LIBRARIES}


def _rows(fetch: Any) -> dict[str, list[tuple[Any, ...]]]:
    return {t: sorted((tuple(r) for r in fetch(f"SELECT * FROM {t}")), key=repr) for t in TABLES}


class SqliteMemoryDatabases:
    may_keep_old = False  # one shared connection: a second session would share it

    def __init__(self, models: dict[str, Models]) -> None:
        self.models = models

    @contextlib.contextmanager
    def example(self) -> Iterator[dict[str, Database]]:
        dbs, engines = {}, []
        for library in LIBRARIES:
            conn = sqlite3.connect(":memory:", check_same_thread=False)
            engine = configure_sqlite(
                create_engine("sqlite://", poolclass=StaticPool, creator=lambda c=conn: c)
            )
            self.models[library].metadata.create_all(engine)
            engines.append((engine, conn))

            def read(conn: sqlite3.Connection = conn) -> dict[str, list[tuple[Any, ...]]]:
                return _rows(lambda sql: conn.execute(sql).fetchall())

            dbs[library] = Database(engine, read, "sqlite://", ", poolclass=StaticPool")
        try:
            yield dbs
        finally:
            for engine, conn in engines:
                engine.dispose()
                conn.close()


class _Persistent:
    """A database per library that lives for the whole test, emptied per example."""

    may_keep_old = True

    def __init__(self, dbs: dict[str, Database], empty: dict[str, Any]) -> None:
        self.dbs = dbs
        self.empty = empty

    @contextlib.contextmanager
    def example(self) -> Iterator[dict[str, Database]]:
        for library in LIBRARIES:
            self.empty[library]()
        yield self.dbs


@contextlib.contextmanager
def _sqlite_file(models: dict[str, Models], tmp_path: Any) -> Iterator[_Persistent]:
    dbs, empty, closers = {}, {}, []
    for library in LIBRARIES:
        path = tmp_path / f"diff_{library}.sqlite3"
        # a short busy timeout: a lock held by a kept old session fails fast (on both)
        engine = configure_sqlite(create_engine(f"sqlite:///{path}",
                                                connect_args={"timeout": 0.2}))
        models[library].metadata.create_all(engine)
        reader = sqlite3.connect(path, isolation_level=None, timeout=5, check_same_thread=False)

        def read(reader: sqlite3.Connection = reader) -> dict[str, list[tuple[Any, ...]]]:
            return _rows(lambda sql: reader.execute(sql).fetchall())

        def clear(reader: sqlite3.Connection = reader) -> None:
            for table in reversed(TABLES):
                reader.execute(f"DELETE FROM {table}")

        dbs[library] = Database(engine, read, f"sqlite:///{path}",
                                ', connect_args={"timeout": 0.2}')
        empty[library] = clear
        closers += [engine.dispose, reader.close]
    try:
        yield _Persistent(dbs, empty)
    finally:
        for close in closers:
            close()


def _pg_names() -> dict[str, str]:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = "session_ext_test" + (f"_{worker}" if worker else "")
    return {"sqlalchemy": f"{base}_diff_sa", "session_ext": f"{base}_diff_se"}


@pytest.fixture(scope="session")
def pg_pair(pg_server: Any) -> Iterator[dict[str, str]]:
    """Two empty databases on the suite's PostgreSQL server, one per library."""
    names = _pg_names()
    for name in names.values():
        pg_server.drop_database(name)
        pg_server.create_database(name)
    try:
        yield names
    finally:
        for name in names.values():
            pg_server.drop_database(name)


@contextlib.contextmanager
def _postgresql(models: dict[str, Models], pg_server: Any,
                names: dict[str, str]) -> Iterator[_Persistent]:
    dbs, empty, closers = {}, {}, []
    for library in LIBRARIES:
        url = pg_server.url(names[library])
        # a lock held by a kept old session turns into an error instead of a hang
        engine = create_engine(url, connect_args={"options": "-c lock_timeout=500"})
        models[library].metadata.drop_all(engine)
        models[library].metadata.create_all(engine)
        reader = pg_server.connect(names[library])
        reader.execute("SET lock_timeout = '10s'")

        def read(reader: Any = reader) -> dict[str, list[tuple[Any, ...]]]:
            return _rows(lambda sql: reader.execute(sql).fetchall())

        def clear(reader: Any = reader) -> None:
            reader.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")

        dbs[library] = Database(engine, read, url,
                                ', connect_args={"options": "-c lock_timeout=500"}')
        empty[library] = clear
        closers += [engine.dispose, reader.close]
    try:
        yield _Persistent(dbs, empty)
    finally:
        for close in closers:
            close()


@pytest.fixture
def databases(backend: str, models: dict[str, Models],
              request: pytest.FixtureRequest) -> Iterator[Any]:
    """The backend's databases: ``.example()`` yields {library: Database}, emptied."""
    if backend == "sqlite_memory":
        yield SqliteMemoryDatabases(models)
    elif backend == "sqlite_file":
        with _sqlite_file(models, request.getfixturevalue("tmp_path")) as dbs:
            yield dbs
    else:
        with _postgresql(models, request.getfixturevalue("pg_server"),
                         request.getfixturevalue("pg_pair")) as dbs:
            yield dbs
