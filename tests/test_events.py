"""Session and mapper events through ``sqlalchemy.event``, inspection, imperative mapping.

The event tests run one program on ``sqlalchemy.orm`` and on ``session_ext``
with a recording listener on every Session event, and compare the recorded
(event, arguments) sequences.  SQLAlchemy's flush opens an inner transaction
of its own (an ``after_transaction_create``/``after_transaction_end`` pair
inside each flush); session_ext has none, so those two events are left out
between ``before_flush`` and ``after_flush_postexec`` (docs/differences.md).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, ForeignKey, Integer, String, Table, event, inspect, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

import session_ext
from session_ext.mapping import Registry
from tests.differential.models import build_models

SA_MODELS = build_models("sqlalchemy")
SE_MODELS = build_models("session_ext")

SESSION_EVENTS = (
    "before_commit", "after_commit", "after_rollback", "after_soft_rollback", "before_flush",
    "after_flush", "after_flush_postexec", "after_begin", "after_transaction_create",
    "after_transaction_end", "after_attach", "transient_to_pending", "pending_to_transient",
    "pending_to_persistent", "loaded_as_persistent", "persistent_to_deleted",
    "deleted_to_detached", "persistent_to_detached", "detached_to_persistent",
    "persistent_to_transient", "deleted_to_persistent",
)
MAPPER_EVENTS = ("before_insert", "after_insert", "before_update", "after_update",
                 "before_delete", "after_delete")


def _orm(models: Any) -> Any:
    if models.library == "sqlalchemy":
        import sqlalchemy.orm as orm

        return orm
    return session_ext


def _norm(arg: Any) -> str:
    name = type(arg).__name__
    if name in ("User", "Address", "Note", "Keyword"):
        return f"{name}:{arg.__dict__.get('name', arg.__dict__.get('email'))}"
    if isinstance(arg, Connection):
        return "conn"
    if hasattr(arg, "nested") and hasattr(arg, "parent"):
        return "savepoint" if arg.nested else "transaction"
    if hasattr(arg, "identity_map") or hasattr(arg, "objects"):
        return "session"
    if arg is None or isinstance(arg, list):
        return repr(arg)
    return "flush_context"


def _record(log: list[Any], name: str) -> Any:
    def listener(*args: Any) -> None:
        log.append((name, *[_norm(a) for a in args]))
    return listener


def _without_flush_subtransactions(log: list[Any]) -> list[Any]:
    out: list[Any] = []
    skip_end = 0
    skipped_end = False
    for entry in log:
        if entry[0] == "after_transaction_create" and out and out[-1][0] == "before_flush":
            skip_end += 1  # SQLAlchemy's flush began its inner transaction
            continue
        if entry[0] == "after_transaction_end" and skip_end and out and out[-1][0] in (
                "after_flush_postexec", "after_rollback", "pending_to_transient"):
            skip_end -= 1  # ... and ended it
            skipped_end = True
            continue
        if entry[0] == "after_soft_rollback" and skipped_end:
            skipped_end = False  # (a failed flush rolled it back)
            continue
        skipped_end = False
        out.append(entry)
    return out


def _lifecycle_program(orm: Any, m: Any, engine: Engine, log: list[Any]) -> None:
    maker = orm.sessionmaker(engine)
    for name in SESSION_EVENTS:
        event.listen(maker, name, _record(log, name))
    s = maker()
    s.add(m.User(name="a"))
    s.flush()
    s.commit()
    log.append("close, load")
    s.close()
    loaded = s.scalars(select(m.User)).one()
    log.append("delete")
    s.delete(loaded)
    s.flush()
    s.commit()
    log.append("savepoint")
    s.add(m.User(name="b"))
    sp = s.begin_nested()
    s.add(m.User(name="c"))
    sp.rollback()
    s.rollback()
    log.append("expunge, add detached")
    d = m.User(name="d")
    s.add(d)
    s.commit()
    s.expunge(d)
    s.add(d)
    log.append("failed flush")
    s.add(m.User(id=d.id, name="dup"))
    with pytest.raises(sa_exc.IntegrityError):
        s.flush()
    s.rollback()
    s.close()


def _run_both(engine: Engine, program: Any) -> tuple[list[Any], list[Any]]:
    logs = []
    for models in (SA_MODELS, SE_MODELS):
        models.metadata.drop_all(engine)
        models.metadata.create_all(engine)
        log: list[Any] = []
        program(_orm(models), models, engine, log)
        logs.append(_without_flush_subtransactions(log))
        models.metadata.drop_all(engine)
    return logs[0], logs[1]


@pytest.mark.filterwarnings("ignore:New instance")
def test_session_event_sequence_matches_sqlalchemy(engine: Engine) -> None:
    sa_log, se_log = _run_both(engine, _lifecycle_program)
    assert se_log == sa_log
    # the facts themselves, so both sides cannot agree on a wrong sequence
    assert ("pending_to_persistent", "session", "User:a") in se_log
    assert ("loaded_as_persistent", "session", "User:a") in se_log
    assert ("persistent_to_deleted", "session", "User:a") in se_log
    assert ("deleted_to_detached", "session", "User:a") in se_log
    assert ("after_soft_rollback", "session", "savepoint") in se_log
    assert [e[0] for e in se_log if e[0].startswith("detached_to")] == ["detached_to_persistent"]


def _mapper_program(orm: Any, m: Any, engine: Engine, log: list[Any]) -> None:
    for name in MAPPER_EVENTS:
        event.listen(m.User, name, _record(log, name))
        event.listen(m.Address, name, _record(log, name))

    @event.listens_for(m.User, "before_insert")
    def stamp(mapper: Any, connection: Any, target: Any) -> None:
        assert mapper is inspect(m.User)
        target.nickname = "stamped"  # written by the INSERT

    with orm.Session(engine) as s:
        u = m.User(name="a", addresses=[m.Address(email="e1"), m.Address(email="e2")])
        s.add(u)
        s.commit()
        u.name = "b"
        s.commit()
        s.delete(u)
        s.commit()
    with engine.connect() as conn:
        log.append(("rows", conn.execute(select(m.User.__table__.c.nickname)).all()))


def test_mapper_events_match_sqlalchemy(engine: Engine) -> None:
    sa_log, se_log = _run_both(engine, _mapper_program)
    assert se_log == sa_log
    assert se_log[0] == ("before_insert", "flush_context", "conn", "User:a")
    assert [e[0] for e in se_log if e[-1] == "User:b"] == [
        "before_update", "after_update", "before_delete", "after_delete"]
    assert ("after_insert", "flush_context", "conn", "Address:e2") in se_log


def test_listeners_of_a_factory_only_reach_its_sessions(sqlite_engine: Engine) -> None:
    log: list[Any] = []
    listened = session_ext.sessionmaker(sqlite_engine)
    other = session_ext.sessionmaker(sqlite_engine)
    event.listen(listened, "after_begin", _record(log, "after_begin"))
    with other() as s:
        s.connection()
    assert log == []
    with listened() as s:
        s.connection()
        assert isinstance(s, session_ext.Session)
    assert log == [("after_begin", "session", "transaction", "conn")]


def test_listen_on_a_session_and_a_scoped_session(sqlite_engine: Engine) -> None:
    log: list[Any] = []
    one = session_ext.Session(sqlite_engine)
    event.listen(one, "after_transaction_create", _record(log, "one"))
    registry = session_ext.scoped_session(session_ext.sessionmaker(sqlite_engine))

    @event.listens_for(registry, "after_transaction_create")
    def scoped(session: Any, transaction: Any) -> None:
        log.append(("scoped", _norm(transaction)))

    session_ext.Session(sqlite_engine).connection()
    assert log == []
    one.connection()
    registry.connection()
    assert log == [("one", "session", "transaction"), ("scoped", "transaction")]
    one.close()
    registry.remove()


def test_sqlalchemy_inspect_returns_session_ext_state_and_mapper(engine: Engine) -> None:
    m = SE_MODELS
    m.metadata.create_all(engine)
    try:
        user = m.User(name="a")
        state = inspect(user)
        assert state is session_ext.instance_state(user)
        assert state.transient and state.key is None
        with session_ext.Session(engine) as s:
            s.add(user)
            assert state.pending and state.session is s
            s.flush()
            assert state.persistent and state.identity == (user.id,) and state.object is user
            user.name = "b"
            assert state.attrs["name"].history.added == ("b",)
            assert state.attrs.name.history.deleted == ("a",)
        assert state.detached
        mapper = inspect(m.User)
        assert mapper is m.User.__mapper__ and mapper.class_ is m.User
        assert [c.name for c in mapper.primary_key] == ["id"]
        assert mapper.columns.name is m.User.__table__.c.name
        assert mapper.columns["age"] is m.User.__table__.c.age
        assert set(mapper.relationships) == {"addresses", "notes", "keywords"}
        assert mapper.relationships.addresses is m.User.addresses.property
        assert mapper.attrs.name is mapper.attrs["name"] and mapper.attrs.name.key == "name"
        assert inspect(m.Address).relationships.user.mapper is mapper
    finally:
        m.metadata.drop_all(engine)


def test_map_imperatively(engine: Engine) -> None:
    registry = Registry()
    users = Table("imp_users", registry.metadata, Column("id", Integer, primary_key=True),
                  Column("user_name", String(30)))
    notes = Table("imp_notes", registry.metadata, Column("id", Integer, primary_key=True),
                  Column("user_id", ForeignKey("imp_users.id")), Column("text", String(30)))

    class User:
        def __init__(self, name: str) -> None:
            self.name = name

    class Note:
        def __init__(self, text: str) -> None:
            self.text = text

    registry.map_imperatively(User, users, properties={
        "name": users.c.user_name,
        "notes": session_ext.relationship(Note, order_by=notes.c.id),
    })
    registry.map_imperatively(Note, notes)
    registry.metadata.create_all(engine)
    try:
        with session_ext.Session(engine) as s:
            u = User("ann")
            u.notes.append(Note("n1"))
            s.add(u)
            s.commit()
        with session_ext.Session(engine) as s:
            loaded = s.scalars(select(User).where(User.name == "ann")).one()
            assert [n.text for n in loaded.notes] == ["n1"]
            assert session_ext.inspect(User).columns.name is users.c.user_name
        with engine.connect() as conn:
            assert conn.execute(select(users.c.user_name)).scalar() == "ann"
    finally:
        registry.metadata.drop_all(engine)


@pytest.mark.parametrize("library", ["sqlalchemy", "session_ext"])
def test_mapper_event_propagate_reaches_subclasses(sqlite_engine: Engine, library: str) -> None:
    import sqlalchemy.orm as sa_orm

    orm: Any = sa_orm if library == "sqlalchemy" else session_ext

    class Base(orm.DeclarativeBase):
        pass

    class Employee(Base):
        __tablename__ = "prop_employees"
        id = Column(Integer, primary_key=True)
        kind = Column(String(10))
        __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "employee"}

    class Manager(Employee):
        __mapper_args__ = {"polymorphic_identity": "manager"}

    log: list[Any] = []
    event.listen(Employee, "before_insert",
                 lambda m, c, t: log.append(("propagated", type(t).__name__)), propagate=True)
    event.listen(Employee, "before_insert", lambda m, c, t: log.append(("own", type(t).__name__)))
    Base.metadata.create_all(sqlite_engine)
    with orm.Session(sqlite_engine) as s:
        s.add(Employee())
        s.commit()
        s.add(Manager())
        s.commit()
    assert log == [("propagated", "Employee"), ("own", "Employee"), ("propagated", "Manager")]


def _instance_program(orm: Any, m: Any, engine: Engine, log: list[Any]) -> None:
    for name, fn in (
        ("init", lambda t, args, kw: log.append(("init", sorted(kw)))),
        ("load", lambda t, ctx: log.append(("load", t.name))),
        ("refresh", lambda t, ctx, attrs: log.append(
            ("refresh", t.name, None if attrs is None else sorted(attrs)))),
        ("expire", lambda t, attrs: log.append(
            ("expire", None if attrs is None else sorted(attrs)))),
    ):
        event.listen(m.User, name, fn)
    with orm.Session(engine) as s:
        u = m.User(name="a")
        s.add(u)
        s.commit()  # expire(None)
        log.append("select the expired object")
        s.scalars(select(m.User)).one()
        s.expire(u, ["name"])
        log.append("attribute access")
        assert u.name == "a"
        log.append("refresh")
        s.refresh(u)
        s.refresh(u, ["name"])
        log.append("populate_existing")
        s.scalars(select(m.User).execution_options(populate_existing=True)).all()
    with orm.Session(engine) as s:
        log.append("load, then the same rows again")
        s.scalars(select(m.User)).all()
        s.scalars(select(m.User)).all()
        log.append("get")
        s.expunge_all()
        s.get(m.User, u.id)


def test_instance_events_match_sqlalchemy(engine: Engine) -> None:
    sa_log, se_log = _run_both(engine, _instance_program)
    assert se_log == sa_log
    assert se_log[:2] == [("init", ["name"]), ("expire", None)]
    assert ("load", "a") in se_log and ("refresh", "a", None) in se_log
    assert se_log[se_log.index("get") + 1] == ("load", "a")  # get() after expunge_all()


@pytest.mark.parametrize("library", ["sqlalchemy", "session_ext"])
def test_instance_event_on_a_declarative_base_reaches_its_classes_only(library: str) -> None:
    import sqlalchemy.orm as sa_orm

    orm: Any = sa_orm if library == "sqlalchemy" else session_ext

    class Base(orm.DeclarativeBase):
        pass

    class Other(orm.DeclarativeBase):
        pass

    class A(Base):
        __tablename__ = "ib_a"
        id = Column(Integer, primary_key=True)

    class B(Other):
        __tablename__ = "ib_b"
        id = Column(Integer, primary_key=True)

    log: list[Any] = []

    def on_init(target: Any, args: Any, kwargs: Any) -> None:
        log.append((type(target).__name__, kwargs, inspect(target).transient))

    event.listen(Base, "init", on_init, propagate=True)
    A(id=1)
    B(id=2)
    event.remove(Base, "init", on_init)
    A(id=3)
    assert log == [("A", {"id": 1}, True)]


@pytest.mark.parametrize("library", ["sqlalchemy", "session_ext"])
def test_released_savepoint_fires_after_commit_and_undone_insert_is_transient(
        sqlite_engine: Engine, library: str) -> None:
    models = SA_MODELS if library == "sqlalchemy" else SE_MODELS
    orm = _orm(models)
    models.metadata.create_all(sqlite_engine)
    maker = orm.sessionmaker(sqlite_engine)
    log: list[Any] = []
    event.listen(maker, "after_commit", lambda s: log.append("after_commit"))
    event.listen(maker, "persistent_to_transient",
                 lambda s, o: log.append(("to_transient", inspect(o).transient)))
    with maker() as s:
        s.begin()
        user = models.User(name="a")
        with s.begin_nested():
            s.add(user)
        log.append("released")
        s.rollback()
    assert inspect(user).transient
    assert log == ["after_commit", "released", ("to_transient", True)]


def _execute_program(orm: Any, m: Any, engine: Engine, log: list[Any]) -> None:
    maker = orm.sessionmaker(engine)
    frozen: dict[str, Any] = {}

    @event.listens_for(maker, "do_orm_execute")
    def hook(state: Any) -> Any:
        log.append(("hook", state.is_select, state.is_update, state.is_delete,
                    state.execution_options.get("tag")))
        if state.is_select and state.statement.column_descriptions[0].get("entity") is m.User:
            state.statement = state.statement.order_by(m.User.name.desc())
            state.update_execution_options(populate_existing=True)
        if state.execution_options.get("tag") == "cached":
            if "cached" not in frozen:
                frozen["cached"] = state.invoke_statement().freeze()
            return frozen["cached"]()
        return None

    with maker() as s:
        s.add_all([m.User(name="a"), m.User(name="b")])
        s.commit()
        users = s.scalars(select(m.User)).all()
        log.append([u.name for u in users])
        users[0].name = "changed"
        s.autoflush = False
        s.scalars(select(m.User).execution_options(tag="again")).all()
        log.append(users[0].name)  # populate_existing overwrote the change
        # (ordered here: session_ext's column_descriptions of a plain column name no
        # entity, so the hook does not order it; docs/differences.md)
        stmt = select(m.User.name).order_by(m.User.name).execution_options(tag="cached")
        log.append((s.execute(stmt).all(), s.execute(stmt).all()))
        s.execute(m.User.__table__.update().values(nickname="n"))


def test_do_orm_execute_matches_sqlalchemy(engine: Engine) -> None:
    sa_log, se_log = _run_both(engine, _execute_program)
    assert se_log == sa_log
    assert ["b", "a"] in se_log and "b" in se_log
    assert se_log[-1] == ("hook", False, True, False, None)
    assert se_log.count(("hook", True, False, False, "cached")) == 2  # the 2nd from the cache


@pytest.mark.parametrize("library", ["sqlalchemy", "session_ext"])
def test_column_descriptions_name_the_entity(library: str) -> None:
    models = SA_MODELS if library == "sqlalchemy" else SE_MODELS
    orm = _orm(models)
    alias = orm.aliased(models.User)
    described = select(models.User, alias).column_descriptions
    assert (described[0]["name"], described[0]["entity"], described[0]["aliased"]) == (
        "User", models.User, False)
    assert described[1]["aliased"] is True
