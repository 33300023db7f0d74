"""The unified tutorial's "Data Manipulation with the ORM" chapter
(doc/build/tutorial/orm_data_manipulation.rst), as a program of our own text run
on ``sqlalchemy.orm`` and on session_ext with only the import lines changed.

Sections covered, in page order: inserting with the unit of work (transient
objects, ``Session.add``, ``Session.new``, flush, generated primary keys, the
identity map through ``Session.get``, commit), updating (``filter_by`` +
``scalar_one``, ``Session.dirty``, autoflush before a SELECT), deleting
(``Session.delete``, the flush a query triggers, containment), rolling back
(expired ``__dict__``, refresh on access, the deleted object restored) and
closing (detached objects, re-adding one). The bulk section only points to the
query guide (no example of its own).
"""

from __future__ import annotations

from typing import Any

import pytest
from doc_programs import same_on_both

# the program as written, and under ``from __future__ import annotations``
FUTURE = {False: "", True: "from __future__ import annotations\n"}

PROGRAM = '''
from typing import List, Optional

from sqlalchemy import ForeignKey, String, bindparam, insert, inspect, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "tdm_user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    fullname: Mapped[Optional[str]]
    addresses: Mapped[List["Address"]] = relationship(back_populates="user")

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, name={self.name!r}, fullname={self.fullname!r})"


class Address(Base):
    __tablename__ = "tdm_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_address: Mapped[str]
    user_id = mapped_column(ForeignKey("tdm_user_account.id"))
    user: Mapped[User] = relationship(back_populates="addresses")

    def __repr__(self) -> str:
        return f"Address(id={self.id!r}, email_address={self.email_address!r})"


def seed(engine):
    """The rows the tutorial's Core chapters inserted before this one."""
    users, addresses = User.__table__, Address.__table__
    owner = select(users.c.id).where(users.c.name == bindparam("username")).scalar_subquery()
    with engine.begin() as conn:
        conn.execute(insert(users).values(name="spongebob", fullname="Spongebob Squarepants"))
        conn.execute(insert(users), [{"name": "sandy", "fullname": "Sandy Cheeks"},
                                     {"name": "patrick", "fullname": "Patrick Star"}])
        conn.execute(insert(addresses).values(user_id=owner), [
            {"username": "spongebob", "email_address": "spongebob@sqlalchemy.org"},
            {"username": "sandy", "email_address": "sandy@sqlalchemy.org"},
            {"username": "sandy", "email_address": "sandy@squirrelpower.org"},
        ])


def states(obj):
    i = inspect(obj)
    return [n for n in ("transient", "pending", "persistent", "deleted", "detached")
            if getattr(i, n)]


def loaded(obj):
    return sorted(k for k in vars(obj) if not k.startswith("_"))


def run(engine):
    seed(engine)
    seen = {}
    # Inserting rows with the unit of work
    squidward = User(name="squidward", fullname="Squidward Tentacles")
    krabs = User(name="ehkrabs", fullname="Eugene H. Krabs")
    seen["transient"] = (repr(squidward), states(squidward))
    session = Session(engine)
    session.add(squidward)
    session.add(krabs)
    seen["new"] = sorted(repr(o) for o in session.new)
    seen["pending"] = states(krabs)
    session.flush()
    seen["new_after_flush"] = len(session.new)
    seen["ids"] = (squidward.id, krabs.id)
    seen["persistent"] = states(squidward)
    some_squidward = session.get(User, 4)
    seen["get"] = repr(some_squidward)
    seen["get_is_same"] = some_squidward is squidward
    session.commit()
    seen["after_commit"] = (states(squidward), loaded(squidward))

    # Updating
    sandy = session.execute(select(User).filter_by(name="sandy")).scalar_one()
    seen["sandy"] = repr(sandy)
    sandy.fullname = "Sandy Squirrel"
    seen["sandy_dirty"] = sandy in session.dirty
    sandy_fullname = session.execute(select(User.fullname).where(User.id == 2)).scalar_one()
    seen["autoflushed_fullname"] = sandy_fullname
    seen["sandy_dirty_after_select"] = sandy in session.dirty

    # Deleting
    patrick = session.get(User, 3)
    seen["patrick"] = repr(patrick)
    session.delete(patrick)
    seen["patrick_marked"] = (states(patrick), patrick in session.deleted)
    seen["patrick_query"] = session.execute(select(User).where(User.name == "patrick")).first()
    seen["patrick_after_flush"] = (patrick in session, states(patrick))

    # Rolling back
    session.rollback()
    seen["sandy_expired"] = loaded(sandy)
    seen["sandy_fullname"] = sandy.fullname
    seen["sandy_refreshed"] = loaded(sandy)
    seen["patrick_restored"] = (patrick in session, states(patrick))
    seen["patrick_same"] = (
        session.execute(select(User).where(User.name == "patrick")).scalar_one() is patrick)
    seen["squidward_rolled_back"] = (states(squidward), loaded(squidward))

    # Closing
    session.close()
    seen["closed"] = (states(squidward), len(list(session)))
    try:
        squidward.name
    except Exception as exc:
        seen["detached_access"] = type(exc).__name__
    session.add(squidward)
    seen["readded"] = (states(squidward), squidward.name)
    session.close()
    with Session(engine) as session:
        seen["rows"] = [repr(u) for u in session.scalars(select(User).order_by(User.id))]
    return seen
'''


@pytest.mark.parametrize("future", [False, True], ids=["evaluated", "string_annotations"])
def test_orm_data_manipulation_runs_the_same_on_both(engine: Any, future: bool) -> None:
    seen = same_on_both(FUTURE[future] + PROGRAM, engine, name="tutorial_orm_data_manipulation")
    assert seen["ids"] == (4, 5)
    assert seen["get_is_same"] is True
    assert seen["autoflushed_fullname"] == "Sandy Squirrel"
    assert seen["patrick_query"] is None
    assert seen["patrick_after_flush"] == (False, ["deleted"])
    assert seen["sandy_expired"] == []
    assert seen["sandy_fullname"] == "Sandy Cheeks"
    assert seen["patrick_restored"] == (True, ["persistent"])
    assert seen["detached_access"] == "DetachedInstanceError"
    assert seen["readded"] == (["persistent"], "squidward")
    assert len(seen["rows"]) == 5
