"""Transactions behave as in SQLAlchemy's ORM (issue 11).

Most tests run one small program twice, once on ``sqlalchemy.orm`` and once
on ``session_ext`` (same table, only the imports differ), and compare what
they observe; each also checks the key facts directly, so a test cannot pass
by both sides doing the same wrong thing.

Covered: autobegin on add()/delete()/merge()/first attribute change (so
rollback() undoes them), connection(execution_options=...) before the
transaction has a connection, Session(execution_options=, future=,
close_resets_only=), join_transaction_mode when the outer connection is in a
SAVEPOINT, a ``with session.begin():`` block whose transaction ended inside
it, and PendingRollbackError's class and cause.
"""

from __future__ import annotations

import inspect
import types
import warnings
from typing import Any

import pytest
import sqlalchemy.orm as sa_orm
from sqlalchemy import Column, Integer, String, event, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

import session_ext
from session_ext import exc as se_exc


class SEBase(session_ext.DeclarativeBase):
    pass


class SEItem(SEBase):
    __tablename__ = "conformance_items"
    id = Column(Integer, primary_key=True)
    name = Column(String(30))


class SABase(sa_orm.DeclarativeBase):
    pass


class SAItem(SABase):
    __tablename__ = "conformance_items"
    id = Column(Integer, primary_key=True)
    name = Column(String(30))


SA = types.SimpleNamespace(
    name="sa",
    Session=sa_orm.Session,
    sessionmaker=sa_orm.sessionmaker,
    Item=SAItem,
    make_transient_to_detached=sa_orm.make_transient_to_detached,
)
SE = types.SimpleNamespace(
    name="se",
    Session=session_ext.Session,
    sessionmaker=session_ext.sessionmaker,
    Item=SEItem,
    make_transient_to_detached=session_ext.make_transient_to_detached,
)
items = SEItem.__table__


@pytest.fixture
def db(engine: Engine) -> Engine:
    SEBase.metadata.create_all(engine)
    reseed(engine)
    return engine


def reseed(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(items.delete())
        conn.execute(items.insert(), [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}])


def rows(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        query = select(items.c.id, items.c.name).order_by(items.c.id)
        return [tuple(r) for r in conn.execute(query)]


def on_both(db: Engine, program: Any) -> tuple[Any, Any]:
    """Run ``program(api, engine)`` on SQLAlchemy's ORM, then on session_ext,
    each from the same starting rows; return both results."""
    results = []
    for api in (SA, SE):
        reseed(db)
        results.append(program(api, db))
    return results[0], results[1]


def sa_name(err: BaseException) -> str:
    """The name of the ``sqlalchemy.exc`` class an error is (or stands for)."""
    return next(c.__name__ for c in type(err).__mro__ if c.__module__ == "sqlalchemy.exc")


def outcome(fn: Any) -> Any:
    """What calling ``fn`` did: ("ok", value) or ("raised", SQLAlchemy class name)."""
    try:
        return ("ok", fn())
    except sa_exc.SQLAlchemyError as err:
        return ("raised", sa_name(err))


# ------------------------------------------------------------------------------------ 1. autobegin


def program_rolled_back_change(api: Any, engine: Engine) -> Any:
    seen = []
    session = api.Session(engine, expire_on_commit=False)
    item = session.get(api.Item, 1)
    session.commit()
    seen.append(session.in_transaction())
    item.name = "zz"
    seen.append(session.in_transaction())
    session.rollback()
    seen.append(session.in_transaction())
    seen.append(item.name)
    session.commit()
    session.close()
    seen.append(rows(engine))
    return seen


def test_rolled_back_attribute_change_is_never_written(db):
    sa_result, se_result = on_both(db, program_rolled_back_change)
    assert se_result == sa_result
    assert se_result == [False, True, False, "one", [(1, "one"), (2, "two")]]


def program_in_transaction_lifecycle(api: Any, engine: Engine) -> Any:
    seen = []
    session = api.Session(engine, expire_on_commit=False)
    seen.append(("new", session.in_transaction()))
    session.add(api.Item(id=5, name="five"))
    seen.append(("add", session.in_transaction()))
    session.commit()
    seen.append(("commit", session.in_transaction()))
    session.add(api.Item(id=6, name="six"))
    session.rollback()
    seen.append(("rollback", session.in_transaction()))
    session.add(api.Item(id=7, name="seven"))
    session.close()
    seen.append(("close", session.in_transaction()))
    item = session.get(api.Item, 5)
    session.commit()
    with session.begin_nested():
        item.name = "nested"
    session.commit()
    seen.append(("commit after nested", session.in_transaction()))
    item.name = "after nested"
    seen.append(("change after nested", session.in_transaction()))
    session.rollback()
    seen.append(("rolled back value", item.name))
    session.commit()
    session.delete(item)
    seen.append(("delete", session.in_transaction()))
    session.rollback()
    seen.append(("delete undone", item in session, session.get(api.Item, 5) is item))
    session.commit()
    session.expunge(item)
    detached = api.Item(id=1, name="merged")
    api.make_transient_to_detached(detached)
    merged = session.merge(detached, load=False)
    seen.append(("merge", session.in_transaction()))
    session.rollback()
    seen.append(("merge undone", merged.name))
    session.close()
    seen.append(("db", rows(engine)))
    return seen


def test_in_transaction_follows_sqlalchemy_through_the_lifecycle(db):
    sa_result, se_result = on_both(db, program_in_transaction_lifecycle)
    assert se_result == sa_result
    assert ("add", True) in se_result and ("change after nested", True) in se_result
    assert ("rolled back value", "nested") in se_result
    assert se_result[-1] == ("db", [(1, "one"), (2, "two"), (5, "nested")])


def test_add_all_begins_and_rollback_makes_objects_transient(db):
    session = session_ext.Session(db)
    objs = [SEItem(id=10 + i, name=str(i)) for i in range(3)]
    session.add_all(objs)
    assert session.in_transaction()
    session.rollback()
    assert all(session_ext.inspect(o).transient for o in objs)
    session.commit()
    session.close()
    assert rows(db) == [(1, "one"), (2, "two")]


def program_autobegin_disabled(api: Any, engine: Engine) -> Any:
    session = api.Session(engine, autobegin=False, expire_on_commit=False)
    session.begin()
    item = session.get(api.Item, 1)
    session.commit()
    seen = [outcome(lambda: setattr(item, "name", "changed")), item.name]
    seen.append(outcome(lambda: session.add(api.Item(id=9, name="nine"))))
    seen.append(session.in_transaction())
    with session.begin():
        item.name = "in a transaction"
    session.close()
    seen.append(rows(engine))
    return seen


def test_without_autobegin_changes_outside_a_transaction_raise(db):
    sa_result, se_result = on_both(db, program_autobegin_disabled)
    assert se_result == sa_result
    assert se_result[0] == ("raised", "InvalidRequestError")
    assert se_result[1] == "one"  # the refused change was not made
    assert se_result[-1] == [(1, "in a transaction"), (2, "two")]


def test_attribute_change_begins_without_a_connection(db, count_statements):
    """The transaction an attribute change begins is bookkeeping only: no
    connection and no SQL until a statement needs one (as in SQLAlchemy)."""
    session = session_ext.Session(db, expire_on_commit=False)
    a, b = session.get(SEItem, 1), session.get(SEItem, 2)
    session.commit()
    with count_statements(db) as stmts:
        a.name = "a1"
        a.name = "a2"
        b.name = "b1"
        assert session.in_transaction()
        assert session.get_transaction().connections() == []
    assert stmts.count == 0
    session.commit()
    session.close()
    assert rows(db) == [(1, "a2"), (2, "b1")]


# ---------------------------------------------------------------- 2. connection(execution_options)


def program_connection_options(api: Any, engine: Engine) -> Any:
    seen = []
    session = api.Session(engine, expire_on_commit=False)
    item = session.get(api.Item, 1)
    session.commit()
    item.name = "serial"  # begins the session's transaction, without a connection
    conn = session.connection(execution_options={"isolation_level": "SERIALIZABLE"})
    seen.append(conn.get_isolation_level())
    session.commit()
    session.close()
    # the pooled connection came back clean: the next session works normally
    with api.Session(engine) as other:
        other.add(api.Item(id=3, name="three"))
        other.commit()
        level = other.connection().get_isolation_level()
        seen.append(level == engine.dialect.default_isolation_level)
    seen.append(rows(engine))
    return seen


def test_connection_execution_options_before_the_first_statement(db):
    sa_result, se_result = on_both(db, program_connection_options)
    assert se_result == sa_result
    assert se_result[0] == "SERIALIZABLE"
    assert se_result[1] is True
    assert se_result[2] == [(1, "serial"), (2, "two"), (3, "three")]


def test_connection_execution_options_on_postgresql_apply_inside_the_transaction(pg_engine):
    SEBase.metadata.create_all(pg_engine)
    reseed(pg_engine)
    with session_ext.Session(pg_engine) as session:
        session.add(SEItem(id=3, name="three"))  # begins, no connection yet
        session.connection(execution_options={"isolation_level": "SERIALIZABLE"})
        assert session.scalar(text("SHOW transaction_isolation")) == "serializable"
        session.commit()
        assert session.scalar(text("SHOW transaction_isolation")) == "read committed"
    with pg_engine.connect() as conn:  # the pool reset the connection's level
        assert conn.scalar(text("SHOW transaction_isolation")) == "read committed"
    assert rows(pg_engine)[-1] == (3, "three")


def program_connection_options_too_late(api: Any, engine: Engine) -> Any:
    session = api.Session(engine)
    session.get(api.Item, 1)  # the transaction has its connection now
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        conn = session.connection(execution_options={"isolation_level": "READ UNCOMMITTED"})
    level = conn.get_isolation_level()
    session.close()
    return [w.category.__name__ for w in caught], level == engine.dialect.default_isolation_level


def test_connection_execution_options_once_connected_warn_and_are_ignored(db):
    sa_result, se_result = on_both(db, program_connection_options_too_late)
    assert se_result == sa_result
    assert se_result == (["SAWarning"], True)


def test_failing_connection_options_leave_no_pooled_connection_in_a_transaction(db):
    session = session_ext.Session(db)
    session.add(SEItem(id=3, name="three"))
    with pytest.raises(sa_exc.ArgumentError):
        session.connection(execution_options={"isolation_level": "NO SUCH LEVEL"})
    if hasattr(db.pool, "checkedout"):
        assert db.pool.checkedout() == 0
    assert session.get_transaction().connections() == []
    session.rollback()
    session.close()
    with session_ext.Session(db) as other:
        other.add(SEItem(id=4, name="four"))
        other.commit()
    assert rows(db)[-1] == (4, "four")


# ---------------------------------------------------------------------------- 3. Session arguments


def program_session_execution_options(api: Any, engine: Engine) -> Any:
    seen: list[Any] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement.split()[0].upper(), context.execution_options.get("marker")))

    event.listen(engine, "before_cursor_execute", record)
    try:
        factory = api.sessionmaker(engine, execution_options={"marker": "session"})
        with factory() as session:
            session.execute(select(api.Item)).all()
            session.execute(text("SELECT 1"), execution_options={"marker": "call"})
            session.add(api.Item(id=3, name="three"))
            session.flush()
            session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return [entry for entry in seen if entry[0] != "BEGIN"]


def test_session_execution_options_reach_every_statement(db):
    expected = [("SELECT", "session"), ("SELECT", "call"), ("INSERT", "session")]
    if "execution_options" not in inspect.signature(sa_orm.Session).parameters:
        # SQLAlchemy 2.0's ORM has no Session(execution_options=) (2.1 added it)
        reseed(db)
        assert program_session_execution_options(SE, db) == expected
        return
    sa_result, se_result = on_both(db, program_session_execution_options)
    assert se_result == sa_result
    assert se_result == expected


def test_future_is_accepted_only_as_true(db):
    for api in (SA, SE):
        api.Session(db, future=True).close()
        api.sessionmaker(db, future=True)().close()
        with pytest.raises(sa_exc.ArgumentError):
            api.Session(db, future=False)


def program_close_resets_only(api: Any, engine: Engine) -> Any:
    seen = []
    session = api.sessionmaker(engine, close_resets_only=False)()
    session.get(api.Item, 1)
    session.reset()  # reset() never makes the session unusable
    seen.append(outcome(lambda: session.get(api.Item, 1).name))
    session.close()
    seen.append(outcome(lambda: session.get(api.Item, 1)))
    seen.append(outcome(lambda: session.add(api.Item(id=9, name="x"))))
    seen.append(outcome(session.begin))
    seen.append(outcome(session.rollback))
    seen.append(outcome(session.close))
    seen.append(outcome(session.in_transaction))
    reusable = api.Session(engine, close_resets_only=True)
    reusable.get(api.Item, 1)
    reusable.close()
    seen.append(outcome(lambda: reusable.get(api.Item, 2).name))
    reusable.close()
    return seen


def test_close_resets_only_false_makes_close_final(db):
    sa_result, se_result = on_both(db, program_close_resets_only)
    assert se_result == sa_result
    assert se_result[1] == ("raised", "InvalidRequestError")
    assert se_result[-1] == ("ok", "two")


# ------------------------------------------------------------------------ 4. join_transaction_mode


def program_join(api: Any, engine: Engine, mode: str | None, outer: str, action: str) -> Any:
    seen = []
    with engine.connect() as conn:
        trans = conn.begin()
        conn.execute(items.insert().values(id=3, name="outer"))
        savepoint = conn.begin_nested() if outer == "savepoint" else None
        if savepoint is not None:
            conn.execute(items.insert().values(id=4, name="in savepoint"))
        kw = {} if mode is None else {"join_transaction_mode": mode}
        session = api.Session(bind=conn, **kw)
        session.add(api.Item(id=10, name="session"))
        session.flush()
        if action == "commit":
            session.commit()
        elif action == "rollback":
            session.rollback()
        else:
            session.close()
        seen.append(("outer active", trans.is_active))
        if savepoint is not None:
            seen.append(("savepoint active", savepoint.is_active))
        if conn.in_transaction():
            visible = conn.scalars(select(items.c.id).order_by(items.c.id)).all()
            seen.append(("visible", visible))
        session.close()
        seen.append(("outer active after close", trans.is_active))
        if conn.in_transaction():
            conn.rollback()
    seen.append(("committed", [r[0] for r in rows(engine)]))
    return seen


@pytest.mark.parametrize(
    "mode", [None, "conditional_savepoint", "create_savepoint", "rollback_only", "control_fully"]
)
def test_join_transaction_mode_matches_sqlalchemy(db, mode):
    for outer in ("transaction", "savepoint"):
        for action in ("commit", "rollback", "close"):
            sa_result, se_result = on_both(
                db, lambda api, eng, o=outer, a=action: program_join(api, eng, mode, o, a)
            )
            assert se_result == sa_result, (outer, action)


def test_rollback_only_in_an_outer_savepoint_rolls_back_the_savepoint_only(db):
    result = program_join(SE, db, "rollback_only", "savepoint", "rollback")
    assert ("outer active", True) in result
    assert ("savepoint active", False) in result
    assert ("visible", [1, 2, 3]) in result


def test_control_fully_in_an_outer_savepoint_commits_the_savepoint_only(db):
    reseed(db)
    result = program_join(SE, db, "control_fully", "savepoint", "commit")
    assert ("outer active", True) in result
    assert ("savepoint active", False) in result
    assert ("visible", [1, 2, 3, 4, 10]) in result
    assert result[-1] == ("committed", [1, 2])  # the outer transaction was rolled back


def test_twophase_session_on_a_connection_in_a_transaction_refuses_like_sqlalchemy(db):
    for api in (SA, SE):
        with db.connect() as conn:
            conn.begin()
            session = api.Session(bind=conn, twophase=True)
            session.add(api.Item(id=20, name="x"))
            with pytest.raises(sa_exc.InvalidRequestError, match="two phase"):
                session.flush()
            session.close()
            conn.rollback()


# ------------------------------------------------------------------------- 5. with session.begin()


def program_begin_block_after_inner_commit(api: Any, engine: Engine) -> Any:
    seen = []
    session = api.Session(engine)
    try:
        with session.begin():
            session.add(api.Item(id=3, name="three"))
            session.commit()
            seen.append(session.in_transaction())
            session.add(api.Item(id=4, name="lost"))
    except sa_exc.InvalidRequestError as err:
        seen.append(("raised", sa_name(err)))
    seen.append(session.in_transaction())
    session.add(api.Item(id=5, name="after the block"))
    session.commit()
    session.close()
    seen.append(rows(engine))
    return seen


def test_begin_block_refuses_work_after_an_inner_commit(db):
    sa_result, se_result = on_both(db, program_begin_block_after_inner_commit)
    assert se_result == sa_result
    assert se_result[1] == ("raised", "InvalidRequestError")
    assert se_result[-1] == [(1, "one"), (2, "two"), (3, "three"), (5, "after the block")]


def program_begin_block_operations(api: Any, engine: Engine, end: str) -> Any:
    seen = []
    session = api.Session(engine)
    with session.begin():
        session.get(api.Item, 1)
        getattr(session, end)()
        seen.append(outcome(session.begin))
        seen.append(outcome(session.begin_nested))
        seen.append(outcome(session.connection))
        seen.append(outcome(session.flush))
        seen.append(outcome(lambda: session.add(api.Item(id=9, name="x"))))
        seen.append(outcome(lambda: session.execute(select(api.Item.id)).all()))
        seen.append(outcome(session.commit))
        seen.append(outcome(session.rollback))
    seen.append(session.in_transaction())
    seen.append(outcome(lambda: session.get(api.Item, 2).name))
    session.close()
    return seen


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_begin_block_after_its_transaction_ended(db, end):
    sa_result, se_result = on_both(
        db, lambda api, eng: program_begin_block_operations(api, eng, end)
    )
    assert se_result == sa_result
    assert se_result[0] == ("raised", "InvalidRequestError")
    assert se_result[-1] == ("ok", "two")


def program_nested_blocks(api: Any, engine: Engine) -> Any:
    seen = []
    session = api.Session(engine)
    with session.begin():
        with session.begin_nested() as savepoint:
            session.add(api.Item(id=3, name="three"))
            savepoint.rollback()
            seen.append(outcome(lambda: session.get(api.Item, 1).name))
        seen.append(outcome(lambda: session.get(api.Item, 1).name))  # the outer one is fine
        with session.begin_nested():
            session.rollback()  # ends everything
            seen.append(outcome(lambda: session.get(api.Item, 2)))
        seen.append(outcome(lambda: session.get(api.Item, 2)))
    seen.append(outcome(lambda: session.get(api.Item, 2).name))
    session.close()
    return seen


def test_nested_begin_blocks(db):
    sa_result, se_result = on_both(db, program_nested_blocks)
    assert se_result == sa_result
    assert se_result[0] == ("raised", "InvalidRequestError")
    assert se_result[1] == ("ok", "one")


def program_failed_flush_in_begin_block(api: Any, engine: Engine) -> Any:
    seen = []
    session = api.Session(engine)
    with session.begin():
        session.add(api.Item(id=1, name="duplicate"))
        try:
            session.flush()
        except sa_exc.IntegrityError:
            seen.append("flush failed")
        seen.append(outcome(lambda: session.execute(select(api.Item.id)).all()))
        seen.append(session.is_active)
    # leaving the block does not raise: the block's transaction is already over
    seen.append(session.in_transaction())
    seen.append(outcome(lambda: session.get(api.Item, 2).name))
    session.close()
    seen.append(rows(engine))
    return seen


def test_begin_block_after_a_failed_flush(db):
    sa_result, se_result = on_both(db, program_failed_flush_in_begin_block)
    assert se_result == sa_result
    assert se_result[1] == ("raised", "InvalidRequestError")
    assert se_result[-1] == [(1, "one"), (2, "two")]


def test_begin_block_message_names_the_block_and_the_fix(db):
    session = session_ext.Session(db)
    with session.begin():
        session.commit()
        with pytest.raises(se_exc.InvalidRequestError) as err:
            session.get(SEItem, 1)
    message = str(err.value)
    assert "with session.begin():" in message and "committed" in message
    assert "Leave the block" in message
    session.close()


def test_sessionmaker_begin_block_after_inner_commit(db):
    factory = session_ext.sessionmaker(db)
    with pytest.raises(se_exc.InvalidRequestError), factory.begin() as session:
        session.add(SEItem(id=3, name="three"))
        session.commit()
        session.add(SEItem(id=4, name="never written"))
    assert rows(db)[-1] == (3, "three")


# ------------------------------------------------------------------------- 6. PendingRollbackError


def program_pending_rollback(api: Any, engine: Engine) -> Any:
    session = api.Session(engine)
    session.add(api.Item(id=1, name="duplicate"))
    with pytest.raises(sa_exc.IntegrityError) as flush_error:
        session.flush()
    with pytest.raises(sa_exc.PendingRollbackError) as pending:
        session.execute(select(api.Item)).all()
    err = pending.value
    session.rollback()
    assert session.get(api.Item, 1).name == "one"
    session.close()
    return err, flush_error.value


def test_pending_rollback_error_is_an_invalid_request_error_naming_the_flush_error(db):
    sa_err, _ = program_pending_rollback(SA, db)
    err, flush_error = program_pending_rollback(SE, db)
    assert isinstance(sa_err, sa_exc.InvalidRequestError)
    assert isinstance(err, sa_exc.InvalidRequestError)
    assert isinstance(err, se_exc.InvalidRequestError)
    assert isinstance(err, se_exc.PendingRollbackError)
    assert err.__cause__ is flush_error and err.orig is flush_error
    message = str(err)
    assert "IntegrityError" in message and "rollback()" in message
    with pytest.raises(se_exc.InvalidRequestError):
        raise err
