"""configure_sqlite: concurrent requests on one SQLite file take turns for the
write lock instead of deadlocking, reads hold no lock, SAVEPOINTs stay inside
the transaction."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, String, create_engine, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import StaticPool

from session_ext import Session, declarative_base
from session_ext.engines import configure_sqlite

Base = declarative_base()


class Counter(Base):
    __tablename__ = "locking_counter"
    id = Column(Integer, primary_key=True)
    value = Column(Integer, nullable=False)
    note = Column(String(20))


@pytest.fixture
def file_engine(tmp_path: Path):
    engine = configure_sqlite(create_engine(f"sqlite:///{tmp_path / 'locks.sqlite3'}",
                                            connect_args={"timeout": 30}))
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(Counter(id=1, value=0))
        s.commit()
    yield engine
    engine.dispose()


def test_requests_that_read_then_write_do_not_lock_each_other_out(file_engine):
    threads = 8
    all_have_read = threading.Barrier(threads)

    def request(n: int) -> None:
        with Session(file_engine) as s:
            assert s.get(Counter, 1) is not None  # a read first ...
            all_have_read.wait()                   # ... by every request at once
            s.add(Counter(id=100 + n, value=n))     # ... then a write
            s.commit()

    with ThreadPoolExecutor(threads) as pool:
        errors = [f.exception() for f in [pool.submit(request, n) for n in range(threads)]]
    assert errors == [None] * threads
    with Session(file_engine) as s:
        assert s.scalar(select(func.count()).select_from(Counter)) == threads + 1


def test_a_session_that_only_read_leaves_no_transaction_open(file_engine):
    with Session(file_engine) as s:
        s.get(Counter, 1)
        s.scalars(select(Counter)).all()
        assert not s.connection().connection.dbapi_connection.in_transaction
        s.get(Counter, 1).value = 5
        s.flush()
        assert s.connection().connection.dbapi_connection.in_transaction


def test_a_read_then_drop_all_on_one_shared_memory_connection():
    engine = configure_sqlite(create_engine("sqlite://", poolclass=StaticPool))
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(Counter(id=1, value=1))
        s.commit()
        assert s.get(Counter, 1).value == 1  # the session's transaction is open ...
        Base.metadata.drop_all(engine)       # ... and DDL on the same connection works
        s.rollback()
    engine.dispose()


@pytest.mark.parametrize("inner", ["commit", "rollback"])
def test_a_savepoint_before_any_write_is_inside_the_transaction(file_engine, inner):
    with Session(file_engine) as s:
        nested = s.begin_nested()
        s.add(Counter(id=2, value=2))
        getattr(nested, inner)()
        s.add(Counter(id=3, value=3))
        s.flush()
        s.rollback()  # undoes both, the released SAVEPOINT's row included
    with Session(file_engine) as s:
        assert s.scalars(select(Counter.id)).all() == [1]


def test_the_write_lock_is_released_by_commit_and_rollback(file_engine):
    other = Session(file_engine)
    for end in ("commit", "rollback"):
        with Session(file_engine) as s:
            s.get(Counter, 1).value += 1
            s.flush()
            getattr(s, end)()
        other.get(Counter, 1).note = end  # would time out if the lock were still held
        other.commit()
    other.close()
    with Session(file_engine) as s:
        row = s.get(Counter, 1)
        assert (row.value, row.note) == (1, "rollback")


def test_an_isolation_level_option_does_not_change_the_pooled_connection(file_engine):
    for level in ("AUTOCOMMIT", "SERIALIZABLE"):
        with Session(file_engine) as s:
            s.connection(execution_options={"isolation_level": level})
            s.commit()
        with file_engine.connect() as conn:  # the same pooled connection
            assert conn.connection.dbapi_connection.isolation_level == "IMMEDIATE"
    test_requests_that_read_then_write_do_not_lock_each_other_out(file_engine)


def test_a_locked_database_at_begin_nested_raises_sqlalchemys_error(tmp_path: Path):
    path = tmp_path / "busy.sqlite3"
    engine = configure_sqlite(create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05}))
    Base.metadata.create_all(engine)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with Session(engine) as s:
            s.begin_nested()  # the SAVEPOINT goes out with the first SQL, as in SQLAlchemy
            with pytest.raises(sa_exc.OperationalError, match="locked") as info:
                s.connection()
            assert info.value.statement == "BEGIN IMMEDIATE"
            s.rollback()
            writer.execute("COMMIT")
            with s.begin_nested():
                s.add(Counter(id=9, value=9))
            s.commit()
            assert s.get(Counter, 9).value == 9
    finally:
        writer.close()
        engine.dispose()
