"""Attribute events (``set``/``append``/``remove`` through ``sqlalchemy.event``)
and ``@validates`` on session_ext models: the same programs run on
``sqlalchemy.orm`` and on session_ext must observe the same, on a real
database; attributes without listeners keep their plain descriptors."""

from __future__ import annotations

from typing import Any

import pytest
from doc_programs import load_program, same_on_both
from sqlalchemy import ForeignKey, event
from sqlalchemy.exc import InvalidRequestError

from session_ext import DeclarativeBase, Mapped, mapped_column, relationship, validates
from session_ext.mapping.attrevents import EventedRelationship
from session_ext.mapping.attributes import ColumnAttribute
from session_ext.mapping.relationships import Relationship

PROGRAM = '''
from typing import List, Optional

from sqlalchemy import ForeignKey, String, event, inspect, select
from sqlalchemy.orm import (DeclarativeBase, Mapped, Session, mapped_column,
                            relationship, validates)


class Base(DeclarativeBase):
    pass


class Parent(Base):
    __tablename__ = "parent"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[Optional[str]] = mapped_column(String(30))
    children: Mapped[List["Child"]] = relationship(back_populates="parent")

    @validates("children", include_removes=True)
    def check_child(self, key, child, is_remove):
        log.append(("validate", key, child.name, is_remove))
        if child.name == "forbidden":
            raise ValueError("forbidden child")
        return child


class Child(Base):
    __tablename__ = "child"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parent.id"))
    parent: Mapped[Optional[Parent]] = relationship(back_populates="children")


log = []
stand_ins = {}


@event.listens_for(Parent.children, "append", retval=True)
def swap(target, value, initiator):
    # retval=True: what the listener returns goes into the collection
    return stand_ins.get(value.name, value)


@event.listens_for(Parent.name, "set", raw=True)
def raw_set(state, value, oldvalue, initiator):
    log.append(("raw", type(state.obj()).__name__, state.obj() is not None, value))


def refused(fn):
    try:
        fn()
    except ValueError as err:
        return str(err)
    return None


def run(engine):
    out = []
    with Session(engine) as session:
        p = Parent(name="p")
        a, b, c = Child(name="a"), Child(name="b"), Child(name="c")
        stand_ins["temp"] = c
        p.children.append(Child(name="temp"))     # c goes in instead
        p.children.insert(0, a)
        p.children[1:1] = [b]
        out.append([x.name for x in p.children])
        out.append(refused(lambda: p.children.append(Child(name="forbidden"))))
        out.append([x.name for x in p.children])
        out.append(c.parent is p)
        p.children.pop()
        p.children.clear()
        p.children.extend([a, b])
        session.add(p)
        session.commit()
        p.name = "q"
        session.add(c)
        c.parent = p                               # collection not loaded (expired)
        session.commit()
        out.append(sorted(session.scalars(select(Child.name).where(Child.parent_id == p.id))))
        out.append(inspect(p).attrs.name.value)
    out.append(log)
    return out
'''


def test_events_and_validators_as_sqlalchemy(engine: Any) -> None:
    out = same_on_both(PROGRAM, engine, name="attribute_events")
    assert out[0] == ["a", "b", "c"]
    assert out[1] == "forbidden child"
    assert out[2] == ["a", "b", "c"]
    assert out[3] is True
    assert out[4] == ["a", "b", "c"]
    assert out[-1][-1] == ("validate", "children", "c", False)  # backref, not loaded
    assert ("raw", "Parent", True, "q") in out[-1]
    assert ("validate", "children", "c", True) in out[-1]


def test_no_listener_keeps_the_plain_descriptors() -> None:
    module = load_program(PROGRAM, "se", "attribute_events_plain")
    module.Base.registry.configure()
    # listened on before configuration: the configured relationship still fires
    assert isinstance(module.Parent.__dict__["children"], EventedRelationship)
    assert type(module.Child.__dict__["name"]) is ColumnAttribute
    assert type(module.Child.__dict__["parent"]) is Relationship
    assert module.Child.__mapper__.init_keys == module.Child.__mapper__.column_attr_set
    # Parent.name has a listener: its constructor argument goes through the descriptor
    assert "name" not in module.Parent.__mapper__.init_keys
    assert type(module.Parent.__dict__["name"]) is not ColumnAttribute


class Base(DeclarativeBase):
    pass


class Owner(Base):
    __tablename__ = "ae_owner"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None]
    pets: Mapped[list[Pet]] = relationship(back_populates="owner")


class Pet(Base):
    __tablename__ = "ae_pet"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("ae_owner.id"))
    owner: Mapped[Owner | None] = relationship(back_populates="pets")

    @validates("owner_id")
    def no_zero(self, key: str, value: Any) -> Any:
        if value == 0:
            raise ValueError("zero")
        return value


def test_listener_added_and_removed() -> None:
    seen: list[Any] = []

    def on_set(target: Any, value: Any, oldvalue: Any, initiator: Any) -> None:
        seen.append(value)

    event.listen(Owner.name, "set", on_set)
    assert event.contains(Owner.name, "set", on_set)
    Owner(name="x").name = "y"
    event.remove(Owner.name, "set", on_set)
    Owner(name="z")
    assert seen == ["x", "y"]


def test_validator_refusal_keeps_the_old_value() -> None:
    pet = Pet(owner_id=1)
    with pytest.raises(ValueError, match="zero"):
        pet.owner_id = 0
    assert pet.owner_id == 1
    with pytest.raises(ValueError, match="zero"):
        Pet(owner_id=0)


def test_unmapped_column_is_no_target() -> None:
    from sqlalchemy import Column, Integer

    # not ours: Core's own event classes refuse it (as without session_ext)
    with pytest.raises((InvalidRequestError, AttributeError)):
        event.listen(Column("x", Integer), "set", lambda *a: None)


def test_validates_names_a_missing_attribute() -> None:
    from session_ext import exc

    with pytest.raises(exc.ArgumentError, match="nope"):
        class Bad(Base):
            __tablename__ = "ae_bad"
            id: Mapped[int] = mapped_column(primary_key=True)

            @validates("nope")
            def check(self, key: str, value: Any) -> Any:
                return value
