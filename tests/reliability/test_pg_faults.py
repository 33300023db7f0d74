"""PostgreSQL faults, in process, with the core Session: each one fails the
way SQLAlchemy's ORM fails (a ``DBAPIError`` subclass, ``connection_invalidated``
when the connection is gone), and the session, the pool and the next session
recover.

* the backend killed mid-transaction, and while idle in the pool;
* the server restarted between two units of work (without and with
  ``pool_pre_ping``);
* an ``IntegrityError`` in the middle of a 10,000-row flush;
* ``statement_timeout`` / ``lock_timeout`` cancelling a query and a flush;
* a serialization failure under SERIALIZABLE and a deadlock, retried by
  :func:`session_ext.run_in_transaction`;
* an error inside ``begin_nested()``: back to the SAVEPOINT, the outer
  transaction goes on and commits.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, ForeignKey, Integer, String, create_engine, func, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from session_ext import DeclarativeBase, Session, inspect, run_in_transaction, sessionmaker
from session_ext import exc as se_exc
from session_ext.retry import is_retryable, sqlstate_of


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id = Column(Integer, primary_key=True)
    owner = Column(String(40), nullable=False, unique=True)
    balance = Column(Integer, nullable=False, default=0)


class Entry(Base):
    __tablename__ = "entries"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False)
    label = Column(String(40), nullable=False, unique=True)


@pytest.fixture
def db(pg_engine: Engine) -> Engine:
    Base.metadata.create_all(pg_engine)
    with pg_engine.begin() as conn:
        conn.execute(
            Account.__table__.insert(),
            [{"id": 1, "owner": "ada", "balance": 100}, {"id": 2, "owner": "bob", "balance": 50}],
        )
    return pg_engine


@pytest.fixture
def admin(db: Engine) -> Iterator[Engine]:
    """A second engine on the same database, for the other side of a fault
    (its own connections, never pooled)."""
    engine = create_engine(db.url, poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def terminate(admin: Engine, pid: int) -> None:
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        # wait (up to 10 s) until the backend is really gone
        conn.execute(
            text(
                "DO $$ BEGIN FOR i IN 1..1000 LOOP "
                "EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = "
                f"{int(pid)}); PERFORM pg_sleep(0.01); END LOOP; END $$"
            )
        )


def backend_pid(session: Session) -> int:
    return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def owners(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(Account.owner).order_by(Account.id)))


def idle_in_transaction(admin: Engine) -> int:
    with admin.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%'"
            )
        ).scalar_one()


# -- a backend killed ----------------------------------------------------------


def test_backend_killed_mid_transaction(db: Engine, admin: Engine) -> None:
    session = Session(db)
    session.add(Account(id=3, owner="cy"))
    session.flush()
    terminate(admin, backend_pid(session))

    session.add(Account(id=4, owner="dee"))
    with pytest.raises(sa_exc.DBAPIError) as caught:
        session.flush()
    assert caught.value.connection_invalidated
    # the transaction is gone with its connection: commit refuses, rollback recovers
    with pytest.raises(se_exc.PendingRollbackError):
        session.commit()
    session.rollback()
    assert session.scalars(select(Account.owner).order_by(Account.id)).all() == ["ada", "bob"]
    session.add(Account(id=5, owner="eve"))
    session.commit()
    session.close()

    with Session(db) as fresh:
        assert fresh.scalar(select(func.count(Account.id))) == 3
    assert owners(db) == ["ada", "bob", "eve"]  # nothing of the killed transaction
    assert db.pool.checkedout() == 0


def test_backend_killed_while_idle_in_the_pool(db: Engine, admin: Engine) -> None:
    with Session(db) as session:
        pid = backend_pid(session)
    assert db.pool.checkedout() == 0
    terminate(admin, pid)  # the pooled connection's backend dies while idle

    session = Session(db)
    with pytest.raises(sa_exc.DBAPIError) as caught:
        session.get(Account, 1)
    assert caught.value.connection_invalidated
    session.rollback()
    assert session.get(Account, 1).owner == "ada"  # a new connection
    assert backend_pid(session) != pid
    session.close()
    with Session(db) as fresh:
        assert fresh.get(Account, 2).owner == "bob"
    assert db.pool.checkedout() == 0


# -- the server restarted ------------------------------------------------------


def test_server_restart_between_units_of_work(db: Engine, pg_server) -> None:
    if pg_server.external_url is not None:
        pytest.skip("cannot restart an external PostgreSQL server")
    with Session(db) as session:
        session.get(Account, 1)  # a pooled connection now exists
    pg_server.restart()

    session = Session(db)
    with pytest.raises(sa_exc.DBAPIError) as caught:
        session.scalars(select(Account)).all()
    assert caught.value.connection_invalidated
    session.rollback()
    assert [a.owner for a in session.scalars(select(Account).order_by(Account.id))] == [
        "ada",
        "bob",
    ]
    session.add(Account(id=3, owner="cy"))
    session.commit()
    session.close()
    assert owners(db) == ["ada", "bob", "cy"]


def test_server_restart_is_invisible_with_pool_pre_ping(db: Engine, pg_server) -> None:
    """What the example apps configure for a server database."""
    if pg_server.external_url is not None:
        pytest.skip("cannot restart an external PostgreSQL server")
    engine = create_engine(db.url, pool_pre_ping=True)
    try:
        with Session(engine) as session:
            session.get(Account, 1)
        pg_server.restart()
        with Session(engine) as session:
            session.add(Account(id=3, owner="cy"))
            session.commit()
        assert owners(engine) == ["ada", "bob", "cy"]
    finally:
        engine.dispose()


# -- an IntegrityError in a big flush ------------------------------------------


@pytest.mark.parametrize("keys", ["generated", "given"])
def test_integrity_error_in_the_middle_of_a_10000_row_flush(
    db: Engine, admin: Engine, keys: str
) -> None:
    """Generated keys go through COPY; given keys through batched INSERTs, the
    first batches of which have run when the one with the duplicate fails."""
    session = Session(db)
    rows = [
        Entry(account_id=1, label=f"entry {n}", **({"id": n + 1} if keys == "given" else {}))
        for n in range(10_000)
    ]
    rows[5_000].label = "entry 17"  # the same label as an earlier row of the flush
    session.add_all(rows)
    with pytest.raises(sa_exc.IntegrityError):
        session.flush()
    with admin.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Entry.__table__)) == 0

    session.rollback()
    assert not session.new and not session.identity_map
    assert inspect(rows[0]).transient and inspect(rows[9_999]).transient
    session.add(Entry(account_id=2, label="after"))
    session.commit()
    session.close()
    with admin.connect() as conn:
        assert list(conn.scalars(select(Entry.label))) == ["after"]
    assert db.pool.checkedout() == 0


# -- timeouts ------------------------------------------------------------------


def test_statement_timeout_cancels_a_query(db: Engine) -> None:
    session = Session(db)
    session.execute(text("SET statement_timeout = '50ms'"))
    with pytest.raises(sa_exc.OperationalError) as caught:
        session.execute(text("SELECT pg_sleep(30)"))
    assert sqlstate_of(caught.value) == "57014"  # query_canceled
    assert not caught.value.connection_invalidated
    session.rollback()  # SET was part of the failed transaction: undone
    assert session.execute(text("SHOW statement_timeout")).scalar_one() == "0"
    assert session.get(Account, 1).owner == "ada"
    session.close()
    assert db.pool.checkedout() == 0


def test_lock_timeout_fails_a_flush_blocked_by_another_transaction(
    db: Engine, admin: Engine
) -> None:
    with admin.connect() as other:
        other.execute(text("SELECT * FROM accounts WHERE id = 1 FOR UPDATE"))
        session = Session(db)
        session.execute(text("SET lock_timeout = '50ms'"))
        ada = session.get(Account, 1)
        ada.balance = 0
        session.add(Account(id=3, owner="cy"))
        with pytest.raises(sa_exc.OperationalError) as caught:
            session.flush()
        assert sqlstate_of(caught.value) == "55P03"  # lock_not_available
        session.rollback()
        other.rollback()
    assert session.get(Account, 1).balance == 100
    ada.balance = 1
    session.commit()
    session.close()
    assert owners(db) == ["ada", "bob"]
    with Session(db) as fresh:
        assert fresh.get(Account, 1).balance == 1


# -- serialization failures and deadlocks, retried -----------------------------


def test_serialization_failure_is_retried(db: Engine, admin: Engine) -> None:
    serializable = db.execution_options(isolation_level="SERIALIZABLE")
    factory = sessionmaker(serializable)
    attempts: list[int] = []
    retried: list[str | None] = []

    def add_interest(session: Session) -> int:
        attempts.append(1)
        account = session.get(Account, 1)  # the snapshot is taken here
        if len(attempts) == 1:  # meanwhile, another transaction changes the row
            with admin.begin() as conn:
                conn.execute(text("UPDATE accounts SET balance = balance + 1 WHERE id = 1"))
        account.balance = account.balance + 10
        session.flush()
        return account.balance

    result = run_in_transaction(
        factory, add_interest, backoff=0, on_retry=lambda n, err: retried.append(sqlstate_of(err))
    )
    assert result == 111 and len(attempts) == 2
    assert retried == ["40001"]
    with Session(db) as session:
        assert session.get(Account, 1).balance == 111
    assert db.pool.checkedout() == 0


def test_write_skew_under_serializable_fails_one_commit(db: Engine) -> None:
    """The classic case: two transactions read the same rows, write different
    ones; under SERIALIZABLE the second commit is refused (40001)."""
    serializable = db.execution_options(isolation_level="SERIALIZABLE")
    first, second = Session(serializable), Session(serializable)
    total = select(func.sum(Account.balance))
    assert first.scalar(total) == second.scalar(total) == 150
    first.get(Account, 1).balance -= 100
    second.get(Account, 2).balance -= 50
    first.commit()
    with pytest.raises(sa_exc.DBAPIError) as caught:
        second.commit()
    assert is_retryable(caught.value) and sqlstate_of(caught.value) == "40001"
    second.rollback()
    assert second.scalar(total) == 50  # sees the first commit now
    first.close()
    second.close()


def test_retries_are_bounded_and_other_errors_are_not_retried(db: Engine) -> None:
    factory = sessionmaker(db)
    calls: list[int] = []

    def always_fails(session: Session) -> None:
        calls.append(1)
        session.execute(text("SELECT 1"))
        raise sa_exc.OperationalError(
            "SELECT 1", {}, _FakeDriverError("could not serialize access", "40001")
        )

    with pytest.raises(sa_exc.OperationalError):
        run_in_transaction(factory, always_fails, retries=2, backoff=0)
    assert len(calls) == 3

    calls.clear()

    def duplicate(session: Session) -> None:
        calls.append(1)
        session.add(Account(id=9, owner="ada"))  # owner is unique

    with pytest.raises(sa_exc.IntegrityError):
        run_in_transaction(factory, duplicate, backoff=0)
    assert len(calls) == 1
    assert owners(db) == ["ada", "bob"]
    assert db.pool.checkedout() == 0
    with pytest.raises(se_exc.ArgumentError, match="retries must be an integer >= 0"):
        run_in_transaction(factory, duplicate, retries=-1)


def test_sqlstate_is_read_from_psycopg3_and_psycopg2_errors() -> None:
    psycopg2_style = Exception("deadlock detected")
    psycopg2_style.pgcode = "40P01"  # type: ignore[attr-defined]
    assert is_retryable(sa_exc.OperationalError("UPDATE", {}, psycopg2_style))
    wrapped = se_exc.PendingRollbackError(
        "flush failed", sa_exc.DBAPIError("x", {}, _FakeDriverError("serialize", "40001"))
    )
    assert sqlstate_of(wrapped) == "40001"
    assert not is_retryable(sa_exc.IntegrityError("INSERT", {}, _FakeDriverError("dup", "23505")))
    assert sqlstate_of(ValueError("not a database error")) is None


class _FakeDriverError(Exception):
    """Stands for a driver error carrying a SQLSTATE (psycopg 3's ``sqlstate``)."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def test_deadlock_is_retried(db: Engine) -> None:
    """Two transactions lock the same two rows in opposite orders; PostgreSQL
    fails one of them with 40P01, which run_in_transaction runs again."""
    factory = sessionmaker(db)
    both_locked_first_row = threading.Barrier(2, timeout=30)
    retried: list[str | None] = []
    errors: list[BaseException] = []
    with db.connect() as conn:  # only a superuser may shorten the 1 s deadlock check
        superuser = conn.execute(text("SELECT current_setting('is_superuser')")).scalar() == "on"

    def transfer(first: int, second: int) -> None:
        attempt = 0

        def work(session: Session) -> None:
            nonlocal attempt
            attempt += 1
            if superuser:
                session.execute(text("SET deadlock_timeout = '20ms'"))
            session.get(Account, first, with_for_update=True)
            if attempt == 1:
                both_locked_first_row.wait()
            session.get(Account, second, with_for_update=True).balance += 1

        try:
            run_in_transaction(
                factory, work, backoff=0, on_retry=lambda n, e: retried.append(sqlstate_of(e))
            )
        except BaseException as err:  # reported by the main thread
            errors.append(err)

    threads = [threading.Thread(target=transfer, args=pair) for pair in ((1, 2), (2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert retried == ["40P01"]
    with Session(db) as session:
        assert session.get(Account, 1).balance == 101
        assert session.get(Account, 2).balance == 51
    assert db.pool.checkedout() == 0


def test_run_in_transaction_with_a_scoped_session(db: Engine, admin: Engine) -> None:
    from session_ext import scoped_session

    scoped = scoped_session(sessionmaker(db.execution_options(isolation_level="REPEATABLE READ")))
    attempts: list[int] = []

    def bump(session: Session) -> int:
        assert session is scoped()
        attempts.append(1)
        account = session.get(Account, 2)
        if len(attempts) == 1:
            with admin.begin() as conn:
                conn.execute(text("UPDATE accounts SET balance = 0 WHERE id = 2"))
        account.balance += 5
        session.flush()
        return account.id

    assert run_in_transaction(scoped, bump, backoff=0) == 2
    assert len(attempts) == 2
    assert scoped.has()  # the scope's session is left to its scope
    assert scoped.get(Account, 2).balance == 5
    scoped.remove()
    assert idle_in_transaction(admin) == 0


# -- a failed SAVEPOINT --------------------------------------------------------


def test_error_inside_begin_nested_rolls_back_to_the_savepoint(db: Engine) -> None:
    session = Session(db)
    session.add(Account(id=3, owner="cy"))
    with pytest.raises(sa_exc.IntegrityError):
        with session.begin_nested():
            session.add(Account(id=4, owner="dee"))
            session.add(Account(id=5, owner="ada"))  # owner is unique: the flush fails
    assert session.in_transaction() and not session.in_nested_transaction()
    # the outer transaction goes on: its work is still there, the nested one's is not
    assert session.scalars(select(Account.owner).order_by(Account.id)).all() == [
        "ada",
        "bob",
        "cy",
    ]
    with pytest.raises(sa_exc.DBAPIError):
        with session.begin_nested():
            session.execute(text("SELECT 1 / 0"))
    session.add(Account(id=6, owner="fay"))
    session.commit()
    session.close()
    assert owners(db) == ["ada", "bob", "cy", "fay"]
    assert db.pool.checkedout() == 0
