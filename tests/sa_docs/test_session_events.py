"""SQLAlchemy's "Tracking queries, object and Session Changes with Events" page
(doc/build/orm/session_events.rst) and the instance and attribute events of
the "ORM Events" page (doc/build/orm/events.rst), as programs of our own text
run on ``sqlalchemy.orm`` and on session_ext with only the import lines
changed.

Sections covered, in page order: persistence events (``before_flush`` adding
and changing objects, ``after_flush`` seeing ``Session.new``/``dirty``/
``deleted`` and attribute history, ``after_flush_postexec`` seeing them empty,
the mapper-level ``before_insert``/``after_insert``/``before_update``/
``after_delete`` hooks writing through the connection), object lifecycle
events (``init`` on the declarative base with ``propagate=True`` and every
Session transition: transient_to_pending, pending_to_persistent,
pending_to_transient, loaded_as_persistent, persistent_to_transient,
persistent_to_deleted, deleted_to_detached with ``was_deleted``,
persistent_to_detached, detached_to_persistent, deleted_to_persistent, and
one function stacked on four events), transaction events (create/end, begin,
commit, rollback, soft rollback, SAVEPOINTs) and the instance events
``init``, ``load``, ``refresh`` and ``expire``.

Execute events: ``do_orm_execute`` changing execution options and the
statement, and re-executing statements (a cache of frozen results through
``invoke_statement()``; the page's ``loading.merge_frozen_result()`` is
replaced by calling the frozen result). "Adding global WHERE / ON criteria"
(``with_loader_criteria()``) is in test_session_events_loader_criteria.py; the
attribute events in test_session_events_attributes.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from doc_programs import same_on_both

FUTURE = {False: "", True: "from __future__ import annotations\n"}

MODELS = '''
from typing import List, Optional

from sqlalchemy import ForeignKey, String, event, func, insert, inspect, select
from sqlalchemy.orm import (DeclarativeBase, Mapped, Session, mapped_column, relationship,
                            sessionmaker)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "sev_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    status: Mapped[Optional[str]]
    addresses: Mapped[List["Address"]] = relationship(back_populates="user",
                                                      cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"User({self.name!r})"


class Address(Base):
    __tablename__ = "sev_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sev_user.id"))
    user: Mapped[Optional[User]] = relationship(back_populates="addresses")

    def __repr__(self) -> str:
        return f"Address({self.email!r})"


class AuditLog(Base):
    __tablename__ = "sev_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str]


def states(obj):
    i = inspect(obj)
    return [n for n in ("transient", "pending", "persistent", "deleted", "detached")
            if getattr(i, n)]


def label(obj):
    """The object's class and name without loading anything (it may be expired)."""
    return f"{type(obj).__name__}({vars(obj).get('name', vars(obj).get('email'))!r})"


def phases(log):
    """The log as (phase, sorted events): within a flush the ORM settles
    objects in no fixed order."""
    out, current = [], ("start", [])
    for entry in log:
        if isinstance(entry, str):
            out.append((current[0], sorted(current[1])))
            current = (entry, [])
        else:
            current[1].append(entry)
    out.append((current[0], sorted(current[1])))
    return out


def name_of(obj):
    return repr(obj) if not isinstance(obj, AuditLog) else "AuditLog"
'''

PROGRAM = MODELS + '''

def persistence_events(engine, seen):
    maker = sessionmaker(engine)
    log = []

    @event.listens_for(maker, "before_flush")
    def before_flush(session, flush_context, instances):
        for obj in list(session.new):
            if isinstance(obj, User):
                obj.status = "new"
                session.add(AuditLog(message=f"created {obj.name}"))
        for obj in session.dirty:
            if isinstance(obj, User) and session.is_modified(obj):
                obj.status = "changed"
        for obj in session.deleted:
            if isinstance(obj, User):
                session.add(AuditLog(message=f"deleted {obj.name}"))
        log.append(("before_flush", sorted(name_of(o) for o in session.new)))

    @event.listens_for(maker, "after_flush")
    def after_flush(session, flush_context):
        changed = []
        for obj in session.dirty:
            if isinstance(obj, User):
                hist = inspect(obj).attrs.name.history
                changed.append((obj.name, list(hist.deleted), list(hist.added)))
        log.append(("after_flush", sorted(name_of(o) for o in session.new), changed,
                    sorted(name_of(o) for o in session.deleted)))

    @event.listens_for(maker, "after_flush_postexec")
    def after_flush_postexec(session, flush_context):
        log.append(("postexec", len(session.new), len(session.dirty), len(session.deleted)))

    @event.listens_for(User, "before_insert")
    def before_insert(mapper, connection, target):
        log.append(("before_insert", target.name, target.status))

    @event.listens_for(User, "after_insert")
    def after_insert(mapper, connection, target):
        connection.execute(insert(AuditLog).values(message=f"row for {target.name}"))

    @event.listens_for(User, "before_update")
    def before_update(mapper, connection, target):
        log.append(("before_update", target.name, target.status))

    @event.listens_for(User, "after_delete")
    def after_delete(mapper, connection, target):
        log.append(("after_delete", target.name))

    with maker.begin() as session:
        session.add_all([User(name="spongebob"), User(name="sandy")])
    with maker.begin() as session:
        sandy = session.scalars(select(User).filter_by(name="sandy")).one()
        sandy.name = "sandy cheeks"
    with maker.begin() as session:
        session.delete(session.scalars(select(User).filter_by(name="spongebob")).one())
    seen["persistence_log"] = log
    for target, name, fn in ((maker, "before_flush", before_flush),
                             (maker, "after_flush", after_flush),
                             (maker, "after_flush_postexec", after_flush_postexec),
                             (User, "before_insert", before_insert),
                             (User, "after_insert", after_insert),
                             (User, "before_update", before_update),
                             (User, "after_delete", after_delete)):
        event.remove(target, name, fn)
    with Session(engine) as session:
        seen["audit"] = sorted(session.scalars(select(AuditLog.message)))
        seen["users_after"] = [(u.name, u.status) for u in session.scalars(select(User))]
        session.execute(AuditLog.__table__.delete())
        session.execute(User.__table__.delete())
        session.commit()


def lifecycle_events(engine, seen):
    log = []

    @event.listens_for(Base, "init", propagate=True)
    def intercept_init(instance, args, kwargs):
        log.append(("init", type(instance).__name__, sorted(kwargs), states(instance)))

    maker = sessionmaker(engine)
    names = ["transient_to_pending", "pending_to_persistent", "pending_to_transient",
             "loaded_as_persistent", "persistent_to_transient", "persistent_to_deleted",
             "deleted_to_detached", "persistent_to_detached", "detached_to_persistent",
             "deleted_to_persistent"]

    def make(name):
        def listener(session, obj):
            log.append((name, label(obj), states(obj)))
        return listener

    for name in names:
        event.listen(maker, name, make(name))

    everything_persistent = []

    @event.listens_for(maker, "pending_to_persistent")
    @event.listens_for(maker, "deleted_to_persistent")
    @event.listens_for(maker, "detached_to_persistent")
    @event.listens_for(maker, "loaded_as_persistent")
    def detect_all_persistent(session, instance):
        everything_persistent.append(label(instance))

    session = maker()
    spongebob = User(name="spongebob", addresses=[Address(email="sb@example.com")])
    session.add(spongebob)
    log.append("-- flush")
    session.flush()
    spongebob_id = spongebob.id
    log.append("-- pending expunged, then rolled back")
    squidward = User(name="squidward")
    session.add(squidward)
    session.expunge(squidward)
    krabs = User(name="krabs")
    session.add(krabs)
    session.commit()
    log.append("-- rollback of a flushed INSERT")
    patrick = User(name="patrick")
    session.add(patrick)
    session.flush()
    session.rollback()
    log.append("-- load")
    session.close()
    session = maker()
    loaded = session.scalars(select(User).order_by(User.id)).all()
    log.append("-- delete flushed, rolled back")
    session.delete(loaded[1])
    session.flush()
    seen["deleted_state"] = (states(loaded[1]), inspect(loaded[1]).was_deleted)
    session.rollback()
    log.append("-- delete committed")
    session.delete(loaded[1])
    session.commit()
    seen["detached_deleted"] = (states(loaded[1]), inspect(loaded[1]).deleted,
                                inspect(loaded[1]).was_deleted)
    log.append("-- expunge, close, add back")
    sb = session.get(User, spongebob_id)
    session.expunge(sb)
    session.add(sb)
    session.close()
    session = maker()
    session.add(sb)
    session.close()
    seen["lifecycle_log"] = phases(log)
    seen["everything_persistent"] = sorted(everything_persistent)
    event.remove(Base, "init", intercept_init)


def transaction_events(engine, seen):
    maker = sessionmaker(engine)
    log = []

    def kind(transaction):
        return "nested" if transaction.nested else ("root" if transaction.parent is None
                                                     else "sub")

    @event.listens_for(maker, "after_transaction_create")
    def create(session, transaction):
        if kind(transaction) != "sub":
            log.append(("create", kind(transaction)))

    @event.listens_for(maker, "after_transaction_end")
    def end(session, transaction):
        if kind(transaction) != "sub":
            log.append(("end", kind(transaction)))

    @event.listens_for(maker, "after_begin")
    def after_begin(session, transaction, connection):
        log.append(("begin", kind(transaction), connection.in_transaction()))

    for name in ("before_commit", "after_commit", "after_rollback"):
        event.listen(maker, name, lambda session, name=name: log.append((name,)))

    @event.listens_for(maker, "after_soft_rollback")
    def soft(session, previous_transaction):
        log.append(("soft_rollback", kind(previous_transaction), session.is_active))

    session = maker()
    log.append("-- autobegin and commit")
    session.add(User(name="mr. krabs"))
    session.commit()
    log.append("-- savepoint committed, savepoint rolled back")
    with session.begin():
        with session.begin_nested():
            session.add(User(name="pearl"))
        nested = session.begin_nested()
        session.add(User(name="plankton"))
        nested.rollback()
    log.append("-- rollback")
    session.execute(select(User))
    session.rollback()
    log.append("-- close")
    session.execute(select(User))
    session.close()
    seen["transaction_log"] = log
    with Session(engine) as session:
        seen["transaction_users"] = sorted(session.scalars(select(User.name)))


def instance_events(engine, seen):
    log = []

    @event.listens_for(User, "init")
    def on_init(target, args, kwargs):
        log.append(("init", kwargs.get("name")))

    @event.listens_for(User, "load")
    def on_load(target, context):
        log.append(("load", target.name, states(target)))

    @event.listens_for(User, "refresh")
    def on_refresh(target, context, attrs):
        log.append(("refresh", target.name, None if attrs is None else sorted(attrs)))

    @event.listens_for(User, "expire")
    def on_expire(target, attrs):
        log.append(("expire", None if attrs is None else sorted(attrs)))

    with Session(engine) as session:
        gary = User(name="gary")
        session.add(gary)
        session.commit()
        log.append("-- committed")
        seen["gary"] = session.scalars(select(User).filter_by(name="gary")).one() is gary
        session.expire(gary, ["status"])
        log.append("-- status")
        seen["gary_status"] = gary.status
        session.close()
    with Session(engine) as session:
        log.append("-- load")
        users = session.scalars(select(User).order_by(User.name)).all()
        log.append("-- again")
        session.scalars(select(User).order_by(User.name)).all()
        log.append("-- populate_existing")
        session.scalars(select(User).where(User.name == "gary")
                        .execution_options(populate_existing=True)).all()
        log.append("-- refresh")
        session.refresh(users[0])
        session.refresh(users[0], ["name"])
    seen["instance_log"] = log
    for name, fn in (("init", on_init), ("load", on_load), ("refresh", on_refresh),
                     ("expire", on_expire)):
        event.remove(User, name, fn)


def execute_events(engine, seen):
    maker = sessionmaker(engine)
    log = []

    @event.listens_for(maker, "do_orm_execute")
    def _do_orm_execute(orm_execute_state):
        log.append((orm_execute_state.is_select, orm_execute_state.is_update,
                    orm_execute_state.is_delete, orm_execute_state.is_column_load,
                    orm_execute_state.is_relationship_load))
        if orm_execute_state.is_select:
            # every SELECT overwrites what the session holds, and one of User is ordered
            orm_execute_state.update_execution_options(populate_existing=True)
            statement = orm_execute_state.statement
            if statement.column_descriptions[0]["entity"] is User:
                orm_execute_state.statement = statement.order_by(User.name)

    with maker.begin() as session:
        session.add_all([User(name="squidward"), User(name="krabs"), User(name="pearl")])
    with maker() as session:
        session.autoflush = False
        users = session.scalars(select(User)).all()
        seen["ordered_by_hook"] = [u.name for u in users]
        users[0].name = "changed in memory"
        session.scalars(select(User).where(User.id == users[0].id)).all()
        seen["populate_existing_by_hook"] = users[0].name
        session.execute(AuditLog.__table__.update().values(message="x"))
        seen["execute_log"] = log
    event.remove(maker, "do_orm_execute", _do_orm_execute)

    # re-executing statements: a cache of frozen results
    cache = {}
    ran = []

    @event.listens_for(maker, "do_orm_execute")
    def _cached(orm_execute_state):
        if "my_cache_key" in orm_execute_state.execution_options:
            cache_key = orm_execute_state.execution_options["my_cache_key"]
            if cache_key not in cache:
                ran.append(cache_key)
                cache[cache_key] = orm_execute_state.invoke_statement().freeze()
            return cache[cache_key]()

    with maker() as session:
        stmt = select(User).where(User.name == "pearl").execution_options(my_cache_key="pearl")
        first = session.execute(stmt).scalar_one()
        second = session.execute(stmt).scalar_one()
        seen["cached"] = (first.name, second is first, ran)
        seen["not_cached"] = len(session.scalars(select(User)).all())
    event.remove(maker, "do_orm_execute", _cached)
    with maker.begin() as session:
        session.execute(User.__table__.delete())


def run(engine):
    seen = {}
    execute_events(engine, seen)
    persistence_events(engine, seen)
    lifecycle_events(engine, seen)
    transaction_events(engine, seen)
    instance_events(engine, seen)
    return seen
'''


@pytest.mark.parametrize("future", [False, True], ids=["evaluated", "string_annotations"])
def test_session_events_page_runs_the_same_on_both(engine: Any, future: bool) -> None:
    seen = same_on_both(FUTURE[future] + PROGRAM, engine, name="session_events")
    assert seen["persistence_log"][0] == ("before_flush", ["AuditLog", "AuditLog",
                                                           "User('sandy')", "User('spongebob')"])
    assert ("before_update", "sandy cheeks", "changed") in seen["persistence_log"]
    assert "row for sandy" in seen["audit"] and "deleted spongebob" in seen["audit"]
    assert seen["users_after"] == [("sandy cheeks", "changed")]
    assert ("-- pending expunged, then rolled back", [
        ("init", "User", ["name"], ["transient"]), ("init", "User", ["name"], ["transient"]),
        ("pending_to_persistent", "User('krabs')", ["persistent"]),
        ("pending_to_transient", "User('squidward')", ["transient"]),
        ("transient_to_pending", "User('krabs')", ["pending"]),
        ("transient_to_pending", "User('squidward')", ["pending"])]) in seen["lifecycle_log"]
    assert seen["deleted_state"] == (["deleted"], True)
    assert seen["detached_deleted"] == (["detached"], False, True)
    assert seen["transaction_users"] == ["mr. krabs", "pearl", "spongebob"]
    assert ("after_commit",) in seen["transaction_log"][11:14]
    assert ("expire", None) in seen["instance_log"]
    assert ("load", "pearl", ["persistent"]) in seen["instance_log"]
