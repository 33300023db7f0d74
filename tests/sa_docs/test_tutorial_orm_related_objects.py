"""The unified tutorial's "Working with ORM Related Objects" chapter
(doc/build/tutorial/orm_related_objects.rst), as a program of our own text run
on ``sqlalchemy.orm`` and on session_ext with only the import lines changed.

Sections covered, in page order: persisting and loading relationships (the
empty collection, ``append``, ``back_populates`` in both directions, the
keyword constructor), cascading objects into the session (``add`` reaches the
related objects, keys are None before the flush, commit), loading relationships
(refresh after commit, the lazy load, identity of the loaded objects), using
relationships to join (``join(User.addresses)``, ``join_from(User, Address)``),
loader strategies (``lazy="selectin"`` on the relationship, ``selectinload``,
``joinedload(innerjoin=True)``, explicit join + ``contains_eager``, join +
``joinedload``) and raiseload (a mapping with ``lazy="raise_on_sql"`` on both
sides, loaded up front with ``selectinload``, and a many-to-one found in the
identity map). Statements are counted with a Core cursor event, so the eager
loaders are seen emitting no lazy loads.
"""

from __future__ import annotations

from typing import Any

import pytest
from doc_programs import same_on_both

# the program as written, and under ``from __future__ import annotations``
FUTURE = {False: "", True: "from __future__ import annotations\n"}

PROGRAM = '''
from typing import List, Optional

from sqlalchemy import ForeignKey, String, bindparam, event, insert, inspect, select
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    contains_eager,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "trel_user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    fullname: Mapped[Optional[str]]
    addresses: Mapped[List["Address"]] = relationship(back_populates="user")

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, name={self.name!r}, fullname={self.fullname!r})"


class Address(Base):
    __tablename__ = "trel_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_address: Mapped[str]
    user_id = mapped_column(ForeignKey("trel_user_account.id"))
    user: Mapped[User] = relationship(back_populates="addresses")

    def __repr__(self) -> str:
        return f"Address(id={self.id!r}, email_address={self.email_address!r})"


def seed(engine):
    """The rows the tutorial's earlier chapters left in the tables."""
    users, addresses = User.__table__, Address.__table__
    owner = select(users.c.id).where(users.c.name == bindparam("username")).scalar_subquery()
    with engine.begin() as conn:
        conn.execute(insert(users), [
            {"name": "spongebob", "fullname": "Spongebob Squarepants"},
            {"name": "sandy", "fullname": "Sandy Cheeks"},
            {"name": "patrick", "fullname": "Patrick Star"},
            {"name": "squidward", "fullname": "Squidward Tentacles"},
            {"name": "ehkrabs", "fullname": "Eugene H. Krabs"},
        ])
        conn.execute(insert(addresses).values(user_id=owner), [
            {"username": "spongebob", "email_address": "spongebob@sqlalchemy.org"},
            {"username": "sandy", "email_address": "sandy@sqlalchemy.org"},
            {"username": "sandy", "email_address": "sandy@squirrelpower.org"},
        ])


class Counter:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self.seen)

    def seen(self, *args):
        self.count += 1

    def take(self):
        n, self.count = self.count, 0
        return n


def raiseload_part(engine, seen):
    class RaiseBase(DeclarativeBase):
        pass

    class User(RaiseBase):
        __tablename__ = "trel_user_account"
        id: Mapped[int] = mapped_column(primary_key=True)
        addresses: Mapped[List["Address"]] = relationship(
            back_populates="user", lazy="raise_on_sql"
        )

    class Address(RaiseBase):
        __tablename__ = "trel_address"
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(ForeignKey("trel_user_account.id"))
        user: Mapped["User"] = relationship(back_populates="addresses", lazy="raise_on_sql")

    with Session(engine) as session:
        u1 = session.execute(select(User).order_by(User.id)).scalars().first()
        try:
            u1.addresses
        except Exception as exc:
            seen["raise_on_sql"] = type(exc).__name__
        again = (
            session.execute(select(User).options(selectinload(User.addresses)).order_by(User.id))
            .scalars()
            .first()
        )
        seen["selectin_after_raise"] = (again is u1, [a.id for a in u1.addresses])
        local = session.get(Address, 1)
        seen["many_to_one_in_session"] = local.user is u1
        far = session.get(Address, 4)
        try:
            far.user
        except Exception as exc:
            seen["many_to_one_not_in_session"] = type(exc).__name__


def default_selectin_part(engine, seen, counter):
    class SelectinBase(DeclarativeBase):
        pass

    class User(SelectinBase):
        __tablename__ = "trel_user_account"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(30))
        addresses: Mapped[List["Address"]] = relationship(
            back_populates="user", lazy="selectin"
        )

    class Address(SelectinBase):
        __tablename__ = "trel_address"
        id: Mapped[int] = mapped_column(primary_key=True)
        email_address: Mapped[str]
        user_id = mapped_column(ForeignKey("trel_user_account.id"))
        user: Mapped["User"] = relationship(back_populates="addresses")

    with Session(engine) as session:
        counter.take()
        for user_obj in session.execute(select(User).order_by(User.id)).scalars():
            user_obj.addresses  # access addresses collection already loaded
        seen["lazy_selectin"] = (
            counter.take(),
            [(u.name, len(u.addresses)) for u in session.scalars(select(User).order_by(User.id))],
        )


def run(engine):
    seed(engine)
    seen = {}
    counter = Counter(engine)
    session = Session(engine)

    # Persisting and loading relationships
    u1 = User(name="pkrabs", fullname="Pearl Krabs")
    seen["empty"] = repr(u1.addresses)
    a1 = Address(email_address="pearl.krabs@gmail.com")
    u1.addresses.append(a1)
    seen["appended"] = repr(u1.addresses)
    seen["backref"] = repr(a1.user)
    a2 = Address(email_address="pearl@aol.com", user=u1)
    seen["via_constructor"] = repr(u1.addresses)
    a2.user = u1
    seen["assigned_again"] = repr(u1.addresses)

    # Cascading objects into the session
    session.add(u1)
    seen["cascaded"] = (u1 in session, a1 in session, a2 in session)
    seen["keys_before_flush"] = (u1.id, a1.user_id)
    counter.take()
    session.commit()
    seen["commit_statements"] = counter.take() > 0

    # Loading relationships
    seen["u1_id"] = u1.id
    seen["u1_id_statements"] = counter.take()
    seen["lazy_loaded"] = repr(u1.addresses)
    seen["lazy_statements"] = counter.take()
    seen["again"] = (repr(u1.addresses), counter.take())
    seen["same_objects"] = (u1.addresses[0] is a1, u1.addresses[1] is a2)
    seen["a1_a2"] = (repr(a1), repr(a2), a1.user_id)

    # Using relationships to join
    seen["join_relationship"] = session.execute(
        select(Address.email_address).select_from(User).join(User.addresses)
        .order_by(Address.id)).all()
    seen["join_from"] = session.execute(
        select(Address.email_address).join_from(User, Address).order_by(Address.id)).all()
    seen["join_from_relationship"] = session.execute(
        select(Address.email_address).join_from(User, Address, User.addresses)
        .where(User.name == "sandy").order_by(Address.id)).all()
    counter.take()

    # Selectin load
    stmt = select(User).options(selectinload(User.addresses)).order_by(User.id)
    seen["selectinload"] = [
        f"{row.User.name}  ({', '.join(a.email_address for a in row.User.addresses)})"
        for row in session.execute(stmt)
    ]
    seen["selectinload_statements"] = counter.take()

    # Joined load
    session.expire_all()
    stmt = (
        select(Address)
        .options(joinedload(Address.user, innerjoin=True))
        .order_by(Address.id)
    )
    seen["joinedload"] = [f"{row.Address.email_address} {row.Address.user.name}"
                          for row in session.execute(stmt)]
    seen["joinedload_statements"] = counter.take()

    # Explicit join + eager load
    session.expire_all()
    stmt = (
        select(Address)
        .join(Address.user)
        .where(User.name == "pkrabs")
        .options(contains_eager(Address.user))
        .order_by(Address.id)
    )
    seen["contains_eager"] = [f"{row.Address.email_address} {row.Address.user.name}"
                              for row in session.execute(stmt)]
    seen["contains_eager_statements"] = counter.take()
    session.expire_all()
    stmt = (
        select(Address)
        .join(Address.user)
        .where(User.name == "pkrabs")
        .options(joinedload(Address.user))
        .order_by(Address.id)
    )
    seen["join_and_joinedload"] = [f"{a.email_address} {a.user.name}"
                                   for a in session.scalars(stmt)]
    seen["join_and_joinedload_statements"] = counter.take()
    session.close()

    # Loader strategies as the relationship's default
    default_selectin_part(engine, seen, counter)

    # Raiseload
    raiseload_part(engine, seen)
    event.remove(engine, "before_cursor_execute", counter.seen)
    return seen
'''


@pytest.mark.parametrize("future", [False, True], ids=["evaluated", "string_annotations"])
def test_orm_related_objects_runs_the_same_on_both(engine: Any, future: bool) -> None:
    seen = same_on_both(FUTURE[future] + PROGRAM, engine, name="tutorial_orm_related_objects")
    assert seen["via_constructor"] == (
        "[Address(id=None, email_address='pearl.krabs@gmail.com'), "
        "Address(id=None, email_address='pearl@aol.com')]")
    assert seen["cascaded"] == (True, True, True)
    assert seen["u1_id"] == 6
    assert seen["lazy_loaded"] == (
        "[Address(id=4, email_address='pearl.krabs@gmail.com'), "
        "Address(id=5, email_address='pearl@aol.com')]")
    assert seen["same_objects"] == (True, True)
    assert seen["selectinload"][1] == "sandy  (sandy@sqlalchemy.org, sandy@squirrelpower.org)"
    assert seen["selectinload_statements"] == 2
    assert seen["joinedload_statements"] == 1
    assert seen["contains_eager"] == ["pearl.krabs@gmail.com pkrabs", "pearl@aol.com pkrabs"]
    assert seen["lazy_selectin"][0] == 2
    assert seen["raise_on_sql"] == "InvalidRequestError"
    assert seen["selectin_after_raise"] == (True, [1])
    assert seen["many_to_one_in_session"] is True
