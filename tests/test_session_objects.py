"""Session object operations: add/delete/merge, expunge, refresh/expire,
collections, get(), the identity map and expiry errors.

Every test runs on all backends (``engine`` fixture).  Changes "made by
another connection" are made while the session has no transaction open: the
in-memory SQLite engine shares one connection, and a file SQLite database
locks writers out of a database another transaction is reading.
"""

from __future__ import annotations

import gc

import pytest
from library_models import Author, create_library
from sqlalchemy import Column, Integer, String, delete, insert, select, text, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import QueuePool

import session_ext
from session_ext import (
    Session,
    declarative_base,
    exc,
    inspect,
    make_transient,
    object_session,
)

Base = declarative_base()


class User(Base):
    __tablename__ = "so_users"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    email = Column(String(80))


class Pair(Base):
    __tablename__ = "so_pairs"
    a = Column(Integer, primary_key=True, autoincrement=False)
    b = Column(String(10), primary_key=True)
    label = Column(String(20))


class NotMapped:
    def __init__(self) -> None:
        self.name = "plain"


users = User.__table__


@pytest.fixture
def db(engine):
    Base.metadata.create_all(engine)
    return engine


@pytest.fixture
def seeded(db, backend):
    """Users 1 "ann" and 2 "bob"; new rows get keys above them on every backend."""
    with db.begin() as conn:
        conn.execute(
            insert(users),
            [
                {"id": 1, "name": "ann", "email": "ann@x"},
                {"id": 2, "name": "bob", "email": "bob@x"},
            ],
        )
        if backend == "postgresql":  # explicit keys do not advance the sequence
            conn.execute(text("SELECT setval(pg_get_serial_sequence('so_users', 'id'), 2)"))
    return db


def db_users(engine) -> dict[int, tuple[str, str]]:
    """The users table as seen through a fresh connection."""
    with engine.connect() as conn:
        return {r.id: (r.name, r.email) for r in conn.execute(select(users))}


def run_elsewhere(engine, statement) -> None:
    """Execute and commit a statement on a connection of its own."""
    with engine.begin() as conn:
        conn.execute(statement)


def is_in(obj, collection) -> bool:
    return any(o is obj for o in collection)


def state(obj):
    return session_ext.inspect(obj)


# == Session as a context manager =============================================


def test_with_session_closes_and_never_commits_flushed_work(db):
    with Session(db) as s:
        u = User(name="temp")
        s.add(u)
        s.flush()
        assert s.in_transaction()
        uid = u.id
        assert uid is not None
    assert not s.in_transaction()
    if isinstance(db.pool, QueuePool):  # StaticPool (in-memory SQLite) keeps no count
        assert db.pool.checkedout() == 0
    assert u not in s
    assert object_session(u) is None
    assert state(u).detached
    assert len(s.identity_map) == 0 and s.new == []
    assert db_users(db) == {}
    with Session(db) as other:
        assert other.get(User, uid) is None


def test_with_session_discards_pending_objects(db):
    with Session(db) as s:
        u = User(name="never")
        s.add(u)
    assert state(u).transient
    assert s.new == []
    assert db_users(db) == {}
    # the closed session can be used again
    s.add(User(id=3, name="later", email="l@x"))
    s.commit()
    s.close()
    assert db_users(db) == {3: ("later", "l@x")}


# == add / add_all / delete ===================================================


def test_add_and_add_all(db):
    with Session(db) as s:
        a = User(name="a", email="a@x")
        b = User(name="b", email="b@x")
        c = User(name="c", email="c@x")
        s.add(a)
        s.add(a)  # adding twice is a no-op
        s.add_all([b, c])
        assert len(s.new) == 3
        assert all(is_in(o, s.new) for o in (a, b, c))
        assert all(state(o).pending for o in (a, b, c))
        s.commit()
        assert all(state(o).persistent for o in (a, b, c))
    assert sorted(db_users(db).values()) == [("a", "a@x"), ("b", "b@x"), ("c", "c@x")]


def test_add_object_of_another_live_session_is_refused(db):
    s1 = Session(db)
    s2 = Session(db)
    u = User(name="x")
    s1.add(u)
    with pytest.raises(exc.InvalidRequestError) as ei:
        s2.add(u)
    assert "User" in str(ei.value)
    assert u not in s2 and u in s1
    s1.close()
    s2.close()


def test_delete_persistent_object(seeded):
    with Session(seeded) as s:
        u = s.get(User, 1)
        s.delete(u)
        assert is_in(u, s.deleted)
        assert u in s  # still in the session until the flush
        s.flush()
        assert s.deleted == []
        assert u not in s
        assert state(u).deleted
        assert s.get(User, 1) is None
        s.commit()
    assert db_users(seeded) == {2: ("bob", "bob@x")}


def test_get_of_object_marked_for_deletion_returns_it_without_sql(seeded, count_statements):
    """Until the flush, an object marked for deletion is still in the identity
    map, and get() returns it from there (as SQLAlchemy does)."""
    with Session(seeded) as s:
        u = s.get(User, 1)
        s.delete(u)
        with count_statements(seeded) as stmts:
            got = s.get(User, 1)
        assert stmts.count == 0, stmts
        assert got is u
        assert is_in(u, s.deleted)


def test_with_session_does_not_commit_flushed_delete(seeded):
    with Session(seeded) as s:
        u = s.get(User, 1)
        s.delete(u)
        s.flush()
        assert state(u).deleted
    assert u not in s and not s.in_transaction()
    assert db_users(seeded) == {1: ("ann", "ann@x"), 2: ("bob", "bob@x")}


def test_delete_of_detached_object(seeded):
    with Session(seeded) as s1:
        u = s1.get(User, 2)
    with Session(seeded) as s2:
        s2.delete(u)
        assert u in s2 and is_in(u, s2.deleted)
        s2.commit()
        assert state(u).detached
    assert db_users(seeded) == {1: ("ann", "ann@x")}


def test_expunged_object_keeps_changes_for_another_session(seeded):
    with Session(seeded) as s1:
        u = s1.get(User, 1)
        u.name = "carried"
        s1.expunge(u)
        s1.commit()
    assert db_users(seeded)[1] == ("ann", "ann@x")
    with Session(seeded) as s2:
        s2.add(u)
        assert state(u).persistent and is_in(u, s2.dirty)
        s2.commit()
    assert db_users(seeded)[1] == ("carried", "ann@x")


@pytest.mark.parametrize("attached", [True, False], ids=["pending", "transient"])
def test_delete_of_unpersisted_object_is_an_error(db, attached):
    with Session(db) as s:
        u = User(name="p")
        if attached:
            s.add(u)
        with pytest.raises(exc.InvalidRequestError) as ei:
            s.delete(u)
        msg = str(ei.value)
        assert "User" in msg and f"{id(u):x}" in msg
        assert ("pending" if attached else "transient") in msg
        assert s.deleted == []
        assert state(u).pending is attached


# == merge ====================================================================


def test_merge_detached_returns_session_instance(seeded, count_statements):
    with Session(seeded) as s1:
        det = s1.get(User, 1)
    assert state(det).detached
    det.name = "changed"
    with Session(seeded) as s2:
        with count_statements(seeded) as stmts:
            merged = s2.merge(det)
        assert any(st.lstrip().upper().startswith("SELECT") for st in stmts.statements)
        assert merged is not det
        assert merged in s2 and det not in s2
        assert state(merged).persistent
        assert state(det).detached and object_session(det) is None
        assert (merged.id, merged.name, merged.email) == (1, "changed", "ann@x")
        assert is_in(merged, s2.dirty) and s2.is_modified(merged)
        assert s2.get(User, 1) is merged
        s2.commit()
    assert db_users(seeded)[1] == ("changed", "ann@x")


def test_merge_detached_onto_already_loaded_instance(seeded, count_statements):
    with Session(seeded) as s1:
        det = s1.get(User, 1)
    det.email = "new@x"
    with Session(seeded) as s2:
        loaded = s2.get(User, 1)
        with count_statements(seeded) as stmts:
            merged = s2.merge(det)
        assert stmts.count == 0, stmts
        assert merged is loaded
        assert (loaded.name, loaded.email) == ("ann", "new@x")
        assert det not in s2 and state(det).detached
        assert is_in(loaded, s2.dirty)
        s2.commit()
    assert db_users(seeded)[1] == ("ann", "new@x")


def test_merge_transient_with_existing_key_loads_and_updates(seeded):
    given = User(id=1, name="replacement")
    with Session(seeded) as s:
        merged = s.merge(given)
        assert merged is not given
        assert state(given).transient and given not in s
        assert state(merged).persistent
        assert merged.name == "replacement"
        assert merged.email == "ann@x"  # not set on the argument: loaded from the row
        assert s.new == []
        s.commit()
    assert db_users(seeded) == {1: ("replacement", "ann@x"), 2: ("bob", "bob@x")}


def test_merge_without_key_makes_new_pending_object(db):
    given = User(name="fresh", email="f@x")
    with Session(db) as s:
        merged = s.merge(given)
        assert merged is not given
        assert state(merged).pending and is_in(merged, s.new)
        assert state(given).transient and given not in s
        assert (merged.name, merged.email) == ("fresh", "f@x")
        s.commit()
        new_id = merged.id
    assert given.id is None
    assert db_users(db) == {new_id: ("fresh", "f@x")}


def test_merge_transient_with_unknown_key_makes_new_pending_object(seeded):
    given = User(id=77, name="seventy-seven")
    with Session(seeded) as s:
        merged = s.merge(given)
        assert merged is not given and state(given).transient
        assert state(merged).pending and is_in(merged, s.new)
        assert (merged.id, merged.name) == (77, "seventy-seven")
        s.commit()
    assert db_users(seeded)[77] == ("seventy-seven", None)


def test_merge_of_own_object_returns_it(seeded):
    with Session(seeded) as s:
        u = s.get(User, 1)
        assert s.merge(u) is u
        p = User(name="p")
        s.add(p)
        assert s.merge(p) is p
        assert state(p).session is s


def test_merge_load_false_emits_no_sql(seeded, count_statements):
    with Session(seeded) as s1:
        det = s1.get(User, 1)
    with Session(seeded) as s2:
        with count_statements(seeded) as stmts:
            merged = s2.merge(det, load=False)
            values = (merged.id, merged.name, merged.email)
        assert stmts.count == 0, stmts
        assert values == (1, "ann", "ann@x")
        assert merged is not det and state(det).detached
        assert state(merged).persistent
        assert not s2.is_modified(merged) and not is_in(merged, s2.dirty)
        with count_statements(seeded) as stmts:
            s2.flush()
        assert stmts.count == 0, stmts


def test_merge_load_false_refuses_dirty_object(seeded):
    with Session(seeded) as s1:
        det = s1.get(User, 1)
    det.name = "dirty"
    with Session(seeded) as s2:
        with pytest.raises(exc.InvalidRequestError) as ei:
            s2.merge(det, load=False)
        msg = str(ei.value)
        assert "User" in msg and "load=False" in msg
        assert len(s2.identity_map) == 0
        assert state(det).detached


def test_merge_load_false_refuses_transient_object(db):
    with Session(db) as s:
        with pytest.raises(exc.InvalidRequestError) as ei:
            s.merge(User(name="t"), load=False)
        assert "User" in str(ei.value) and "load=False" in str(ei.value)
        assert s.new == []


def test_merge_load_false_onto_loaded_object_leaves_it_clean(seeded, count_statements):
    """With load=False the given state is taken as the database state (SQLAlchemy
    commits it on the merged object): no history, nothing to flush."""
    with Session(seeded) as s1:
        det = s1.get(User, 1)  # name "ann"
    run_elsewhere(seeded, update(users).where(users.c.id == 1).values(name="bob2"))
    with Session(seeded) as s2:
        loaded = s2.get(User, 1)
        assert loaded.name == "bob2"
        with count_statements(seeded) as stmts:
            merged = s2.merge(det, load=False)
        assert stmts.count == 0
        assert merged is loaded and loaded.name == "ann"
        assert not s2.is_modified(loaded)
        with count_statements(seeded) as stmts:
            s2.flush()
        assert stmts.count == 0, stmts
    assert db_users(seeded)[1][0] == "bob2"


# == expunge / expunge_all ====================================================


def test_expunge(seeded):
    with Session(seeded) as s:
        u = s.get(User, 1)
        p = User(name="p")
        s.add(p)
        u.name = "not saved"
        s.expunge(u)
        assert state(u).detached and u not in s
        assert (User, (1,), None) not in s.identity_map
        assert object_session(u) is None
        assert not is_in(u, s.dirty)
        s.expunge(p)
        assert state(p).transient and s.new == []
        with pytest.raises(exc.InvalidRequestError) as ei:
            s.expunge(u)
        assert "User" in str(ei.value)
        s.commit()
    assert db_users(seeded) == {1: ("ann", "ann@x"), 2: ("bob", "bob@x")}


def test_expunge_all(seeded):
    with Session(seeded) as s:
        u1 = s.get(User, 1)
        u2 = s.get(User, 2)
        p = User(name="p")
        s.add(p)
        u1.name = "not saved"
        s.expunge_all()
        assert len(s.identity_map) == 0 and s.new == [] and s.dirty == []
        assert list(s) == []
        assert state(u1).detached and state(u2).detached and state(p).transient
        assert all(object_session(o) is None for o in (u1, u2, p))
        s.commit()
    assert db_users(seeded) == {1: ("ann", "ann@x"), 2: ("bob", "bob@x")}


# == refresh ==================================================================


def test_refresh_reloads_changes_from_another_connection(seeded, count_statements):
    with Session(seeded, expire_on_commit=False) as s:
        u = s.get(User, 1)
        s.commit()
        run_elsewhere(seeded, update(users).where(users.c.id == 1).values(name="n1", email="e1"))
        assert u.name == "ann"  # stale until refreshed
        with count_statements(seeded) as stmts:
            s.refresh(u)
        assert stmts.count == 1, stmts
        assert (u.name, u.email) == ("n1", "e1")
        assert not s.is_modified(u)
        s.commit()
        run_elsewhere(seeded, update(users).where(users.c.id == 1).values(name="n2", email="e2"))
        s.refresh(u, ["name"])
        assert u.name == "n2"
        assert u.email == "e1"  # not among the refreshed attributes


def test_refresh_discards_unflushed_change(seeded):
    with Session(seeded, expire_on_commit=False) as s:
        u = s.get(User, 1)
        s.commit()
        run_elsewhere(seeded, update(users).where(users.c.id == 1).values(name="theirs"))
        u.name = "mine"
        s.refresh(u)
        assert u.name == "theirs"
        assert not s.is_modified(u) and not is_in(u, s.dirty)
        s.commit()
    assert db_users(seeded)[1] == ("theirs", "ann@x")


def test_refresh_named_attribute_discards_its_unflushed_change(seeded):
    with Session(seeded, expire_on_commit=False) as s:
        u = s.get(User, 1)
        s.commit()
        run_elsewhere(seeded, update(users).where(users.c.id == 1).values(name="theirs"))
        u.name = "mine"
        s.refresh(u, ["name"])
        assert u.name == "theirs"
        assert not s.is_modified(u)
        s.commit()
    assert db_users(seeded)[1] == ("theirs", "ann@x")


def test_refresh_errors(seeded):
    with Session(seeded) as s:
        p = User(name="p")
        s.add(p)
        with pytest.raises(exc.InvalidRequestError, match="User"):
            s.refresh(p)
        stranger = User(id=2, name="x")
        with pytest.raises(exc.InvalidRequestError) as ei:
            s.refresh(stranger)
        assert "User" in str(ei.value) and "refresh" in str(ei.value)
        u = s.get(User, 1)
        with pytest.raises(exc.InvalidRequestError) as ei:
            s.refresh(u, ["nickname"])
        assert "User" in str(ei.value) and "nickname" in str(ei.value)


def test_refresh_of_deleted_row_is_an_error(seeded):
    with Session(seeded) as s:
        u = s.get(User, 1)
        s.commit()
        run_elsewhere(seeded, delete(users).where(users.c.id == 1))
        with pytest.raises(sa_exc.InvalidRequestError) as ei:
            s.refresh(u)
        assert "User" in str(ei.value)


# == expire / expire_all ======================================================


def test_expire_whole_object_discards_change_and_reloads_in_one_select(seeded, count_statements):
    with Session(seeded) as s:
        u = s.get(User, 1)
        u.name = "unsaved"
        s.expire(u)
        assert not is_in(u, s.dirty) and not s.is_modified(u)
        with count_statements(seeded) as stmts:
            values = (u.name, u.email, u.id)
        assert values == ("ann", "ann@x", 1)
        assert stmts.count == 1, stmts
        with count_statements(seeded) as stmts:
            s.flush()
        assert stmts.count == 0


def test_expire_named_attribute(seeded, count_statements):
    with Session(seeded) as s:
        u = s.get(User, 1)
        u.name = "unsaved"
        u.email = "kept@x"
        s.expire(u, ["name"])
        with count_statements(seeded) as stmts:
            name = u.name
        # loading autoflushes first, as in SQLAlchemy: the UPDATE of email, then the SELECT
        assert stmts.count == 2, stmts
        assert stmts.statements[0].startswith("UPDATE")
        assert name == "ann"
        with count_statements(seeded) as stmts:
            email = u.email
        assert stmts.count == 0
        assert email == "kept@x"
        assert not s.is_modified(u)
        s.commit()
    assert db_users(seeded)[1] == ("ann", "kept@x")


def test_expire_all_reloads_each_object_with_one_select(seeded, count_statements):
    with Session(seeded) as s:
        u1 = s.get(User, 1)
        u2 = s.get(User, 2)
        s.execute(update(users).where(users.c.id == 1).values(name="via-session"))
        assert u1.name == "ann"  # the identity map does not see the UPDATE
        u2.name = "unsaved"
        s.expire_all()
        assert s.dirty == [] and not s.is_modified(u2)
        with count_statements(seeded) as stmts:
            first = (u1.id, u1.name, u1.email)
        assert stmts.count == 1, stmts
        assert first == (1, "via-session", "ann@x")
        with count_statements(seeded) as stmts:
            second = (u2.email, u2.name, u2.id)
        assert stmts.count == 1, stmts
        assert second == ("bob@x", "bob", 2)
        assert s.get(User, 1) is u1


def test_expire_of_object_not_in_session_is_an_error(db):
    with Session(db) as s:
        stranger = User(id=1, name="x")
        with pytest.raises(exc.InvalidRequestError) as ei:
            s.expire(stranger)
        assert "User" in str(ei.value) and "expire" in str(ei.value)


# == is_modified and the new / dirty / deleted collections =====================


def test_is_modified(seeded, count_statements):
    with Session(seeded) as s:
        u = s.get(User, 1)
        assert not s.is_modified(u)
        u.name = u.name
        assert not s.is_modified(u)
        u.name = "other"
        assert s.is_modified(u)
        u.name = "ann"
        assert not s.is_modified(u)
        with count_statements(seeded) as stmts:
            s.flush()
        assert stmts.count == 0, stmts
        u.email = "changed@x"
        assert s.is_modified(u)
        s.flush()
        assert not s.is_modified(u)


def test_new_dirty_deleted_collections(seeded):
    with Session(seeded) as s:
        u1 = s.get(User, 1)
        u2 = s.get(User, 2)
        p = User(name="p")
        s.add(p)
        assert len(s.new) == 1 and s.new[0] is p
        assert s.dirty == [] and s.deleted == []
        u1.name = "x"
        p.name = "q"
        assert len(s.dirty) == 1 and s.dirty[0] is u1
        s.delete(u2)
        assert len(s.deleted) == 1 and s.deleted[0] is u2
        assert not is_in(u2, s.dirty)
        s.flush()
        assert s.new == [] and s.dirty == [] and s.deleted == []
        new_id = p.id
        s.commit()
    assert db_users(seeded) == {1: ("x", "ann@x"), new_id: ("q", None)}


# == identity map, membership, iteration =======================================


def test_identity_map_membership_and_iteration(seeded):
    with Session(seeded) as s:
        u = s.get(User, 1)
        key = (User, (1,), None)
        assert key in s.identity_map
        assert s.identity_map[key] is u
        assert list(s.identity_map.keys()) == [key]
        assert state(u).key == key
        assert u in s
        p = User(name="p")
        assert p not in s
        s.add(p)
        assert p in s
        members = list(s)
        assert len(members) == 2 and is_in(u, members) and is_in(p, members)


def test_object_session(seeded):
    s = Session(seeded)
    u = s.get(User, 1)
    t = User(name="t")
    assert object_session(u) is s
    assert object_session(t) is None
    s.add(t)
    assert object_session(t) is s
    s.close()
    assert object_session(u) is None and object_session(t) is None
    with pytest.raises(exc.UnmappedInstanceError, match="NotMapped"):
        object_session(NotMapped())


def test_make_transient_then_add_inserts_new_row(seeded):
    with Session(seeded) as s:
        u = s.get(User, 1)
        make_transient(u)
        st = state(u)
        assert st.transient and st.key is None
        assert u not in s and object_session(u) is None
        assert (User, (1,), None) not in s.identity_map
        assert (u.name, u.email) == ("ann", "ann@x")
        u.id = None
        s.add(u)
        assert state(u).pending
        s.flush()
        new_id = u.id
        assert new_id is not None and new_id != 1
        s.commit()
    assert db_users(seeded) == {
        1: ("ann", "ann@x"),
        2: ("bob", "bob@x"),
        new_id: ("ann", "ann@x"),
    }


# == autoflush ===================================================================


def test_autoflush_before_query_and_no_autoflush(db):
    with Session(db) as s:
        p = User(name="auto")
        s.add(p)
        with s.no_autoflush:
            assert s.scalars(select(User).where(User.name == "auto")).first() is None
            assert state(p).pending and is_in(p, s.new)
        found = s.scalars(select(User).where(User.name == "auto")).one()
        assert found is p
        assert state(p).persistent and s.new == []


def test_autoflush_before_get_on_identity_map_miss(db):
    with Session(db) as s:
        p = User(id=50, name="g")
        s.add(p)
        with s.no_autoflush:
            assert s.get(User, 50) is None
            assert state(p).pending
        assert s.get(User, 50) is p
        assert state(p).persistent


def test_no_autoflush_block_is_restored_after_an_error(db):
    with Session(db) as s:
        p = User(name="after-error")
        s.add(p)
        with pytest.raises(ZeroDivisionError):
            with s.no_autoflush:
                1 / 0  # noqa: B018
        assert s.scalars(select(User).where(User.name == "after-error")).one() is p


def test_autoflush_disabled_session(db):
    with Session(db, autoflush=False) as s:
        p = User(name="manual")
        s.add(p)
        assert s.scalars(select(User)).all() == []
        s.flush()
        assert s.scalars(select(User)).one() is p


# == get / get_one ===============================================================


def test_get_scalar_tuple_dict_and_identity_map_hit(seeded, count_statements):
    with Session(seeded) as s:
        with count_statements(seeded) as stmts:
            u = s.get(User, 1)
        assert stmts.count == 1, stmts
        assert (u.id, u.name) == (1, "ann")
        bob = s.get(User, {"id": 2})
        assert bob.name == "bob"
        with count_statements(seeded) as stmts:
            assert s.get(User, 1) is u
            assert s.get(User, (1,)) is u
            assert s.get(User, {"id": 2}) is bob
        assert stmts.count == 0, stmts
        assert s.get(User, 999) is None


def test_get_composite_primary_key(db, count_statements):
    with db.begin() as conn:
        conn.execute(
            insert(Pair.__table__),
            [{"a": 1, "b": "x", "label": "one-x"}, {"a": 1, "b": "y", "label": "one-y"}],
        )
    with Session(db) as s:
        px = s.get(Pair, (1, "x"))
        assert px.label == "one-x"
        assert state(px).key == (Pair, (1, "x"), None)
        py = s.get(Pair, {"a": 1, "b": "y"})
        assert py.label == "one-y"
        with count_statements(db) as stmts:
            assert s.get(Pair, (1, "x")) is px
            assert s.get(Pair, {"b": "y", "a": 1}) is py
        assert stmts.count == 0, stmts
        assert s.get(Pair, (2, "x")) is None


@pytest.mark.parametrize(
    "model, ident",
    [(Pair, 1), (Pair, (1, "x", "z")), (User, (1, 2)), (Pair, {"a": 1})],
    ids=["pair-scalar", "pair-3-tuple", "user-2-tuple", "pair-dict-missing-key"],
)
def test_get_with_wrong_identifier_shape(db, model, ident):
    with Session(db) as s:
        with pytest.raises(exc.InvalidRequestError) as ei:
            s.get(model, ident)
        assert model.__name__ in str(ei.value)


def test_get_one(seeded):
    assert exc.NoResultFound is sa_exc.NoResultFound
    with Session(seeded) as s:
        assert s.get_one(User, 2).name == "bob"
        with pytest.raises(exc.NoResultFound) as ei:
            s.get_one(User, 999)
        assert isinstance(ei.value, sa_exc.NoResultFound)
        assert "User" in str(ei.value)


def test_get_of_unmapped_class(db):
    with Session(db) as s:
        with pytest.raises(exc.UnmappedClassError, match="NotMapped"):
            s.get(NotMapped, 1)


# == identity map semantics ======================================================


def test_one_object_per_row(seeded):
    with Session(seeded) as s:
        first = s.scalars(select(User).order_by(User.id)).all()
        second = s.scalars(select(User).order_by(User.id)).all()
        assert len(first) == 2
        assert all(a is b for a, b in zip(first, second, strict=True))
        assert s.get(User, 1) is first[0]
        assert s.execute(select(User).where(User.id == 2)).scalar_one() is first[1]


def test_each_session_has_its_own_object_for_a_row(seeded):
    with Session(seeded, expire_on_commit=False) as s1:
        a = s1.get(User, 1)
        s1.commit()
        with Session(seeded) as s2:
            b = s2.get(User, 1)
            assert b is not a
            assert (b.id, b.name) == (a.id, a.name)
            assert object_session(a) is s1 and object_session(b) is s2


def test_reselect_does_not_overwrite_loaded_object(seeded):
    with Session(seeded) as s:
        u = s.get(User, 1)
        s.execute(update(users).where(users.c.id == 1).values(name="db-side"))
        again = s.scalars(select(User).where(User.id == 1)).one()
        assert again is u and u.name == "ann"
        refreshed = s.scalars(
            select(User).where(User.id == 1).execution_options(populate_existing=True)
        ).one()
        assert refreshed is u and u.name == "db-side"


def test_unmodified_objects_are_held_weakly(seeded, count_statements):
    with Session(seeded) as s:
        u = s.get(User, 1)
        loaded = s.scalars(select(User).where(User.id == 2)).all()
        key1 = state(u).key
        key2 = state(loaded[0]).key
        assert key1 in s.identity_map and key2 in s.identity_map
        del u, loaded
        gc.collect()
        assert key1 not in s.identity_map
        assert key2 not in s.identity_map
        assert len(s.identity_map) == 0
        assert list(s) == []
        with count_statements(seeded) as stmts:
            again = s.get(User, 1)
        assert stmts.count == 1
        assert again.name == "ann"


def test_modified_objects_are_held_strongly_until_flushed(seeded):
    with Session(seeded) as s:
        u = s.get(User, 1)
        key = state(u).key
        u.name = "held"
        del u
        gc.collect()
        assert key in s.identity_map
        assert s.identity_map[key].name == "held"
        assert len(s.dirty) == 1
        s.commit()
    assert db_users(seeded)[1] == ("held", "ann@x")


def test_flushed_objects_are_released(seeded):
    with Session(seeded) as s:
        u = s.get(User, 1)
        key = state(u).key
        u.name = "flushed"
        s.flush()
        del u
        gc.collect()
        assert key not in s.identity_map
        s.commit()
    assert db_users(seeded)[1] == ("flushed", "ann@x")


def test_pending_objects_are_held_strongly(db):
    with Session(db) as s:
        s.add(User(name="nameless"))
        gc.collect()
        assert len(s.new) == 1
        s.commit()
    assert list(db_users(db).values()) == [("nameless", None)]


# == expiry errors ===============================================================


def test_expired_attribute_on_detached_object(seeded):
    with Session(seeded) as s:
        u = s.get(User, 1)
        s.commit()  # expire_on_commit
    assert state(u).detached
    with pytest.raises(exc.DetachedInstanceError) as ei:
        u.name  # noqa: B018
    msg = str(ei.value)
    assert isinstance(ei.value, sa_exc.SQLAlchemyError)
    assert "User" in msg and "'name'" in msg and "Session" in msg


def test_partially_expired_detached_object(seeded):
    with Session(seeded) as s:
        u = s.get(User, 1)
        s.expire(u, ["email"])
        s.expunge(u)
    assert u.name == "ann"
    with pytest.raises(exc.DetachedInstanceError) as ei:
        u.email  # noqa: B018
    assert "User" in str(ei.value) and "'email'" in str(ei.value)


def test_expired_object_whose_row_was_deleted(seeded):
    with Session(seeded) as s:
        u = s.get(User, 1)
        s.commit()
        run_elsewhere(seeded, delete(users).where(users.c.id == 1))
        with pytest.raises(exc.ObjectDeletedError) as ei:
            u.name  # noqa: B018
        msg = str(ei.value)
        assert isinstance(ei.value, sa_exc.InvalidRequestError)
        assert "User" in msg and "deleted" in msg.lower()
        s.rollback()
        assert s.get(User, 1) is None


# == unmapped objects ============================================================


@pytest.mark.parametrize("operation", ["add", "delete", "merge", "expunge"])
def test_unmapped_instance_is_refused(db, operation):
    with Session(db) as s:
        with pytest.raises(exc.UnmappedInstanceError) as ei:
            getattr(s, operation)(NotMapped())
        assert "NotMapped" in str(ei.value)
        assert isinstance(ei.value, sa_exc.InvalidRequestError)
        assert s.new == [] and len(s.identity_map) == 0


def test_add_all_with_unmapped_member(db):
    with Session(db) as s:
        with pytest.raises(exc.UnmappedInstanceError, match="NotMapped"):
            s.add_all([NotMapped()])
        with pytest.raises(exc.UnmappedInstanceError):
            s.add(42)


@pytest.fixture
def library_db(engine):
    return create_library(engine)


def test_get_of_expired_object_whose_row_is_gone_marks_it_deleted(library_db):
    """As in SQLAlchemy: get() returns None and the object is *deleted* (not
    detached); rollback() makes it persistent again."""
    with Session(library_db) as s:
        s.add(Author(id=7, name="gone"))
        s.commit()
        author = s.get(Author, 7)
        s.commit()  # ends the transaction (SQLite allows one writer) and expires author
        with library_db.begin() as conn:
            conn.execute(Author.__table__.delete().where(Author.__table__.c.id == 7))
        assert s.get(Author, 7) is None
        assert inspect(author).deleted and not inspect(author).detached
        s.rollback()
        assert inspect(author).persistent


def test_object_session_is_also_a_session_classmethod(db):
    with Session(db) as s:
        u = User(name="owned")
        assert Session.object_session(u) is None
        s.add(u)
        assert Session.object_session(u) is s and s.object_session(u) is s
    assert Session.object_session(u) is None
    with pytest.raises(exc.UnmappedInstanceError):
        Session.object_session(NotMapped())
