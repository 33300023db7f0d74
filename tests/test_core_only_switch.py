"""``SESSION_EXT_CORE_ONLY`` / ``session_ext.direct.CORE_ONLY``: with the switch
on, every statement goes through Core's ``Connection.execute`` (no direct lane,
no driver tuples, no COPY); with it off, the bypasses are taken where they
apply.  The rest of the suite runs with the switch on in CI
(``./dev test-core-only``) to show behaviour does not change."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import Column, Integer, String, func, select
from sqlalchemy.engine import Connection, Result

from session_ext import Session, declarative_base, direct
from session_ext.persistence import COPY_THRESHOLD

Base = declarative_base()


class Gadget(Base):
    __tablename__ = "core_only_gadgets"
    id = Column(Integer, primary_key=True)
    name = Column(String(40))


@pytest.fixture(params=[False, True], ids=["bypasses", "core_only"])
def core_only(request, monkeypatch):
    monkeypatch.setattr(direct, "CORE_ONLY", request.param)
    return request.param


@pytest.fixture
def db(engine):
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([Gadget(id=i, name=f"g{i}") for i in range(1, 4)])
        s.commit()
    return engine


class _Calls:
    """Counts calls of a method on a class for the duration of a test."""

    def __init__(self, monkeypatch, owner, name):
        self.count = 0
        original = getattr(owner, name)

        def counting(*args, **kw):
            self.count += 1
            return original(*args, **kw)

        monkeypatch.setattr(owner, name, counting)


def test_get_runs_through_connection_execute_only_with_the_switch(db, core_only, monkeypatch):
    with Session(db) as s:
        s.connection()  # begin first: the lane runs inside a transaction
        calls = _Calls(monkeypatch, Connection, "execute")
        got = s.get(Gadget, 2)
        assert (got.id, got.name) == (2, "g2")
        assert calls.count == (1 if core_only else 0)


def test_entity_rows_become_core_rows_only_with_the_switch(db, core_only, monkeypatch):
    with Session(db) as s:
        calls = _Calls(monkeypatch, Result, "all")
        names = [g.name for g in s.scalars(select(Gadget).order_by(Gadget.id))]
        assert names == ["g1", "g2", "g3"]
        # Core's rows are fetched with Result.all(); the driver's with fetchall()
        assert calls.count == (1 if core_only else 0)


def test_sqlite_batches_go_through_core_with_the_switch(sqlite_engine, core_only, monkeypatch):
    Base.metadata.create_all(sqlite_engine)
    calls = _Calls(monkeypatch, Connection, "exec_driver_sql")
    with Session(sqlite_engine) as s:
        s.add_all([Gadget(id=i, name=f"n{i}") for i in range(10, 20)])
        s.commit()
        assert s.scalar(select(func.count()).select_from(Gadget)) == 10
    assert (calls.count == 0) is core_only


def test_copy_is_not_used_with_the_switch(pg_engine, core_only, monkeypatch):
    from session_ext import persistence

    Base.metadata.create_all(pg_engine)
    calls = _Calls(monkeypatch, persistence, "_copy_insert")
    objs = [Gadget(name=f"c{i}") for i in range(COPY_THRESHOLD + 5)]
    with Session(pg_engine, expire_on_commit=False) as s:
        s.add_all(objs)
        s.commit()
    ids = [o.id for o in objs]
    assert len(set(ids)) == len(ids) and None not in ids
    with pg_engine.connect() as conn:
        rows = dict(conn.execute(select(Gadget.id, Gadget.name)).all())
    assert rows == {o.id: o.name for o in objs}
    assert calls.count == (0 if core_only else 1)


@pytest.mark.parametrize("value, expected", [
    ("1", True), ("true", True), ("yes", True), ("0", False), ("", False), ("false", False),
])
def test_the_environment_variable_sets_the_switch(value, expected):
    env = {**os.environ, "SESSION_EXT_CORE_ONLY": value}
    out = subprocess.run(
        [sys.executable, "-c", "import session_ext.direct as d; print(d.CORE_ONLY)"],
        env=env, capture_output=True, text=True, check=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert out.stdout.strip() == str(expected)
