"""SQLAlchemy's "Session Basics" page (doc/build/orm/session_basics.rst) as a
program of our own text, run on ``sqlalchemy.orm`` and on session_ext with only
the import lines changed (see tests/doc_programs.py).

Sections covered, in page order: opening and closing a session; framing a
begin / commit / rollback block; using a sessionmaker (``sessionmaker.begin()``
and ``sessionmaker.configure()`` too); querying; adding new or existing items;
deleting (the relationship rules: SET NULL by default, ``delete`` cascade,
many-to-many rows, unloaded
collections, a deleted object left in its collection until expired); flushing
(autoflush, ``autoflush=False``, ``no_autoflush``, a failed flush needing
``rollback()``); get by primary key (composite keys as tuple and dict); expiring
/ refreshing (identity, ``expire``, ``refresh``, ``populate_existing``); UPDATE
and DELETE with an arbitrary WHERE clause; auto begin (``in_transaction``,
``get_transaction``, ``autobegin=False``); committing; rolling back; closing
(``reset()``, ``close_resets_only=False``); the FAQ's code (``object_session``,
the session lifecycle kept outside the functions, get versus a query).
Nothing of the page remains.
"""

from __future__ import annotations

from typing import Any

from doc_programs import same_on_both

PROGRAM = '''
from __future__ import annotations

from typing import List, Optional

from sqlalchemy import Column, ForeignKey, String, Table, delete, event, func, inspect
from sqlalchemy import select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.orm import sessionmaker


class Base(DeclarativeBase):
    pass


user_tags = Table(
    "sb_user_tag",
    Base.metadata,
    Column("user_id", ForeignKey("sb_user.id"), primary_key=True),
    Column("tag_id", ForeignKey("sb_tag.id"), primary_key=True),
)


class User(Base):
    __tablename__ = "sb_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    fullname: Mapped[Optional[str]]
    addresses: Mapped[List[Address]] = relationship(back_populates="user")
    notes: Mapped[List[Note]] = relationship(cascade="all, delete")
    tags: Mapped[List[Tag]] = relationship(secondary=user_tags)
    comments: Mapped[List[Comment]] = relationship(passive_deletes=True)

    def __repr__(self) -> str:
        return f"User(name={self.name!r}, fullname={self.fullname!r})"


class Address(Base):
    __tablename__ = "sb_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(50))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sb_user.id"))
    user: Mapped[Optional[User]] = relationship(back_populates="addresses")

    def __repr__(self) -> str:
        return f"Address(email={self.email!r})"


class Note(Base):
    __tablename__ = "sb_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(50))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sb_user.id"))


class Comment(Base):
    __tablename__ = "sb_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(50))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sb_user.id", ondelete="CASCADE"))


class Tag(Base):
    __tablename__ = "sb_tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(20))


class Account(Base):
    __tablename__ = "sb_account"

    bank: Mapped[str] = mapped_column(String(10), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    balance: Mapped[int] = mapped_column(default=0)


class FooBar(Base):
    __tablename__ = "sb_foobar"

    id: Mapped[int] = mapped_column(primary_key=True)
    x: Mapped[int] = mapped_column(default=0)


class Widget(Base):
    __tablename__ = "sb_widget"

    id: Mapped[int] = mapped_column(primary_key=True)
    q: Mapped[int] = mapped_column(default=0)


def state(obj):
    insp = inspect(obj)
    for name in ("transient", "pending", "persistent", "deleted", "detached"):
        if getattr(insp, name):
            return name
    return "?"


def loaded_keys(obj):
    return sorted(k for k in obj.__dict__ if not k.startswith("_"))


def raised(fn):
    try:
        fn()
    except Exception as err:
        return type(err).__name__
    return "ok"


def names(engine):
    with Session(engine) as session:
        return session.scalars(select(User.name).order_by(User.name)).all()


def opening_and_closing(engine, seen):
    spongebob = User(name="spongebob", fullname="Spongebob Squarepants")
    sandy = User(name="sandy", fullname="Sandy Cheeks")
    with Session(engine) as session:
        session.add(spongebob)
        session.add(sandy)
        session.commit()
        seen["open.expired_after_commit"] = loaded_keys(spongebob)
        seen["open.state_in_block"] = state(spongebob)
    seen["open.state_after_block"] = state(spongebob)
    seen["open.expired_detached_access"] = raised(lambda: spongebob.name)
    with Session(engine) as session:
        seen["open.select_only"] = session.scalars(select(User.name).order_by(User.id)).all()


def framing(engine, seen):
    with Session(engine) as session:
        session.begin()
        try:
            session.add(User(name="patrick", fullname="Patrick Star"))
            session.add(User(name="squidward", fullname="Squidward Tentacles"))
        except:  # noqa: E722 - the page's long form
            session.rollback()
            raise
        else:
            session.commit()
        seen["frame.long_form_ended"] = session.in_transaction()

    plankton = User(name="plankton", fullname="Sheldon Plankton")
    with Session(engine) as session:
        try:
            with session.begin():
                session.add(plankton)
                session.flush()
                seen["frame.flushed"] = state(plankton)
                raise ValueError("changed my mind")
        except ValueError:
            seen["frame.after_error"] = [state(plankton), session.in_transaction()]

    with Session(engine) as session:
        with session.begin():
            session.add(User(name="gary", fullname="Gary the Snail"))
        seen["frame.inner_committed"] = session.in_transaction()

    with Session(engine) as session, session.begin():
        session.add(User(name="larry", fullname="Larry the Lobster"))
    seen["frame.names"] = names(engine)


def using_a_sessionmaker(engine, seen):
    Session = sessionmaker(engine)

    with Session() as session:
        session.add(User(name="ed", fullname="Ed Jones"))
        session.add(User(name="wendy", fullname="Wendy Williams"))
        session.commit()
    seen["maker.made"] = type(session).__name__

    with Session.begin() as session:
        session.add(User(name="mary", fullname="Mary Contrary"))
        seen["maker.begin_in_tx"] = session.in_transaction()
    seen["maker.after_begin_block"] = [session.in_transaction(), len(list(session))]
    seen["maker.names"] = names(engine)

    Later = sessionmaker()  # the database is not known yet when the factory is made
    Later.configure(bind=engine)
    with Later() as session:
        seen["maker.configured"] = session.scalars(
            select(User.name).filter_by(name="mary")).all()

    try:
        with Session.begin() as session:
            session.add(User(name="fred", fullname="Fred Flintstone"))
            raise KeyError("nope")
    except KeyError:
        seen["maker.begin_rolled_back"] = "fred" not in names(engine)


def querying(engine, seen):
    with Session(engine) as session:
        statement = select(User).filter_by(name="ed")
        user_obj = session.scalars(statement).all()
        seen["query.users"] = [repr(u) for u in user_obj]
        seen["query.user_class"] = type(user_obj[0]).__name__

        statement = select(User.name, User.fullname).order_by(User.id)
        rows = session.execute(statement).all()
        seen["query.rows"] = [tuple(r) for r in rows]
        seen["query.row_fields"] = list(rows[0]._fields)
        seen["query.row_by_name"] = [rows[0].name, rows[0]._mapping["fullname"]]


def adding(engine, seen):
    with Session(engine) as session:
        user1 = User(name="user1")
        user2 = User(name="user2")
        session.add(user1)
        session.add(user2)
        seen["add.pending"] = [state(user1), state(user2), len(session.new)]
        session.commit()
        seen["add.persistent"] = [state(user1), state(user2), len(session.new)]

        item1 = Address(email="one@example.com")
        item2 = Address(email="two@example.com")
        item3 = Address(email="three@example.com")
        session.add_all([item1, item2, item3])
        seen["add.add_all"] = sorted(repr(o) for o in session.new)
        user1.addresses.append(item1)
        session.commit()

    seen["add.detached"] = state(user1)
    with Session(engine) as session:
        session.add(user1)
        seen["add.readded"] = [state(user1), user1.name, [repr(a) for a in user1.addresses]]

        # save-update cascade: add() takes the related objects along
        user3 = User(name="user3", addresses=[Address(email="cascaded@example.com")])
        session.add(user3)
        seen["add.cascaded"] = [state(user3.addresses[0]), user3.addresses[0] in session]
        session.commit()


def deleting(engine, seen):
    with Session(engine) as session:
        obj1 = session.scalars(select(User).filter_by(name="user2")).one()
        obj2 = session.scalars(select(User).filter_by(name="wendy")).one()
        session.delete(obj1)
        session.delete(obj2)
        seen["delete.marked"] = sorted(repr(o) for o in session.deleted)
        seen["delete.marked_state"] = [state(obj1), obj1 in session]
        session.flush()
        seen["delete.flushed"] = [state(obj1), obj1 in session, len(session.deleted)]
        session.commit()
        seen["delete.committed"] = [state(obj1), state(obj2)]
    seen["delete.names"] = names(engine)

    # related rows: SET NULL by default, DELETE with delete cascade, secondary rows always
    with Session(engine) as session:
        owner = User(
            name="owner",
            addresses=[Address(email="a@owner"), Address(email="b@owner")],
            notes=[Note(text="n1"), Note(text="n2")],
            tags=[Tag(label="t1"), Tag(label="t2")],
        )
        session.add(owner)
        session.commit()
        owner_id = owner.id

    with Session(engine) as session:
        owner = session.get(User, owner_id)
        session.delete(owner)  # none of its collections is loaded
        session.commit()
        seen["delete.addresses_after"] = session.execute(
            select(Address.email, Address.user_id)
            .where(Address.email.like("%@owner")).order_by(Address.email)
        ).all()
        seen["delete.notes_left"] = session.scalar(select(func.count()).select_from(Note))
        seen["delete.tags_left"] = session.scalars(select(Tag.label).order_by(Tag.label)).all()
        seen["delete.links_left"] = session.scalar(select(func.count()).select_from(user_tags))

    # passive_deletes=True: loaded rows still get their key set to NULL, the
    # database's ON DELETE CASCADE takes the rest
    with Session(engine) as session:
        session.add_all([
            User(name="loaded_comments", comments=[Comment(text="lc1"), Comment(text="lc2")]),
            User(name="unloaded_comments", comments=[Comment(text="uc1")]),
        ])
        session.commit()
    with Session(engine) as session:
        loaded = session.scalars(select(User).filter_by(name="loaded_comments")).one()
        comments = list(loaded.comments)
        unloaded = session.scalars(select(User).filter_by(name="unloaded_comments")).one()
        session.delete(loaded)
        session.delete(unloaded)
        session.commit()
        seen["delete.passive"] = [
            [state(c) for c in comments],
            session.execute(select(Comment.text, Comment.user_id).order_by(Comment.text)).all(),
        ]

    # a deleted object stays in the collection it belonged to until expired
    with Session(engine) as session:
        user = session.scalars(select(User).filter_by(name="patrick")).one()
        user.addresses = [Address(email="p1@bikini"), Address(email="p2@bikini")]
        session.commit()
        address = user.addresses[1]
        session.delete(address)
        session.flush()
        seen["delete.still_in_collection"] = address in user.addresses
        session.commit()
        seen["delete.gone_after_commit"] = address in user.addresses
        seen["delete.collection"] = [repr(a) for a in user.addresses]


def flushing(engine, seen):
    def count_named(session, name):
        return session.scalar(select(func.count()).select_from(User).where(User.name == name))

    with Session(engine) as session:
        session.add(User(name="autoflushed"))
        seen["flush.autoflush"] = count_named(session, "autoflushed")
        session.rollback()

    NoAutoflush = sessionmaker(engine, autoflush=False)
    with NoAutoflush() as session:
        session.add(User(name="later"))
        seen["flush.autoflush_off"] = count_named(session, "later")
        session.flush()
        seen["flush.explicit"] = count_named(session, "later")
        session.rollback()

    with Session(engine) as session:
        with session.no_autoflush:
            some_object = User(name="inside")
            session.add(some_object)
            seen["flush.no_autoflush"] = [count_named(session, "inside"), state(some_object)]
            session.flush()
            seen["flush.no_autoflush_flushed"] = [count_named(session, "inside"),
                                                  state(some_object)]
        session.rollback()

    with NoAutoflush() as session:
        session.add(User(name="committed_anyway"))
        session.commit()
    seen["flush.commit_flushes"] = "committed_anyway" in names(engine)

    with Session(engine) as session:
        session.add(User(name="nested_flush"))
        nested = session.begin_nested()
        seen["flush.begin_nested_flushed"] = count_named(session, "nested_flush")
        nested.rollback()
        session.rollback()

    with Session(engine) as session:
        bad = User(name=None)
        session.add(bad)
        seen["flush.failure"] = raised(session.flush)
        seen["flush.after_failure"] = [
            raised(lambda: session.scalars(select(User)).all()),
            session.is_active,
        ]
        session.rollback()
        seen["flush.after_rollback"] = [session.is_active, state(bad),
                                        count_named(session, "spongebob")]


def get_by_primary_key(engine, seen):
    with Session(engine) as session:
        session.add_all([Account(bank="north", number=1, balance=10),
                         Account(bank="north", number=2, balance=20),
                         Account(bank="south", number=1, balance=30)])
        session.commit()

    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(1)

    with Session(engine) as session:
        sandy_id = session.scalars(select(User.id).filter_by(name="sandy")).one()
        event.listen(engine, "before_cursor_execute", count)
        try:
            my_user = session.get(User, sandy_id)
            first = len(statements)
            again = session.get(User, sandy_id)
            seen["get.user"] = [repr(my_user), again is my_user, first, len(statements)]
        finally:
            event.remove(engine, "before_cursor_execute", count)
        seen["get.missing"] = session.get(User, 10_000)
        by_tuple = session.get(Account, ("north", 2))
        by_dict = session.get(Account, {"bank": "north", "number": 2})
        seen["get.composite"] = [by_tuple.balance, by_tuple is by_dict,
                                 session.get(Account, ("east", 1))]
        seen["get.identity"] = inspect(by_tuple).identity


def expiring_refreshing(engine, seen):
    with Session(engine) as session:
        sandy_id = session.scalars(select(User.id).filter_by(name="sandy")).one()
        u1 = session.scalars(select(User).where(User.id == sandy_id)).one()
        u2 = session.scalars(select(User).where(User.id == sandy_id)).one()
        seen["expire.same_object"] = u1 is u2

        def change_row(fullname):
            session.connection().execute(
                update(User.__table__).where(User.__table__.c.id == sandy_id)
                .values(fullname=fullname)
            )

        change_row("Sandy One")
        again = session.scalars(select(User).where(User.id == sandy_id)).one()
        seen["expire.not_repopulated"] = [again is u1, u1.fullname]

        session.expire(u1)
        seen["expire.expired"] = loaded_keys(u1)
        seen["expire.reloaded"] = u1.fullname

        change_row("Sandy Two")
        session.refresh(u1)
        seen["expire.refreshed"] = [u1.fullname, loaded_keys(u1)]

        change_row("Sandy Three")
        u2 = session.scalars(
            select(User).where(User.id == sandy_id).execution_options(populate_existing=True)
        ).one()
        seen["expire.populate_existing"] = [u2 is u1, u1.fullname]

        change_row("Sandy Four")
        session.expire(u1, ["fullname"])
        seen["expire.some"] = [loaded_keys(u1), u1.fullname]
        session.rollback()


def update_delete_where(engine, seen):
    with Session(engine) as session:
        sandy = session.scalars(select(User).filter_by(name="sandy")).one()
        squidward = session.scalars(select(User).filter_by(name="squidward")).one()
        result = session.execute(
            update(User).where(User.name == "sandy").values(fullname="Sandy C.")
        )
        seen["dml.updated"] = [result.rowcount, sandy.fullname]
        result = session.execute(delete(User).where(User.name == "squidward"))
        seen["dml.deleted"] = [result.rowcount, state(squidward), squidward in session]
        result = session.execute(
            update(User).where(User.name.in_(["gary", "larry"])).values(fullname=User.name + "!"),
            execution_options={"synchronize_session": "fetch"},
        )
        seen["dml.fetch"] = [result.rowcount, session.scalars(
            select(User.fullname).where(User.name.in_(["gary", "larry"])).order_by(User.name)
        ).all()]
        session.commit()
    seen["dml.names"] = names(engine)


def auto_begin(engine, seen):
    session = Session(engine)
    seen["begin.fresh"] = [session.in_transaction(), session.get_transaction() is None]
    session.add(User(name="auto"))
    seen["begin.after_add"] = [session.in_transaction(),
                               type(session.get_transaction()).__name__]
    session.rollback()
    seen["begin.after_rollback"] = session.in_transaction()
    session.execute(select(User.id))
    seen["begin.after_execute"] = session.in_transaction()
    session.close()

    with Session(engine, expire_on_commit=False) as session:
        user = session.scalars(select(User).filter_by(name="sandy")).one()
        session.commit()
        seen["begin.after_commit"] = session.in_transaction()
        user.fullname = "touched"
        seen["begin.after_modify"] = session.in_transaction()
        session.rollback()

    with Session(engine) as session:
        tx = session.begin()
        seen["begin.explicit"] = [session.in_transaction(), session.get_transaction() is tx]
        seen["begin.twice"] = raised(session.begin)
        session.commit()

    with Session(engine, autobegin=False) as session:
        early = User(name="too_early")
        seen["begin.refused"] = [
            raised(lambda: session.add(early)),
            raised(lambda: session.execute(select(User))),
            early in session,
        ]
        session.begin()
        session.add(User(name="u1"))
        session.commit()
        seen["begin.refused_after_commit"] = raised(
            lambda: session.scalar(select(User).filter_by(name="u1")))
        session.begin()
        u1 = session.scalar(select(User).filter_by(name="u1"))
        seen["begin.explicit_read"] = repr(u1)
        session.rollback()


def committing(engine, seen):
    commits = []
    with Session(engine) as session:
        event.listen(session, "after_commit", lambda s: commits.append(1))
        session.commit()
        seen["commit.nothing_begun"] = [len(commits), session.in_transaction()]
        user = session.scalars(select(User).filter_by(name="ed")).one()
        session.commit()
        seen["commit.expired"] = [loaded_keys(user), len(commits)]
        seen["commit.reloaded"] = user.fullname

    with Session(engine, expire_on_commit=False) as session:
        user = session.scalars(select(User).filter_by(name="ed")).one()
        user.fullname = "Edward Jones"
        session.commit()
        seen["commit.kept"] = [loaded_keys(user), user.fullname]
    seen["commit.detached_readable"] = [state(user), user.fullname]


def rolling_back(engine, seen):
    with Session(engine) as session:
        session.rollback()
        seen["rollback.nothing_begun"] = session.in_transaction()

        existing = session.scalars(select(User).filter_by(name="ed")).one()
        doomed = session.scalars(select(User).filter_by(name="mary")).one()
        fresh = User(name="fresh", fullname="Fresh Face")
        session.add(fresh)
        session.delete(doomed)
        existing.fullname = "Changed"
        session.flush()
        seen["rollback.before"] = [state(fresh), state(doomed), existing.fullname]

        session.rollback()
        seen["rollback.states"] = [state(fresh), state(doomed), state(existing)]
        seen["rollback.fresh_attributes"] = [fresh.name, fresh.fullname, fresh in session]
        seen["rollback.expired"] = [
            loaded_keys(existing),
            loaded_keys(doomed),
        ]
        seen["rollback.reloaded"] = [existing.fullname, doomed.name]

        brief = User(name="brief")
        session.add(brief)
        session.flush()
        session.delete(brief)
        session.flush()
        seen["rollback.pending_then_deleted"] = state(brief)
        session.rollback()
        seen["rollback.pending_wins"] = [state(brief), brief in session]

    with Session(engine, expire_on_commit=False) as session:
        kept = session.scalars(select(User).filter_by(name="ed")).one()
        session.rollback()
        seen["rollback.expires_anyway"] = loaded_keys(kept)


def closing(engine, seen):
    session = Session(engine)
    user = session.scalars(select(User).filter_by(name="ed")).one()
    session.close()
    seen["close.after"] = [state(user), list(session), session.in_transaction(),
                           user.fullname]
    seen["close.reused"] = session.scalars(
        select(User.name).filter_by(name="ed")).all()
    session.reset()
    seen["close.reset"] = [len(list(session)), session.in_transaction()]
    session.close()

    final = Session(engine, close_resets_only=False)
    final.scalars(select(User.id)).all()
    final.reset()
    seen["close.reset_reusable"] = final.scalars(select(User.name).filter_by(name="ed")).all()
    final.close()
    seen["close.closed_for_good"] = [
        raised(lambda: final.execute(select(User.id))),
        raised(final.begin),
        raised(final.close),
        raised(final.reset),
    ]

    with Session(engine) as session:
        result = session.execute(select(User).order_by(User.id))
        first = result.scalars().first()
    seen["close.context"] = [repr(first), state(first), session.in_transaction()]


def faq(engine, seen):
    with Session(engine) as session:
        someobject = session.scalars(select(User).filter_by(name="ed")).one()
        seen["faq.object_session"] = [
            Session.object_session(someobject) is session,
            inspect(someobject).session is session,
        ]
    seen["faq.object_session_detached"] = [Session.object_session(someobject),
                                           inspect(someobject).session]

    Session_ = sessionmaker(engine)
    with Session_.begin() as session:
        session.add_all([FooBar(x=1), FooBar(x=2), Widget(q=1)])

    class ThingOne:
        def go(self, session):
            session.execute(update(FooBar).values(x=5))

    class ThingTwo:
        def go(self, session):
            session.execute(update(Widget).values(q=18))

    def run_my_program():
        with Session_() as session:
            with session.begin():
                ThingOne().go(session)
                ThingTwo().go(session)

    run_my_program()
    with Session_() as session:
        seen["faq.things"] = [session.scalars(select(FooBar.x).order_by(FooBar.id)).all(),
                              session.scalars(select(Widget.q)).all()]

    with Session_() as session:
        session.scalars(select(User)).all()
        statements = []

        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            ed = session.scalars(select(User).filter_by(name="ed")).one()
            by_query = len(statements)
            by_get = session.get(User, ed.id)
            seen["faq.not_a_cache"] = [by_query, len(statements) - by_query, by_get is ed]
        finally:
            event.remove(engine, "before_cursor_execute", count)


def run(engine):
    seen = {}
    for section in (opening_and_closing, framing, using_a_sessionmaker, querying, adding,
                    deleting, flushing, get_by_primary_key, expiring_refreshing,
                    update_delete_where, auto_begin, committing, rolling_back, closing, faq):
        section(engine, seen)
    return seen
'''


def test_session_basics_runs_the_same_on_both(engine: Any) -> None:
    seen = same_on_both(PROGRAM, engine, name="session_basics")
    assert seen["open.state_after_block"] == "detached"
    assert seen["open.expired_detached_access"] == "DetachedInstanceError"
    assert seen["frame.after_error"] == ["transient", False]
    assert seen["query.rows"][0] == ("spongebob", "Spongebob Squarepants")
    assert seen["delete.flushed"] == ["deleted", False, 0]
    assert seen["delete.notes_left"] == 0 and seen["delete.links_left"] == 0
    assert seen["delete.still_in_collection"] is True
    assert seen["delete.gone_after_commit"] is False
    assert seen["flush.autoflush_off"] == 0 and seen["flush.explicit"] == 1
    assert seen["flush.after_failure"][0] == "PendingRollbackError"
    assert seen["get.user"][2:] == [1, 1]
    assert seen["expire.not_repopulated"] == [True, "Sandy Cheeks"]
    assert seen["expire.populate_existing"] == [True, "Sandy Three"]
    assert seen["begin.refused"][0] == "InvalidRequestError"
    assert seen["rollback.states"] == ["transient", "persistent", "persistent"]
    assert seen["close.after"][:3] == ["detached", [], False]
    assert seen["faq.not_a_cache"] == [1, 0, True]
