"""The models of the differential test, declared once for both libraries.

:func:`build_models` runs the same class statements on SQLAlchemy's ORM
(``sqlalchemy.orm``) or on session_ext; only the declarative base and
``relationship`` come from the library.  Each call makes new classes on a new
``MetaData``, so the two sets never share anything.

The mapping covers the relationship kinds the programs exercise:

* ``User.addresses`` / ``Address.user``: one-to-many with
  ``cascade="all, delete-orphan"`` and ``back_populates`` on both sides;
* ``User.notes`` / ``Note.author``: a plain one-to-many (default cascade),
  declared with a ``backref``;
* ``User.keywords`` / ``Keyword.users``: many-to-many through ``user_keywords``;
* ``Keyword``: a natural (string) primary key, set by the program;
* ``User.status``: a Python-side column default.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table

LIBRARIES = ("sqlalchemy", "session_ext")

#: column attributes of each model, in table order (what the programs set and read)
COLUMNS: dict[str, tuple[str, ...]] = {
    "User": ("id", "name", "nickname", "age", "status"),
    "Address": ("id", "user_id", "email"),
    "Note": ("id", "user_id", "text"),
    "Keyword": ("word", "weight"),
}
#: relationship attributes: name -> (target model, uselist)
RELATIONSHIPS: dict[str, dict[str, tuple[str, bool]]] = {
    "User": {
        "addresses": ("Address", True),
        "notes": ("Note", True),
        "keywords": ("Keyword", True),
    },
    "Address": {"user": ("User", False)},
    "Note": {"author": ("User", False)},
    "Keyword": {"users": ("User", True)},
}
#: the attributes a program may set on a new or existing object (not keys)
SETTABLE: dict[str, tuple[str, ...]] = {
    "User": ("name", "nickname", "age"),
    "Address": ("email",),
    "Note": ("text",),
    "Keyword": ("weight",),
}
#: tables in dependency order (parents first)
TABLES = ("users", "keywords", "addresses", "notes", "user_keywords")
MODEL_NAMES = tuple(COLUMNS)


@dataclass
class Models:
    """One library's mapped classes and what goes with them."""

    library: str
    Base: Any
    metadata: MetaData
    User: Any
    Address: Any
    Note: Any
    Keyword: Any

    def model(self, name: str) -> Any:
        return getattr(self, name)


def _library_api(library: str) -> tuple[Any, Any]:
    if library == "sqlalchemy":
        orm = importlib.import_module("sqlalchemy.orm")
    elif library == "session_ext":
        orm = importlib.import_module("session_ext")
    else:
        raise ValueError(f"unknown library {library!r}; use one of {LIBRARIES}")
    return orm.DeclarativeBase, orm.relationship


def build_models(library: str) -> Models:
    """New mapped classes (and a new MetaData) for ``library``."""
    DeclarativeBase, relationship = _library_api(library)

    class Base(DeclarativeBase):
        metadata = MetaData()

    user_keywords = Table(
        "user_keywords",
        Base.metadata,
        Column("user_id", ForeignKey("users.id"), primary_key=True),
        Column("keyword_word", ForeignKey("keywords.word"), primary_key=True),
    )

    class User(Base):
        __tablename__ = "users"
        id = Column(Integer, primary_key=True)
        name = Column(String(30), nullable=False)
        nickname = Column(String(30))
        age = Column(Integer)
        status = Column(String(10), default="new")
        addresses = relationship(
            "Address", back_populates="user", cascade="all, delete-orphan", order_by="Address.id"
        )
        notes = relationship("Note", backref="author", order_by="Note.id")
        keywords = relationship(
            "Keyword", secondary=user_keywords, back_populates="users", order_by="Keyword.word"
        )

        def __repr__(self) -> str:
            return f"<User id={self.__dict__.get('id')}>"

    class Address(Base):
        __tablename__ = "addresses"
        id = Column(Integer, primary_key=True)
        user_id = Column(ForeignKey("users.id"))
        email = Column(String(30), nullable=False)
        user = relationship("User", back_populates="addresses")

        def __repr__(self) -> str:
            return f"<Address id={self.__dict__.get('id')}>"

    class Note(Base):
        __tablename__ = "notes"
        id = Column(Integer, primary_key=True)
        user_id = Column(ForeignKey("users.id"))
        text = Column(String(30))

        def __repr__(self) -> str:
            return f"<Note id={self.__dict__.get('id')}>"

    class Keyword(Base):
        __tablename__ = "keywords"
        word = Column(String(20), primary_key=True)
        weight = Column(Integer)
        users = relationship(
            "User", secondary=user_keywords, back_populates="keywords", order_by="User.id"
        )

        def __repr__(self) -> str:
            return f"<Keyword word={self.__dict__.get('word')!r}>"

    # relationships resolved now (both libraries do it lazily): the backref
    # ``Note.author`` exists from the start of a program
    Base.registry.configure()
    return Models(library, Base, Base.metadata, User, Address, Note, Keyword)
