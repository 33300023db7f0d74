"""SQLAlchemy's "State Management" page
(doc/build/orm/session_state_management.rst) as a program of our own text, run
on ``sqlalchemy.orm`` and on session_ext with only the import lines changed
(see tests/doc_programs.py).

Sections covered, in page order: object states (``inspect()``'s flags through
transient, pending, persistent, deleted, detached); session attributes
(iteration, ``in``, ``new``, ``dirty``, ``deleted``, ``identity_map``); session
referencing behaviour (weak references, what stays strongly referenced, the
strong-reference recipe on lifecycle events, for a session and for a
sessionmaker); merging (``load=True`` / ``load=False``, a new instance for an
unknown key, the source left alone); merge tips (the page's three cases, as
SQLAlchemy 2.x behaves: no backref cascade); expunging; refreshing / expiring
(``__dict__`` before and after, un-flushed changes discarded, expiring named
attributes, ``expire_all``, ``refresh`` with and without names, names of
relationships only refused, ``populate_existing``); what actually loads
(relationships not loaded with expired columns, eager relationships loaded by
``refresh``); when to expire (commit and rollback expire everything).
what actually loads for joined-table inheritance (expiring and refreshing
attributes of one table or both; the values, not the SQL). Not covered: the
deferred-column bullet of "What Actually Loads" (deferred columns and their
loading are tested with the column loading page,
tests/sa_docs/test_queryguide_columns.py, and tests/test_column_loading.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from doc_programs import same_on_both

PROGRAM = '''
from __future__ import annotations

import gc

from sqlalchemy import ForeignKey, Integer, String, event, inspect, select, update
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, relationship
from sqlalchemy.orm import sessionmaker


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "sm_user"

    id = mapped_column(Integer, primary_key=True)
    name = mapped_column(String(50), nullable=False)
    addresses = relationship("Address", backref="user")
    badges = relationship("Badge", lazy="selectin", order_by="Badge.id")

    def __repr__(self):
        return f"User({self.name!r})"


class Address(Base):
    __tablename__ = "sm_address"

    id = mapped_column(Integer, primary_key=True)
    email_address = mapped_column(String(50), nullable=False)
    user_id = mapped_column(Integer, ForeignKey("sm_user.id"), nullable=False)

    def __repr__(self):
        return f"Address({self.email_address!r})"


class Badge(Base):
    __tablename__ = "sm_badge"

    id = mapped_column(Integer, primary_key=True)
    label = mapped_column(String(20), nullable=False)
    user_id = mapped_column(Integer, ForeignKey("sm_user.id"))


class Employee(Base):
    __tablename__ = "sm_employee"

    id = mapped_column(Integer, primary_key=True)
    name = mapped_column(String(50), nullable=False)
    type = mapped_column(String(20), nullable=False)
    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "employee"}


class Engineer(Employee):
    __tablename__ = "sm_engineer"

    id = mapped_column(Integer, ForeignKey("sm_employee.id"), primary_key=True)
    language = mapped_column(String(20))
    __mapper_args__ = {"polymorphic_identity": "engineer"}


FLAGS = ("transient", "pending", "persistent", "deleted", "detached")


def flags(obj):
    insp = inspect(obj)
    return [name for name in FLAGS if getattr(insp, name)]


def raised(fn):
    try:
        fn()
    except Exception as err:
        return type(err).__name__
    return "ok"


def loaded_keys(obj):
    return sorted(k for k in obj.__dict__ if not k.startswith("_"))


def object_states(engine, seen):
    my_object = User(name="states")
    seen["states.new"] = flags(my_object)
    with Session(engine) as session:
        session.add(my_object)
        seen["states.added"] = flags(my_object)
        session.flush()
        seen["states.flushed"] = flags(my_object)
        session.commit()
        insp = inspect(my_object)
        seen["states.committed"] = [flags(my_object), insp.persistent]
        session.delete(my_object)
        seen["states.marked"] = flags(my_object)
        session.flush()
        seen["states.deleted"] = flags(my_object)
        session.rollback()
        seen["states.rolled_back"] = flags(my_object)
        session.delete(my_object)
        session.commit()
        seen["states.delete_committed"] = flags(my_object)
    loaded = None
    with Session(engine) as session:
        session.add(User(name="kept"))
        session.commit()
        loaded = session.scalars(select(User).filter_by(name="kept")).one()
    seen["states.closed"] = flags(loaded)


def session_attributes(engine, seen):
    with Session(engine) as session:
        session.add_all([User(name="a1"), User(name="a2"), User(name="a3")])
        session.commit()
        a1, a2, a3 = session.scalars(select(User).where(User.name.like("a%"))
                                     .order_by(User.name)).all()
        pending = User(name="pending")
        session.add(pending)
        a1.name = "a1 changed"
        session.delete(a3)
        seen["attrs.iter"] = sorted(repr(obj) for obj in session)
        seen["attrs.contains"] = [a1 in session, pending in session, User(name="x") in session]
        seen["attrs.new"] = [repr(o) for o in session.new]
        seen["attrs.dirty"] = [repr(o) for o in session.dirty]
        seen["attrs.deleted"] = [repr(o) for o in session.deleted]
        keys = sorted((k[0].__name__, k[1]) for k in session.identity_map.keys())
        seen["attrs.identity_map"] = [
            len(keys), keys == sorted((k[0].__name__, k[1]) for k in
                                      (inspect(o).identity_key for o in (a1, a2, a3))),
            session.identity_map[inspect(a2).identity_key] is a2,
            inspect(a2).identity_key in session.identity_map,
        ]
        session.rollback()


def referencing(engine, seen):
    with Session(engine) as session:
        users = session.scalars(select(User).order_by(User.id)).all()
        total = len(session.identity_map)
        modified = users[0]
        modified.name = "modified"
        kept_pending = User(name="unreferenced pending")
        session.add(kept_pending)
        del kept_pending
        del users
        gc.collect()
        seen["refs.after_gc"] = [total, len(session.identity_map), len(session.new),
                                 [repr(o) for o in session.dirty]]
        del modified
        gc.collect()
        seen["refs.still_dirty"] = len(session.dirty)
        session.rollback()

    def strong_reference_session(session):
        @event.listens_for(session, "pending_to_persistent")
        @event.listens_for(session, "deleted_to_persistent")
        @event.listens_for(session, "detached_to_persistent")
        @event.listens_for(session, "loaded_as_persistent")
        def strong_ref_object(sess, instance):
            if "refs" not in sess.info:
                sess.info["refs"] = refs = set()
            else:
                refs = sess.info["refs"]

            refs.add(instance)

        @event.listens_for(session, "persistent_to_detached")
        @event.listens_for(session, "persistent_to_deleted")
        @event.listens_for(session, "persistent_to_transient")
        def deref_object(sess, instance):
            sess.info["refs"].discard(instance)

    my_session = Session(engine)
    strong_reference_session(my_session)
    my_session.scalars(select(User).order_by(User.id)).all()
    gc.collect()
    seen["refs.strong_session"] = [len(my_session.identity_map),
                                   sorted(repr(o) for o in my_session.info["refs"])]
    some = my_session.scalars(select(User).filter_by(name="a2")).one()
    my_session.expunge(some)
    seen["refs.strong_expunged"] = len(my_session.info["refs"])
    my_session.close()
    seen["refs.strong_closed"] = len(my_session.info["refs"])

    maker = sessionmaker(engine)
    strong_reference_session(maker)
    with maker() as session:
        session.add(User(name="via maker"))
        session.flush()
        seen["refs.strong_maker"] = sorted(repr(o) for o in session.info["refs"])
        session.rollback()


def merging(engine, seen):
    with Session(engine) as session:
        session.add(User(id=100, name="original"))
        session.commit()

    existing_object = User(id=100, name="from outside")
    with Session(engine) as session:
        merged_object = session.merge(existing_object)
        seen["merge.load"] = [merged_object is existing_object, flags(existing_object),
                              flags(merged_object), merged_object.name,
                              [repr(o) for o in session.dirty],
                              list(inspect(merged_object).attrs.name.history.deleted)]
        session.commit()

    with Session(engine) as loader:
        cached = loader.get(User, 100)  # detached once the session closes, as in a cache
    with Session(engine) as one, Session(engine) as two:
        copy1 = one.merge(cached, load=False)
        copy2 = two.merge(cached, load=False)
        seen["merge.no_load"] = [copy1 is copy2, flags(copy1), flags(cached),
                                 [repr(o) for o in one.dirty], copy1.name,
                                 inspect(copy1).attrs.name.history.has_changes()]

    with Session(engine) as session:
        fresh = session.merge(User(name="no key"))
        unknown = session.merge(User(id=500, name="unknown key"))
        seen["merge.new"] = [flags(fresh), flags(unknown)]
        session.commit()
        seen["merge.saved"] = sorted(session.scalars(
            select(User.name).where(User.name.in_(["no key", "unknown key"]))).all())

    partial = User(id=500)
    with Session(engine) as session:
        merged = session.merge(partial)
        seen["merge.missing_attribute"] = [merged.name, partial.__dict__.get("name")]


def merge_tips(engine, seen):
    with Session(engine) as session:
        u1 = User(name="ed", addresses=[Address(email_address="ed@ed.com")])
        session.add(u1)
        session.commit()

        existing_a1 = u1.addresses[0]
        a1 = Address(id=existing_a1.id)
        a1.user = u1
        seen["tips.assigned"] = [a1 in session, existing_a1 in session, a1 is existing_a1]
        a1 = session.merge(a1)
        seen["tips.merged"] = [a1 is existing_a1, a1.user is u1]
        seen["tips.commit"] = raised(session.commit)
        session.rollback()

        a1 = Address()
        a1.user = u1
        seen["tips.backref_no_cascade"] = [a1 in session, a1 in u1.addresses]
        session.expire(u1)

        a1 = Address(id=existing_a1.id, user_id=u1.id)
        a1.user = None
        a1 = session.merge(a1)
        seen["tips.none_wins"] = raised(session.commit)
        session.rollback()

        a1 = Address(id=existing_a1.id, user_id=u1.id)
        seen["tips.not_in_session"] = a1 not in session
        seen["tips.user_access"] = repr(a1.user)
        seen["tips.dict"] = loaded_keys(a1)
        seen["tips.del"] = raised(lambda: delattr(a1, "user"))
        a1 = session.merge(a1)
        seen["tips.success"] = raised(session.commit)
        seen["tips.final"] = [a1.user_id == u1.id, repr(a1)]


def expunging(engine, seen):
    with Session(engine) as session:
        obj1 = session.scalars(select(User).filter_by(name="ed")).one()
        obj2 = User(name="pending expunged")
        session.add(obj2)
        session.expunge(obj1)
        session.expunge(obj2)
        seen["expunge.one"] = [flags(obj1), flags(obj2), list(session)]
        others = session.scalars(select(User).order_by(User.id)).all()
        session.expunge_all()
        seen["expunge.all"] = [len(others), list(session),
                               sorted({tuple(flags(o)) for o in others})]


def refreshing(engine, seen):
    with Session(engine) as session:
        session.add(User(name="user1", badges=[]))
        session.commit()

    with Session(engine) as session:
        user = session.scalars(select(User).filter_by(name="user1").limit(1)).first()
        seen["expire.dict_loaded"] = loaded_keys(user)
        session.expire(user)
        seen["expire.dict_expired"] = loaded_keys(user)
        seen["expire.access"] = user.name
        seen["expire.dict_reloaded"] = loaded_keys(user)

        user.name = "user2"
        session.expire(user)
        seen["expire.discarded"] = user.name

        session.expire(user, ["name", "addresses"])
        seen["expire.named"] = [loaded_keys(user), loaded_keys(user)]
        user.name
        seen["expire.relationship_not_loaded_with_columns"] = "addresses" in inspect(
            user).unloaded
        user.addresses
        seen["expire.relationship_loads_alone"] = loaded_keys(user)

        session.expire_all()
        seen["expire.all"] = [loaded_keys(o) for o in session]

        session.connection().execute(
            update(User.__table__).where(User.__table__.c.id == user.id).values(name="renamed")
        )
        session.refresh(user)
        seen["refresh.all"] = [user.name, loaded_keys(user)]

        session.connection().execute(
            update(User.__table__).where(User.__table__.c.id == user.id).values(name="again")
        )
        session.refresh(user, ["name"])
        seen["refresh.named"] = user.name
        seen["refresh.relationship_only"] = raised(lambda: session.refresh(user, ["addresses"]))
        session.refresh(user, ["badges"])
        seen["refresh.eager_named"] = "badges" in loaded_keys(user)

        session.connection().execute(
            update(User.__table__).where(User.__table__.c.name.in_(["a1", "a2", "again"]))
            .values(name=User.__table__.c.name + "!")
        )
        stmt = (
            select(User)
            .execution_options(populate_existing=True)
            .where(User.name.in_(["a1!", "a2!", "again!"]))
            .order_by(User.id)
        )
        seen["refresh.populate_existing"] = [repr(u) for u in session.execute(stmt).scalars()]
        seen["refresh.same_object"] = user.name
        session.commit()

    with Session(engine) as session:
        session.add(Engineer(name="dilbert", language="c"))
        session.commit()
        engineer = session.scalars(select(Employee).filter_by(name="dilbert")).one()
        session.expire(engineer, ["language"])
        seen["loads.subclass_table_only"] = [loaded_keys(engineer), engineer.language]
        session.expire(engineer, ["name"])
        seen["loads.base_table_only"] = [loaded_keys(engineer), engineer.name]
        session.connection().execute(
            update(Engineer.__table__).values(language="rust"))
        session.refresh(engineer)
        seen["loads.refresh_joined"] = [type(engineer).__name__, engineer.language,
                                        loaded_keys(engineer)]

    with Session(engine) as session:
        user = session.scalars(select(User).filter_by(name="again!")).one()
        session.commit()
        seen["when.commit"] = loaded_keys(user)
        user.name
        session.rollback()
        seen["when.rollback"] = loaded_keys(user)


def run(engine):
    seen = {}
    for section in (object_states, session_attributes, referencing, merging, merge_tips,
                    expunging, refreshing):
        section(engine, seen)
    return seen
'''


@pytest.mark.filterwarnings("ignore:Object .*not in (the )?session")  # the merge tips, on both
def test_session_state_management_runs_the_same_on_both(engine: Any) -> None:
    seen = same_on_both(PROGRAM, engine, name="session_state_management")
    assert seen["states.new"] == ["transient"]
    assert seen["states.deleted"] == ["deleted"]
    assert seen["states.rolled_back"] == ["persistent"]
    assert seen["states.delete_committed"] == ["detached"]
    assert seen["attrs.contains"] == [True, True, False]
    assert seen["attrs.identity_map"][2:] == [True, True]
    assert seen["merge.load"][3] == "from outside"
    assert seen["merge.new"] == [["persistent"], ["pending"]]  # the get() autoflushed
    assert seen["tips.none_wins"] == "IntegrityError"
    assert seen["expire.dict_expired"] == []
    assert seen["expire.discarded"] == "user1"
    assert seen["refresh.all"][0] == "renamed"
