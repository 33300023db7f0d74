"""SQLAlchemy 2.x's ORM quick start, as a program of our own text, run on
``sqlalchemy.orm`` and on session_ext with only the import lines changed.

The program is one module text (:data:`PROGRAM`); each run makes a real module of
it under one of the two import headers, so the annotations are read the way a
user's module is read (from the module's names, forward references included).
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest
from conformance import same_on_both

HEADERS = {
    "sa": "from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, "
          "relationship\n",
    "se": "from session_ext import DeclarativeBase, Mapped, Session, mapped_column, "
          "relationship\n",
}

PROGRAM = '''
#FUTURE
#IMPORTS
from typing import List, Optional

from sqlalchemy import ForeignKey, String, select


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "qs_user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    fullname: Mapped[Optional[str]]
    addresses: Mapped[List["Address"]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, name={self.name!r}, fullname={self.fullname!r})"


class Address(Base):
    __tablename__ = "qs_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_address: Mapped[str]
    user_id: Mapped[int] = mapped_column(ForeignKey("qs_user_account.id"))
    user: Mapped["User"] = relationship(back_populates="addresses")

    def __repr__(self) -> str:
        return f"Address(id={self.id!r}, email_address={self.email_address!r})"


def everything(session):
    users = session.scalars(select(User).order_by(User.id)).all()
    return [(repr(u), [repr(a) for a in sorted(u.addresses, key=lambda a: a.id)])
            for u in users]


def run(engine):
    seen = {}
    with Session(engine) as session:
        spongebob = User(
            name="spongebob",
            fullname="Spongebob Squarepants",
            addresses=[Address(email_address="spongebob@sqlalchemy.org")],
        )
        sandy = User(
            name="sandy",
            fullname="Sandy Cheeks",
            addresses=[
                Address(email_address="sandy@sqlalchemy.org"),
                Address(email_address="sandy@squirrelpower.org"),
            ],
        )
        patrick = User(name="patrick", fullname="Patrick Star")
        session.add_all([spongebob, sandy, patrick])
        seen["pending"] = sorted(repr(o) for o in session.new)
        session.commit()

    with Session(engine) as session:
        stmt = select(User).where(User.name.in_(["spongebob", "sandy"])).order_by(User.id)
        seen["selected"] = [repr(u) for u in session.scalars(stmt)]

        stmt = (
            select(Address)
            .join(Address.user)
            .where(User.name == "sandy")
            .where(Address.email_address == "sandy@sqlalchemy.org")
        )
        sandy_address = session.scalars(stmt).one()
        seen["joined"] = repr(sandy_address)
        seen["joined_user"] = repr(sandy_address.user)

        stmt = select(User).where(User.name == "patrick")
        patrick = session.scalars(stmt).one()
        patrick.addresses.append(Address(email_address="patrickstar@sqlalchemy.org"))
        sandy_address.email_address = "sandy_cheeks@sqlalchemy.org"
        seen["dirty"] = sorted(repr(o) for o in session.dirty)
        session.commit()
        seen["after_change"] = everything(session)

        sandy = session.get(User, 2)
        sandy.addresses.remove(sandy_address)
        session.flush()
        seen["after_remove"] = everything(session)
        session.delete(patrick)
        session.commit()
        seen["after_delete"] = everything(session)
        seen["address_count"] = len(session.scalars(select(Address)).all())
    return seen
'''


def load(kind: str, future: bool = True) -> Any:
    """The program as a module named ``typed_quickstart_<kind>``; ``future``:
    with ``from __future__ import annotations`` (annotations are strings)."""
    name = f"typed_quickstart_{kind}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    text = PROGRAM.replace("#FUTURE\n", "from __future__ import annotations\n" if future else "")
    try:
        exec(compile(text.replace("#IMPORTS\n", HEADERS[kind]), f"<{name}>", "exec"),
             module.__dict__)
    finally:
        del sys.modules[name]
    return module


@pytest.fixture(scope="module", params=["string_annotations", "evaluated_annotations"])
def programs(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {kind: load(kind, request.param == "string_annotations") for kind in HEADERS}


def test_quick_start_runs_the_same_on_both(programs: dict[str, Any], engine: Any) -> None:
    seen = same_on_both(programs, engine, lambda m, e: m.run(e))
    assert seen["selected"] == [
        "User(id=1, name='spongebob', fullname='Spongebob Squarepants')",
        "User(id=2, name='sandy', fullname='Sandy Cheeks')",
    ]
    assert seen["joined"] == "Address(id=2, email_address='sandy@sqlalchemy.org')"
    assert seen["address_count"] == 2


def test_quick_start_tables_are_the_same(programs: dict[str, Any]) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.schema import CreateTable

    def ddl(kind: str) -> list[str]:
        dialect = create_engine("sqlite://").dialect
        return [str(CreateTable(t).compile(dialect=dialect))
                for t in programs[kind].Base.metadata.sorted_tables]

    assert ddl("se") == ddl("sa")
    assert "name VARCHAR(30) NOT NULL" in ddl("se")[0]
    assert "fullname VARCHAR," in ddl("se")[0]
