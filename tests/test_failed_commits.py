"""A COMMIT that fails, or that the database would turn into a ROLLBACK,
never reports or leaves behind rows that were not saved."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, String, create_engine, func, select, text
from sqlalchemy import exc as sa_exc

from session_ext import Session, declarative_base, exc
from session_ext.engines import configure_sqlite

Base = declarative_base()


class Entry(Base):
    __tablename__ = "failed_commit_entry"
    id = Column(Integer, primary_key=True)
    value = Column(String(20))


def stored(engine) -> list[str]:
    with engine.connect() as conn:
        return conn.execute(select(Entry.value).order_by(Entry.id)).scalars().all()


def test_a_commit_refused_by_sqlites_lock_saves_nothing_and_frees_the_connection(tmp_path: Path):
    path = tmp_path / "locked.sqlite3"
    engine = configure_sqlite(create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.1}))
    Base.metadata.create_all(engine)
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        session = Session(engine)
        session.add(Entry(value="refused"))
        session.flush()                      # holds the write lock
        reader.execute("BEGIN")
        reader.execute("SELECT * FROM failed_commit_entry").fetchall()  # a read lock
        with pytest.raises(sa_exc.OperationalError, match="locked"):
            session.commit()                 # COMMIT cannot get the exclusive lock
        reader.execute("COMMIT")
        assert engine.pool.checkedout() == 0
        with Session(engine) as next_user:   # the same pooled connection
            next_user.add(Entry(value="next"))
            next_user.commit()
        assert stored(engine) == ["next"]    # not the refused row with it
        session.add(Entry(value="retried"))  # the failed session is usable again
        session.commit()
        assert stored(engine) == ["next", "retried"]
    finally:
        reader.close()
        engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_commit_of_a_transaction_postgresql_aborted_is_refused(engine):
    Base.metadata.create_all(engine)
    session = Session(engine)
    session.add(Entry(value="lost"))
    session.flush()
    with pytest.raises(sa_exc.DataError):
        session.execute(text("SELECT 1/0"))
    with pytest.raises(exc.PendingRollbackError, match=r"SELECT 1/0.*rollback\(\)") as info:
        session.commit()
    assert isinstance(info.value, exc.InvalidRequestError)
    session.rollback()
    assert stored(engine) == []
    session.add(Entry(value="saved"))
    session.commit()
    assert stored(engine) == ["saved"]
    session.close()
    assert engine.pool.checkedout() == 0


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_an_error_inside_begin_nested_leaves_the_transaction_committable(engine):
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Entry(value="kept"))
        with pytest.raises(sa_exc.DataError):
            with session.begin_nested():
                session.execute(text("SELECT 1/0"))
        session.commit()
    assert stored(engine) == ["kept"]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_deferred_constraint_failing_at_commit_leaves_a_clean_pool(engine):
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE failed_commit_unique (v int UNIQUE "
                          "DEFERRABLE INITIALLY DEFERRED)"))
    session = Session(engine)
    session.execute(text("INSERT INTO failed_commit_unique VALUES (1), (1)"))
    with pytest.raises(sa_exc.IntegrityError):
        session.commit()
    assert engine.pool.checkedout() == 0
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(text("failed_commit_unique"))) == 0
        s.execute(text("INSERT INTO failed_commit_unique VALUES (2)"))
        s.commit()
    session.close()
