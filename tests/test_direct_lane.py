"""``Session.get`` and attribute refreshes on the DB-API cursor
(:mod:`session_ext.direct`): the same objects, values and errors as through
Core, and Core again whenever anything could observe the difference."""

from __future__ import annotations

import datetime
import decimal
import json
import logging

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
    text,
)
from sqlalchemy import exc as sa_exc

from session_ext import Session, declarative_base, direct

Base = declarative_base()


class JSONText(TypeDecorator):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)


class Reading(Base):
    __tablename__ = "direct_readings"
    id = Column(Integer, primary_key=True)
    taken_at = Column(DateTime, nullable=False)
    amount = Column(Numeric(10, 2), nullable=False)
    payload = Column(JSONText)
    label = Column("label_text", String(40))


class CodeKey(TypeDecorator):
    """A primary key whose bind processor must run: the lane must decline."""

    impl = String(20)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else value.upper()

    def process_result_value(self, value, dialect):
        return value


class Coded(Base):
    __tablename__ = "direct_coded"
    code = Column(CodeKey, primary_key=True)
    name = Column(String(20))


WHEN = datetime.datetime(2026, 11, 22, 9, 30, 15)


@pytest.fixture
def db(engine):
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(Reading(id=1, taken_at=WHEN, amount=decimal.Decimal("12.50"),
                      payload={"a": [1, 2]}, label="first"))
        s.add(Coded(code="ab", name="upper stored"))
        s.commit()
    return engine


def _took_lane(session, mapper_cls, keys=None):
    conn = session.connection()
    entry = mapper_cls.__mapper__._stmt_cache.get(("direct_pk", keys, conn.dialect))
    return isinstance(entry, direct.OneRowSelect)


def test_get_on_the_lane_gives_processed_values(db):
    with Session(db) as s:
        assert direct.lane_open(s.connection())
        r = s.get(Reading, 1)
        assert _took_lane(s, Reading)
        assert r.taken_at == WHEN and isinstance(r.taken_at, datetime.datetime)
        assert r.amount == decimal.Decimal("12.50") and isinstance(r.amount, decimal.Decimal)
        assert r.payload == {"a": [1, 2]}
        assert r.label == "first"
        assert s.get(Reading, 1) is r
        assert s.get(Reading, 2) is None


def test_values_match_the_core_path(db):
    names = ("id", "taken_at", "amount", "payload", "label")
    with Session(db) as s:
        on_lane = s.get(Reading, 1)
        lane_values = {k: getattr(on_lane, k) for k in names}
    seen = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    event.listen(db, "after_cursor_execute", record)
    try:
        with Session(db) as s:
            assert not direct.lane_open(s.connection())
            via_core = s.get(Reading, 1)
            core_values = {k: getattr(via_core, k) for k in names}
    finally:
        event.remove(db, "after_cursor_execute", record)
    assert any("direct_readings" in sql for sql in seen)
    assert lane_values == core_values


def test_a_begin_listener_leaves_the_lane_open(sqlite_engine):
    event.listen(sqlite_engine, "begin", lambda conn: None)
    assert sqlite_engine._has_events
    Base.metadata.create_all(sqlite_engine)
    with Session(sqlite_engine) as s:
        s.add(Coded(code="x", name="n"))
        s.add(Reading(id=4, taken_at=WHEN, amount=1, label="four"))
        s.commit()
        assert direct.lane_open(s.connection())
        assert s.get(Reading, 4).label == "four"
        assert _took_lane(s, Reading)


def test_a_listener_on_the_connection_closes_the_lane(db):
    seen = []
    with Session(db) as s:
        conn = s.connection()
        assert direct.lane_open(conn)
        event.listen(conn, "before_execute", lambda *a: seen.append(a[1]))
        assert not direct.lane_open(conn)
        assert s.get(Reading, 1) is not None
    assert len(seen) == 1


def test_a_bind_processor_on_the_key_keeps_the_core_path(db):
    with Session(db) as s:
        c = s.get(Coded, "ab")  # CodeKey upper-cases the parameter
        assert c is not None and c.code == "AB"
        entry = Coded.__mapper__._stmt_cache.get(("direct_pk", None, s.connection().dialect))
        assert entry is None  # prepared, declined: Core ran it


def test_refresh_after_commit_uses_the_lane(db):
    with Session(db) as s:
        r = s.get(Reading, 1)
        r.label = "second"
        s.commit()  # expires r
        assert "label" not in r.__dict__
        assert r.label == "second"
        assert r.taken_at == WHEN
        s.refresh(r, ["amount"])
        assert r.amount == decimal.Decimal("12.50")
        assert _took_lane(s, Reading, ("amount",))


def test_listeners_see_every_get(db):
    seen = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    event.listen(db, "before_cursor_execute", record)
    try:
        with Session(db) as s:
            s.get(Reading, 1)
            s.get(Reading, 5)
    finally:
        event.remove(db, "before_cursor_execute", record)
    assert sum("direct_readings" in sql for sql in seen) == 2


def test_echo_logs_every_get(db, caplog):
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        with Session(db) as s:
            assert not direct.lane_open(s.connection())
            s.get(Reading, 1)
    assert any("direct_readings" in r.getMessage() for r in caplog.records)


def test_schema_translate_map_keeps_the_core_path(engine):
    md = MetaData()
    Table("direct_renamed", md, Column("id", Integer, primary_key=True),
          Column("name", String(20)))
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO direct_renamed (id, name) VALUES (7, 'seven')"))
    RBase = declarative_base()

    class Logical(RBase):
        __table__ = Table("direct_logical", RBase.metadata,
                          Column("id", Integer, primary_key=True), Column("name", String(20)),
                          schema="logical")

    translated = engine.execution_options(schema_translate_map={"logical": None})
    # the table name differs too: map the schema-less name through a view-free rename
    with translated.begin() as conn:
        conn.execute(text("CREATE TABLE direct_logical (id INTEGER PRIMARY KEY, name VARCHAR(20))"))
        conn.execute(text("INSERT INTO direct_logical (id, name) VALUES (3, 'three')"))
    with Session(translated) as s:
        assert not direct.lane_open(s.connection())
        assert s.get(Logical, 3).name == "three"


def test_a_driver_error_is_wrapped_and_the_session_recovers(db):
    with Session(db) as s:
        assert s.get(Reading, 1) is not None
        s.expunge_all()
        s.connection().exec_driver_sql("ALTER TABLE direct_readings RENAME TO direct_gone")
        with pytest.raises(sa_exc.DBAPIError) as info:
            s.get(Reading, 1)
        assert "direct_readings" in str(info.value.statement)
        assert isinstance(info.value, (sa_exc.OperationalError, sa_exc.ProgrammingError))
        s.rollback()  # DDL is transactional on both (configure_sqlite emits BEGIN)
        assert s.get(Reading, 1).label == "first"


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_lost_connection_is_invalidated_and_the_next_session_works(db):
    with Session(db) as s:
        assert s.get(Reading, 1) is not None
        assert direct.lane_open(s.connection())
        pid = s.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        s.expunge_all()
        killer = create_engine(db.url)
        try:
            with killer.connect() as k:
                k.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        finally:
            killer.dispose()
        with pytest.raises(sa_exc.DBAPIError) as info:
            s.get(Reading, 1)
        assert info.value.connection_invalidated
        s.rollback()
    with Session(db) as s:
        assert s.get(Reading, 1).label == "first"
