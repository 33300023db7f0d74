"""A typed model module that mypy checks (tests/test_typed_models_mypy.py runs
mypy on it): ``User.name`` on the class is a column expression, ``str`` on an
instance; relationships are lists or objects of the target class."""

from __future__ import annotations

import datetime

from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.engine import Engine

from session_ext import (
    DeclarativeBase,
    Mapped,
    MappedAsDataclass,
    Session,
    mapped_column,
    relationship,
)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    fullname: Mapped[str | None]
    created: Mapped[datetime.datetime] = mapped_column(server_default=func.now())
    addresses: Mapped[list[Address]] = relationship(back_populates="user")


class Address(Base):
    __tablename__ = "address"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_address: Mapped[str]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    user: Mapped[User] = relationship(back_populates="addresses")


def names_of(session: Session) -> list[str]:
    stmt = select(User).where(User.name == "spongebob").order_by(User.id)
    users = session.scalars(stmt).all()
    out: list[str] = []
    for user in users:
        name: str = user.name
        full: str | None = user.fullname
        out.append(name + (full or ""))
        first: Address = user.addresses[0]
        email: str = first.email_address
        owner: User = first.user
        out.append(email + owner.name)
    return out


def ids_by_name(session: Session) -> list[int]:
    stmt = select(User.id).where(User.name.in_(["a", "b"]), User.fullname.is_(None))
    return [row for row in session.scalars(stmt)]


def with_join() -> object:
    return select(Address).join(Address.user).where(User.name.like("s%"))


def set_values(user: User) -> None:
    user.name = "patrick"
    user.fullname = None
    user.addresses.append(Address(email_address="p@example.com"))


def create_tables(engine: Engine) -> None:
    Base.metadata.create_all(engine)


class DataclassBase(MappedAsDataclass, DeclarativeBase):
    pass


class Note(DataclassBase):
    __tablename__ = "note"

    id: Mapped[int] = mapped_column(init=False, primary_key=True)
    text: Mapped[str] = mapped_column(String(100))
    pinned: Mapped[bool] = mapped_column(default=False)


def new_note() -> Note:
    note = Note("remember", pinned=True)
    text: str = note.text
    return Note(text)
