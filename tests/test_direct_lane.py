"""``Session.get`` and attribute refreshes on the DB-API cursor
(:mod:`session_ext.direct`): the same objects, values and errors as through
Core, and Core again whenever anything could observe the difference."""

from __future__ import annotations

import datetime
import decimal
import enum
import gc
import logging
import threading
import uuid
import weakref

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Enum,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    TypeDecorator,
    Uuid,
    create_engine,
    event,
    insert,
    select,
    text,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from user_types import JSONText

from session_ext import Session, declarative_base, direct
from session_ext.engines import configure_sqlite


@pytest.fixture(autouse=True)
def _lane_on(monkeypatch):
    """These tests are about the lane itself: it stays on for them in the
    ``SESSION_EXT_CORE_ONLY=1`` run of the suite too."""
    monkeypatch.setattr(direct, "CORE_ONLY", False)


Base = declarative_base()


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
    entry = direct.prepared(conn.dialect, mapper_cls.__mapper__, keys)
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
        entry = direct.prepared(s.connection().dialect, Coded.__mapper__, None)
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


def _model_in_schema(engine, name, schema, row_id, label):
    """A model of table ``name`` declared in ``schema``; the database has the
    table without one (a ``schema_translate_map`` maps it there)."""
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, name VARCHAR(20))"))
        conn.execute(text(f"INSERT INTO {name} (id, name) VALUES ({row_id}, '{label}')"))
    TBase = declarative_base()

    class InSchema(TBase):
        __table__ = Table(name, TBase.metadata, Column("id", Integer, primary_key=True),
                          Column("name", String(20)), schema=schema)

    return InSchema


def test_schema_translate_map_keeps_the_core_path(engine):
    Logical = _model_in_schema(engine, "direct_logical", "logical", 3, "three")
    translated = engine.execution_options(schema_translate_map={"logical": None})
    with Session(translated) as s:
        assert not direct.lane_open(s.connection())
        assert s.get(Logical, 3).name == "three"


def test_a_driver_error_is_wrapped_and_the_session_recovers(db):
    with Session(db) as s:
        s.get(Reading, 1).label = "changed"
        s.flush()  # a write: on SQLite the transaction now holds the write lock, DDL included
        s.expunge_all()
        s.connection().exec_driver_sql("ALTER TABLE direct_readings RENAME TO direct_gone")
        with pytest.raises(sa_exc.DBAPIError) as info:
            s.get(Reading, 1)
        assert "direct_readings" in str(info.value.statement)
        assert isinstance(info.value, (sa_exc.OperationalError, sa_exc.ProgrammingError))
        s.rollback()  # undoes the write and the DDL
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


# ---------------------------------------------------------------------------
# Review of the direct lane: each test states what Core's Connection.execute
# does; the lane must do the same (or not be taken).
# ---------------------------------------------------------------------------

RBase = declarative_base()


class Mood(enum.Enum):
    happy = "happy"
    sad = "sad"


class Pair(RBase):
    """A composite key whose second attribute is named unlike its column."""

    __tablename__ = "direct_pairs"
    a = Column(Integer, primary_key=True, autoincrement=False)
    b = Column("b_col", String(20), primary_key=True)
    val = Column("val_col", String(20))


class Typed(RBase):
    __tablename__ = "direct_typed"
    id = Column(Integer, primary_key=True, autoincrement=False)
    amount = Column(Numeric(12, 4))
    ratio = Column(Numeric(12, 4, asdecimal=False))
    token = Column(Uuid)
    token_str = Column(Uuid(as_uuid=False))
    doc = Column(JSON)
    mood = Column(Enum(Mood))
    flag = Column(Boolean)
    at = Column(DateTime(timezone=True))
    naive = Column(DateTime)


class Named(RBase):
    """A String key: no bind processor, so the lane takes it."""

    __tablename__ = "direct_named"
    name = Column(String(40), primary_key=True)
    note = Column(String(40))


TOKEN = uuid.UUID("12345678-1234-5678-1234-567812345678")
AT = datetime.datetime(2026, 11, 22, 9, 30, 15, tzinfo=datetime.UTC)


@pytest.fixture
def rdb(db):
    RBase.metadata.create_all(db)
    with Session(db) as s:
        s.add(Pair(a=1, b="x", val="one-x"))
        s.add(Pair(a=1, b="y", val="one-y"))
        s.add(Typed(id=1, amount=decimal.Decimal("1.2500"), ratio=0.5, token=TOKEN,
                    token_str=str(TOKEN), doc={"k": [1, None, "s"]}, mood=Mood.sad,
                    flag=True, at=AT, naive=WHEN))
        s.add(Named(name="ann", note="a note"))
        s.commit()
    return db


def _nobody(*args):
    return None


class _core_only:
    """Close the lane for the block (an after_cursor_execute listener), so the
    block shows what Core itself does."""

    def __init__(self, engine):
        self.engine = engine

    def __enter__(self):
        event.listen(self.engine, "after_cursor_execute", _nobody)
        return self

    def __exit__(self, *exc_info):
        event.remove(self.engine, "after_cursor_execute", _nobody)


def _outcome(fn):
    try:
        return ("value", fn())
    except BaseException as e:  # noqa: BLE001 - the exception is the outcome
        return ("raised", type(e))


# -- values: regression guards -------------------------------------------------


def test_composite_key_and_renamed_columns_match_core(rdb):
    def load():
        with Session(rdb) as s:
            p = s.get(Pair, (1, "y"))
            got = (p.a, p.b, p.val, s.get(Pair, {"a": 1, "b": "x"}).val, s.get(Pair, (1, "z")))
            s.expire(p, ["val"])
            got += (p.val,)
            s.refresh(p, ["b", "val"])
            return got + (p.b, p.val)

    lane = load()
    with _core_only(rdb):
        core = load()
    assert lane == core == (1, "y", "one-y", "one-x", None, "one-y", "y", "one-y")
    assert isinstance(direct.prepared(rdb.dialect, Pair.__mapper__, None), direct.OneRowSelect)


def test_typed_values_match_core(rdb):
    names = Typed.__mapper__.column_attr_keys

    def load():
        with Session(rdb) as s:
            t = s.get(Typed, 1)
            return {k: (getattr(t, k), type(getattr(t, k))) for k in names}

    lane = load()
    assert _took_lane_for(rdb, Typed)
    with _core_only(rdb):
        core = load()
    assert lane == core
    assert lane["amount"] == (decimal.Decimal("1.2500"), decimal.Decimal)
    assert lane["mood"] == (Mood.sad, Mood)
    assert lane["token_str"] == (str(TOKEN), str)


def _took_lane_for(engine, cls, keys=None):
    return isinstance(direct.prepared(engine.dialect, cls.__mapper__, keys), direct.OneRowSelect)


# -- exceptions -----------------------------------------------------------------


@pytest.mark.parametrize("key", [2**64, "\ud800"], ids=["int-overflow", "surrogate"])
def test_a_non_dbapi_error_from_the_driver_is_raised_as_core_raises_it(rdb, key):
    """Core passes its execution context to _handle_dbapi_exception, so an error
    that is not the driver's (OverflowError, UnicodeEncodeError from sqlite3) is
    re-raised as is; the lane passes context=None, which makes Core wrap *any*
    error as StatementError."""
    cls = Reading if isinstance(key, int) else Named

    def get():
        with Session(rdb) as s:
            return s.get(cls, key)

    with _core_only(rdb):
        core = _outcome(get)
    lane = _outcome(get)
    assert lane == core


def test_hide_parameters_hides_them_on_the_lane(tmp_path):
    eng = configure_sqlite(create_engine(f"sqlite:///{tmp_path}/h.db", hide_parameters=True))
    try:
        Base.metadata.create_all(eng)
        with Session(eng) as s:
            assert direct.lane_open(s.connection())
            s.connection().exec_driver_sql("ALTER TABLE direct_readings RENAME TO gone")
            with pytest.raises(sa_exc.OperationalError) as info:
                s.get(Reading, 424242)
        assert "424242" not in str(info.value)
        assert "hidden due to hide_parameters" in str(info.value)
    finally:
        eng.dispose()


def test_a_handle_error_listener_sees_the_error(db):
    seen = []
    event.listen(db, "handle_error", lambda ctx: seen.append(ctx.statement))
    with Session(db) as s:
        assert not direct.lane_open(s.connection())  # a dialect listener closes it
        s.expunge_all()
        s.connection().exec_driver_sql("ALTER TABLE direct_readings RENAME TO direct_gone")
        with pytest.raises(sa_exc.DBAPIError):
            s.get(Reading, 1)
    assert any("direct_readings" in (sql or "") for sql in seen)


@pytest.mark.parametrize("backend", ["sqlite_file"], indirect=True)
def test_a_closed_driver_connection_is_invalidated_like_core(db):
    with Session(db) as s:
        assert s.get(Reading, 1) is not None
        s.expunge_all()
        s.connection().connection.driver_connection.close()
        with pytest.raises(sa_exc.DBAPIError) as info:
            s.get(Reading, 1)
        assert info.value.connection_invalidated
        s.rollback()
        assert s.get(Reading, 1).label == "first"


# -- transaction state ------------------------------------------------------------


def test_a_load_after_the_joined_transaction_ended_autobegins_like_core(db):
    """Core's execute autobegins when the connection has no transaction (and
    fires 'begin', and on SQLite sends BEGIN); the lane runs the SELECT with no
    transaction at all."""
    begins = []
    event.listen(db, "begin", lambda conn: begins.append(conn))
    with db.connect() as conn:
        conn.begin()
        s = Session(bind=conn)  # joins the outer transaction ("rollback_only")
        r = s.get(Reading, 1)
        s.expire(r)
        conn.commit()  # the application commits its own transaction
        assert not conn.in_transaction()
        before = len(begins)
        assert r.label == "first"
        assert conn.in_transaction()  # Core would have begun a new one ...
        assert len(begins) == before + 1  # ... and told the 'begin' listeners
        s.close()


def test_a_transaction_ended_inside_its_with_block_is_refused_like_core(db):
    """Inside ``with conn.begin():`` Core refuses to run statements once that
    transaction was ended early (_trans_ctx_check); the lane runs them anyway."""
    with db.connect() as conn:
        with conn.begin():
            s = Session(bind=conn)
            r = s.get(Reading, 1)
            s.expire(r)
            conn.commit()
            with pytest.raises(sa_exc.InvalidRequestError, match="closed transaction"):
                r.label  # noqa: B018
            s.close()


def test_an_invalid_savepoint_is_refused_like_core(pg_engine):
    """A failed RELEASE SAVEPOINT leaves Core's nested transaction inactive:
    Core then raises PendingRollbackError without touching the database; the
    lane sends the SELECT and gets the server's 'transaction is aborted'."""
    Base.metadata.create_all(pg_engine)
    with Session(pg_engine) as s:
        s.add(Reading(id=1, taken_at=WHEN, amount=1, label="first"))
        s.commit()
        assert s.get(Reading, 1) is not None
        s.begin_nested()
        with pytest.raises(sa_exc.DBAPIError):
            s.connection().exec_driver_sql("SELECT 1/0")
        with pytest.raises(sa_exc.DBAPIError):
            s.commit()  # RELEASE SAVEPOINT fails in the aborted transaction
        with pytest.raises(sa_exc.PendingRollbackError):
            s.get(Reading, 1, populate_existing=True)
        s.rollback()
        assert s.get(Reading, 1).label == "first"


def test_lane_reads_inside_a_savepoint_and_sees_its_writes(engine):
    Base.metadata.create_all(engine)
    with engine.connect() as conn:
        outer = conn.begin()
        s = Session(bind=conn, join_transaction_mode="create_savepoint")
        s.add(Reading(id=9, taken_at=WHEN, amount=1, label="nine"))
        s.commit()
        s.close()
        s2 = Session(bind=conn, join_transaction_mode="create_savepoint")
        assert direct.lane_open(s2.connection())
        assert s2.get(Reading, 9).label == "nine"
        s2.begin_nested()
        conn.exec_driver_sql("UPDATE direct_readings SET label_text = 'changed' WHERE id = 9")
        assert s2.get(Reading, 9, populate_existing=True).label == "changed"
        s2.rollback()
        s2.close()
        outer.rollback()
    with Session(engine) as s:
        assert s.get(Reading, 9) is None


# -- who can observe the statement --------------------------------------------------


def test_an_instance_level_do_execute_wrapper_sees_every_get(db):
    """The dialect check looks at type(dialect).do_execute (and caches per
    class), so a do_execute set on this engine's dialect is bypassed."""
    seen = []
    original = db.dialect.do_execute

    def traced(cursor, statement, parameters, context=None):
        seen.append(statement)
        return original(cursor, statement, parameters, context)

    db.dialect.do_execute = traced
    try:
        with Session(db) as s:
            assert s.get(Reading, 1) is not None
    finally:
        del db.dialect.do_execute
    assert any("direct_readings" in sql for sql in seen)


def test_a_listener_on_the_engine_class_closes_the_lane(db):
    seen = []

    def record(conn, cursor, statement, *rest):
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        with Session(db) as s:
            assert not direct.lane_open(s.connection())
            s.get(Reading, 1)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert any("direct_readings" in sql for sql in seen)


def test_a_listener_on_the_parent_engine_sees_gets_through_an_option_engine(db):
    seen = []

    def record(conn, cursor, statement, *rest):
        seen.append(statement)

    tokened = db.execution_options(logging_token="req-1", isolation_level="SERIALIZABLE")
    with Session(tokened) as s:
        assert direct.lane_open(s.connection())
        assert s.get(Reading, 1).label == "first"
    event.listen(db, "before_cursor_execute", record)
    try:
        with Session(tokened) as s:
            s.get(Reading, 1)
    finally:
        event.remove(db, "before_cursor_execute", record)
    assert any("direct_readings" in sql for sql in seen)


# -- resources and threads -------------------------------------------------------------


def test_a_disposed_engines_dialect_is_not_kept_alive():
    """Nothing session_ext keeps outside the dialect refers to it: what the lane
    compiles lives on the dialect and goes away with its engine."""

    def use_one_engine():
        eng = configure_sqlite(create_engine("sqlite://", poolclass=StaticPool))
        Base.metadata.create_all(eng)
        with Session(eng) as s:
            s.add(Reading(id=1, taken_at=WHEN, amount=1, label="x"))
            s.commit()
            assert s.get(Reading, 1).label == "x"
        ref = weakref.ref(eng.dialect)
        eng.dispose()
        return ref

    refs = [use_one_engine() for _ in range(3)]
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


def test_concurrent_gets_and_cache_clears(tmp_path):
    eng = configure_sqlite(create_engine(f"sqlite:///{tmp_path}/t.db", pool_size=4))
    try:
        Base.metadata.create_all(eng)
        with Session(eng) as s:
            for i in range(1, 21):
                s.add(Reading(id=i, taken_at=WHEN, amount=decimal.Decimal(i),
                              payload={"i": i}, label=f"r{i}"))
            s.commit()
        errors = []
        stop = threading.Event()

        def reader():
            try:
                for _ in range(30):
                    with Session(eng) as s:
                        for i in range(1, 21):
                            r = s.get(Reading, i)
                            assert (r.label, r.amount, r.payload, r.taken_at) == (
                                f"r{i}", decimal.Decimal(i), {"i": i}, WHEN)
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        def clearer():
            while not stop.is_set():
                eng.dialect.__dict__.pop("_session_ext_cache", None)
                stop.wait(0.001)

        threads = [threading.Thread(target=reader) for _ in range(3)]
        c = threading.Thread(target=clearer)
        c.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        c.join()
        assert errors == []
    finally:
        eng.dispose()


# -- configure_sqlite: a user's "begin" listener writes inside the transaction -------------


def test_a_users_begin_listener_runs_inside_the_begun_transaction(sqlite_engine):
    """A user's own "begin" listener runs inside the transaction: its
    statements roll back with it (its write begins the SQLite transaction)."""
    md = MetaData()
    audit = Table("direct_audit", md, Column("id", Integer, primary_key=True),
                  Column("what", String(20)))
    md.create_all(sqlite_engine)
    def on_begin(conn):
        conn.execute(insert(audit).values(what="begin"))

    event.listen(sqlite_engine, "begin", on_begin)
    try:
        with Session(sqlite_engine) as s:
            s.connection()
            s.rollback()  # the audit row belongs to the rolled-back transaction
    finally:
        event.remove(sqlite_engine, "begin", on_begin)
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(audit.c.what)).all() == []


def test_option_engines_share_the_begin_and_savepoints_work(sqlite_engine):
    Base.metadata.create_all(sqlite_engine)
    opt = sqlite_engine.execution_options(logging_token="x")
    with Session(opt) as s:
        s.add(Reading(id=1, taken_at=WHEN, amount=1, label="kept"))
        s.flush()
        sp = s.begin_nested()
        s.add(Reading(id=2, taken_at=WHEN, amount=1, label="undone"))
        s.flush()
        sp.rollback()
        s.commit()
    with Session(sqlite_engine) as s:
        assert s.get(Reading, 1).label == "kept"
        assert s.get(Reading, 2) is None


def test_configuring_an_option_engine_twice_begins_once(sqlite_engine):
    Base.metadata.create_all(sqlite_engine)
    opt = configure_sqlite(sqlite_engine.execution_options(logging_token="x"))
    with Session(opt) as s:
        s.add(Reading(id=3, taken_at=WHEN, amount=1, label="three"))
        s.commit()
    with Session(sqlite_engine) as s:
        assert s.get(Reading, 3).label == "three"


@pytest.mark.parametrize("backend", ["sqlite_file", "postgresql"], indirect=True)
def test_other_paramstyles_bind_the_key_in_order(engine):
    styles = ("qmark", "named") if engine.dialect.name == "sqlite" else ("format", "pyformat")
    for n, paramstyle in enumerate(styles):
        styled = create_engine(engine.url, paramstyle=paramstyle)
        configure_sqlite(styled)  # unchanged on PostgreSQL
        try:
            RBase.metadata.create_all(styled)
            with Session(styled) as s:
                s.add(Pair(a=10 + n, b="q", val="q"))
                s.add(Pair(a=20 + n, b="p", val=paramstyle))
                s.commit()
                assert s.get(Pair, (20 + n, "p")).val == paramstyle
                assert s.get(Pair, (10 + n, "p")) is None
                assert _took_lane_for(styled, Pair)
        finally:
            styled.dispose()


def test_options_set_through_session_connection_close_the_lane(engine):
    Elsewhere = _model_in_schema(engine, "direct_elsewhere", "other", 5, "five")
    with Session(engine) as s:
        conn = s.connection(execution_options={"schema_translate_map": {"other": None}})
        assert not direct.lane_open(conn)
        assert s.get(Elsewhere, 5).name == "five"


def test_connections_go_back_to_the_pool_idle(pg_engine):
    import psycopg

    Base.metadata.create_all(pg_engine)
    with Session(pg_engine) as s:
        s.add(Reading(id=1, taken_at=WHEN, amount=1, label="first"))
        s.commit()
        assert s.get(Reading, 1).label == "first"  # a refresh after commit, on the lane
        raw = s.connection().connection.driver_connection
    assert raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
