"""The unified tutorial's "Using UPDATE and DELETE Statements" chapter
(doc/build/tutorial/data_update.rst), what applies to ORM entities, as a program
of our own text run on ``sqlalchemy.orm`` and on session_ext with only the
import lines changed.

Each statement of the page is written against the mapped classes
(``update(User)``, ``delete(User)``) and run through ``Session.execute``, with
objects of the session loaded beforehand so that their synchronization is
observed too. Sections covered, in page order: ``update()`` with values and
with an expression of the row, correlated updates (a scalar subquery), UPDATE
with criteria on another table (UPDATE..FROM; not on SQLite older than 3.33),
``delete()``, a DELETE with criteria on another table (PostgreSQL: DELETE ..
USING), affected row counts, and RETURNING from UPDATE and DELETE. MySQL-only
forms (multiple-table UPDATE, parameter-ordered SET) and ``Values`` (a Core
construct compiled for PostgreSQL) are not ORM examples. The ``bindparam()``
"executemany" UPDATE is not one either: given a list of parameter sets, an ORM
``update(User)`` is an ORM bulk UPDATE by primary key (the query guide's DML
page), which SQLAlchemy refuses with WHERE criteria naming no primary key.
"""

from __future__ import annotations

from typing import Any

import pytest
from doc_programs import same_on_both

# the program as written, and under ``from __future__ import annotations``
FUTURE = {False: "", True: "from __future__ import annotations\n"}

PROGRAM = '''
from typing import List, Optional

from sqlalchemy import ForeignKey, String, bindparam, delete, insert, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "tupd_user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    fullname: Mapped[Optional[str]]
    addresses: Mapped[List["Address"]] = relationship(back_populates="user")

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, name={self.name!r}, fullname={self.fullname!r})"


class Address(Base):
    __tablename__ = "tupd_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_address: Mapped[str]
    user_id = mapped_column(ForeignKey("tupd_user_account.id"))
    user: Mapped[User] = relationship(back_populates="addresses")

    def __repr__(self) -> str:
        return f"Address(id={self.id!r}, email_address={self.email_address!r})"


def seed(engine):
    users, addresses = User.__table__, Address.__table__
    owner = select(users.c.id).where(users.c.name == bindparam("username")).scalar_subquery()
    with engine.begin() as conn:
        conn.execute(insert(users), [
            {"name": "spongebob", "fullname": "Spongebob Squarepants"},
            {"name": "sandy", "fullname": "Sandy Cheeks"},
            {"name": "patrick", "fullname": "Patrick Star"},
        ])
        conn.execute(insert(addresses).values(user_id=owner), [
            {"username": "spongebob", "email_address": "spongebob@sqlalchemy.org"},
            {"username": "sandy", "email_address": "sandy@sqlalchemy.org"},
            {"username": "sandy", "email_address": "sandy@squirrelpower.org"},
            {"username": "patrick", "email_address": "patrick@aol.com"},
        ])


def everyone(session):
    return [repr(u) for u in session.scalars(select(User).order_by(User.id))]


def supports_update_from(engine):
    if engine.dialect.name != "sqlite":
        return True
    return engine.dialect.dbapi.sqlite_version_info >= (3, 33)


def supports_returning(engine):
    return engine.dialect.update_returning and engine.dialect.delete_returning


def updates(engine, seen):
    with Session(engine) as session:
        users = session.scalars(select(User).order_by(User.id)).all()
        patrick = users[2]
        result = session.execute(
            update(User).where(User.name == "patrick").values(fullname="Patrick the Star"))
        seen["update"] = (result.rowcount, patrick.fullname)
        session.execute(update(User).values(fullname="Username: " + User.name))
        seen["update_expression"] = [u.fullname for u in users]
        scalar_subq = (
            select(Address.email_address)
            .where(Address.user_id == User.id)
            .order_by(Address.id)
            .limit(1)
            .scalar_subquery()
        )
        session.execute(update(User).values(fullname=scalar_subq))
        seen["correlated"] = everyone(session)
        if supports_update_from(engine):
            result = session.execute(
                update(User)
                .where(User.id == Address.user_id)
                .where(Address.email_address == "patrick@aol.com")
                .values(fullname="Pat")
            )
            seen["update_from"] = (result.rowcount, patrick.fullname, everyone(session))
        session.rollback()
        seen["rolled_back"] = everyone(session)


def deletes(engine, seen):
    with Session(engine) as session:
        patrick = session.scalars(select(User).where(User.name == "patrick")).one()
        session.execute(delete(Address).where(Address.user_id == patrick.id))
        result = session.execute(delete(User).where(User.name == "patrick"))
        seen["delete"] = (result.rowcount, patrick in session, everyone(session))
        session.rollback()
        if engine.dialect.name == "postgresql":
            session.execute(delete(Address).where(Address.email_address == "patrick@aol.com"))
            session.execute(update(Address).where(Address.user_id == 3)
                            .values(email_address="patrick@aol.com"))
            result = session.execute(
                delete(Address)
                .where(User.id == Address.user_id)
                .where(User.name == "sandy")
            )
            seen["delete_using"] = (result.rowcount, [
                a.email_address for a in session.scalars(select(Address).order_by(Address.id))])
            session.rollback()


def rowcount_and_returning(engine, seen):
    with Session(engine) as session:
        result = session.execute(
            update(User).values(fullname="Patrick McStar").where(User.name == "patrick"))
        seen["rowcount"] = result.rowcount
        session.commit()
        if not supports_returning(engine):
            return
        patrick = session.scalars(select(User).where(User.name == "patrick")).one()
        update_stmt = (
            update(User)
            .where(User.name == "patrick")
            .values(fullname="Patrick the Star")
            .returning(User.id, User.name)
        )
        seen["update_returning"] = (session.execute(update_stmt).all(), patrick.fullname)
        session.execute(delete(Address).where(Address.user_id == patrick.id))
        delete_stmt = delete(User).where(User.name == "patrick").returning(User.id, User.name)
        seen["delete_returning"] = (session.execute(delete_stmt).all(), patrick in session)
        session.commit()
        seen["after_commit"] = everyone(session)


def run(engine):
    seed(engine)
    seen = {}
    updates(engine, seen)
    deletes(engine, seen)
    rowcount_and_returning(engine, seen)
    return seen
'''


@pytest.mark.parametrize("future", [False, True], ids=["evaluated", "string_annotations"])
def test_data_update_runs_the_same_on_both(engine: Any, future: bool) -> None:
    seen = same_on_both(FUTURE[future] + PROGRAM, engine, name="tutorial_data_update")
    assert seen["update"] == (1, "Patrick the Star")
    assert seen["update_expression"] == [
        "Username: spongebob", "Username: sandy", "Username: patrick"]
    assert seen["correlated"][1] == "User(id=2, name='sandy', fullname='sandy@sqlalchemy.org')"
    assert seen["rolled_back"][2] == "User(id=3, name='patrick', fullname='Patrick Star')"
    assert seen["delete"][:2] == (1, False)
    assert seen["rowcount"] == 1
    if "update_from" in seen:
        assert seen["update_from"][:2] == (1, "Pat")
    if "update_returning" in seen:
        assert seen["update_returning"] == ([(3, "patrick")], "Patrick the Star")
        assert seen["delete_returning"] == ([(3, "patrick")], False)
