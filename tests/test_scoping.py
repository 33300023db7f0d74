"""scoped_session, thread and contextvar scopes, query_property (session_ext.scoping)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import warnings

import pytest
from library_models import Author, create_library
from sqlalchemy import Column, Integer, String, create_engine, func, select, text
from sqlalchemy.engine import Connection

import session_ext
from session_ext import (
    DeclarativeBase,
    Query,
    Scope,
    Session,
    current_scope,
    exc,
    inspect,
    scope,
    scoped_session,
    sessionmaker,
)
from session_ext.engines import configure_sqlite


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "sc_items"
    id = Column(Integer, primary_key=True, autoincrement=False)
    owner = Column(String(50))


POOLED_BACKENDS = ["sqlite_file", "postgresql"]
WAIT = 60  # seconds; a barrier/event wait that times out means a hang, not a race


@pytest.fixture
def db(engine):
    Base.metadata.create_all(engine)
    return engine


@pytest.fixture
def pooled_engine(engine, backend):
    """An engine with a QueuePool big enough for one connection per thread
    (file SQLite or PostgreSQL), on the test's database."""
    eng = create_engine(engine.url, pool_size=40, max_overflow=0, pool_timeout=20)
    if backend.startswith("sqlite"):
        configure_sqlite(eng)
    Base.metadata.create_all(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def registry(db):
    """A thread-scoped scoped_session on the test's engine, removed afterwards."""
    reg = scoped_session(sessionmaker(bind=db))
    try:
        yield reg
    finally:
        reg.remove()


def _count_items(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Item.__table__)).scalar_one()


def _make_model(scoped, query_cls=None):
    """A fresh declarative base and model with ``query = scoped.query_property()``."""

    class QBase(DeclarativeBase):
        pass

    class Thing(QBase):
        __tablename__ = "sc_things"
        id = Column(Integer, primary_key=True)
        name = Column(String(50))
        query = scoped.query_property(query_cls)

    return QBase, Thing


# ============================================================================ basics


class TestScopedSessionBasics:
    def test_same_session_within_thread(self, registry):
        assert not registry.registry.has()
        s1 = registry()
        assert registry.registry.has()
        s2 = registry()
        assert s1 is s2
        assert isinstance(s1, Session)

    def test_session_factory_and_registry(self, db):
        factory = sessionmaker(bind=db)
        reg = scoped_session(factory)
        try:
            assert reg.session_factory is factory
            s = reg()
            assert reg.registry() is s
            assert s.bind is db
        finally:
            reg.remove()

    def test_keywords_on_creation(self, registry, db):
        s = registry(autoflush=False, info={"k": 1})
        assert s.autoflush is False
        assert s.info == {"k": 1}
        assert registry() is s

    def test_keywords_when_present_raise(self, registry):
        s = registry()
        with pytest.raises(exc.InvalidRequestError, match="already present"):
            registry(autoflush=False)
        assert registry() is s
        assert s.autoflush is True

    def test_remove_closes_and_forgets(self, registry):
        s = registry()
        item = Item(id=1, owner="a")
        registry.add(item)
        registry.flush()
        assert inspect(item).persistent
        assert s.in_transaction()
        registry.remove()
        assert not registry.registry.has()
        assert inspect(item).detached
        assert len(s.identity_map) == 0
        assert not s.in_transaction()  # closed: transaction ended
        s2 = registry()
        assert s2 is not s
        # the flush was never committed: close() rolled it back
        assert registry.scalar(select(func.count()).select_from(Item)) == 0

    def test_remove_without_session_is_noop(self, registry):
        registry.remove()
        registry.remove()
        assert not registry.registry.has()

    def test_configure_warns_when_session_exists(self, registry):
        s = registry()
        with pytest.warns(exc.SAWarning, match="already present"):
            registry.configure(autoflush=False)
        assert s.autoflush is True  # existing session untouched
        assert registry() is s
        registry.remove()
        assert registry().autoflush is False  # the factory was configured

    def test_configure_without_session_does_not_warn(self, registry):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            registry.configure(expire_on_commit=False)
        assert registry().expire_on_commit is False
        assert registry.session_factory.kw["expire_on_commit"] is False

    def test_sessions_differ_between_threads(self, registry):
        main = registry()
        other = []
        t = threading.Thread(target=lambda: other.append(registry()))
        t.start()
        t.join(WAIT)
        assert len(other) == 1
        assert other[0] is not main
        assert registry() is main


# ============================================================================ proxies


class TestProxies:
    def test_add_add_all_new_contains_iter_flush(self, registry):
        a, b, c = Item(id=1, owner="a"), Item(id=2, owner="b"), Item(id=3, owner="c")
        registry.add(a)
        registry.add_all([b, c])
        assert registry.new == [a, b, c]
        assert a in registry and c in registry
        assert Item(id=9) not in registry
        assert set(registry) == {a, b, c}
        registry.flush()
        assert registry.new == []
        assert set(registry.identity_map.values()) == {a, b, c}
        assert (Item, (2,), None) in registry.identity_map
        assert set(registry) == {a, b, c}

    def test_get_get_one_delete_deleted(self, registry):
        registry.add(Item(id=1, owner="a"))
        registry.commit()
        item = registry.get(Item, 1)
        assert item.owner == "a"
        assert registry.get(Item, 2) is None
        assert registry.get_one(Item, 1) is item
        with pytest.raises(exc.NoResultFound, match="Item"):
            registry.get_one(Item, 2)
        registry.delete(item)
        assert registry.deleted == [item]
        registry.flush()
        assert registry.deleted == []
        assert inspect(item).deleted

    def test_dirty_is_modified_expire_refresh(self, registry):
        registry.add(Item(id=1, owner="a"))
        registry.commit()
        item = registry.get(Item, 1)
        assert registry.dirty == []
        item.owner = "b"
        assert registry.dirty == [item]
        assert registry.is_modified(item)
        registry.expire(item)
        assert registry.dirty == []
        assert item.owner == "a"
        item.owner = "c"
        registry.refresh(item)
        assert item.owner == "a"
        assert not registry.is_modified(item)
        item.owner = "d"
        registry.expire_all()
        assert inspect(item).expired
        assert item.owner == "a"

    def test_commit_rollback(self, registry, db):
        registry.add(Item(id=1, owner="a"))
        registry.commit()
        assert _count_items(db) == 1
        assert registry.scalar(select(func.count()).select_from(Item)) == 1
        registry.add(Item(id=2, owner="b"))
        registry.flush()
        assert registry.scalar(select(func.count()).select_from(Item)) == 2
        registry.rollback()
        assert registry.scalar(select(func.count()).select_from(Item)) == 1
        assert registry.new == []

    def test_merge_expunge_expunge_all(self, registry):
        registry.add(Item(id=1, owner="a"))
        registry.commit()
        detached = Item(id=1, owner="merged")
        merged = registry.merge(detached)
        assert merged is not detached
        assert merged is registry.get(Item, 1)
        assert merged.owner == "merged"
        assert detached not in registry
        registry.expunge(merged)
        assert merged not in registry
        assert inspect(merged).detached
        x = registry.get(Item, 1)
        assert x in registry
        registry.expunge_all()
        assert len(registry.identity_map) == 0
        assert x not in registry

    def test_execute_scalar_scalars_query(self, registry):
        registry.add_all([Item(id=1, owner="a"), Item(id=2, owner="b")])
        registry.flush()
        rows = registry.execute(select(Item).order_by(Item.id)).all()
        assert [r.Item.owner for r in rows] == ["a", "b"]
        assert registry.scalar(select(func.max(Item.id))) == 2
        assert [i.id for i in registry.scalars(select(Item).order_by(Item.id))] == [1, 2]
        q = registry.query(Item).filter(Item.owner == "b")
        assert isinstance(q, Query)
        assert q.session is registry()
        assert q.one().id == 2
        assert registry.execute(text("SELECT 7")).scalar() == 7

    def test_connection_begin_begin_nested_close(self, registry):
        with registry.begin():
            registry.add(Item(id=1, owner="a"))
            conn = registry.connection()
            assert isinstance(conn, Connection)
            assert conn is registry.connection()
            nested = registry.begin_nested()
            registry.add(Item(id=2, owner="b"))
            registry.flush()
            nested.rollback()
        # the outer block committed item 1, the savepoint dropped item 2
        assert [i.id for i in registry.scalars(select(Item).order_by(Item.id))] == [1]
        s = registry()
        registry.close()
        assert len(s.identity_map) == 0
        assert not s.in_transaction()
        assert registry() is s  # close() keeps the session registered (unlike remove())

    def test_properties(self, registry, db):
        assert registry.bind is db
        assert registry.is_active is True
        assert registry.autoflush is True
        registry.autoflush = False
        assert registry().autoflush is False
        registry.add(Item(id=1, owner="a"))
        assert registry.scalar(select(func.count()).select_from(Item)) == 0
        registry.autoflush = True
        assert registry.scalar(select(func.count()).select_from(Item)) == 1
        registry.add(Item(id=2, owner="b"))
        with registry.no_autoflush:
            assert registry.scalar(select(func.count()).select_from(Item)) == 1
        assert registry.scalar(select(func.count()).select_from(Item)) == 2
        registry.info["request_id"] = 42
        assert registry().info == {"request_id": 42}
        other = create_engine("sqlite://")
        try:
            registry.bind = other
            assert registry().bind is other
        finally:
            registry.bind = db
            other.dispose()

    def test_is_active_false_after_failed_flush(self, registry):
        registry.add(Item(id=1, owner="a"))
        registry.flush()
        registry.add(Item(id=1, owner="dup"))
        with pytest.raises(Exception):  # noqa: B017 - the driver's IntegrityError
            registry.flush()
        assert registry.is_active is False
        registry.rollback()
        assert registry.is_active is True

    def test_proxies_follow_the_current_thread(self, registry):
        registry.add(Item(id=1, owner="main"))
        seen = {}

        def other():
            seen["new"] = registry.new
            registry.add(Item(id=2, owner="thread"))
            seen["new_after"] = [i.owner for i in registry.new]
            registry.remove()

        t = threading.Thread(target=other)
        t.start()
        t.join(WAIT)
        assert seen == {"new": [], "new_after": ["thread"]}
        assert [i.owner for i in registry.new] == ["main"]


# ============================================================================ threads


def _abort_all(*barriers):
    for b in barriers:
        b.abort()


@pytest.mark.parametrize("backend", POOLED_BACKENDS, indirect=True)
@pytest.mark.parametrize("scopefunc", [None, threading.get_ident], ids=["thread_local", "keyed"])
def test_32_threads_each_own_session(pooled_engine, backend, scopefunc):
    n = 32
    reg = scoped_session(sessionmaker(bind=pooled_engine, expire_on_commit=False), scopefunc)
    # SQLite allows one writer at a time: writes are serialised there; on
    # PostgreSQL they run concurrently.
    write_lock = threading.Lock() if backend.startswith("sqlite") else contextlib.nullcontext()
    start = threading.Barrier(n)
    holding = threading.Barrier(n + 1)
    proceed = threading.Barrier(n + 1)
    results: dict[int, tuple[Session, Item]] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            session = reg()
            item = Item(id=i, owner=f"thread-{i}")
            reg.add(item)
            start.wait(WAIT)
            # every thread now holds its session
            assert reg() is session
            assert reg.new == [item]
            assert list(reg) == [item]
            with write_lock:
                reg.flush()
                reg.commit()
            assert list(reg.identity_map.keys()) == [(Item, (i,), None)]
            assert reg.identity_map.values() == [item]
            assert reg.get(Item, i) is item
            reg.connection()  # hold a pooled connection while the main thread looks
            results[i] = (session, item)
            holding.wait(WAIT)
            proceed.wait(WAIT)
            reg.remove()
            assert not reg.registry.has()
            assert inspect(item).detached
            assert len(session.identity_map) == 0
        except BaseException as err:  # reported by the main thread
            errors.append(err)
            _abort_all(start, holding, proceed)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(1, n + 1)]
    for t in threads:
        t.start()
    try:
        holding.wait(WAIT)
        sessions = [s for s, _ in results.values()]
        assert len(sessions) == n
        assert len(set(sessions)) == n  # distinct objects (identity hash)
        assert pooled_engine.pool.checkedout() == n
        if scopefunc is not None:
            assert len(reg.registry) == n
        assert not reg.registry.has()  # the main thread has none
        proceed.wait(WAIT)
    except threading.BrokenBarrierError:
        pass  # a worker failed: its error is reported below
    except BaseException:
        _abort_all(start, holding, proceed)
        raise
    finally:
        for t in threads:
            t.join(WAIT)
    assert not errors, errors[0]
    assert len(reg.registry) == 0
    assert pooled_engine.pool.checkedout() == 0
    assert _count_items(pooled_engine) == n


# ============================================================================ contextvar scopes


@pytest.mark.parametrize("backend", POOLED_BACKENDS, indirect=True)
def test_1000_asyncio_tasks_each_own_session(pooled_engine, backend):
    n = 1000
    reg = scoped_session(sessionmaker(bind=pooled_engine), scopefunc=current_scope)
    sessions: list[Session] = []
    scopes: list[Scope] = []

    async def main() -> None:
        all_in = asyncio.Event()
        go = asyncio.Event()

        async def task(i: int) -> int:
            async with scope() as sc:
                session = reg()
                item = Item(id=i, owner=f"task-{i}")
                reg.add(item)
                sessions.append(session)
                scopes.append(sc)
                if len(sessions) == n:
                    all_in.set()
                await go.wait()
                # after every sibling ran and added its own object
                assert reg() is session
                assert reg.new == [item]
                reg.flush()
                assert reg.identity_map.values() == [item]
                assert reg.scalar(select(func.count()).select_from(Item)) >= 1
            # scope exit closed the session
            assert len(session.identity_map) == 0
            assert inspect(item).detached
            return i

        tasks = [asyncio.create_task(task(i)) for i in range(1, n + 1)]
        await asyncio.wait_for(all_in.wait(), WAIT)
        # every task is waiting inside its scope, holding its session
        assert len(sessions) == n
        assert len(set(sessions)) == n
        assert len(reg.registry) == n
        assert set(reg.registry.registry) == set(scopes)
        go.set()
        done = await asyncio.wait_for(asyncio.gather(*tasks), WAIT)
        assert sorted(done) == list(range(1, n + 1))

    asyncio.run(main())
    assert len(reg.registry) == 0
    assert pooled_engine.pool.checkedout() == 0
    assert all(len(s.identity_map) == 0 and not s.in_transaction() for s in sessions)
    # closing rolled back every uncommitted flush
    assert _count_items(pooled_engine) == 0


def test_current_scope_outside_scope_raises():
    with pytest.raises(exc.InvalidRequestError, match=r"with session_ext\.scope\(\)"):
        current_scope()


def test_scoped_session_outside_scope_raises(db):
    reg = scoped_session(sessionmaker(bind=db), scopefunc=current_scope)
    with pytest.raises(exc.InvalidRequestError, match=r"with session_ext\.scope\(\)"):
        reg()
    with pytest.raises(exc.InvalidRequestError, match=r"with session_ext\.scope\(\)"):
        reg.add(Item(id=1))
    assert len(reg.registry) == 0


def test_scope_is_exported_from_package():
    assert session_ext.scope is scope
    assert session_ext.current_scope is current_scope
    with scope("job") as sc:
        assert current_scope() is sc
        assert isinstance(sc, Scope)
        assert sc.name == "job"
    with pytest.raises(exc.InvalidRequestError):
        current_scope()


def test_configure_outside_any_scope(db):
    """Configuring the factory at start-up, before any scope exists, is the
    usual set-up; there is no session, so nothing to warn about either."""
    reg = scoped_session(sessionmaker(), scopefunc=current_scope)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg.configure(bind=db)
        reg.remove()  # no scope, so no session: a no-op
    assert not reg.has()
    with scope():
        assert reg().bind is db
        with pytest.warns(exc.SAWarning, match="already present"):
            reg.configure(autoflush=False)
    assert len(reg.registry) == 0


def test_nested_scope_gets_its_own_session(db):
    reg = scoped_session(sessionmaker(bind=db), scopefunc=current_scope)
    with scope() as outer_scope:
        outer = reg()
        outer_item = Item(id=1, owner="outer")
        reg.add(outer_item)
        with scope() as inner_scope:
            assert inner_scope is not outer_scope
            inner = reg()
            assert inner is not outer
            assert reg.new == []
            reg.add(Item(id=2, owner="inner"))
            assert len(reg.registry) == 2
        # inner scope's session closed and forgotten; outer untouched
        assert len(reg.registry) == 1
        assert inspect(outer_item).pending
        assert reg() is outer
        assert reg.new == [outer_item]
        assert len(inner.new) == 0
    assert len(reg.registry) == 0
    assert inspect(outer_item).transient


@pytest.mark.parametrize("backend", POOLED_BACKENDS, indirect=True)
def test_sync_scope_closes_session_at_exit(pooled_engine, backend):
    reg = scoped_session(sessionmaker(bind=pooled_engine), scopefunc=current_scope)
    with scope():
        session = reg()
        reg.add(Item(id=1, owner="cli"))
        reg.commit()
        item = reg.get(Item, 1)
        assert item.owner == "cli"  # reloads: holds a connection again
        assert pooled_engine.pool.checkedout() == 1
        assert len(session.identity_map) == 1
    assert pooled_engine.pool.checkedout() == 0
    assert len(session.identity_map) == 0
    assert not session.in_transaction()
    assert inspect(item).detached
    assert len(reg.registry) == 0
    assert _count_items(pooled_engine) == 1


def test_scope_exit_closes_session_on_error(db):
    reg = scoped_session(sessionmaker(bind=db), scopefunc=current_scope)
    with pytest.raises(RuntimeError, match="boom"):
        with scope():
            session = reg()
            reg.add(Item(id=1))
            reg.flush()
            raise RuntimeError("boom")
    assert len(reg.registry) == 0
    assert len(session.identity_map) == 0
    assert not session.in_transaction()


def test_session_created_with_keywords_in_scope_is_removed(db):
    reg = scoped_session(sessionmaker(bind=db), scopefunc=current_scope)
    with scope():
        s = reg(autoflush=False)
        assert reg() is s and s.autoflush is False
        with pytest.raises(exc.InvalidRequestError, match="already present"):
            reg(autoflush=True)
        assert len(reg.registry) == 1
    assert len(reg.registry) == 0


def test_remove_inside_scope(db):
    reg = scoped_session(sessionmaker(bind=db), scopefunc=current_scope)
    with scope():
        first = reg()
        reg.remove()
        assert len(reg.registry) == 0
        second = reg()
        assert second is not first
        assert len(reg.registry) == 1
        item = Item(id=1)
        reg.add(item)
    assert len(reg.registry) == 0
    assert inspect(item).transient  # the second session was closed at exit too


def test_keyed_registry_never_grows(db):
    reg = scoped_session(sessionmaker(bind=db), scopefunc=current_scope)
    seen = set()
    for i in range(1000):
        with scope():
            s = reg()
            seen.add(s)
            assert len(reg.registry) == 1
            if i % 100 == 0:
                reg.execute(select(1)).all()
        assert len(reg.registry) == 0
    assert len(seen) == 1000


def test_scopes_in_threads_are_independent(db):
    reg = scoped_session(sessionmaker(bind=db), scopefunc=current_scope)
    barrier = threading.Barrier(2)
    got = {}

    def work(name):
        with scope():
            got[name] = reg()
            barrier.wait(WAIT)
            assert reg() is got[name]

    threads = [threading.Thread(target=work, args=(k,)) for k in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert got["a"] is not got["b"]
    assert len(reg.registry) == 0


# ============================================================================ query_property


def test_query_property_resolves_current_thread_session(engine):
    reg = scoped_session(sessionmaker(bind=engine))
    QBase, Thing = _make_model(reg)
    QBase.metadata.create_all(engine)
    barrier = threading.Barrier(2)
    seen = {}
    errors = []

    def work(name):
        try:
            q = Thing.query
            seen[name] = (q.session, reg())
            barrier.wait(WAIT)
        except BaseException as err:
            errors.append(err)
            barrier.abort()
        finally:
            reg.remove()

    threads = [threading.Thread(target=work, args=(k,)) for k in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert not errors, errors
    assert seen["a"][0] is seen["a"][1]
    assert seen["b"][0] is seen["b"][1]
    assert seen["a"][0] is not seen["b"][0]
    try:
        reg.add_all([Thing(name="x"), Thing(name="y")])
        reg.commit()
        q = Thing.query
        assert isinstance(q, Query)
        assert q.session is reg()
        assert [t.name for t in Thing.query.order_by(Thing.id)] == ["x", "y"]
        assert Thing.query.filter_by(name="y").one().id == 2
        # resolved at access time: after remove() a new session is used
        old = Thing.query.session
        reg.remove()
        assert Thing.query.session is not old
        assert Thing.query.session is reg()
    finally:
        reg.remove()


def test_query_property_with_contextvar_scope(engine):
    reg = scoped_session(sessionmaker(bind=engine), scopefunc=current_scope)
    QBase, Thing = _make_model(reg)
    QBase.metadata.create_all(engine)
    with scope():
        outer = Thing.query.session
        assert outer is reg()
        with scope():
            inner = Thing.query.session
            assert inner is not outer
        assert Thing.query.session is outer
    with pytest.raises(exc.InvalidRequestError, match=r"with session_ext\.scope\(\)"):
        Thing.query  # noqa: B018 - the access itself must raise


def test_query_property_custom_query_class(engine):
    class MyQuery(Query):
        def named(self, name):
            return self.filter_by(name=name)

        def names(self):
            return sorted(t.name for t in self)

    reg = scoped_session(sessionmaker(bind=engine))
    QBase, Thing = _make_model(reg, query_cls=MyQuery)
    QBase.metadata.create_all(engine)
    try:
        reg.add_all([Thing(name="a"), Thing(name="b"), Thing(name="a")])
        reg.flush()
        q = Thing.query
        assert type(q) is MyQuery
        assert q.session is reg()
        assert len(q.named("a").all()) == 2
        # generative methods keep the subclass
        assert type(q.filter(Thing.id > 0)) is MyQuery
        assert q.filter(Thing.id > 1).names() == ["a", "b"]
        assert q.named("b").count() == 1
    finally:
        reg.remove()


def test_query_property_uses_session_query_cls(engine):
    class SessionQuery(Query):
        marker = "from-session"

    reg = scoped_session(sessionmaker(bind=engine, query_cls=SessionQuery))
    QBase, Thing = _make_model(reg)
    try:
        assert type(Thing.query) is SessionQuery
        assert type(reg.query(Thing)) is SessionQuery
    finally:
        reg.remove()


def test_query_property_on_an_unmapped_class_raises_naming_it(engine):
    reg = scoped_session(sessionmaker(bind=engine))

    class Plain:
        query = reg.query_property()

    with pytest.raises(exc.UnmappedClassError, match="Plain.query: class Plain is not mapped"):
        Plain.query  # noqa: B018

    class QBase(DeclarativeBase):
        query = reg.query_property()

    class Thing(QBase):
        __tablename__ = "sc_unmapped_things"
        id = Column(Integer, primary_key=True)

    assert QBase.query is QBase.__dict__["query"]  # a declarative base: introspectable
    QBase.metadata.create_all(engine)
    assert Thing.query.count() == 0
    reg.remove()


def test_a_reference_kept_after_remove_cannot_begin_again(engine):
    reg = scoped_session(sessionmaker(bind=engine))
    kept = reg()
    kept.execute(text("SELECT 1"))
    reg.remove()
    assert kept.in_transaction() is False
    with pytest.raises(exc.InvalidRequestError, match="removed from its scoped_session"):
        kept.execute(text("SELECT 1"))
    with pytest.raises(exc.InvalidRequestError, match="removed from its scoped_session"):
        kept.connection()
    assert reg() is not kept  # the registry gives a working session
    assert reg.execute(text("SELECT 1")).scalar() == 1
    reg.remove()
    if hasattr(engine.pool, "checkedout"):
        assert engine.pool.checkedout() == 0


def test_remove_forgets_the_session_even_when_closing_it_fails():
    class FailingClose:
        closed = 0

        def close(self):
            FailingClose.closed += 1
            raise RuntimeError("close failed")

    registry = scoped_session(FailingClose)
    first = registry()
    with pytest.raises(RuntimeError, match="close failed"):
        registry.remove()
    assert not registry.has()
    assert registry() is not first  # a fresh one, not the broken one again
    assert FailingClose.closed == 1


def test_threads_sharing_a_scope_key_share_one_session():
    made: list[object] = []
    lock = threading.Lock()

    class Counted:
        def __init__(self):
            with lock:
                made.append(self)

        def close(self):
            pass

    registry = scoped_session(Counted, scopefunc=lambda: "shared")
    barrier = threading.Barrier(16)
    seen: list[object] = []

    def worker():
        barrier.wait()
        seen.append(registry())

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1
    assert all(s is made[0] for s in seen) and len(seen) == 16


@pytest.fixture
def library_db(engine):
    return create_library(engine)


def test_repeated_sessions_in_one_scope_register_one_exit_callback(library_db):
    from session_ext import current_scope, scope, scoped_session, sessionmaker

    registry = scoped_session(sessionmaker(bind=library_db), scopefunc=current_scope)
    with scope() as block:
        for _ in range(5):
            registry().get(Author, 1)
            registry.remove()
        registry()
        assert len(block._on_exit) == 1
    assert len(registry.registry) == 0
