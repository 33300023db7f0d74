"""The flush: ordering, batching, defaults, net-change UPDATEs, primary key
changes, rowcount checks and what a failed flush leaves behind.

Every test runs on every backend (``engine`` fixture); SQLite engines enforce
foreign keys, so an INSERT or DELETE in the wrong order fails loudly.
"""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    delete,
    func,
    null,
    select,
    text,
)
from sqlalchemy import exc as sa_exc

from session_ext import DeclarativeBase, Session, inspect
from session_ext import exc as se_exc


class Base(DeclarativeBase):
    pass


class Parent(Base):
    __tablename__ = "parents"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))


class Child(Base):
    __tablename__ = "children"
    id = Column(Integer, primary_key=True)
    parent_id = Column(ForeignKey("parents.id"))
    name = Column(String(50))


class GrandChild(Base):
    __tablename__ = "grandchildren"
    id = Column(Integer, primary_key=True)
    child_id = Column(ForeignKey("children.id"), nullable=False)
    name = Column(String(50))


class Node(Base):
    __tablename__ = "nodes"
    id = Column(Integer, primary_key=True)
    parent_id = Column(Integer, ForeignKey("nodes.id"))
    name = Column(String(50))


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)
    qty = Column(Integer)


class Defaulted(Base):
    __tablename__ = "defaulted"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    status = Column(String(20), nullable=False, server_default=text("'new'"))
    created_at = Column(DateTime, server_default=func.now())
    py_scalar = Column(Integer, default=7)
    py_callable = Column(String(20), default=lambda: "generated")


class Widget(Base):
    __tablename__ = "widgets"
    id = Column(Integer, primary_key=True)
    a = Column(String(20))
    b = Column(String(20))
    c = Column(String(20))


class Publisher(Base):
    __tablename__ = "publishers"
    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)


class Author(Base):
    __tablename__ = "authors"
    id = Column(Integer, primary_key=True)
    publisher_id = Column(Integer, ForeignKey("publishers.id"))
    name = Column(String(50), nullable=False, unique=True)


class Book(Base):
    __tablename__ = "books"
    id = Column(Integer, primary_key=True)
    author_id = Column(Integer, ForeignKey("authors.id"))
    title = Column(String(100), nullable=False)


@pytest.fixture
def db(engine):
    Base.metadata.create_all(engine)
    return engine


def rows(engine, table, *cols, order_by=None):
    """All rows of ``table`` (via a fresh connection), as a list of tuples."""
    columns = [table.c[c] for c in cols] if cols else list(table.c)
    stmt = select(*columns).order_by(order_by if order_by is not None else table.c.id)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(stmt)]


def count(engine, table):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def statement_tables(stmts, verb):
    """Table names of the recorded ``verb`` (INSERT/UPDATE/DELETE) statements, in order."""
    out = []
    for s in stmts:
        words = s.statement.split()
        if not words or words[0].upper() != verb:
            continue
        if verb == "INSERT":
            out.append(words[2].strip('"'))  # INSERT INTO <table>
        elif verb == "UPDATE":
            out.append(words[1].strip('"'))  # UPDATE <table>
        else:
            out.append(words[2].strip('"'))  # DELETE FROM <table>
    return out


def set_columns(statement):
    """Column names in the SET clause of an UPDATE statement."""
    set_part = statement.split(" SET ", 1)[1].split(" WHERE ", 1)[0]
    return sorted(p.split("=")[0].strip().strip('"') for p in set_part.split(","))


def param_values(parameters):
    if isinstance(parameters, dict):
        return list(parameters.values())
    return list(parameters)


# --------------------------------------------------------------------------- FK ordering


def test_foreign_keys_are_enforced(db):
    """Sanity check that makes the ordering tests meaningful: a child pointing at a
    missing parent is refused on every backend."""
    with Session(db) as session:
        session.add(Child(id=1, parent_id=999, name="orphan"))
        with pytest.raises(sa_exc.IntegrityError):
            session.flush()
        session.rollback()
    assert count(db, Child.__table__) == 0


def test_inserts_follow_fk_graph_without_relationships(db, count_statements):
    with Session(db) as session:
        # children first, parents last: the flush must reorder by the FK graph
        session.add(Child(id=10, parent_id=1, name="c1"))
        session.add(Child(id=11, parent_id=2, name="c2"))
        session.add(Parent(id=1, name="p1"))
        session.add(Parent(id=2, name="p2"))
        with count_statements(db) as stmts:
            session.flush()
        tables = statement_tables(stmts, "INSERT")
        assert tables.index("parents") < tables.index("children")
        session.commit()
    assert rows(db, Parent.__table__) == [(1, "p1"), (2, "p2")]
    assert rows(db, Child.__table__) == [(10, 1, "c1"), (11, 2, "c2")]


def test_inserts_follow_three_level_fk_chain(db, count_statements):
    with Session(db) as session:
        session.add_all(
            [
                GrandChild(id=100, child_id=10, name="g"),
                Child(id=10, parent_id=1, name="c"),
                Parent(id=1, name="p"),
            ]
        )
        with count_statements(db) as stmts:
            session.commit()
        assert statement_tables(stmts, "INSERT") == ["parents", "children", "grandchildren"]
    assert rows(db, GrandChild.__table__) == [(100, 10, "g")]
    assert rows(db, Child.__table__) == [(10, 1, "c")]
    assert rows(db, Parent.__table__) == [(1, "p")]


def test_deletes_run_in_reverse_dependency_order(db, count_statements):
    with Session(db) as session:
        session.add_all(
            [
                Parent(id=1, name="p"),
                Child(id=10, parent_id=1, name="c"),
                GrandChild(id=100, child_id=10, name="g"),
            ]
        )
        session.commit()

    with Session(db) as session:
        parent = session.get(Parent, 1)
        child = session.get(Child, 10)
        grandchild = session.get(GrandChild, 100)
        # parent first: the flush must delete the referencing rows before it
        session.delete(parent)
        session.delete(child)
        session.delete(grandchild)
        with count_statements(db) as stmts:
            session.flush()
        assert statement_tables(stmts, "DELETE") == ["grandchildren", "children", "parents"]
        assert inspect(parent).deleted and inspect(child).deleted
        session.commit()
    assert count(db, Parent.__table__) == 0
    assert count(db, Child.__table__) == 0
    assert count(db, GrandChild.__table__) == 0


def test_self_referential_rows_inserted_parent_first(db):
    with Session(db) as session:
        session.add_all(
            [
                Node(id=4, parent_id=3, name="leaf"),
                Node(id=3, parent_id=2, name="mid2"),
                Node(id=5, parent_id=1, name="side"),
                Node(id=2, parent_id=1, name="mid1"),
                Node(id=1, parent_id=None, name="root"),
            ]
        )
        session.commit()
    assert rows(db, Node.__table__) == [
        (1, None, "root"),
        (2, 1, "mid1"),
        (3, 2, "mid2"),
        (4, 3, "leaf"),
        (5, 1, "side"),
    ]


def test_self_referential_rows_deleted_children_first(db):
    with Session(db) as session:
        session.add_all([Node(id=i, parent_id=i - 1 if i > 1 else None) for i in range(1, 5)])
        session.commit()
    with Session(db) as session:
        nodes = session.scalars(select(Node).order_by(Node.id)).all()
        for node in nodes:  # root first
            session.delete(node)
        session.commit()
    assert count(db, Node.__table__) == 0


# --------------------------------------------------------------------------- batching

N = 2000


def test_batched_insert_of_2000_objects_assigns_keys_in_order(db, count_statements):
    items = [Item(name=f"item-{i}", qty=i) for i in range(N)]
    with Session(db) as session:
        session.add_all(items)
        with count_statements(db) as stmts:
            session.flush()
        assert 1 <= stmts.count <= 10, stmts
        ids = [item.id for item in items]
        assert all(isinstance(i, int) for i in ids)
        assert len(set(ids)) == N
        assert all(inspect(item).persistent for item in items)
        assert session.get(Item, items[1234].id) is items[1234]
        session.commit()
    in_db = dict(rows(db, Item.__table__, "id", "name"))
    assert len(in_db) == N
    for i, item_id in enumerate(ids):
        assert in_db[item_id] == f"item-{i}"


def _seed_items(engine):
    with engine.begin() as conn:
        conn.execute(
            Item.__table__.insert(),
            [{"id": i + 1, "name": f"item-{i}", "qty": i} for i in range(N)],
        )


def test_batched_update_of_2000_objects(db, count_statements):
    _seed_items(db)
    with Session(db) as session:
        items = session.scalars(select(Item).order_by(Item.id)).all()
        assert len(items) == N
        for item in items:
            item.name = f"renamed-{item.id}"
        with count_statements(db) as stmts:
            session.flush()
        assert 1 <= stmts.count <= 5, stmts
        assert all(s.statement.lstrip().upper().startswith("UPDATE") for s in stmts)
        assert session.dirty == []
        session.commit()
    in_db = rows(db, Item.__table__, "id", "name")
    assert in_db == [(i + 1, f"renamed-{i + 1}") for i in range(N)]


def test_batched_delete_of_2000_objects(db, count_statements):
    _seed_items(db)
    with Session(db) as session:
        items = session.scalars(select(Item)).all()
        for item in items:
            session.delete(item)
        with count_statements(db) as stmts:
            session.flush()
        assert 1 <= stmts.count <= 5, stmts
        assert all(s.statement.lstrip().upper().startswith("DELETE") for s in stmts)
        assert all(inspect(item).deleted for item in items)
        session.commit()
    assert count(db, Item.__table__) == 0


# --------------------------------------------------------------------------- defaults


def test_server_and_python_defaults_after_flush(db):
    with Session(db, expire_on_commit=False) as session:
        objs = [Defaulted(name=f"d{i}") for i in range(3)]
        single = Defaulted(name="single")
        session.add_all(objs)
        session.flush()
        session.add(single)
        session.flush()
        for obj in [*objs, single]:
            assert obj.id is not None
            assert obj.status == "new"
            assert isinstance(obj.created_at, datetime.datetime)
            assert obj.py_scalar == 7
            assert obj.py_callable == "generated"
        session.commit()
    in_db = rows(db, Defaulted.__table__, "name", "status", "py_scalar", "py_callable")
    assert in_db == [
        ("d0", "new", 7, "generated"),
        ("d1", "new", 7, "generated"),
        ("d2", "new", 7, "generated"),
        ("single", "new", 7, "generated"),
    ]


def test_server_defaults_with_explicit_primary_keys(db):
    with Session(db) as session:
        objs = [Defaulted(id=50 + i, name=f"e{i}") for i in range(2)]
        session.add_all(objs)
        session.flush()
        assert [o.status for o in objs] == ["new", "new"]
        assert all(isinstance(o.created_at, datetime.datetime) for o in objs)
        session.commit()
    assert rows(db, Defaulted.__table__, "id", "status") == [(50, "new"), (51, "new")]


def test_explicit_values_win_over_defaults(db):
    with Session(db) as session:
        obj = Defaulted(name="x", status="custom", py_scalar=3, py_callable="mine")
        session.add(obj)
        session.flush()
        assert (obj.status, obj.py_scalar, obj.py_callable) == ("custom", 3, "mine")
        session.commit()
    assert rows(db, Defaulted.__table__, "status", "py_scalar", "py_callable") == [
        ("custom", 3, "mine")
    ]


# --------------------------------------------------------------------------- UPDATE contents


@pytest.fixture
def widget_db(db):
    with db.begin() as conn:
        conn.execute(
            Widget.__table__.insert(),
            [
                {"id": 1, "a": "a1", "b": "b1", "c": "c1"},
                {"id": 2, "a": "a2", "b": "b2", "c": "c2"},
            ],
        )
    return db


def test_setting_current_value_emits_no_update(widget_db, count_statements):
    with Session(widget_db) as session:
        w = session.get(Widget, 1)
        w.a = "a1"
        w.b = "changed"
        w.b = "b1"  # and back again
        assert not session.is_modified(w)
        with count_statements(widget_db) as stmts:
            session.flush()
        assert stmts.count == 0, stmts
        assert session.dirty == []


def test_update_sets_only_changed_column(widget_db, count_statements):
    with Session(widget_db) as session:
        w = session.get(Widget, 1)
        w.b = "new-b"
        with count_statements(widget_db) as stmts:
            session.flush()
        assert stmts.count == 1, stmts
        stmt = stmts[0]
        assert stmt.statement.lstrip().upper().startswith("UPDATE")
        assert set_columns(stmt.statement) == ["b"]
        values = param_values(stmt.parameters)
        assert sorted(values, key=str) == sorted(["new-b", 1], key=str)
        session.commit()
    assert rows(widget_db, Widget.__table__) == [(1, "a1", "new-b", "c1"), (2, "a2", "b2", "c2")]


def test_updates_of_different_columns_each_set_their_own(widget_db, count_statements):
    with Session(widget_db) as session:
        w1 = session.get(Widget, 1)
        w2 = session.get(Widget, 2)
        w1.a = "A1"
        w2.c = "C2"
        with count_statements(widget_db) as stmts:
            session.flush()
        assert sorted(set_columns(s.statement) for s in stmts) == [["a"], ["c"]]
        session.commit()
    assert rows(widget_db, Widget.__table__) == [(1, "A1", "b1", "c1"), (2, "a2", "b2", "C2")]


# --------------------------------------------------------------------------- primary key change


def test_primary_key_change_updates_by_old_key_and_rekeys_identity_map(widget_db, count_statements):
    with Session(widget_db) as session:
        w = session.get(Widget, 1)
        w.id = 10
        with count_statements(widget_db) as stmts:
            session.flush()
        assert stmts.count == 1, stmts
        assert stmts[0].statement.lstrip().upper().startswith("UPDATE")
        assert sorted(param_values(stmts[0].parameters)) == [1, 10]
        assert inspect(w).identity == (10,)
        with count_statements(widget_db) as stmts:
            assert session.get(Widget, 10) is w
        assert stmts.count == 0, stmts
        assert session.get(Widget, 1) is None
        session.commit()
    assert rows(widget_db, Widget.__table__, "id", "a") == [(2, "a2"), (10, "a1")]


def test_primary_key_change_rolled_back_restores_old_key(widget_db):
    with Session(widget_db) as session:
        w = session.get(Widget, 1)
        w.id = 10
        session.flush()
        session.rollback()
        assert inspect(w).persistent
        assert inspect(w).identity == (1,)
        assert session.get(Widget, 1) is w
        assert w.id == 1
        assert session.get(Widget, 10) is None
    assert rows(widget_db, Widget.__table__, "id") == [(1,), (2,)]


def test_primary_key_change_on_expired_object(widget_db):
    """After commit() (expire_on_commit) the old key is still known from the
    identity: the UPDATE must locate the row by it."""
    with Session(widget_db) as session:
        w = session.get(Widget, 1)
        session.commit()  # expires w
        w.id = 20
        session.commit()
        assert session.get(Widget, 20) is w
    assert rows(widget_db, Widget.__table__, "id", "a") == [(2, "a2"), (20, "a1")]


# --------------------------------------------------------------------------- rowcount checks


def _widget_deleted_elsewhere(engine):
    with engine.begin() as conn:
        conn.execute(delete(Widget.__table__).where(Widget.__table__.c.id == 1))


def test_update_of_row_deleted_elsewhere_raises_stale_data(widget_db):
    with Session(widget_db, expire_on_commit=False) as session:
        w = session.get(Widget, 1)
        session.commit()  # ends the transaction (SQLite file locks), keeps w loaded
        _widget_deleted_elsewhere(widget_db)
        w.a = "changed"
        with pytest.raises(se_exc.StaleDataError) as err:
            session.flush()
        message = str(err.value)
        assert "widgets" in message
        assert "UPDATE" in message
        assert isinstance(err.value, sa_exc.SQLAlchemyError)
        session.rollback()


def test_delete_of_row_deleted_elsewhere_warns(widget_db):
    # as SQLAlchemy without a version counter: a warning, the flush goes on
    with Session(widget_db, expire_on_commit=False) as session:
        w = session.get(Widget, 1)
        session.commit()
        _widget_deleted_elsewhere(widget_db)
        session.delete(w)
        with pytest.warns(se_exc.SAWarning, match="DELETE statement on table 'widgets'"):
            session.flush()
        assert inspect(w).deleted
        session.rollback()
    assert rows(widget_db, Widget.__table__, "id") == [(2,)]


# --------------------------------------------------------------------------- failed flush


def test_failed_flush_not_null_rolls_back_everything(db):
    with Session(db) as session:
        pub = Publisher(name="pub")
        author = Author(name="writer")
        book = Book(title=None)  # NOT NULL violation, in the last table of the flush
        session.add_all([book, author, pub])
        with pytest.raises(sa_exc.IntegrityError) as first:
            session.flush()
        original = first.value

        # as in SQLAlchemy, the failed flush's rollback made the objects transient
        # at once; the generated keys of the INSERTs before the failing one stay
        for obj in (pub, author, book):
            assert inspect(obj).transient
        assert pub.id is not None and author.id is not None
        assert book.id is None
        assert session.new == []
        # nothing half-written: the earlier tables' INSERTs were rolled back
        assert count(db, Publisher.__table__) == 0
        assert count(db, Author.__table__) == 0

        session.flush()  # nothing to write: no error, as in SQLAlchemy
        session.add(Publisher(name="other"))
        with pytest.raises(se_exc.PendingRollbackError) as err:
            session.flush()
        assert err.value.orig is original
        assert "rollback" in str(err.value)
        with pytest.raises(se_exc.PendingRollbackError) as err:
            session.execute(select(Publisher.id))
        assert err.value.orig is original
        with pytest.raises(se_exc.PendingRollbackError) as err:
            session.commit()
        assert err.value.orig is original
        assert isinstance(err.value, sa_exc.PendingRollbackError)

        session.rollback()
        for obj in (pub, author, book):
            assert inspect(obj).transient
            assert obj not in session

        book.title = "fixed"
        session.add_all([pub, author, book])
        session.commit()
        assert pub.id is not None
    assert rows(db, Publisher.__table__, "name") == [("pub",)]
    assert rows(db, Author.__table__, "name") == [("writer",)]
    assert rows(db, Book.__table__, "title") == [("fixed",)]


def test_failed_flush_duplicate_unique_rolls_back_everything(db):
    with Session(db) as session:
        session.add(Author(name="taken"))
        session.commit()

    with Session(db) as session:
        pub = Publisher(name="new-pub")
        dup = Author(name="taken")
        session.add_all([dup, pub])
        with pytest.raises(sa_exc.IntegrityError) as first:
            session.flush()
        assert inspect(pub).transient and inspect(dup).transient
        assert dup.id is None
        assert count(db, Publisher.__table__) == 0

        with pytest.raises(se_exc.PendingRollbackError) as err:
            session.commit()
        assert err.value.orig is first.value

        session.rollback()
        assert inspect(pub).transient and inspect(dup).transient
        dup.name = "free"
        session.add_all([pub, dup])
        session.commit()
    assert rows(db, Publisher.__table__, "name") == [("new-pub",)]
    assert rows(db, Author.__table__, "name") == [("taken",), ("free",)]


def test_failed_update_flush_requires_rollback(db):
    with Session(db) as session:
        session.add_all([Author(id=1, name="one"), Author(id=2, name="two")])
        session.commit()
    with Session(db) as session:
        two = session.get(Author, 2)
        two.name = "one"
        with pytest.raises(sa_exc.IntegrityError) as first:
            session.flush()
        session.flush()  # nothing left to write (two is expired): no error, as SQLAlchemy
        with pytest.raises(se_exc.PendingRollbackError) as err:
            session.execute(select(Author.id))
        assert err.value.orig is first.value
        session.rollback()
        assert two.name == "two"  # expired and reloaded
    assert rows(db, Author.__table__, "id", "name") == [(1, "one"), (2, "two")]


def test_execute_after_failed_flush_raises_pending_rollback_even_without_autoflush(db):
    """The transaction itself is unusable, whether or not a flush is attempted."""
    with Session(db, autoflush=False) as session:
        session.add(Book(title=None))
        with pytest.raises(sa_exc.IntegrityError) as first:
            session.flush()
        with pytest.raises(se_exc.PendingRollbackError) as err:
            session.execute(select(Book.id))
        assert err.value.orig is first.value
        session.rollback()
        assert session.execute(select(Book.id)).all() == []


def test_failed_flush_in_begin_nested_rolls_back_only_the_savepoint(db):
    with Session(db) as session:
        session.add(Author(name="taken"))
        session.commit()

    with Session(db) as session:
        keep = Author(name="keep")
        session.add(keep)
        session.flush()
        inner_pub = Publisher(name="inner")
        dup = Author(name="taken")
        try:
            with session.begin_nested():
                session.add(inner_pub)
                session.flush()
                session.add(dup)
        except sa_exc.IntegrityError:
            caught = True
        else:
            caught = False
        assert caught
        assert not session.in_nested_transaction()
        assert session.in_transaction()
        assert inspect(keep).persistent
        assert inspect(dup).transient
        assert inspect(inner_pub).transient
        # the outer transaction is usable: no PendingRollbackError
        assert session.scalars(select(Author.name).order_by(Author.id)).all() == [
            "taken",
            "keep",
        ]
        session.commit()
    assert rows(db, Author.__table__, "name") == [("taken",), ("keep",)]
    assert count(db, Publisher.__table__) == 0


def test_failed_flush_in_nested_transaction_then_nested_rollback(db):
    """Without the context manager: the savepoint's failed flush blocks further
    work until the nested transaction is rolled back; the outer one survives."""
    with Session(db) as session:
        session.add(Author(name="taken"))
        session.flush()
        nested = session.begin_nested()
        session.add(Author(name="taken"))
        with pytest.raises(sa_exc.IntegrityError) as first:
            session.flush()
        session.add(Author(name="next"))
        with pytest.raises(se_exc.PendingRollbackError) as err:
            session.flush()
        assert err.value.orig is first.value
        nested.rollback()
        assert session.in_transaction() and not session.in_nested_transaction()
        session.add(Author(name="other"))
        session.commit()
    assert rows(db, Author.__table__, "name") == [("taken",), ("other",)]


def test_failed_autoflush_raises_the_database_error(db):
    with Session(db) as session:
        bad = Book(title=None)
        session.add(bad)
        with pytest.raises(sa_exc.IntegrityError):
            session.scalars(select(Book)).all()
        with pytest.raises(se_exc.PendingRollbackError):
            session.scalars(select(Book)).all()
        session.rollback()
        assert inspect(bad).transient
        assert session.scalars(select(Book)).all() == []


# --------------------------------------------------------------------------- autoflush


def test_autoflush_before_queries(db):
    with Session(db) as session:
        item = Item(name="auto")
        session.add(item)
        found = session.scalars(select(Item).where(Item.name == "auto")).all()
        assert found == [item]
        assert inspect(item).persistent
        assert item.id is not None
        assert session.scalar(select(func.count()).select_from(Item.__table__)) == 1


def test_no_autoflush_suppresses_it(db):
    with Session(db) as session:
        item = Item(name="later")
        with session.no_autoflush:
            session.add(item)
            assert session.scalars(select(Item)).all() == []
            assert inspect(item).pending
        assert session.scalars(select(Item)).all() == [item]
        assert inspect(item).persistent


def test_autoflush_false_session_does_not_flush(db):
    with Session(db, autoflush=False) as session:
        item = Item(name="manual")
        session.add(item)
        assert session.scalars(select(Item)).all() == []
        assert inspect(item).pending
        session.flush()
        assert session.scalars(select(Item)).all() == [item]


# --------------------------------------------------------------------------- identity conflicts


def test_new_object_colliding_with_persistent_key_warns_then_fails_in_the_database(widget_db):
    """As in SQLAlchemy: a warning naming both objects, then the INSERT runs and
    the database rejects the duplicate key with the IntegrityError applications
    catch (not a FlushError before any SQL)."""
    with Session(widget_db) as session:
        existing = session.get(Widget, 1)
        assert existing is not None
        session.add(Widget(id=1, a="clash"))
        with pytest.warns(se_exc.SAWarning, match=r"Widget.*\(1,\).*conflicts"):
            with pytest.raises(sa_exc.IntegrityError):
                session.flush()
        session.rollback()
    assert rows(widget_db, Widget.__table__, "id", "a") == [(1, "a1"), (2, "a2")]


def test_deleted_row_replaced_by_new_object_with_same_key(widget_db):
    """Deleting an object and adding a new one with the same primary key in one
    flush is allowed (SQLAlchemy turns it into a row switch): the end result is
    the new row."""
    with Session(widget_db) as session:
        old = session.get(Widget, 1)
        session.delete(old)
        session.add(Widget(id=1, a="replacement"))
        session.commit()
    assert rows(widget_db, Widget.__table__, "id", "a") == [(1, "replacement"), (2, "a2")]


# --------------------------------------------------------------------------- SQL expressions,
# evaluates_none, implicit_returning=False, eager_defaults=True on UPDATE
class ExprBase(DeclarativeBase):
    pass


class Counter(ExprBase):
    __tablename__ = "fl_counter"
    id = Column(Integer, primary_key=True)
    value = Column(Integer)
    note = Column(String(20), server_default="none", nullable=True)


class Evaluated(ExprBase):
    __tablename__ = "fl_evaluated"
    id = Column(Integer, primary_key=True)
    data = Column(String(20).evaluates_none(), server_default="default", nullable=True)


class NoReturning(ExprBase):
    __tablename__ = "fl_no_returning"
    __table_args__ = {"implicit_returning": False}
    id = Column(Integer, primary_key=True)
    data = Column(String(20), server_default="server", nullable=True)


class Stamped(ExprBase):
    __tablename__ = "fl_stamped"
    __mapper_args__ = {"eager_defaults": True}
    id = Column(Integer, primary_key=True)
    data = Column(String(20))
    version = Column(Integer, default=1, onupdate=func.abs(-7))


@pytest.fixture
def expr_db(engine):
    ExprBase.metadata.create_all(engine)
    yield engine
    ExprBase.metadata.drop_all(engine)


def test_sql_expression_update_is_rendered_and_the_attribute_expired(expr_db):
    with Session(expr_db) as s:
        s.add_all([Counter(id=1, value=10), Counter(id=2, value=5)])
        s.commit()
        one, two = s.get(Counter, 1), s.get(Counter, 2)
        one.value = Counter.value + 1
        two.value = 6  # a plain change in the same flush is batched as before
        s.flush()
        assert "value" not in inspect(one).dict and two.value == 6
        assert one.value == 11
        s.commit()
    assert rows(expr_db, Counter.__table__, "id", "value") == [(1, 11), (2, 6)]


def test_sql_expression_insert_keeps_row_order_and_fetches_the_key(expr_db):
    with Session(expr_db) as s:
        top = select(func.coalesce(func.max(Counter.id) + 1, 1)).scalar_subquery()
        objs = [Counter(id=top, value=1), Counter(id=5, value=2), Counter(id=top, value=3)]
        s.add_all(objs)
        s.flush()
        assert [o.id for o in objs] == [1, 5, 6]
        assert [inspect(o).identity for o in objs] == [(1,), (5,), (6,)]
        assert objs[0].note == "none"  # the server default came back too
        nulled = Counter(id=9, note=None), Counter(id=10, note=null())
        s.add_all(nulled)
        s.commit()
    assert rows(expr_db, Counter.__table__, "id", "note")[-2:] == [
        (9, "none"), (10, None)]


def test_evaluates_none_column_inserts_null_over_its_default(expr_db):
    with Session(expr_db) as s:
        s.add_all([Evaluated(id=1, data=None), Evaluated(id=2)])
        s.commit()
    assert rows(expr_db, Evaluated.__table__, "id", "data") == [
        (1, None), (2, "default")]


def test_implicit_returning_false_expires_server_values(expr_db, count_statements):
    with Session(expr_db) as s:
        objs = [NoReturning(), NoReturning()]
        s.add_all(objs)
        with count_statements(expr_db) as stmts:
            s.flush()
        assert not any(" RETURNING " in q.upper() for q in stmts.statements)
        assert [o.id for o in objs] == [1, 2]
        assert "data" not in inspect(objs[0]).dict and objs[0].data == "server"


def test_eager_defaults_true_fetches_update_defaults_with_returning(expr_db):
    with Session(expr_db) as s:
        obj = Stamped(id=3, data="a")
        s.add(obj)
        s.flush()
        obj.data = "b"
        s.flush()
        assert inspect(obj).dict["version"] == 7  # loaded by the UPDATE, not expired
