"""The unified tutorial's "Working with Database Metadata" chapter
(doc/build/tutorial/metadata.rst), its ORM declarative sections, as a program of
our own text run on ``sqlalchemy.orm`` and on session_ext with only the import
lines changed.

Sections covered, in page order: establishing a declarative base (``MetaData``,
the registry), declaring mapped classes (typed ``Mapped``/``mapped_column``/
``relationship``, the generated constructor and ``__repr__``; the same mapping
written without annotations gives the same tables), emitting DDL from the
mapping (``Base.metadata.create_all``), and the optional table reflection into
an ORM class (``__table__`` autoloaded from the database). The Core-only
sections (``MetaData``/``Table`` objects, constraints) are not ORM examples.
"""

from __future__ import annotations

from typing import Any

import pytest
from doc_programs import same_on_both

# the program as written, and under ``from __future__ import annotations``
FUTURE = {False: "", True: "from __future__ import annotations\n"}

PROGRAM = '''
from typing import List, Optional

from sqlalchemy import ForeignKey, Integer, MetaData, String, Table, insert, inspect, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.schema import CreateTable


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "tmeta_user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    fullname: Mapped[Optional[str]]

    addresses: Mapped[List["Address"]] = relationship(back_populates="user")

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, name={self.name!r}, fullname={self.fullname!r})"


class Address(Base):
    __tablename__ = "tmeta_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_address: Mapped[str]
    user_id = mapped_column(ForeignKey("tmeta_user_account.id"))

    user: Mapped[User] = relationship(back_populates="addresses")

    def __repr__(self) -> str:
        return f"Address(id={self.id!r}, email_address={self.email_address!r})"


def untyped_mapping():
    """The page's "without annotations" spelling of the same two classes."""

    class OldBase(DeclarativeBase):
        pass

    class User(OldBase):
        __tablename__ = "tmeta_user_account"

        id = mapped_column(Integer, primary_key=True)
        name = mapped_column(String(30), nullable=False)
        fullname = mapped_column(String)
        addresses = relationship("Address", back_populates="user")

    class Address(OldBase):
        __tablename__ = "tmeta_address"

        id = mapped_column(Integer, primary_key=True)
        email_address = mapped_column(String, nullable=False)
        user_id = mapped_column(ForeignKey("tmeta_user_account.id"))
        user = relationship("User", back_populates="addresses")

    return OldBase


def ddl(metadata, dialect):
    return [str(CreateTable(t).compile(dialect=dialect)).strip()
            for t in metadata.sorted_tables]


def columns(table):
    return [(c.name, str(c.type), c.nullable, c.primary_key,
             sorted(fk.target_fullname for fk in c.foreign_keys)) for c in table.c]


def reflected(engine):
    class ReflectedBase(DeclarativeBase):
        pass

    class ReflectedUser(ReflectedBase):
        __table__ = Table("tmeta_user_account", ReflectedBase.metadata, autoload_with=engine)

        def __repr__(self) -> str:
            return f"ReflectedUser(id={self.id!r}, name={self.name!r})"

    with Session(engine) as session:
        session.add(ReflectedUser(name="patrick", fullname="Patrick Star"))
        session.commit()
        return [repr(u) for u in session.scalars(select(ReflectedUser)
                                                  .order_by(ReflectedUser.id))]


def run(engine):
    seen = {}
    # Establishing a declarative base
    seen["metadata"] = (repr(Base.metadata), isinstance(Base.metadata, MetaData))
    seen["registry_metadata"] = Base.registry.metadata is Base.metadata
    # Declaring mapped classes
    seen["tables"] = sorted(Base.metadata.tables)
    seen["user_table"] = columns(User.__table__)
    seen["address_table"] = columns(Address.__table__)
    seen["same_table"] = (User.__table__ is Base.metadata.tables["tmeta_user_account"])
    sandy = User(name="sandy", fullname="Sandy Cheeks")
    seen["constructed"] = repr(sandy)
    seen["unset_collection"] = repr(sandy.addresses)
    seen["mapper_attrs"] = sorted(inspect(User).attrs.keys())
    seen["ddl"] = ddl(Base.metadata, engine.dialect)
    seen["untyped_ddl_same"] = ddl(untyped_mapping().metadata, engine.dialect) == seen["ddl"]
    # Emitting DDL from the mapping
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    seen["created"] = sorted(n for n in inspect(engine).get_table_names()
                             if n.startswith("tmeta_"))
    with Session(engine) as session:
        session.add(sandy)
        sandy.addresses.append(Address(email_address="sandy@sqlalchemy.org"))
        session.commit()
        seen["stored"] = (repr(sandy), repr(sandy.addresses))
    # Table reflection, mapped with the ORM
    seen["reflected"] = reflected(engine)
    return seen
'''


@pytest.mark.parametrize("future", [False, True], ids=["evaluated", "string_annotations"])
def test_metadata_orm_sections_run_the_same_on_both(engine: Any, future: bool) -> None:
    seen = same_on_both(FUTURE[future] + PROGRAM, engine, name="tutorial_metadata")
    assert seen["metadata"] == ("MetaData()", True)
    assert seen["tables"] == ["tmeta_address", "tmeta_user_account"]
    assert seen["user_table"][1] == ("name", "VARCHAR(30)", False, False, [])
    assert seen["address_table"][2] == (
        "user_id", "INTEGER", True, False, ["tmeta_user_account.id"])
    assert seen["constructed"] == "User(id=None, name='sandy', fullname='Sandy Cheeks')"
    assert seen["untyped_ddl_same"] is True
    assert seen["created"] == ["tmeta_address", "tmeta_user_account"]
    assert seen["stored"][0] == "User(id=1, name='sandy', fullname='Sandy Cheeks')"
    assert seen["reflected"] == ["ReflectedUser(id=1, name='sandy')",
                                 "ReflectedUser(id=2, name='patrick')"]
