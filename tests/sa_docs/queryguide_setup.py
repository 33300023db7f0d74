"""The models and data of the ORM query guide's SELECT pages (the guide's
"plain setup"), as program text shared by the query-guide page tests.

``setup_text(prefix)`` is a program fragment defining ``Base``, ``User``,
``Address``, ``Order``, ``Item``, the ``order_items`` table and
``add_data(session)``, with every table name prefixed so that pages do not
share tables. The fragment imports from ``sqlalchemy.orm`` as a user's module
does; :mod:`doc_programs` swaps those lines for session_ext.
"""

from __future__ import annotations

_SETUP = '''
from typing import List
from typing import Optional

from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.orm import Session

P = "@PREFIX@"


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = P + "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    fullname: Mapped[Optional[str]]
    addresses: Mapped[List["Address"]] = relationship(back_populates="user")
    orders: Mapped[List["Order"]] = relationship()

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, name={self.name!r}, fullname={self.fullname!r})"


class Address(Base):
    __tablename__ = P + "address"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(P + "user_account.id"))
    email_address: Mapped[str]
    user: Mapped[User] = relationship(back_populates="addresses")

    def __repr__(self) -> str:
        return f"Address(id={self.id!r}, email_address={self.email_address!r})"


order_items_table = Table(
    P + "order_items",
    Base.metadata,
    Column("order_id", ForeignKey(P + "user_order.id"), primary_key=True),
    Column("item_id", ForeignKey(P + "item.id"), primary_key=True),
)


class Order(Base):
    __tablename__ = P + "user_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(P + "user_account.id"))
    items: Mapped[List["Item"]] = relationship(secondary=order_items_table)


class Item(Base):
    __tablename__ = P + "item"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    description: Mapped[str]


def add_data(session):
    session.add_all(
        [
            User(
                name="spongebob",
                fullname="Spongebob Squarepants",
                addresses=[Address(email_address="spongebob@sqlalchemy.org")],
            ),
            User(
                name="sandy",
                fullname="Sandy Cheeks",
                addresses=[
                    Address(email_address="sandy@sqlalchemy.org"),
                    Address(email_address="squirrel@squirrelpower.org"),
                ],
            ),
            User(
                name="patrick",
                fullname="Patrick Star",
                addresses=[Address(email_address="pat999@aol.com")],
            ),
            User(
                name="squidward",
                fullname="Squidward Tentacles",
                addresses=[Address(email_address="stentcl@sqlalchemy.org")],
            ),
            User(name="ehkrabs", fullname="Eugene H. Krabs"),
        ]
    )
    session.commit()
'''


def setup_text(prefix: str) -> str:
    """The setup fragment with table names starting with ``prefix``."""
    return _SETUP.replace("@PREFIX@", prefix)
