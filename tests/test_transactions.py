"""Session transactions: autobegin, begin(), SAVEPOINTs, commit/rollback/close,
two-phase commit, connection()/execute(), and joining an external transaction
(``join_transaction_mode``)."""

from __future__ import annotations

import pytest
from library_models import Author, Book, Label, create_library
from sqlalchemy import Column, Integer, String, create_engine, event, func, insert, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from session_ext import DeclarativeBase, Session, inspect
from session_ext import exc as se_exc
from session_ext.engines import configure_sqlite


class Base(DeclarativeBase):
    pass


class Astronaut(Base):
    __tablename__ = "astronauts"
    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)


astronauts = Astronaut.__table__


@pytest.fixture
def db(engine):
    Base.metadata.create_all(engine)
    return engine


@pytest.fixture
def seeded(db):
    with db.begin() as conn:
        conn.execute(astronauts.insert(), [{"id": 1, "name": "gagarin"}, {"id": 2, "name": "ride"}])
    return db


def names(engine):
    """Names in the database, seen through a fresh connection."""
    with engine.connect() as conn:
        return conn.scalars(select(astronauts.c.name).order_by(astronauts.c.id)).all()


def conn_names(conn: Connection):
    return conn.scalars(select(astronauts.c.name).order_by(astronauts.c.id)).all()


# --------------------------------------------------------------------------- autobegin / begin


def test_autobegin_on_first_use(seeded):
    with Session(seeded) as session:
        assert not session.in_transaction()
        assert session.get_transaction() is None
        session.scalars(select(Astronaut)).all()
        assert session.in_transaction()
        tx = session.get_transaction()
        assert tx is not None and not tx.nested
        session.commit()
        assert not session.in_transaction()


def test_autobegin_disabled_requires_begin(seeded):
    with Session(seeded, autobegin=False) as session:
        with pytest.raises(se_exc.InvalidRequestError) as err:
            session.execute(select(astronauts.c.id))
        assert "begin()" in str(err.value)
        with session.begin():
            assert session.scalar(select(func.count()).select_from(astronauts)) == 2


def test_begin_raises_when_a_transaction_is_active(seeded):
    with Session(seeded) as session:
        session.execute(select(astronauts.c.id))
        with pytest.raises(se_exc.InvalidRequestError) as err:
            session.begin()
        assert "already" in str(err.value)
        assert isinstance(err.value, sa_exc.InvalidRequestError)
        # the current transaction is unaffected
        assert session.in_transaction()
        session.add(Astronaut(id=3, name="tereshkova"))
        session.commit()
    assert names(seeded) == ["gagarin", "ride", "tereshkova"]


def test_with_begin_commits_on_success(db):
    with Session(db) as session:
        with session.begin():
            session.add(Astronaut(id=1, name="armstrong"))
        assert not session.in_transaction()
    assert names(db) == ["armstrong"]


def test_with_begin_rolls_back_on_exception(db):
    with Session(db) as session:
        a = Astronaut(id=1, name="aldrin")
        with pytest.raises(ValueError, match="boom"):
            with session.begin():
                session.add(a)
                session.flush()
                raise ValueError("boom")
        assert not session.in_transaction()
        assert inspect(a).transient
    assert names(db) == []


def test_with_begin_rolls_back_when_commit_fails(seeded):
    with Session(seeded) as session:
        clash = Astronaut(id=1, name="duplicate key")
        with pytest.raises(sa_exc.IntegrityError):
            with session.begin():
                session.add(clash)
        assert not session.in_transaction()
        assert inspect(clash).transient
        # usable again right away
        with session.begin():
            session.add(Astronaut(id=3, name="after"))
    assert names(seeded) == ["gagarin", "ride", "after"]


# --------------------------------------------------------------------------- nested transactions


def test_transaction_accessors(seeded):
    with Session(seeded) as session:
        assert session.get_nested_transaction() is None
        assert not session.in_nested_transaction()
        session.get(Astronaut, 1)
        root = session.get_transaction()
        assert root is not None
        assert session.get_nested_transaction() is None
        nested = session.begin_nested()
        assert nested.nested
        assert session.in_nested_transaction()
        assert session.get_nested_transaction() is nested
        assert session.get_transaction() is root
        assert nested is not root
        inner = session.begin_nested()
        assert session.get_nested_transaction() is inner
        assert session.get_transaction() is root
        inner.commit()
        assert session.get_nested_transaction() is nested
        nested.rollback()
        assert not session.in_nested_transaction()
        assert session.get_transaction() is root


def test_begin_nested_rollback_undoes_only_its_changes(seeded, count_statements):
    with Session(seeded) as session:
        first = session.get(Astronaut, 1)
        second = session.get(Astronaut, 2)
        first.name = "outer-change"  # changed in the outer transaction
        nested = session.begin_nested()  # flushes first
        second.name = "inner-change"
        session.flush()
        added = Astronaut(id=3, name="inner-new")
        session.add(added)
        session.flush()
        nested.rollback()

        assert session.in_transaction() and not session.in_nested_transaction()
        # outer change: not expired, no SQL needed
        with count_statements(seeded) as stmts:
            assert first.name == "outer-change"
        assert stmts.count == 0, stmts
        # changed inside the savepoint: expired, reloads the pre-savepoint value
        assert "name" in inspect(second).expired_attributes
        with count_statements(seeded) as stmts:
            assert second.name == "ride"
        assert stmts.count == 1, stmts
        # inserted inside the savepoint: transient again
        assert inspect(added).transient
        session.commit()
    assert names(seeded) == ["outer-change", "ride"]


def test_begin_nested_rollback_discards_unflushed_changes(seeded):
    with Session(seeded) as session:
        second = session.get(Astronaut, 2)
        nested = session.begin_nested()
        second.name = "unflushed"
        pending = Astronaut(id=9, name="pending")
        session.add(pending)
        nested.rollback()
        assert inspect(pending).transient
        assert second.name == "ride"
        session.commit()
    assert names(seeded) == ["gagarin", "ride"]


def test_begin_nested_rollback_reloads_outer_flushed_value(seeded):
    with Session(seeded) as session:
        first = session.get(Astronaut, 1)
        first.name = "outer"
        nested = session.begin_nested()  # flushes "outer"
        first.name = "inner"
        nested.rollback()
        assert first.name == "outer"
        assert not session.is_modified(first)
        session.commit()
    assert names(seeded) == ["outer", "ride"]


def test_begin_nested_rollback_restores_deleted_object(seeded):
    with Session(seeded) as session:
        first = session.get(Astronaut, 1)
        with pytest.raises(RuntimeError):
            with session.begin_nested():
                session.delete(first)
                session.flush()
                assert inspect(first).deleted
                raise RuntimeError("undo")
        assert inspect(first).persistent
        assert first in session
        assert first.name == "gagarin"
        session.commit()
    assert names(seeded) == ["gagarin", "ride"]


def test_begin_nested_commit_keeps_changes(seeded):
    with Session(seeded) as session:
        second = session.get(Astronaut, 2)
        with session.begin_nested():
            second.name = "kept"
            session.add(Astronaut(id=3, name="also-kept"))
        assert not session.in_nested_transaction()
        assert session.in_transaction()
        assert second.name == "kept"
        session.commit()
    assert names(seeded) == ["gagarin", "kept", "also-kept"]


def test_rollback_inside_nested_rolls_back_everything(seeded):
    with Session(seeded) as session:
        first = session.get(Astronaut, 1)
        first.name = "outer"
        session.begin_nested()
        session.add(Astronaut(id=3, name="inner"))
        session.flush()
        session.rollback()
        assert not session.in_transaction()
        assert first.name == "gagarin"
    assert names(seeded) == ["gagarin", "ride"]


# --------------------------------------------------------------------------- commit


def test_commit_flushes_and_expires(db, count_statements):
    with Session(db) as session:
        a = Astronaut(id=1, name="leonov")
        session.add(a)
        session.commit()
        assert inspect(a).persistent
        assert "name" in inspect(a).expired_attributes
        assert names(db) == ["leonov"]
        with count_statements(db) as stmts:
            assert a.name == "leonov"
        assert stmts.count == 1, stmts
        assert stmts[0].statement.lstrip().upper().startswith("SELECT")


def test_commit_without_expire_on_commit_keeps_values(db, count_statements):
    with Session(db, expire_on_commit=False) as session:
        a = Astronaut(id=1, name="collins")
        session.add(a)
        session.commit()
        assert inspect(a).expired_attributes == set()
        with count_statements(db) as stmts:
            assert a.name == "collins"
        assert stmts.count == 0, stmts
    assert names(db) == ["collins"]


# --------------------------------------------------------------------------- rollback


def test_rollback_makes_added_objects_transient(db):
    with Session(db) as session:
        flushed = Astronaut(id=1, name="flushed")
        pending = Astronaut(id=2, name="pending")
        session.add(flushed)
        session.flush()
        session.add(pending)
        session.rollback()
        assert inspect(flushed).transient
        assert inspect(pending).transient
        assert flushed not in session and pending not in session
        assert session.new == []
    assert names(db) == []


def test_rollback_restores_deleted_objects(seeded, count_statements):
    with Session(seeded) as session:
        first = session.get(Astronaut, 1)
        second = session.get(Astronaut, 2)
        session.delete(first)
        session.flush()
        session.delete(second)  # not flushed
        assert inspect(first).deleted
        session.rollback()
        assert inspect(first).persistent and inspect(second).persistent
        assert first in session and second in session
        assert session.deleted == []
        with count_statements(seeded) as stmts:
            assert first.name == "gagarin"
        assert stmts.count == 1, stmts
        assert session.get(Astronaut, 1) is first
        session.commit()
    assert names(seeded) == ["gagarin", "ride"]


def test_rollback_expires_persistent_objects(seeded, count_statements):
    with Session(seeded) as session:
        first = session.get(Astronaut, 1)
        second = session.get(Astronaut, 2)
        first.name = "flushed-change"
        session.flush()
        second.name = "unflushed-change"
        session.rollback()
        assert inspect(first).persistent
        with count_statements(seeded) as stmts:
            assert first.name == "gagarin"
            assert second.name == "ride"
        assert stmts.count == 2, stmts
        assert session.dirty == []
    assert names(seeded) == ["gagarin", "ride"]


# --------------------------------------------------------------------------- close


def _checkouts(engine):
    counts = {"out": 0, "in": 0}

    def on_checkout(*args):
        counts["out"] += 1

    def on_checkin(*args):
        counts["in"] += 1

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)
    return counts


def test_close_returns_connection_and_session_is_reusable(seeded):
    counts = _checkouts(seeded)
    session = Session(seeded)
    first = session.get(Astronaut, 1)
    session.add(Astronaut(id=3, name="discarded"))
    session.flush()
    assert counts["out"] == 1 and counts["in"] == 0
    session.close()
    assert counts["in"] == counts["out"] == 1
    assert not session.in_transaction()
    assert inspect(first).detached
    assert names(seeded) == ["gagarin", "ride"]  # close rolled back the flush
    # reusable
    session.add(Astronaut(id=4, name="reused"))
    session.commit()
    assert session.get(Astronaut, 1) is not first
    session.close()
    assert counts["in"] == counts["out"]
    assert names(seeded) == ["gagarin", "ride", "reused"]


@pytest.fixture(params=["sqlite_file", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def pooled_engine(request, tmp_path):
    """An engine with a real connection pool (file SQLite or PostgreSQL)."""
    if request.param == "postgresql":
        eng = request.getfixturevalue("pg_engine")
        Base.metadata.create_all(eng)
        yield eng
        return
    eng = configure_sqlite(create_engine(f"sqlite:///{tmp_path / 'pooled.sqlite3'}"))
    Base.metadata.create_all(eng)
    try:
        yield eng
    finally:
        eng.dispose()


def test_close_releases_pooled_connection(pooled_engine):
    session = Session(pooled_engine)
    session.add(Astronaut(id=1, name="glenn"))
    session.flush()
    assert pooled_engine.pool.checkedout() == 1
    session.close()
    assert pooled_engine.pool.checkedout() == 0
    session.add(Astronaut(id=2, name="shepard"))
    session.commit()
    assert pooled_engine.pool.checkedout() == 0
    assert names(pooled_engine) == ["shepard"]
    session.close()


# --------------------------------------------------------------------------- two-phase


@pytest.fixture
def pg_db(pg_engine):
    Base.metadata.create_all(pg_engine)
    return pg_engine


def _prepared_count(engine):
    with engine.connect() as conn:
        return conn.scalar(
            text("SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()")
        )


def test_twophase_prepare_then_commit(pg_db):
    with Session(pg_db, twophase=True) as session:
        session.add(Astronaut(id=1, name="komarov"))
        session.prepare()
        assert _prepared_count(pg_db) == 1
        assert names(pg_db) == []
        session.commit()
    assert _prepared_count(pg_db) == 0
    assert names(pg_db) == ["komarov"]


def test_twophase_prepare_then_rollback(pg_db):
    with Session(pg_db, twophase=True) as session:
        a = Astronaut(id=1, name="titov")
        session.add(a)
        session.prepare()
        assert _prepared_count(pg_db) == 1
        session.rollback()
        assert inspect(a).transient
    assert _prepared_count(pg_db) == 0
    assert names(pg_db) == []


def test_twophase_commit_without_explicit_prepare(pg_db):
    with Session(pg_db, twophase=True) as session:
        session.add(Astronaut(id=1, name="bykovsky"))
        session.commit()
    assert _prepared_count(pg_db) == 0
    assert names(pg_db) == ["bykovsky"]


def test_prepare_requires_twophase(db):
    with Session(db) as session:
        session.add(Astronaut(id=1, name="x"))
        with pytest.raises(se_exc.InvalidRequestError) as err:
            session.prepare()
        assert "twophase" in str(err.value)


# --------------------------------------------------------------------------- connection / execute


def test_connection_is_the_transactions_connection(db):
    with Session(db) as session:
        conn = session.connection()
        assert isinstance(conn, Connection)
        assert session.connection() is conn
        assert conn.in_transaction()
        assert session.in_transaction()
        session.add(Astronaut(id=1, name="flushed"))
        session.flush()
        # the flush ran on the same connection, in the same transaction
        assert conn_names(conn) == ["flushed"]
        session.rollback()
    assert names(db) == []


def test_execute_core_statements_scalars_scalar_and_text(db):
    with Session(db) as session:
        session.execute(insert(astronauts), [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
        session.execute(insert(astronauts).values(id=3, name="c"))
        session.execute(astronauts.delete().where(astronauts.c.id == 3))
        assert session.scalars(select(astronauts.c.name).order_by(astronauts.c.id)).all() == [
            "a",
            "b",
        ]
        assert session.scalar(select(func.count()).select_from(astronauts)) == 2
        assert session.scalar(select(astronauts.c.name).where(astronauts.c.id == 99)) is None
        assert sorted(tuple(r) for r in session.execute("SELECT * FROM astronauts").all()) == [
            (1, "a"),
            (2, "b"),
        ]
        assert (
            session.execute("SELECT name FROM astronauts WHERE id = :id", {"id": 2}).scalar_one()
            == "b"
        )
        objs = session.scalars(select(Astronaut).order_by(Astronaut.id)).all()
        assert [o.name for o in objs] == ["a", "b"]
        assert session.get(Astronaut, 1) is objs[0]
        session.commit()
    assert names(db) == ["a", "b"]


# --------------------------------------------------------------------------- join_transaction_mode


def test_create_savepoint_recipe_leaves_nothing_behind(db):
    conn = db.connect()
    trans = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    try:
        session.add(Astronaut(id=1, name="one"))
        session.commit()  # releases the session's savepoint only
        assert trans.is_active
        assert conn_names(conn) == ["one"]

        session.add(Astronaut(id=2, name="two"))
        session.flush()
        session.rollback()  # back to the savepoint, outer transaction untouched
        assert trans.is_active
        assert conn_names(conn) == ["one"]

        session.add(Astronaut(id=3, name="three"))
        session.commit()
        assert session.scalars(select(Astronaut.name).order_by(Astronaut.id)).all() == [
            "one",
            "three",
        ]
    finally:
        session.close()
        assert trans.is_active
        trans.rollback()
        conn.close()
    assert names(db) == []


def test_rollback_only_mode_commit_does_not_commit_outer(db):
    conn = db.connect()
    trans = conn.begin()
    session = Session(bind=conn, join_transaction_mode="rollback_only")
    session.add(Astronaut(id=1, name="not-committed"))
    session.commit()
    assert trans.is_active
    assert conn.in_transaction()
    assert conn_names(conn) == ["not-committed"]
    session.close()
    trans.rollback()
    conn.close()
    assert names(db) == []


def test_rollback_only_mode_rollback_rolls_back_outer(db):
    conn = db.connect()
    trans = conn.begin()
    conn.execute(astronauts.insert().values(id=1, name="outer"))
    session = Session(bind=conn, join_transaction_mode="rollback_only")
    session.add(Astronaut(id=2, name="inner"))
    session.flush()
    session.rollback()
    assert not trans.is_active
    session.close()
    conn.close()
    assert names(db) == []


def test_rollback_only_mode_close_leaves_outer_transaction_alone(db):
    """SQLAlchemy: with "rollback_only", Session.close() does not touch the given
    transaction; the outer code decides its fate."""
    conn = db.connect()
    trans = conn.begin()
    session = Session(bind=conn, join_transaction_mode="rollback_only")
    session.add(Astronaut(id=1, name="flushed"))
    session.flush()
    session.close()
    try:
        assert trans.is_active
        assert conn_names(conn) == ["flushed"]
        trans.commit()
    finally:
        conn.close()
    assert names(db) == ["flushed"]


def test_control_fully_mode_commit_commits_outer(db):
    conn = db.connect()
    trans = conn.begin()
    session = Session(bind=conn, join_transaction_mode="control_fully")
    session.add(Astronaut(id=1, name="committed"))
    session.commit()
    assert not trans.is_active
    session.close()
    conn.close()
    assert names(db) == ["committed"]


def test_control_fully_mode_rollback_rolls_back_outer(db):
    conn = db.connect()
    trans = conn.begin()
    conn.execute(astronauts.insert().values(id=1, name="outer"))
    session = Session(bind=conn, join_transaction_mode="control_fully")
    session.add(Astronaut(id=2, name="inner"))
    session.flush()
    session.rollback()
    assert not trans.is_active
    session.close()
    conn.close()
    assert names(db) == []


def test_conditional_savepoint_in_plain_transaction_acts_as_rollback_only(db):
    conn = db.connect()
    trans = conn.begin()
    session = Session(bind=conn)  # default: conditional_savepoint
    assert session.join_transaction_mode == "conditional_savepoint"
    session.add(Astronaut(id=1, name="x"))
    session.commit()
    assert trans.is_active  # the session's commit did not commit the outer transaction
    session.add(Astronaut(id=2, name="y"))
    session.flush()
    session.rollback()  # ... but its rollback rolls it back
    assert not trans.is_active
    session.close()
    conn.close()
    assert names(db) == []


def test_conditional_savepoint_in_nested_transaction_creates_savepoint(db):
    conn = db.connect()
    trans = conn.begin()
    conn.execute(astronauts.insert().values(id=1, name="outer"))
    savepoint = conn.begin_nested()
    conn.execute(astronauts.insert().values(id=2, name="in-savepoint"))
    session = Session(bind=conn)
    session.add(Astronaut(id=3, name="rolled-back"))
    session.flush()
    session.rollback()  # only the session's own savepoint
    assert savepoint.is_active and trans.is_active
    assert conn_names(conn) == ["outer", "in-savepoint"]
    session.add(Astronaut(id=4, name="released"))
    session.commit()  # releases the session's own savepoint
    assert savepoint.is_active and trans.is_active
    assert conn_names(conn) == ["outer", "in-savepoint", "released"]
    session.close()
    savepoint.commit()
    trans.commit()
    conn.close()
    assert names(db) == ["outer", "in-savepoint", "released"]


def test_bind_connection_without_transaction_is_begun_and_committed(db):
    conn = db.connect()
    session = Session(bind=conn)
    session.add(Astronaut(id=1, name="own"))
    session.commit()
    assert not conn.in_transaction()
    session.close()
    conn.close()
    assert names(db) == ["own"]


def test_invalid_join_transaction_mode(db):
    with pytest.raises(se_exc.ArgumentError) as err:
        Session(bind=db, join_transaction_mode="sometimes")
    assert "sometimes" in str(err.value)
    assert "join_transaction_mode" in str(err.value)
    assert isinstance(err.value, sa_exc.ArgumentError)


def test_close_rolls_back_once_and_the_pool_skips_its_reset(engine):
    """The session's own connection is closed with its transaction open: Core
    rolls back once and tells the pool not to roll back again."""
    Base.metadata.create_all(engine)
    resets: list[bool] = []

    def on_reset(dbapi_connection, record, reset_state):
        resets.append(reset_state.transaction_was_reset)

    event.listen(engine.pool, "reset", on_reset)
    try:
        session = Session(engine)
        session.add(Astronaut(name="not kept"))
        session.flush()
        session.close()
    finally:
        event.remove(engine.pool, "reset", on_reset)
    assert resets == [True]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Astronaut)) == 0


# ------------------------------------------------------------- SAVEPOINT rollback and relationships


@pytest.fixture
def library_db(engine):
    return create_library(engine)


def test_savepoint_rollback_forgets_child_appended_to_collection(library_db):
    """The child's INSERT is undone, but the parent (whose columns did not
    change) is not in tx._dirty (unitofwork._settle only records states that
    had an UPDATE), so it is not expired and author.books still holds the now
    transient child. SQLAlchemy expires every object the flush touched:
    author.books reloads as []."""
    with Session(library_db) as s:
        author = Author(id=1, name="a")
        s.add(author)
        s.commit()
        assert author.books == []
        sp = s.begin_nested()
        book = Book(title="draft")
        author.books.append(book)
        s.flush()
        sp.rollback()
        assert inspect(book).transient
        assert author.books == []
        s.commit()
        assert s.scalar(select(func.count()).select_from(Book)) == 0


def test_savepoint_rollback_restores_collection_a_child_was_removed_from(library_db):
    """A child moved to another parent in a SAVEPOINT: the child's UPDATE is
    undone and the child is expired, but both parents' loaded collections keep
    the rolled-back move (SQLAlchemy: a.books == [book], b.books == [])."""
    with Session(library_db) as s:
        a, b = Author(id=1, name="a"), Author(id=2, name="b")
        s.add_all([a, b, Book(id=1, title="t", author=a)])
        s.commit()
        book = s.get(Book, 1)
        assert [x.id for x in a.books] == [1] and b.books == []
        sp = s.begin_nested()
        book.author = b
        s.flush()
        sp.rollback()
        assert book.author is a
        assert [x.id for x in a.books] == [1]
        assert b.books == []


def test_savepoint_rollback_undoes_many_to_many_append(library_db):
    """The association row's INSERT is rolled back, yet book.labels and
    label.books still contain each other (SQLAlchemy: both [])."""
    with Session(library_db) as s:
        s.add_all([Book(id=1, title="t"), Label(id=1, name="l")])
        s.commit()
        book, label = s.get(Book, 1), s.get(Label, 1)
        assert book.labels == [] and label.books == []
        sp = s.begin_nested()
        book.labels.append(label)
        s.flush()
        sp.rollback()
        assert s.scalar(text("SELECT count(*) FROM rf_book_labels")) == 0
        assert book.labels == []
        assert label.books == []
