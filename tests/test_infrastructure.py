"""Tests of the test infrastructure itself (conftest.py and pgserver.py)."""

from __future__ import annotations

import os
import pwd
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pgserver import ENV_URL
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError

TESTS_DIR = Path(__file__).resolve().parent
ROOT = TESTS_DIR.parent

# Connections a test leaks on purpose; kept referenced so that garbage
# collection cannot close them before the fixture teardown has to cope.
_LEAKED: list[object] = []


def _probe_table(metadata: MetaData) -> Table:
    return Table(
        "infra_probe",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(50)),
    )


def _user_schemas(conn) -> list[str]:
    return sorted(
        name
        for name in inspect(conn).get_schema_names()
        if name not in ("information_schema",) and not name.startswith("pg_")
    )


# -- every backend starts empty --------------------------------------------


@pytest.mark.parametrize("attempt", [1, 2])
def test_engine_starts_empty(engine, backend, attempt):
    """Runs twice per backend: whichever instance runs second proves that what
    the first one created is gone, whatever the order."""
    with engine.begin() as conn:
        assert inspect(conn).get_table_names() == []
        if backend == "postgresql":
            assert _user_schemas(conn) == ["public"]
            assert conn.scalar(text("SELECT count(*) FROM pg_type WHERE typname = 'mood'")) == 0

    metadata = MetaData()
    _probe_table(metadata)
    with engine.begin() as conn:
        metadata.create_all(conn)
        conn.execute(text("INSERT INTO infra_probe (name) VALUES ('x')"))
        if backend == "postgresql":
            conn.execute(text("CREATE SCHEMA infra_extra"))
            conn.execute(text("CREATE TABLE infra_extra.t (id int)"))
            conn.execute(text("CREATE TYPE mood AS ENUM ('ok', 'sad')"))
    with engine.connect() as conn:
        assert inspect(conn).get_table_names() == ["infra_probe"]
        assert conn.scalar(text("SELECT count(*) FROM infra_probe")) == 1


@pytest.mark.parametrize("attempt", [1, 2])
def test_pg_engine_starts_empty(pg_engine, attempt):
    with pg_engine.begin() as conn:
        assert inspect(conn).get_table_names() == []
        conn.execute(text("CREATE TABLE only_here (id int)"))
        assert inspect(conn).get_table_names() == ["only_here"]


def test_backend_matches_engine(engine, backend, tmp_path):
    assert backend in ("sqlite_memory", "sqlite_file", "postgresql")
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT 1")) == 1
    if backend == "postgresql":
        assert engine.dialect.name == "postgresql"
        assert engine.dialect.driver == "psycopg"
    elif backend == "sqlite_memory":
        assert engine.dialect.name == "sqlite"
        assert engine.url.database in (None, "", ":memory:")
    else:
        assert engine.dialect.name == "sqlite"
        db_file = Path(engine.url.database)
        assert db_file.parent == tmp_path
        assert db_file.exists()


def test_postgresql_marker_is_automatic(request, backend):
    has_marker = request.node.get_closest_marker("postgresql") is not None
    assert has_marker == (backend == "postgresql")


def test_sqlite_engine_is_shared_memory_across_threads(sqlite_engine):
    assert sqlite_engine.dialect.name == "sqlite"
    with sqlite_engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id int)"))
        conn.execute(text("INSERT INTO t VALUES (7)"))

    seen: list[int] = []

    def read() -> None:
        with sqlite_engine.connect() as conn:
            seen.append(conn.scalar(text("SELECT id FROM t")))

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert seen == [7]


# -- PostgreSQL server -------------------------------------------------------


def test_postgresql_is_version_15(pg_engine):
    with pg_engine.connect() as conn:
        version = conn.scalar(text("SELECT version()"))
        version_num = int(conn.scalar(text("SHOW server_version_num")))
    assert version.startswith("PostgreSQL 15."), version
    assert version_num // 10000 == 15


def test_prepared_transactions_work(pg_engine):
    with pg_engine.connect() as conn:
        assert int(conn.scalar(text("SHOW max_prepared_transactions"))) > 0

    metadata = MetaData()
    probe = _probe_table(metadata)
    metadata.create_all(pg_engine)
    with pg_engine.connect() as conn:
        xact = conn.begin_twophase()
        conn.execute(probe.insert().values(name="two-phase"))
        xact.prepare()
        xact.commit()
    with pg_engine.connect() as conn:
        assert conn.scalars(select(probe.c.name)).all() == ["two-phase"]


def test_private_server_configuration(pg_server, pg_engine):
    if pg_server.external_url is not None:
        pytest.skip(f"external server from ${ENV_URL}: settings are not ours")
    with pg_engine.connect() as conn:
        settings = {
            name: conn.scalar(text(f"SHOW {name}"))
            for name in ("listen_addresses", "fsync", "synchronous_commit", "max_connections")
        }
        assert conn.scalar(text("SELECT current_user")) == "postgres"
    assert settings == {
        "listen_addresses": "",  # Unix socket only
        "fsync": "off",
        "synchronous_commit": "off",
        "max_connections": "200",
    }
    url = pg_server.url("some_db")
    assert re.fullmatch(
        rf"postgresql\+psycopg://postgres@/some_db\?host={re.escape(str(pg_server.socket_dir))}"
        rf"&port={pg_server.port}",
        url,
    )
    assert (pg_server.socket_dir / f".s.PGSQL.{pg_server.port}").exists()
    if os.geteuid() == 0:
        assert pg_server.os_user is not None
        assert os.stat(pg_server.base_dir).st_uid == pwd.getpwnam(pg_server.os_user).pw_uid


def test_reset_survives_leaked_locks_and_prepared_transactions(pg_database):
    """What the per-test teardown does, checked directly: a connection that
    still holds an exclusive lock, and a prepared transaction holding another,
    neither stop the database from being emptied."""
    pg_database.dirty = True  # if this test fails halfway, the next one resets
    engine = create_engine(pg_database.url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE locked (id int)"))
            conn.execute(text("CREATE TABLE prepared_lock (id int)"))

        leaked = engine.connect()
        _LEAKED.append(leaked)
        leaked.begin()
        leaked.execute(text("LOCK TABLE locked IN ACCESS EXCLUSIVE MODE"))
        leaked_pid = leaked.scalar(text("SELECT pg_backend_pid()"))

        # A prepared transaction holding a lock, left behind by its session.
        with pg_database.server.connect(pg_database.name) as raw:
            raw.execute("BEGIN")
            raw.execute("LOCK TABLE prepared_lock IN ACCESS EXCLUSIVE MODE")
            raw.execute("PREPARE TRANSACTION 'infra_leak'")
        with pg_database.server.connect(pg_database.name) as check:
            assert check.execute("SELECT gid FROM pg_prepared_xacts").fetchall() == [
                ("infra_leak",)
            ]

        pg_database.reset()

        with pg_database.server.connect(pg_database.name) as check:
            assert check.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (leaked_pid,)
            ).fetchone() == (0,)
            assert check.execute("SELECT count(*) FROM pg_prepared_xacts").fetchone() == (0,)
            assert check.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone() == (0,)
        with pytest.raises(DBAPIError):  # the leaked session was terminated
            leaked.execute(text("SELECT 1"))
    finally:
        engine.dispose()


# -- statement counting ------------------------------------------------------


def test_count_statements(engine, count_statements):
    metadata = MetaData()
    probe = _probe_table(metadata)
    metadata.create_all(engine)

    with engine.connect() as conn:
        conn.execute(select(probe))  # before the block: not counted
        with count_statements(engine) as stmts:
            # `conn` was opened before counting started; it is still counted.
            conn.execute(probe.insert().values(name="one"))
            conn.execute(probe.insert(), [{"name": "a"}, {"name": "b"}, {"name": "c"}])
            assert conn.scalar(select(probe.c.id).where(probe.c.name == "b")) is not None
            conn.commit()
        conn.execute(select(probe))  # after the block: not counted

    assert len(stmts) == 3
    assert stmts.count == 3
    first, many, query = stmts
    assert first.statement.startswith("INSERT INTO infra_probe")
    assert first.executemany is False
    assert many.statement.startswith("INSERT INTO infra_probe")
    assert many.executemany is True
    assert len(many.parameters) == 3
    assert query.statement.startswith("SELECT infra_probe.id")
    assert stmts.statements == [first.statement, many.statement, query.statement]


def test_count_statements_listener_removed_even_on_error(sqlite_engine, count_statements):
    with pytest.raises(RuntimeError, match="boom"):
        with count_statements(sqlite_engine) as stmts:
            with sqlite_engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            raise RuntimeError("boom")
    assert len(stmts) == 1
    with sqlite_engine.connect() as conn:
        conn.execute(text("SELECT 2"))
    assert [s.statement for s in stmts] == ["SELECT 1"]
    assert not sqlite_engine.dispatch.before_cursor_execute


def test_count_statements_nested_and_per_connection(sqlite_engine, count_statements):
    with sqlite_engine.connect() as conn, count_statements(sqlite_engine) as outer:
        with count_statements(conn) as inner:
            conn.execute(text("SELECT 1"))
        conn.execute(text("SELECT 2"))
    with sqlite_engine.connect() as other, count_statements(sqlite_engine) as only_engine:
        other.execute(text("SELECT 3"))
    assert outer.statements == ["SELECT 1", "SELECT 2"]
    assert inner.statements == ["SELECT 1"]
    assert only_engine.statements == ["SELECT 3"]


# -- PostgreSQL absent: skipped loudly ----------------------------------------


def test_missing_postgresql_skips_loudly(tmp_path):
    """Simulate absent binaries in a child pytest run: PG tests are skipped,
    SQLite tests still run, and header and summary say so loudly."""
    runner = (
        "import sys; sys.path.insert(0, sys.argv[1]); import pgserver\n"
        "pgserver._find_bindir = lambda: (None, 'simulated: no initdb here')\n"
        "import pytest; sys.exit(pytest.main(sys.argv[2:]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != ENV_URL}
    env["CI"] = "true"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            runner,
            str(TESTS_DIR),
            str(TESTS_DIR / "test_infrastructure.py"),
            "-k",
            "test_engine_starts_empty or test_pg_engine_starts_empty",
            "-p",
            "no:cacheprovider",
            "-rs",
            f"--basetemp={tmp_path / 'basetemp'}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert re.search(r"\b4 passed, 4 skipped\b", out), out
    assert out.count("PostgreSQL TESTS ARE SKIPPED: simulated: no initdb here") == 2, out
    assert "CI=true: THIS CI RUN DID NOT TEST POSTGRESQL AT ALL." in out
    assert "4 PostgreSQL tests SKIPPED" in out
