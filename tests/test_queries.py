"""Loading entities with select(), the legacy Query API, DML through the session
and streaming large results (session_ext.execution / loading / query)."""

from __future__ import annotations

import gc
import tracemalloc

import pytest
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.sql.base import ExecutableOption

import session_ext
from session_ext import DeclarativeBase, Query, Session, exc, inspect, scoped_session, sessionmaker


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "q_users"
    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)
    age = Column(Integer)
    email = Column(String(100))


class Address(Base):
    __tablename__ = "q_addresses"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("q_users.id"), nullable=False)
    email = Column(String(100), nullable=False)


class Stamped(Base):
    __tablename__ = "q_stamped"
    id = Column(Integer, primary_key=True, autoincrement=False)
    name = Column(String(50))
    revision = Column(Integer, default=0, onupdate=7)


class Tiny(Base):
    __tablename__ = "q_tiny"
    id = Column(Integer, primary_key=True, autoincrement=False)
    v = Column(SmallInteger, nullable=False)


USERS = [
    # id, name, age
    (1, "alice", 30),
    (2, "bob", 25),
    (3, "carol", 35),
    (4, "dave", 25),
    (5, "eve", 40),
]
ADDRESSES = [
    # id, user_id, email
    (1, 1, "alice@home"),
    (2, 1, "alice@work"),
    (3, 2, "bob@home"),
    (4, 3, "carol@a"),
    (5, 3, "carol@b"),
    (6, 3, "carol@c"),
]
ADDRESS_COUNT = {1: 2, 2: 1, 3: 3, 4: 0, 5: 0}


@pytest.fixture
def db(engine):
    """The engine with the schema and the rows above, inserted with Core."""
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(User.__table__),
            [{"id": i, "name": n, "age": a, "email": f"{n}@example.com"} for i, n, a in USERS],
        )
        conn.execute(
            insert(Address.__table__),
            [{"id": i, "user_id": u, "email": e} for i, u, e in ADDRESSES],
        )
    return engine


@pytest.fixture
def session(db):
    with Session(db) as s:
        yield s


def _db_name(session, user_id):
    """The name stored in the database as the session's transaction sees it
    (read with a Core column select, without autoflush)."""
    return session.execute(
        select(User.__table__.c.name).where(User.__table__.c.id == user_id),
        execution_options={"autoflush": False},
    ).scalar_one_or_none()


# ============================================================================ select()


class TestSelectEntities:
    def test_execute_rows_hold_user_instances(self, session):
        rows = session.execute(select(User).where(User.age == 25).order_by(User.id)).all()
        assert len(rows) == 2
        for row in rows:
            assert isinstance(row.User, User)
            assert row[0] is row.User
            assert len(row) == 1
        assert [r.User.name for r in rows] == ["bob", "dave"]
        assert [r[0].id for r in rows] == [2, 4]
        # loaded objects are persistent in this session
        assert all(inspect(r.User).persistent for r in rows)
        assert all(inspect(r.User).session is session for r in rows)

    def test_execute_row_mapping_and_keys(self, session):
        result = session.execute(select(User).where(User.id == 1))
        assert list(result.keys()) == ["User"]
        row = result.one()
        assert row._mapping["User"] is row.User
        assert row.User.name == "alice"

    def test_scalars_all(self, session):
        users = session.scalars(select(User).order_by(User.id)).all()
        assert [type(u) for u in users] == [User] * 5
        assert [(u.id, u.name, u.age) for u in users] == USERS

    def test_scalars_first(self, session):
        assert session.scalars(select(User).order_by(User.age.desc())).first().name == "eve"
        assert session.scalars(select(User).where(User.name == "nobody")).first() is None

    def test_scalars_one(self, session):
        u = session.scalars(select(User).where(User.name == "carol")).one()
        assert isinstance(u, User) and u.id == 3

    def test_scalars_one_no_result(self, session):
        with pytest.raises(exc.NoResultFound, match="No row was found"):
            session.scalars(select(User).where(User.name == "nobody")).one()

    def test_scalars_one_multiple(self, session):
        with pytest.raises(exc.MultipleResultsFound, match="Multiple rows were found"):
            session.scalars(select(User).where(User.age == 25)).one()

    def test_scalars_one_or_none(self, session):
        assert session.scalars(select(User).where(User.name == "nobody")).one_or_none() is None
        assert session.scalars(select(User).where(User.id == 5)).one_or_none().name == "eve"
        with pytest.raises(exc.MultipleResultsFound):
            session.scalars(select(User).where(User.age == 25)).one_or_none()

    def test_scalars_unique(self, session):
        stmt = select(User).join(Address, User.id == Address.user_id).order_by(User.id)
        plain = session.scalars(stmt).all()
        # one row per address: the same object repeated (identity map)
        assert [u.id for u in plain] == [1, 1, 2, 3, 3, 3]
        assert plain[0] is plain[1]
        assert plain[3] is plain[4] is plain[5]
        uniq = session.scalars(stmt).unique().all()
        assert [u.id for u in uniq] == [1, 2, 3]
        assert uniq[0] is plain[0]

    def test_scalar_count(self, session):
        assert session.scalar(select(func.count()).select_from(User)) == 5
        assert session.scalar(select(func.count()).select_from(Address)) == 6
        assert session.scalar(select(User.name).where(User.id == 2)) == "bob"
        assert session.scalar(select(User).where(User.id == 3)).name == "carol"
        assert session.scalar(select(User).where(User.id == 99)) is None

    def test_select_columns_return_plain_rows(self, session):
        rows = session.execute(select(User.id, User.name).order_by(User.id)).all()
        assert [tuple(r) for r in rows] == [(i, n) for i, n, _ in USERS]
        assert rows[0].name == "alice"
        assert len(session.identity_map) == 0  # no objects were made

    def test_multi_entity_join(self, session):
        stmt = select(User, Address).join(Address, User.id == Address.user_id).order_by(Address.id)
        rows = session.execute(stmt).all()
        assert len(rows) == len(ADDRESSES)
        for row, (aid, uid, email) in zip(rows, ADDRESSES):
            assert isinstance(row.User, User) and isinstance(row.Address, Address)
            assert row[0] is row.User and row[1] is row.Address
            assert row.User.id == uid
            assert (row.Address.id, row.Address.user_id, row.Address.email) == (aid, uid, email)
        # the same user row in several result rows is the same object
        assert rows[0].User is rows[1].User
        assert rows[3].User is rows[4].User is rows[5].User
        assert rows[0].User is session.get(User, 1)

    def test_multi_entity_outer_join_gives_none(self, session):
        stmt = (
            select(User, Address)
            .outerjoin(Address, User.id == Address.user_id)
            .where(User.id.in_([2, 4]))
            .order_by(User.id)
        )
        rows = session.execute(stmt).all()
        assert [(r.User.id, r.Address.id if r.Address is not None else None) for r in rows] == [
            (2, 3),
            (4, None),
        ]

    def test_mixed_entity_and_aggregate(self, session):
        stmt = (
            select(User, func.count(Address.id))
            .outerjoin(Address, User.id == Address.user_id)
            .group_by(User.id)
            .order_by(User.id)
        )
        rows = session.execute(stmt).all()
        assert [(r.User.id, r[1]) for r in rows] == sorted(ADDRESS_COUNT.items())
        assert all(r[0] is r.User for r in rows)
        assert rows[2].User.name == "carol"

    def test_mixed_entity_and_labelled_column(self, session):
        stmt = (
            select(User, func.count(Address.id).label("n_addr"))
            .join(Address, User.id == Address.user_id)
            .group_by(User.id)
            .order_by(User.id)
        )
        rows = session.execute(stmt).all()
        assert [(r.User.name, r.n_addr) for r in rows] == [("alice", 2), ("bob", 1), ("carol", 3)]
        assert list(session.execute(stmt).keys()) == ["User", "n_addr"]

    def test_mixed_column_then_entity(self, session):
        stmt = (
            select(Address.email, User).join(User, User.id == Address.user_id).order_by(Address.id)
        )
        rows = session.execute(stmt).all()
        assert rows[0].email == "alice@home"
        assert rows[0].User.name == "alice"
        assert rows[0][1] is rows[1][1]
        assert rows[2][1].name == "bob"

    def test_statement_is_plain_sqlalchemy_select(self, session):
        import sqlalchemy

        stmt = sqlalchemy.select(User).where(User.name.like("%a%")).order_by(User.id)
        assert isinstance(stmt, sqlalchemy.sql.Select)
        assert [u.name for u in session.scalars(stmt)] == ["alice", "carol", "dave"]


# ============================================================================ identity map


class TestIdentityMapThroughQueries:
    def test_same_row_same_object(self, session):
        a = session.scalars(select(User).where(User.id == 1)).one()
        b = session.execute(select(User).where(User.name == "alice")).scalar_one()
        assert a is b
        assert session.get(User, 1) is a

    def test_unflushed_change_kept_with_no_autoflush(self, session, db, count_statements):
        u = session.get(User, 2)
        u.name = "bobby"
        with session.no_autoflush:
            with count_statements(db) as stmts:
                again = session.scalars(select(User).where(User.id == 2)).one()
            assert again is u
            assert u.name == "bobby"  # the row's "bob" did not overwrite the change
            # no autoflush happened: only the SELECT ran
            assert len(stmts) == 1 and stmts.statements[0].lstrip().upper().startswith("SELECT")
            assert u in session.dirty
            assert inspect(u).attrs.name.history.added == ("bobby",)
            # querying by the new value finds nothing: it was not flushed
            assert session.scalars(select(User).where(User.name == "bobby")).all() == []
        assert _db_name(session, 2) == "bob"

    def test_autoflush_runs_before_select(self, session, db, count_statements):
        u = session.get(User, 2)
        u.name = "bobby"
        session.add(User(id=10, name="zed", age=1))
        with count_statements(db) as stmts:
            found = session.scalars(select(User).where(User.name == "bobby")).all()
        assert found == [u]
        upper = [s.lstrip().upper() for s in stmts.statements]
        assert upper[-1].startswith("SELECT")
        assert any(s.startswith("UPDATE") for s in upper[:-1])
        assert any(s.startswith("INSERT") for s in upper[:-1])
        assert session.dirty == [] and session.new == []
        assert session.scalar(select(func.count()).select_from(User)) == 6

    def test_autoflush_disabled_on_session(self, db):
        with Session(db, autoflush=False) as s:
            s.add(User(id=11, name="pending", age=1))
            assert s.scalar(select(func.count()).select_from(User)) == 5
            assert len(s.new) == 1

    def test_autoflush_execution_option_false(self, session):
        session.add(User(id=12, name="pending", age=1))
        n = session.scalar(
            select(func.count()).select_from(User), execution_options={"autoflush": False}
        )
        assert n == 5
        assert session.scalar(select(func.count()).select_from(User)) == 6

    def test_populate_existing_refreshes(self, session, db):
        u = session.get(User, 3)
        u.age = 99
        with session.no_autoflush:
            session.scalars(select(User).where(User.id == 3)).one()
            assert u.age == 99
            again = session.scalars(
                select(User).where(User.id == 3).execution_options(populate_existing=True)
            ).one()
        assert again is u
        assert u.age == 35
        assert u not in session.dirty
        assert not session.is_modified(u)
        # nothing left to flush
        session.flush()
        assert _db_name(session, 3) == "carol"

    def test_populate_existing_as_execute_option(self, session):
        u = session.get(User, 4)
        # change the row behind the identity map's back, in the same transaction
        session.execute(text("UPDATE q_users SET name = 'DAVE' WHERE id = 4"))
        assert session.scalars(select(User).where(User.id == 4)).one().name == "dave"
        session.scalars(
            select(User).where(User.id == 4), execution_options={"populate_existing": True}
        ).one()
        assert u.name == "DAVE"

    def test_populate_existing_with_legacy_query(self, session):
        u = session.get(User, 4)
        session.execute(text("UPDATE q_users SET age = 77 WHERE id = 4"))
        assert session.query(User).filter_by(id=4).one().age == 25
        assert session.query(User).filter_by(id=4).populate_existing().one() is u
        assert u.age == 77

    def test_expired_attributes_filled_from_row(self, session, db, count_statements):
        users = session.scalars(select(User).order_by(User.id)).all()
        session.expire_all()
        assert all(inspect(u).expired for u in users)
        with count_statements(db) as stmts:
            again = session.scalars(select(User).order_by(User.id)).all()
            assert [u.name for u in again] == [n for _, n, _ in USERS]
            assert [u.age for u in again] == [a for _, _, a in USERS]
        assert len(stmts) == 1  # the SELECT; attribute access needed no further SQL
        assert [a is b for a, b in zip(users, again)] == [True] * 5
        assert not any(inspect(u).expired for u in users)

    def test_partially_expired_attribute_filled_keeps_changes(self, session, db, count_statements):
        u = session.get(User, 1)
        session.expire(u, ["age"])
        with session.no_autoflush:
            u.name = "ALICE"
            with count_statements(db) as stmts:
                session.scalars(select(User).where(User.id == 1)).one()
                assert u.age == 30
                assert u.name == "ALICE"
        assert len(stmts) == 1

    def test_expired_after_commit_filled_from_row(self, session, db, count_statements):
        u = session.get(User, 5)
        session.commit()
        assert inspect(u).expired
        with count_statements(db) as stmts:
            session.execute(select(User).where(User.age > 35)).all()
            assert u.name == "eve" and u.age == 40
        assert len(stmts) == 1

    def test_expired_entity_at_row_offset_filled_from_its_columns(
        self, session, db, count_statements
    ):
        """The entity's columns are not first in the row: the right slice fills it."""
        users = {u.id: u for u in session.scalars(select(User))}
        session.expire_all()
        stmt = (
            select(Address.email, Address.id, User)
            .join(User, User.id == Address.user_id)
            .order_by(Address.id)
        )
        with count_statements(db) as stmts:
            rows = session.execute(stmt).all()
            assert [(r.User.id, r.User.name, r.User.age) for r in rows] == [
                (uid, USERS[uid - 1][1], USERS[uid - 1][2]) for _, uid, _ in ADDRESSES
            ]
            assert rows[0].User.email == "alice@example.com"
        assert len(stmts) == 1
        assert rows[0].User is users[1]

    def test_deleted_pending_object_and_autoflush(self, session):
        u = session.get(User, 5)
        session.delete(u)
        # autoflush writes the DELETE first: the row is no longer selected
        assert session.scalars(select(User).where(User.id == 5)).all() == []
        assert inspect(u).deleted


# ============================================================================ DML


class TestDML:
    def test_update_refreshes_matching_objects(self, session, db, count_statements):
        bob, dave, alice = session.get(User, 2), session.get(User, 4), session.get(User, 1)
        result = session.execute(update(User).where(User.age == 25).values(name="twenty-five"))
        assert result.rowcount == 2
        assert bob.name == "twenty-five"
        assert dave.name == "twenty-five"
        with count_statements(db) as stmts:
            assert alice.name == "alice"  # not matched: not expired, no SQL
        assert len(stmts) == 0
        # objects loaded afterwards see the new value too
        assert session.scalars(select(User.name).where(User.id == 4)).one() == "twenty-five"

    def test_update_runs_in_session_transaction_and_rolls_back(self, session, db):
        bob = session.get(User, 2)
        session.execute(update(User).where(User.id == 2).values(age=26))
        assert bob.age == 26
        # inside the session's transaction: another connection doesn't see it yet
        # (on sqlite_memory there is only one shared connection)
        if db.pool.__class__.__name__ != "StaticPool":
            with db.connect() as conn:
                assert (
                    conn.execute(
                        select(User.__table__.c.age).where(User.__table__.c.id == 2)
                    ).scalar_one()
                    == 25
                )
        session.rollback()
        with db.connect() as conn:
            assert (
                conn.execute(
                    select(User.__table__.c.age).where(User.__table__.c.id == 2)
                ).scalar_one()
                == 25
            )
        assert bob.age == 25

    def test_update_commit_persists(self, session, db):
        session.execute(update(User).where(User.id == 3).values(name="caroline"))
        session.commit()
        assert _db_name(session, 3) == "caroline"

    def test_autoflush_before_update(self, session, db):
        u = session.get(User, 1)
        u.age = 18
        session.execute(update(User).where(User.age == 18).values(name="adult"))
        assert u.name == "adult"
        assert u.age == 18
        assert _db_name(session, 1) == "adult"

    def test_update_keeps_unflushed_changes_of_other_attributes(self, session):
        """SQLAlchemy's synchronize strategies only touch the attributes the UPDATE
        sets: an unflushed change to another attribute survives."""
        u = session.get(User, 2)
        with session.no_autoflush:
            u.email = "changed@example.com"
            session.execute(update(User).where(User.id == 2).values(name="robert"))
            assert u.name == "robert"
            assert u.email == "changed@example.com"
        session.flush()
        assert session.scalar(select(User.email).where(User.id == 2)) == "changed@example.com"

    def test_update_refreshes_columns_set_by_onupdate(self, session):
        """Core applies the column's onupdate to the UPDATE: the object must not
        keep showing the old value of that column."""
        session.add(Stamped(id=1, name="a"))
        session.flush()
        obj = session.get(Stamped, 1)
        assert obj.revision == 0
        session.execute(update(Stamped).where(Stamped.id == 1).values(name="b"))
        assert session.scalar(select(Stamped.revision).where(Stamped.id == 1)) == 7
        assert obj.name == "b"
        assert obj.revision == 7

    def test_delete_marks_objects_deleted(self, session, db):
        carol = session.get(User, 3)
        alice = session.get(User, 1)
        session.execute(delete(Address).where(Address.user_id == 3))
        result = session.execute(delete(User).where(User.name == "carol"))
        assert result.rowcount == 1
        assert inspect(carol).deleted
        assert carol not in session
        assert session.get(User, 3) is None
        assert session.scalars(select(User).where(User.id == 3)).all() == []
        assert inspect(alice).persistent and session.get(User, 1) is alice

    def test_delete_rolled_back_restores(self, session, db):
        dave = session.get(User, 4)
        session.execute(delete(User).where(User.id == 4))
        assert session.get(User, 4) is None
        session.rollback()
        assert not inspect(dave).deleted
        assert inspect(dave).persistent
        assert session.get(User, 4) is dave
        assert dave.name == "dave"
        assert _db_name(session, 4) == "dave"

    def test_delete_loaded_addresses_many(self, session):
        addrs = session.scalars(select(Address).order_by(Address.id)).all()
        session.execute(delete(Address).where(Address.user_id == 1))
        assert [inspect(a).deleted for a in addrs] == [True, True, False, False, False, False]
        assert session.get(Address, 1) is None and session.get(Address, 3) is addrs[2]

    def test_update_synchronize_false(self, session, db, count_statements):
        bob = session.get(User, 2)
        session.execute(
            update(User).where(User.id == 2).values(name="robert"),
            execution_options={"synchronize_session": False},
        )
        with count_statements(db) as stmts:
            assert bob.name == "bob"  # not expired: stale value, no SQL
        assert len(stmts) == 0
        assert not inspect(bob).expired
        assert session.scalar(select(User.name).where(User.id == 2)) == "robert"

    def test_update_synchronize_false_on_statement(self, session, count_statements, db):
        bob = session.get(User, 2)
        session.execute(
            update(User)
            .where(User.id == 2)
            .values(name="robert")
            .execution_options(synchronize_session=False)
        )
        with count_statements(db) as stmts:
            assert bob.name == "bob"
        assert len(stmts) == 0

    def test_delete_synchronize_false(self, session, count_statements, db):
        eve = session.get(User, 5)
        session.execute(
            delete(User).where(User.id == 5), execution_options={"synchronize_session": False}
        )
        assert not inspect(eve).deleted
        with count_statements(db) as stmts:
            assert session.get(User, 5) is eve  # still in the identity map: no SQL
        assert len(stmts) == 0
        assert session.scalar(select(func.count()).select_from(User).where(User.id == 5)) == 0

    def test_fetch_strategy_by_name(self, session):
        bob = session.get(User, 2)
        session.execute(
            update(User).where(User.id == 2).values(age=3),
            execution_options={"synchronize_session": "fetch"},
        )
        assert bob.age == 3

    def test_invalid_synchronize_session(self, session):
        with pytest.raises(exc.ArgumentError, match="synchronize_session='bogus'"):
            session.execute(
                update(User).values(age=1), execution_options={"synchronize_session": "bogus"}
            )


# ============================================================================ legacy Query


class TestLegacyQuery:
    def test_query_is_query(self, session):
        q = session.query(User)
        assert isinstance(q, Query)
        assert q.session is session

    def test_all_entities(self, session):
        users = session.query(User).order_by(User.id).all()
        assert [u.name for u in users] == [n for _, n, _ in USERS]
        assert all(isinstance(u, User) for u in users)

    def test_columns_give_rows(self, session):
        rows = session.query(User.id, User.name).order_by(User.id).all()
        assert [tuple(r) for r in rows] == [(i, n) for i, n, _ in USERS]
        assert rows[1].name == "bob" and rows[1].id == 2

    def test_filter_where_filter_by(self, session):
        q = session.query(User)
        assert {u.id for u in q.filter(User.age == 25)} == {2, 4}
        assert {u.id for u in q.where(User.age == 25, User.name == "bob")} == {2}
        assert {u.id for u in q.filter(User.age > 20).filter(User.age < 31)} == {1, 2, 4}
        assert {u.id for u in q.filter_by(age=25, name="dave")} == {4}
        assert q.filter_by(name="nobody").all() == []

    def test_filter_by_unknown_attribute(self, session):
        with pytest.raises(exc.InvalidRequestError, match="nickname"):
            session.query(User).filter_by(nickname="x")

    def test_filter_by_on_columns_query(self, session):
        rows = session.query(User.id, User.name).filter_by(name="eve").all()
        assert [tuple(r) for r in rows] == [(5, "eve")]

    def test_filter_by_after_join_uses_joined_entity(self, session):
        users = (
            session.query(User)
            .join(Address, User.id == Address.user_id)
            .filter_by(email="bob@home")
            .all()
        )
        assert [u.name for u in users] == ["bob"]

    def test_order_by(self, session):
        names = [u.name for u in session.query(User).order_by(User.age.desc(), User.name)]
        assert names == ["eve", "carol", "alice", "bob", "dave"]
        # order_by(None) cancels
        q = session.query(User).order_by(User.name.desc()).order_by(None).order_by(User.id)
        assert [u.id for u in q] == [1, 2, 3, 4, 5]

    def test_group_by_having(self, session):
        rows = (
            session.query(User.age, func.count(User.id))
            .group_by(User.age)
            .having(func.count(User.id) > 1)
            .all()
        )
        assert [tuple(r) for r in rows] == [(25, 2)]

    def test_join_and_outerjoin(self, session):
        joined = (
            session.query(User.name, Address.email)
            .join(Address, User.id == Address.user_id)
            .order_by(Address.id)
            .all()
        )
        assert [tuple(r) for r in joined] == [
            ("alice", "alice@home"),
            ("alice", "alice@work"),
            ("bob", "bob@home"),
            ("carol", "carol@a"),
            ("carol", "carol@b"),
            ("carol", "carol@c"),
        ]
        outer = (
            session.query(User.id, func.count(Address.id))
            .outerjoin(Address, User.id == Address.user_id)
            .group_by(User.id)
            .order_by(User.id)
            .all()
        )
        assert [tuple(r) for r in outer] == sorted(ADDRESS_COUNT.items())

    def test_entity_query_group_by_having_outerjoin(self, session):
        many = (
            session.query(User)
            .join(Address, User.id == Address.user_id)
            .group_by(User.id)
            .having(func.count(Address.id) > 1)
            .order_by(User.id)
            .all()
        )
        assert [u.name for u in many] == ["alice", "carol"]
        without = (
            session.query(User)
            .outerjoin(Address, User.id == Address.user_id)
            .filter(Address.id.is_(None))
            .order_by(User.id)
            .all()
        )
        assert [u.name for u in without] == ["dave", "eve"]

    def test_join_inferred_onclause(self, session):
        # the foreign key gives the ON clause
        users = session.query(User).join(Address).filter(Address.email.like("carol%")).all()
        # as SQLAlchemy's legacy Query: the join's three rows give the object once
        assert [u.id for u in users] == [3]
        rows = session.scalars(select(User).join(Address).where(Address.email.like("carol%")))
        assert [u.id for u in rows] == [3, 3, 3]  # a select() gives every row

    def test_query_multi_entity(self, session):
        rows = (
            session.query(User, Address)
            .join(Address, User.id == Address.user_id)
            .filter(User.id == 2)
            .all()
        )
        assert len(rows) == 1
        assert rows[0].User.name == "bob" and rows[0].Address.email == "bob@home"

    def test_limit_offset(self, session):
        q = session.query(User).order_by(User.id)
        assert [u.id for u in q.limit(2)] == [1, 2]
        assert [u.id for u in q.offset(3)] == [4, 5]
        assert [u.id for u in q.limit(2).offset(1)] == [2, 3]

    def test_slicing(self, session):
        q = session.query(User).order_by(User.id)
        assert [u.id for u in q[1:3]] == [2, 3]
        assert [u.id for u in q[:2]] == [1, 2]
        assert [u.id for u in q[3:]] == [4, 5]
        assert q[2].id == 3
        assert q[0].id == 1
        assert q[-1].id == 5
        assert q[4:2] == []
        with pytest.raises(IndexError):
            q[10]
        rows = session.query(User.id, User.name).order_by(User.id)[1:3]
        assert [tuple(r) for r in rows] == [(2, "bob"), (3, "carol")]

    def test_slicing_sql_uses_limit_offset(self, session, db, count_statements):
        q = session.query(User).order_by(User.id)
        with count_statements(db) as stmts:
            q[1:3]
        assert len(stmts) == 1
        sql = stmts.statements[0].upper()
        assert "LIMIT" in sql and "OFFSET" in sql

    def test_slicing_composes_with_existing_offset(self, session):
        """As in SQLAlchemy, a slice is relative to the LIMIT/OFFSET already applied."""
        q = session.query(User).order_by(User.id).offset(1)
        assert [u.id for u in q[1:3]] == [3, 4]
        assert q[0].id == 2

    def test_distinct(self, session):
        ages = session.query(User.age).distinct().order_by(User.age).all()
        assert [r[0] for r in ages] == [25, 30, 35, 40]
        assert session.query(User.age).count() == 5
        assert session.query(User.age).distinct().count() == 4

    def test_options_pass_through(self, session, db):
        class Marker(ExecutableOption):
            inherit_cache = True
            _is_core = True

        opt = Marker()
        q = session.query(User).options(opt).order_by(User.id)
        assert opt in q.statement._with_options
        seen = []

        def before_execute(conn, clauseelement, multiparams, params, execution_options):
            seen.append(clauseelement)

        event.listen(db, "before_execute", before_execute)
        try:
            assert [u.id for u in q.all()] == [1, 2, 3, 4, 5]
        finally:
            event.remove(db, "before_execute", before_execute)
        assert any(opt in getattr(s, "_with_options", ()) for s in seen)

    def test_with_for_update_runs(self, session):
        users = session.query(User).filter(User.id == 1).with_for_update().all()
        assert [u.name for u in users] == ["alice"]

    def test_first(self, session, db, count_statements):
        with count_statements(db) as stmts:
            u = session.query(User).order_by(User.age.desc()).first()
        assert u.name == "eve"
        assert "LIMIT" in stmts.statements[0].upper()
        assert session.query(User).filter(User.id > 100).first() is None
        row = session.query(User.name, User.age).order_by(User.id).first()
        assert tuple(row) == ("alice", 30)

    def test_one(self, session):
        assert session.query(User).filter_by(name="bob").one().id == 2
        assert tuple(session.query(User.id).filter(User.name == "bob").one()) == (2,)

    def test_one_no_result(self, session):
        with pytest.raises(session_ext.exc.NoResultFound):
            session.query(User).filter_by(name="nobody").one()
        with pytest.raises(session_ext.exc.NoResultFound):
            session.query(User.id).filter(User.name == "nobody").one()

    def test_one_multiple(self, session):
        with pytest.raises(session_ext.exc.MultipleResultsFound):
            session.query(User).filter_by(age=25).one()
        with pytest.raises(session_ext.exc.MultipleResultsFound):
            session.query(User.id).filter(User.age == 25).one()

    def test_one_or_none(self, session):
        assert session.query(User).filter_by(name="nobody").one_or_none() is None
        assert session.query(User).filter_by(name="eve").one_or_none().id == 5
        with pytest.raises(session_ext.exc.MultipleResultsFound):
            session.query(User).filter_by(age=25).one_or_none()

    def test_scalar(self, session):
        assert session.query(User.name).filter(User.id == 3).scalar() == "carol"
        assert session.query(func.max(User.age)).scalar() == 40
        assert session.query(User.name).filter(User.id == 99).scalar() is None
        assert session.query(User).filter(User.id == 3).scalar() is session.get(User, 3)

    def test_scalar_multiple_rows(self, session):
        with pytest.raises(session_ext.exc.MultipleResultsFound):
            session.query(User.name).filter(User.age == 25).scalar()

    def test_count(self, session):
        assert session.query(User).count() == 5
        assert session.query(User).filter(User.age == 25).count() == 2
        assert session.query(User).join(Address, User.id == Address.user_id).count() == 6
        assert session.query(User).order_by(User.id).limit(3).count() == 3

    def test_count_sees_autoflushed_pending(self, session):
        session.add(User(id=20, name="new", age=1))
        assert session.query(User).count() == 6

    def test_exists(self, session):
        q = session.query(User).filter(User.name == "alice")
        assert session.query(q.exists()).scalar() is True
        q2 = session.query(User).filter(User.name == "nobody")
        assert session.query(q2.exists()).scalar() is False

    def test_get(self, session, db, count_statements):
        u = session.query(User).get(3)
        assert u.name == "carol"
        with count_statements(db) as stmts:
            assert session.query(User).get(3) is u
        assert len(stmts) == 0
        assert session.query(User).get(99) is None

    def test_get_needs_single_entity(self, session):
        with pytest.raises(exc.InvalidRequestError, match="one mapped class"):
            session.query(User.id).get(1)

    def test_query_delete(self, session, db):
        eve = session.get(User, 5)
        n = session.query(User).filter(User.age >= 40).delete()
        assert n == 1
        assert inspect(eve).deleted
        assert session.get(User, 5) is None
        assert session.query(User).count() == 4
        session.rollback()
        assert session.query(User).count() == 5

    def test_query_update(self, session):
        bob = session.get(User, 2)
        n = session.query(User).filter(User.age == 25).update({"age": 26})
        assert n == 2
        assert bob.age == 26
        assert session.query(User).filter(User.age == 26).count() == 2

    def test_query_update_synchronize_false(self, session, db, count_statements):
        bob = session.get(User, 2)
        n = (
            session.query(User)
            .filter(User.id == 2)
            .update({User.name: "robert"}, synchronize_session=False)
        )
        assert n == 1
        with count_statements(db) as stmts:
            assert bob.name == "bob"
        assert len(stmts) == 0

    def test_query_delete_with_limit_refused(self, session):
        with pytest.raises(exc.InvalidRequestError, match=r"limit\(\) or offset\(\)"):
            session.query(User).limit(1).delete()

    def test_iteration(self, session):
        it = iter(session.query(User).order_by(User.id))
        first = next(it)
        assert isinstance(first, User) and first.id == 1
        assert [u.id for u in it] == [2, 3, 4, 5]
        rows = list(session.query(User.name).filter(User.id < 3).order_by(User.id))
        assert [r.name for r in rows] == ["alice", "bob"]

    def test_query_is_generative(self, session):
        base = session.query(User)
        filtered = base.filter(User.age == 25)
        assert base is not filtered
        assert base.count() == 5
        assert filtered.count() == 2

    def test_statement_property(self, session):
        stmt = session.query(User).filter(User.id == 1).statement
        assert [u.id for u in session.scalars(stmt)] == [1]

    def test_query_identity_map_shared_with_select(self, session):
        a = session.query(User).filter_by(id=1).one()
        assert session.scalars(select(User).where(User.id == 1)).one() is a


class TestQueryForUpdatePostgres:
    def test_for_update_sql(self, pg_engine, count_statements):
        Base.metadata.create_all(pg_engine)
        with pg_engine.begin() as conn:
            conn.execute(insert(User.__table__), [{"id": 1, "name": "a", "age": 1}])
        with Session(pg_engine) as s:
            with count_statements(pg_engine) as stmts:
                assert [u.id for u in s.query(User).filter(User.id == 1).with_for_update()] == [1]
                s.query(User).with_for_update(nowait=True).all()
                s.query(User).with_for_update(read=True).all()
            sql = [st.upper() for st in stmts.statements]
            assert "FOR UPDATE" in sql[0]
            assert "FOR UPDATE NOWAIT" in sql[1]
            assert "FOR SHARE" in sql[2]


# ============================================================================ seeds example


def test_scoped_query_property_seeds_example(engine):
    class SeedBase(DeclarativeBase):
        pass

    Session_ = scoped_session(sessionmaker(bind=engine))

    class MyClass(SeedBase):
        __tablename__ = "q_my_class"
        id = Column(Integer, primary_key=True)
        name = Column(String(50))
        query = Session_.query_property()

    SeedBase.metadata.create_all(engine)
    try:
        Session_.add_all([MyClass(name="foo"), MyClass(name="bar"), MyClass(name="foo")])
        Session_.commit()
        found = MyClass.query.filter(MyClass.name == "foo").all()
        assert len(found) == 2
        assert all(isinstance(o, MyClass) and o.name == "foo" for o in found)
        assert isinstance(MyClass.query, Query)
        assert MyClass.query.session is Session_()
        assert MyClass.query.count() == 3
    finally:
        Session_.remove()


# ============================================================================ streaming


def _fill_tiny(engine, n):
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text("INSERT INTO q_tiny (id, v) SELECT g, g % 100 FROM generate_series(1, :n) g"),
                {"n": n},
            )
        else:
            conn.execute(
                text(
                    "INSERT INTO q_tiny (id, v) WITH RECURSIVE c(x) AS "
                    "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < :n) "
                    "SELECT x, x % 100 FROM c"
                ),
                {"n": n},
            )


N_ROWS = 1_000_000
# Memory is traced (tracemalloc, started before the statement runs) over the
# first TRACED_ROWS rows only: tracing every allocation makes loading ~4x
# slower.  Loaded objects take ~0.7 KiB each (measured), so holding even these
# 100,000 would need ~67 MiB (~670 MiB for all 1,000,000), well above
# PEAK_LIMIT, whereas a streamed load holds one batch of 1,000 objects
# (measured peak ~1 MiB).  For all the rows, the identity map's size is checked
# every 100,000 rows instead.
TRACED_ROWS = 100_000
PEAK_LIMIT = 25 * 1024 * 1024


def _stream(session, make_iterable):
    """Iterate without keeping references.

    Returns (rows seen, sum of v, traced peak bytes, largest identity map size)."""
    gc.collect()
    seen = 0
    total = 0
    largest_map = 0
    tracemalloc.start()
    try:
        it = iter(make_iterable())
        for obj in it:
            seen += 1
            total += obj.v
            if seen == TRACED_ROWS:
                break
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    for obj in it:
        seen += 1
        total += obj.v
        if seen % 100_000 == 0:
            largest_map = max(largest_map, len(session.identity_map))
    return seen, total, peak, largest_map


@pytest.mark.parametrize("backend", ["sqlite_file", "postgresql"], indirect=True)
def test_yield_per_streams_a_million_rows(engine, backend):
    Base.metadata.create_all(engine)
    _fill_tiny(engine, N_ROWS)
    expected_sum = sum(i % 100 for i in range(1, N_ROWS + 1))

    with Session(engine) as s:
        seen, total, peak, largest_map = _stream(
            s, lambda: s.scalars(select(Tiny).execution_options(yield_per=1000))
        )
        assert seen == N_ROWS
        assert total == expected_sum
        assert peak < PEAK_LIMIT, f"select() yield_per: peak {peak / 2**20:.1f} MiB"
        assert largest_map <= 2_000, "loaded objects were kept"
    with Session(engine) as s:
        seen, total, peak, largest_map = _stream(s, lambda: s.query(Tiny).yield_per(1000))
        assert seen == N_ROWS
        assert total == expected_sum
        assert peak < PEAK_LIMIT, f"Query.yield_per: peak {peak / 2**20:.1f} MiB"
        assert largest_map <= 2_000, "loaded objects were kept"


def test_yield_per_uses_server_side_cursor_on_postgresql(pg_engine):
    Base.metadata.create_all(pg_engine)
    _fill_tiny(pg_engine, 5000)
    cursors = []

    @event.listens_for(pg_engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany):
        if "q_tiny" in statement:
            cursors.append((type(cursor).__name__, getattr(cursor, "name", None)))

    with Session(pg_engine) as s:
        ids = [
            t.id
            for t in s.scalars(select(Tiny).order_by(Tiny.id).execution_options(yield_per=1000))
        ]
        assert ids == list(range(1, 5001))
        ids = [t.id for t in s.query(Tiny).order_by(Tiny.id).yield_per(700)]
        assert ids == list(range(1, 5001))
        # without yield_per: an ordinary client-side cursor
        assert s.query(Tiny).filter(Tiny.id < 3).count() == 2
    assert len(cursors) == 3
    # psycopg's server-side cursors are named
    assert all(kind == "ServerCursor" and name for kind, name in cursors[:2]), cursors
    assert cursors[2][0] != "ServerCursor", cursors


@pytest.mark.parametrize("backend", ["sqlite_file", "postgresql"], indirect=True)
def test_yield_per_partitions_and_identity(engine, backend):
    Base.metadata.create_all(engine)
    _fill_tiny(engine, 2500)
    with Session(engine) as s:
        keep = s.get(Tiny, 7)
        result = s.execute(select(Tiny).order_by(Tiny.id).execution_options(yield_per=1000))
        sizes = []
        seen_keep = None
        for part in result.partitions():
            sizes.append(len(part))
            for row in part:
                if row.Tiny.id == 7:
                    seen_keep = row.Tiny
        assert sizes == [1000, 1000, 500]
        assert seen_keep is keep


# ============================================================================ query guide features
def test_identity_token_keeps_objects_apart(session):
    stmt = select(User).where(User.id == 1)
    a = session.scalars(stmt.execution_options(identity_token="one")).one()
    b = session.scalars(stmt.execution_options(identity_token="two")).one()
    plain = session.get(User, 1)
    assert len({id(a), id(b), id(plain)}) == 3
    assert inspect(a).key == (User, (1,), "one") and inspect(b).key[2] == "two"
    assert session.scalars(stmt.execution_options(identity_token="one")).one() is a


def test_column_descriptions_describe_entities_aliases_and_columns():
    ua = session_ext.aliased(User, name="u2")
    d = select(User, User.id, ua).column_descriptions
    assert [x["name"] for x in d] == ["User", "id", "u2"]
    assert [x["aliased"] for x in d] == [False, False, True]
    assert d[0]["entity"] is User and d[0]["expr"] is User and d[0]["type"] is User
    assert d[1]["entity"] is User and d[1]["expr"] is User.id
    assert d[2]["entity"] is ua and d[2]["expr"] is ua and d[2]["type"] is User


def test_dml_entity_description():
    stmt = update(User).values(name="x").returning(User.id)
    d = stmt.entity_description
    assert (d["name"], d["entity"], d["table"]) == ("User", User, User.__table__)
    [r] = stmt.returning_column_descriptions
    assert (r["name"], r["entity"]) == ("id", User)


def test_dict_bundle(session):
    bundle = session_ext.DictBundle("u", User.id, User.name)
    rows = session.execute(select(bundle).where(User.id < 3).order_by(User.id)).all()
    assert [r.u for r in rows] == [{"id": 1, "name": "alice"}, {"id": 2, "name": "bob"}]


def test_named_alias_is_the_row_key(session):
    ua = session_ext.aliased(User, name="someone")
    row = session.execute(select(ua, User).where(ua.id == 1, User.id == ua.id + 1)).one()
    assert row._fields == ("someone", "User")
    assert (row.someone.name, row.User.name) == ("alice", "bob")


def test_aliased_over_subquery_lacking_columns_leaves_them_unloaded(session):
    subq = select(User.id, User.name).where(User.id == 3).subquery()
    carol = session.scalars(select(session_ext.aliased(User, subq))).one()
    assert {"age", "email"} <= inspect(carol).unloaded
    assert carol.age == 35  # loaded on access


def test_aliases_sharing_one_subquery_read_it_once(session):
    subq = select(User.id, User.name, User.age, User.email, Address.id, Address.email) \
        .join_from(User, Address, User.id == Address.user_id).where(User.id == 3).subquery()
    ua = session_ext.aliased(User, subq, name="u")
    aa = session_ext.aliased(Address, subq, name="a")
    rows = session.execute(select(ua, aa).order_by(aa.id)).all()
    assert [(r.u.name, r.a.id) for r in rows] == [("carol", 4), ("carol", 5), ("carol", 6)]


def test_stream_results_returns_every_row(session):
    stmt = select(User).order_by(User.id).execution_options(stream_results=True)
    assert [u.id for u in session.scalars(stmt)] == [1, 2, 3, 4, 5]
    assert [u.id for u in session.scalars(stmt).yield_per(2)] == [1, 2, 3, 4, 5]


def test_yield_per_refuses_unique(session):
    stmt = select(User).execution_options(yield_per=2)
    with pytest.raises(exc.InvalidRequestError, match="unique"):
        session.scalars(stmt).unique().all()
    with pytest.raises(exc.InvalidRequestError, match="unique"):
        session.execute(stmt).unique().all()


def test_query_set_operations_adapt_later_criteria(session):
    q1 = session.query(User).filter(User.id < 3)
    q2 = session.query(User).filter(User.id.in_([2, 4]))
    assert [u.id for u in q1.union(q2).order_by(User.id)] == [1, 2, 4]
    assert [u.id for u in q1.union(q2).filter(User.name != "bob").order_by(User.id)] == [1, 4]
    assert sorted(u.id for u in q1.union_all(q2)) == [1, 2, 4]  # objects come once each
    assert [u.id for u in q1.intersect(q2)] == [2]
    assert [u.id for u in q1.except_(q2)] == [1]
    assert all(isinstance(u, User) for u in q1.union(q2))


def test_query_more_reference_methods(session):
    q = session.query(User).order_by(User.id)
    assert q.with_entities(User.name).all()[:2] == [("alice",), ("bob",)]
    assert [u.id for u in q.slice(1, 3)] == [2, 3]
    assert q.filter(User.id == 5).value(User.name) == "eve"
    assert [len(r) for r in q.limit(1).tuples()] == [1]
    assert q.is_single_entity and not q.add_column(User.name).is_single_entity
    assert q.autoflush(False).get_execution_options()["autoflush"] is False
    assert q.whereclause is None and q.selectable is q.statement
    n = session.query(func.count(Address.id)).filter(Address.user_id == User.id).correlate(User)
    assert session.query(User.name, n.label("n")).order_by(User.id).first() == ("alice", 2)
    assert [u.id for u in q.select_from(User).join(Address).filter(Address.id > 4)] == [3]
