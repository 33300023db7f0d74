"""The "Attribute Change Events" section of SQLAlchemy's session events page
(doc/build/orm/session_events.rst) and the "Simple Validators" section it
points to (doc/build/orm/mapped_attributes.rst), as programs of our own text
run on ``sqlalchemy.orm`` and on session_ext with only the import lines
changed, on a real database.

Covered: ``set``/``append``/``remove`` listeners (old values, ``NO_VALUE``
for a never-set or expired attribute, the initiator's key and operation,
backref-driven events, ``retval=True`` replacing the value, ``propagate=True``
for a subclass), and ``@validates`` on a column and on a collection, raising
to refuse a change, ``include_removes=True``, ``include_backrefs=False``, and
a subclass overriding its parent's validator.
"""

from __future__ import annotations

from doc_programs import same_on_both

VALIDATORS = '''
from typing import List, Optional

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import (DeclarativeBase, Mapped, Session, mapped_column,
                            relationship, validates)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(20))
    addresses: Mapped[List["Address"]] = relationship(back_populates="user")
    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "user"}

    @validates("name")
    def validate_name(self, key, value):
        if not value.strip():
            raise ValueError("empty name")
        return value.strip()

    @validates("addresses", include_removes=True)
    def validate_address(self, key, address, is_remove):
        if is_remove and address.email.endswith("@keep.org"):
            raise ValueError("not allowed to remove " + address.email)
        if not is_remove and "@" not in address.email:
            raise ValueError("failed simplified email validation")
        return address


class Admin(User):
    __mapper_args__ = {"polymorphic_identity": "admin"}

    @validates("name")
    def validate_name(self, key, value):
        return super().validate_name(key, value).upper()


class Address(Base):
    __tablename__ = "address"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(50))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    user: Mapped[Optional[User]] = relationship(back_populates="addresses")

    @validates("email")
    def validate_email(self, key, address):
        if "@" not in address:
            raise ValueError("failed simple email validation")
        return address.lower()

    @validates("user", include_backrefs=False)
    def validate_user(self, key, user):
        seen.append(("validate_user", user.name if user is not None else None))
        return user


seen = []


def attempt(fn):
    try:
        fn()
    except ValueError as err:
        return "refused: " + str(err)
    return "ok"


def run(engine):
    out = []
    with Session(engine) as session:
        u = User(name="  spongebob ")
        out.append(u.name)
        a = Address(email="SB@Example.com")
        out.append(a.email)
        out.append(attempt(lambda: setattr(a, "email", "nope")))
        out.append(a.email)
        out.append(attempt(lambda: Address(email="bad")))
        u.addresses.append(a)            # the backref sets a.user: validate_user skipped
        keep = Address(email="x@keep.org")
        u.addresses.append(keep)
        out.append(attempt(lambda: u.addresses.remove(keep)))
        out.append([x.email for x in u.addresses])
        other = Address(email="o@example.com")
        other.user = u                   # validate_user runs; the append is validated too
        out.append(attempt(lambda: setattr(u, "name", "   ")))
        admin = Admin(name="patrick")
        out.append(admin.name)
        session.add_all([u, admin])
        session.commit()
        out.append(sorted(session.scalars(select(Address.email)).all()))
        out.append(sorted(session.scalars(select(User.name)).all()))
        u.name = " sandy "               # expired after commit: loaded then validated
        out.append(u.name)
        session.commit()
    with Session(engine) as session:
        loaded = session.scalars(select(User).where(User.name == "sandy")).one()
        out.append([x.email for x in loaded.addresses])   # loading runs no validator
    out.append(seen)
    return out
'''

LISTENERS = '''
from typing import List, Optional

from sqlalchemy import ForeignKey, String, event, select
from sqlalchemy.orm import (NO_VALUE, DeclarativeBase, Mapped, Session,
                            mapped_column, relationship)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[Optional[str]] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(20), default="user")
    addresses: Mapped[List["Address"]] = relationship(back_populates="user")
    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "user"}


class Admin(User):
    __mapper_args__ = {"polymorphic_identity": "admin"}


class Address(Base):
    __tablename__ = "address"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(50))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    user: Mapped[Optional[User]] = relationship(back_populates="addresses")


log = []


def shown(value):
    # an unloaded old value: NO_VALUE, or (SQLAlchemy, for an expired many-to-one)
    # PASSIVE_NO_RESULT, which session_ext does not have (docs/differences.md)
    if value is NO_VALUE or not isinstance(value, (str, Base, type(None))):
        return "NO_VALUE"
    return getattr(value, "email", None) or getattr(value, "name", value)


@event.listens_for(User.name, "set", retval=True, propagate=True)
def titled(target, value, oldvalue, initiator):
    log.append(("set name", type(target).__name__, value, shown(oldvalue), initiator.key))
    return value.title() if value else value


@event.listens_for(User.addresses, "append")
def appended(target, value, initiator):
    log.append(("append", shown(value), initiator.key, str(initiator.op)))


@event.listens_for(User.addresses, "remove")
def removed(target, value, initiator):
    log.append(("remove", shown(value), initiator.key, str(initiator.op)))


def user_set(target, value, oldvalue, initiator):
    log.append(("set user", shown(target), shown(value), shown(oldvalue), initiator.key))


event.listen(Address.user, "set", user_set)


def run(engine):
    with Session(engine) as session:
        u = User(name="squidward")
        admin = Admin(name="mr krabs")
        a1, a2 = Address(email="a1@x.org"), Address(email="a2@x.org")
        u.addresses.append(a1)
        a2.user = u
        u.addresses.remove(a1)
        u.addresses.extend([a1])
        del u.addresses[0]
        u.addresses[0:0] = [a2]
        u.addresses.pop()
        u.addresses = [a1, a2]
        session.add_all([u, admin])
        session.commit()
        u.name = "plankton"              # expired by the commit: NO_VALUE
        u.name = "karen"
        session.flush()
        a1.user = None
        session.commit()
        names = sorted(session.scalars(select(User.name)).all())
        owners = sorted((a.email, a.user.name if a.user else None)
                        for a in session.scalars(select(Address)))
    event.remove(User.addresses, "append", appended)
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.name == "Karen")).one()
        user.addresses.append(Address(email="a3@x.org"))    # no "append" entry now
        session.commit()
    return log, names, owners
'''


def test_validators(engine: object) -> None:
    # a subclass method replacing its base's validator: SQLAlchemy 2.1's behaviour
    out = same_on_both(VALIDATORS, engine, name="validators", oracle_since=(2, 1))
    assert out[0] == "spongebob"
    assert out[1] == "sb@example.com"
    assert out[2] == "refused: failed simple email validation"
    assert out[5] == "refused: not allowed to remove x@keep.org"
    assert out[6] == ["sb@example.com", "x@keep.org"]
    assert out[7] == "refused: empty name"
    assert out[8] == "PATRICK"
    assert out[10] == ["PATRICK", "spongebob"]
    assert out[11] == "sandy"
    assert out[-1] == [("validate_user", "spongebob")]


def test_listeners(engine: object) -> None:
    log, names, owners = same_on_both(LISTENERS, engine, name="attribute_listeners")
    assert names == ["Karen", "Mr Krabs"]
    assert owners == [("a1@x.org", None), ("a2@x.org", "Karen")]
    assert ("set name", "User", "plankton", "NO_VALUE", "name") in log
    assert ("set name", "User", "karen", "Plankton", "name") in log
    assert ("set name", "Admin", "mr krabs", "NO_VALUE", "name") in log
    assert ("append", "a2@x.org", "user", "symbol('REPLACE')") in log
    assert ("append", "a1@x.org", "addresses", "symbol('BULK_REPLACE')") in log
    assert log[-1] == ("set user", "a3@x.org", "Karen", "NO_VALUE", "addresses")

