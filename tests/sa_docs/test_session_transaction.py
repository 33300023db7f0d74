"""SQLAlchemy's "Transactions and Connection Management" page
(doc/build/orm/session_transaction.rst), as a program of our own text run on
``sqlalchemy.orm`` and on session_ext with only the import lines changed.

Sections covered, in page order: managing transactions (``with
session.begin()``, commit as you go with autobegin, ``close()``, ``with
Session(engine)``, ``sessionmaker`` as a context manager and
``sessionmaker.begin()``), using SAVEPOINT (``begin_nested()`` rolled back
alone, the context-manager form skipping records that raise
``IntegrityError``, expiry of only the objects changed inside the
SAVEPOINT), Session-level vs Engine-level control (commit as you go, begin
once, a nested transaction committed or rolled back through its handle),
explicit begin (``after_transaction_create`` fired by ``begin()`` as by
autobegin), isolation levels (an AUTOCOMMIT engine for a sessionmaker, a
``bind=`` override, ``bind_mapper()``, ``Session.connection(
execution_options=...)`` before and inside ``begin()``) and joining a Session
into an external transaction with ``join_transaction_mode="create_savepoint"``
(the test-suite recipe). Two-phase commit is left out (needs two databases
with prepared transactions enabled).
"""

from __future__ import annotations

from typing import Any

import pytest
from doc_programs import same_on_both

FUTURE = {False: "", True: "from __future__ import annotations\n"}

PROGRAM = '''
from typing import Optional

from sqlalchemy import String, event, exc, func, insert, inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class SomeClass(Base):
    __tablename__ = "stx_some_class"

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[str] = mapped_column(String(50))

    def __repr__(self) -> str:
        return f"SomeClass(id={self.id!r}, data={self.data!r})"


class SomeRecord(Base):
    __tablename__ = "stx_some_record"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(50))
    note: Mapped[Optional[str]]


class Item(Base):
    __tablename__ = "stx_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    foo: Mapped[Optional[str]]
    bar: Mapped[Optional[str]]


def states(obj):
    i = inspect(obj)
    return [n for n in ("transient", "pending", "persistent", "deleted", "detached")
            if getattr(i, n)]


def loaded(obj):
    return sorted(k for k in vars(obj) if not k.startswith("_"))


def data_rows(engine, cls=SomeClass):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(cls.__table__).order_by(cls.id))]


def count(engine, cls=SomeClass):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(cls.__table__)).scalar_one()


def managing_transactions(engine, seen):
    session = Session(engine)
    with session.begin():
        session.add(SomeClass(data="a"))
        session.add(SomeClass(data="b"))
        seen["begin_block_in_tx"] = session.in_transaction()
    seen["begin_block_after"] = (session.in_transaction(), count(engine))

    # commit as you go
    one, two = SomeClass(data="c"), SomeClass(data="d")
    session.add(one)
    session.add(two)
    session.commit()
    seen["autobegin_after_commit"] = session.in_transaction()
    result = session.execute(text("SELECT data FROM stx_some_class ORDER BY id"))
    seen["text_rows"] = [tuple(r) for r in result]
    seen["autobegun"] = session.in_transaction()
    session.add_all([SomeClass(data="e"), SomeClass(data="f")])
    session.commit()
    still_another = SomeClass(data="g")
    session.add(still_another)
    session.flush()
    seen["flushed_id"] = still_another.id
    session.rollback()
    seen["rolled_back"] = (states(still_another), count(engine))

    # close() rolls back and expunges everything
    session.add(SomeClass(data="h"))
    session.flush()
    seen["close_before"] = (session.in_transaction(), len(list(session)))
    session.close()
    seen["close_after"] = (session.in_transaction(), len(list(session)), states(one),
                           count(engine))

    with Session(engine) as session:
        session.add(SomeClass(data="i"))
        session.commit()
        another = SomeClass(data="j")
        session.add(another)
        session.flush()
        session.commit()
        result = session.execute(text("SELECT count(*) FROM stx_some_class"))
        seen["ctx_count"] = result.scalar()
    seen["ctx_closed"] = (states(another), session.in_transaction())

    maker = sessionmaker(engine)
    with maker() as session:
        with session.begin():
            session.add(SomeClass(data="k"))
        seen["maker_after_block"] = (session.in_transaction(), count(engine))
    with maker.begin() as session:
        obj = SomeClass(data="l")
        session.add(obj)
        seen["maker_begin_in_tx"] = session.in_transaction()
    seen["maker_begin_after"] = (states(obj), count(engine))

    # an exception inside begin() rolls back
    try:
        with maker.begin() as session:
            session.add(SomeClass(data="m"))
            session.flush()
            raise ValueError("boom")
    except ValueError as err:
        seen["begin_raised"] = (str(err), count(engine))


def savepoints(engine, seen):
    maker = sessionmaker(engine)
    u1, u2, u3 = SomeClass(data="u1"), SomeClass(data="u2"), SomeClass(data="u3")
    with maker.begin() as session:
        session.add(u1)
        session.add(u2)
        nested = session.begin_nested()
        seen["nested_is_nested"] = (nested.nested, session.in_nested_transaction())
        seen["flushed_before_savepoint"] = (states(u1), states(u2))
        session.add(u3)
        nested.rollback()
        seen["after_nested_rollback"] = (states(u1), states(u3), u3 in session,
                                         session.in_nested_transaction(),
                                         session.in_transaction())
    seen["savepoint_rows"] = [d for _, d in data_rows(engine) if d.startswith("u")]

    # the context manager form, skipping the records that fail
    with engine.begin() as conn:
        conn.execute(insert(SomeRecord), [{"id": 2, "name": "two (existing)"},
                                          {"id": 4, "name": "four (existing)"}])
    records = [{"identifier": i, "name": f"record {i}"} for i in range(1, 6)]
    skipped = []
    session = Session(engine)
    with session.begin():
        for record in records:
            try:
                with session.begin_nested():
                    obj = SomeRecord(id=record["identifier"], name=record["name"])
                    session.add(obj)
            except exc.IntegrityError:
                skipped.append((record["identifier"], states(obj)))
        seen["outer_tx_alive"] = session.in_transaction()
    seen["skipped"] = skipped
    seen["record_rows"] = data_rows(engine, SomeRecord)

    # only the objects changed inside the SAVEPOINT are expired by its rollback
    with session.begin():
        kept = session.get(SomeRecord, 1)
        changed = session.get(SomeRecord, 3)
        kept.note = "outside"
        with session.begin_nested() as sp:
            changed.note = "inside"
            session.flush()
            sp.rollback()
        seen["sp_rollback_loaded"] = (loaded(kept), loaded(changed))
        seen["sp_rollback_values"] = (kept.note, changed.note)
    seen["sp_rows"] = data_rows(engine, SomeRecord)[:3]
    session.close()


def session_vs_engine(engine, seen):
    maker = sessionmaker(engine)
    with maker() as session:
        session.add_all([SomeClass(data="some data one"),
                         SomeClass(data="some data two"),
                         SomeClass(data="some data three")])
        session.commit()
    seen["commit_as_you_go"] = count(engine)
    with maker.begin() as session:
        session.add_all([SomeClass(data="some data four"),
                         SomeClass(data="some data five")])
    seen["begin_once"] = count(engine)
    with maker.begin() as session:
        savepoint = session.begin_nested()
        session.add_all([SomeClass(data="kept one"), SomeClass(data="kept two")])
        savepoint.commit()
        savepoint = session.begin_nested()
        session.add(SomeClass(data="dropped"))
        savepoint.rollback()
        seen["nested_commit_keeps_outer"] = session.in_transaction()
    seen["nested_rows"] = [d for _, d in data_rows(engine)]


def explicit_begin(engine, seen):
    maker = sessionmaker(bind=engine)
    created = []

    @event.listens_for(maker, "after_transaction_create")
    def on_create(session, transaction):
        # the flush's inner transaction of SQLAlchemy is left out (see
        # docs/differences.md, "Events: a flush opens no inner transaction")
        if transaction.nested or transaction.parent is None:
            created.append(transaction.nested)

    with maker.begin() as session:
        session.add_all([Item(foo="f1"), Item(foo="f2")])
    seen["created_by_begin"] = list(created)
    session = maker()
    session.begin()
    try:
        item1 = session.get(Item, 1)
        item2 = session.get(Item, 2)
        item1.foo = "bar"
        item2.bar = "foo"
        session.commit()
    except Exception:
        session.rollback()
        raise
    session = maker()
    with session.begin():
        item1 = session.get(Item, 1)
        item1.bar = "baz"
        try:
            session.begin()
        except exc.InvalidRequestError as err:
            seen["begin_twice"] = type(err).__name__
    session.execute(select(Item))          # autobegin fires the same event
    session.close()
    seen["created_all"] = list(created)
    seen["items"] = data_rows(engine, Item)


def isolation(engine, seen):
    autocommit_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    transactional_session = sessionmaker(engine)
    autocommit_session = sessionmaker(autocommit_engine)
    with autocommit_session() as session:
        seen["autocommit_level"] = session.connection().get_execution_options().get(
            "isolation_level")
        seen["autocommit_select"] = session.execute(
            text("SELECT count(*) FROM stx_some_class")).scalar()
    with transactional_session() as session:
        seen["plain_level"] = session.connection().get_execution_options().get(
            "isolation_level")
    with transactional_session(bind=autocommit_engine) as session:
        seen["bind_override"] = session.connection().get_execution_options().get(
            "isolation_level")
    with transactional_session() as session:
        session.bind_mapper(SomeClass, autocommit_engine)
        seen["bind_mapper"] = (session.get_bind(SomeClass) is autocommit_engine,
                               session.get_bind(Item) is engine)

    sess = Session(bind=engine)
    conn = sess.connection(execution_options={"isolation_level": "SERIALIZABLE"})
    seen["serializable"] = (conn.get_isolation_level(), sess.connection() is conn)
    sess.add(SomeClass(data="serializable"))
    sess.commit()
    seen["level_after_commit"] = sess.connection().get_execution_options().get(
        "isolation_level")
    sess.close()
    sess = Session(bind=engine)
    with sess.begin():
        conn = sess.connection(execution_options={"isolation_level": "SERIALIZABLE"})
        seen["serializable_in_begin"] = conn.get_isolation_level()
        sess.add(SomeClass(data="serializable two"))
    seen["isolation_count"] = count(engine)


def external_transaction(engine, seen):
    Factory = sessionmaker()
    connection = engine.connect()
    trans = connection.begin()
    session = Factory(bind=connection, join_transaction_mode="create_savepoint")

    # test_something
    foo = SomeClass(data="foo")
    session.add(foo)
    session.commit()
    seen["ext_after_commit"] = (states(foo), trans.is_active, connection.in_transaction(),
                                connection.in_nested_transaction())
    seen["ext_visible_inside"] = connection.execute(
        select(func.count()).select_from(SomeClass.__table__)).scalar_one()

    # test_something_with_rollbacks
    bar = SomeClass(data="bar")
    session.add(bar)
    session.flush()
    session.rollback()
    seen["ext_after_rollback"] = (states(bar), trans.is_active)
    foo2 = SomeClass(data="foo2")
    session.add(foo2)
    session.commit()
    seen["ext_rows_inside"] = [tuple(r) for r in connection.execute(
        select(SomeClass.data).order_by(SomeClass.id))]
    seen["ext_foo_data"] = foo.data

    # tearDown
    session.close()
    trans.rollback()
    connection.close()
    seen["ext_after_teardown"] = count(engine)


def run(engine):
    seen = {}
    managing_transactions(engine, seen)
    savepoints(engine, seen)
    session_vs_engine(engine, seen)
    explicit_begin(engine, seen)
    isolation(engine, seen)
    with engine.begin() as conn:
        conn.execute(SomeClass.__table__.delete())
    external_transaction(engine, seen)
    return seen
'''


@pytest.mark.parametrize("future", [False, True], ids=["evaluated", "string_annotations"])
def test_session_transaction_page_runs_the_same_on_both(engine: Any, future: bool) -> None:
    seen = same_on_both(FUTURE[future] + PROGRAM, engine, name="session_transaction")
    assert seen["begin_block_after"] == (False, 2)
    assert seen["rolled_back"] == (["transient"], 6)
    assert seen["close_after"][:2] == (False, 0)
    assert seen["after_nested_rollback"][:3] == (["persistent"], ["transient"], False)
    assert seen["savepoint_rows"] == ["u1", "u2"]
    assert [i for i, _ in seen["skipped"]] == [2, 4]
    assert [r[0] for r in seen["record_rows"]] == [1, 2, 3, 4, 5]
    assert seen["sp_rollback_values"] == ("outside", None)
    assert "dropped" not in seen["nested_rows"] and "kept two" in seen["nested_rows"]
    assert seen["begin_twice"] == "InvalidRequestError"
    assert seen["created_all"] == [False, False, False, False]
    assert seen["bind_mapper"] == (True, True)
    assert seen["ext_after_commit"][:2] == (["persistent"], True)
    assert seen["ext_after_rollback"] == (["transient"], True)
    assert seen["ext_after_teardown"] == 0
