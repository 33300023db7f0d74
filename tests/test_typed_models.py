"""Typed declarative models (``Mapped[...]``, ``mapped_column()``): the tables,
relationships and errors they give, compared with SQLAlchemy's ORM where the ORM
defines the behaviour (the same module text run with either library's imports)."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import sys
import types
from typing import Any, ClassVar, Optional

import pytest
import typed_models_example as example
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, create_engine, select
from sqlalchemy.schema import CreateTable

import session_ext
from session_ext import (
    DeclarativeBase,
    DeclarativeBaseNoMeta,
    Mapped,
    MappedAsDataclass,
    Session,
    WriteOnlyMapped,
    declared_attr,
    mapped_column,
    relationship,
)
from session_ext.mapping.attributes import ColumnAttribute

IMPORTS = {
    "sa": "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n",
    "se": "from session_ext import DeclarativeBase, Mapped, mapped_column, relationship\n",
}


def load(kind: str, program: str, future: bool = True) -> Any:
    """``program`` as a real module (annotations read from its names)."""
    name = f"typed_models_{kind}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    head = "from __future__ import annotations\n" if future else ""
    try:
        exec(compile(head + IMPORTS[kind] + program, f"<{name}>", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module


def ddl(metadata: MetaData) -> list[str]:
    dialect = create_engine("sqlite://").dialect
    return [str(CreateTable(t).compile(dialect=dialect)) for t in metadata.sorted_tables]


COLUMNS_PROGRAM = '''
import datetime
import decimal
import enum
import uuid
from typing import Annotated, Literal, Optional

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, func


class Color(enum.Enum):
    red = 1
    blue = 2


str50 = Annotated[str, 50]
intpk = Annotated[int, mapped_column(primary_key=True)]
required_name = Annotated[str, mapped_column(String(40), nullable=False, index=True)]


class Base(DeclarativeBase):
    type_annotation_map = {str50: String(50), int: BigInteger, datetime.datetime: Text}


class Parent(Base):
    __tablename__ = "parent"
    id: Mapped[intpk]
    name: Mapped[required_name]


class Child(Base):
    __tablename__ = "child"
    __table_args__ = {"comment": "kids"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    a: Mapped[str]
    b: Mapped[Optional[str]]
    c: Mapped[str | None] = mapped_column(String(20))
    d: Mapped[float]
    e: Mapped[decimal.Decimal]
    f: Mapped[uuid.UUID]
    g: Mapped[bytes]
    h: Mapped[Color]
    i: Mapped[Literal["x", "y"]]
    j: Mapped[str50]
    k: Mapped[bool] = mapped_column(default=True)
    l: Mapped[datetime.date | None] = mapped_column(nullable=False)
    m: Mapped[datetime.datetime] = mapped_column(server_default=func.now())
    n: Mapped[datetime.time]
    o: Mapped[datetime.timedelta]
    p: Mapped[int] = mapped_column("p_column", unique=True, comment="renamed")
    q: Mapped[Optional[int]] = mapped_column(ForeignKey("parent.id"), index=True)
    r: Mapped[int] = mapped_column(ForeignKey("parent.id"))
    s = mapped_column(String(10))
    t: Mapped[Optional[str]] = mapped_column(nullable=False, default="t")
'''


@pytest.mark.parametrize("future", [True, False], ids=["string_annotations", "evaluated"])
def test_annotation_columns_as_sqlalchemy_makes_them(future: bool) -> None:
    sa, se = (load(kind, COLUMNS_PROGRAM, future) for kind in ("sa", "se"))
    assert ddl(se.Base.metadata) == ddl(sa.Base.metadata)
    table = se.Child.__table__
    assert table.c.a.nullable is False and table.c.b.nullable is True
    assert repr(table.c.h.type) == "Enum('red', 'blue', name='color')"
    assert table.c.p.name == "p_column" and table.c.p.comment == "renamed"
    assert table.c.q.index is True and se.Parent.__table__.c.name.index is True
    assert table.c.k.default.arg is True and table.c.t.default.arg == "t"


def test_class_attribute_is_the_column_and_instances_hold_values() -> None:
    assert isinstance(vars(example.User)["name"], ColumnAttribute)
    assert example.User.name is example.User.__table__.c.name
    user = example.User(name="sandy")
    assert user.name == "sandy" and user.fullname is None and user.addresses == []
    assert vars(user)["name"] == "sandy"  # stored as a plain Column model stores it


def test_typed_example_module_runs(engine: Any) -> None:
    example.Base.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            sponge = example.User(name="spongebob", fullname="Bob",
                                  addresses=[example.Address(email_address="s@x")])
            session.add(sponge)
            session.commit()
            assert example.names_of(session) == ["spongebobBob", "s@xspongebob"]
            assert example.ids_by_name(session) == []
            example.set_values(sponge)
            session.commit()
            assert session.scalars(select(example.Address.email_address)
                                   .order_by(example.Address.id)).all() == ["s@x",
                                                                            "p@example.com"]
            assert session.scalars(example.with_join()).all() == []
            assert session.get(example.User, sponge.id).created is not None  # server default
    finally:
        example.Base.metadata.drop_all(engine)


RELATIONSHIPS_PROGRAM = '''
from typing import List, Optional

from sqlalchemy import ForeignKey


class Base(DeclarativeBase):
    pass


class Parent(Base):
    __tablename__ = "parent"
    id: Mapped[int] = mapped_column(primary_key=True)
    kids: Mapped[list["Kid"]] = relationship(back_populates="parent")
    older: Mapped[List[Kid]] = relationship(viewonly=True, order_by="Kid.id")
    favorite: Mapped["Kid"] = relationship(viewonly=True)
    maybe: Mapped[Optional["Kid"]] = relationship(viewonly=True)
    explicit: Mapped[list["Kid"]] = relationship("Kid", viewonly=True, uselist=True)


class Kid(Base):
    __tablename__ = "kid"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parent.id"))
    parent: Mapped[Optional[Parent]] = relationship(back_populates="kids")
    same_parent: Mapped[Parent] = relationship(viewonly=True)
'''


@pytest.mark.parametrize("future", [True, False], ids=["string_annotations", "evaluated"])
def test_relationship_targets_and_uselist_from_annotations(future: bool) -> None:
    from sqlalchemy.orm import configure_mappers

    sa, se = (load(kind, RELATIONSHIPS_PROGRAM, future) for kind in ("sa", "se"))
    configure_mappers()
    se.Base.registry.configure()

    def facts(module: Any) -> dict[str, Any]:
        out = {}
        for cls in (module.Parent, module.Kid):
            for key in ("kids", "older", "favorite", "maybe", "explicit", "parent",
                        "same_parent"):
                if key in vars(cls):
                    prop = getattr(cls, key).property
                    out[f"{cls.__name__}.{key}"] = (prop.mapper.class_.__name__, prop.uselist,
                                                    prop.direction.name)
        return out

    assert facts(se) == facts(sa)
    assert facts(se)["Parent.kids"] == ("Kid", True, "ONETOMANY")
    assert facts(se)["Parent.favorite"] == ("Kid", False, "ONETOMANY")
    parent = se.Parent(kids=[se.Kid()])
    assert parent.kids[0].parent is parent and parent.favorite is None


ORDER_PROGRAM = '''
from sqlalchemy import ForeignKey, Integer, String


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "order_account"
    id: Mapped[int] = mapped_column(primary_key=True)


class Address(Base):
    __tablename__ = "order_address"
    id: Mapped[int] = mapped_column(primary_key=True)
    email_address: Mapped[str]
    user_id = mapped_column(ForeignKey("order_account.id"))
    note = mapped_column(String(10))
    kind: Mapped[str]
    created: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int]
'''


@pytest.mark.parametrize("future", [True, False], ids=["string_annotations", "evaluated"])
def test_annotation_only_columns_keep_their_place_among_unannotated_ones(future: bool) -> None:
    # the tutorial's Address: an annotation-only column written before an
    # unannotated mapped_column() comes first, as in SQLAlchemy's table
    tables = {kind: load(kind, ORDER_PROGRAM, future).Base.metadata.tables["order_address"]
              for kind in IMPORTS}
    assert [c.name for c in tables["se"].c] == [c.name for c in tables["sa"].c]
    assert [c.name for c in tables["se"].c] == [
        "id", "email_address", "kind", "user_id", "note", "created", "rank"]


SHADOW_PROGRAM = '''
from typing import List

from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from sqlalchemy import ForeignKey


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "shadow_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    addresses: Mapped[List["Address"]] = relationship(back_populates="user")


class Address(Base):
    __tablename__ = "shadow_address"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("shadow_user.id"))
    user: Mapped["User"] = relationship(back_populates="addresses")


def second_mapping():
    class OtherBase(DeclarativeBase):
        pass

    class User(OtherBase):
        __tablename__ = "shadow_user"
        id: Mapped[int] = mapped_column(primary_key=True)
        addresses: Mapped[List["Address"]] = relationship(back_populates="user")

    class Address(OtherBase):
        __tablename__ = "shadow_address"
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(ForeignKey("shadow_user.id"))
        user: Mapped["User"] = relationship(back_populates="addresses")

    return User, Address
'''


@pytest.mark.parametrize("future", [True, False], ids=["string_annotations", "evaluated"])
def test_a_class_named_in_a_string_is_the_bases_before_the_modules(future: bool) -> None:
    # classes declared in a function, named like the module's classes of another
    # base: Mapped["User"] means the function's User (its base's), as in SQLAlchemy
    from doc_programs import load_program

    head = "from __future__ import annotations\n" if future else ""
    for kind in IMPORTS:
        module = load_program(head + SHADOW_PROGRAM, kind, "shadowed_names")
        user, address = module.second_mapping()
        assert address.user.property.mapper.class_ is user, kind
        assert user.addresses.property.mapper.class_ is address, kind
        assert address.user.property.mapper.class_ is not module.User, kind


def test_mixins_abstract_bases_and_declared_attr(engine: Any) -> None:
    class Base(DeclarativeBase):
        pass

    class HasOwner:
        owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"))
        note: Mapped[str | None]

        @declared_attr
        def owner(cls) -> Mapped[Owner]:
            return relationship()

    class Named:
        @declared_attr.directive
        def __tablename__(cls) -> str:
            return cls.__name__.lower() + "s"

        name: Mapped[str] = mapped_column(String(20))

    class Audited(Base):
        __abstract__ = True
        id: Mapped[int] = mapped_column(primary_key=True)
        version: Mapped[int] = mapped_column(default=1)

    class Owner(Audited):
        __tablename__ = "owner"

    class Car(HasOwner, Named, Audited):
        pass

    class Boat(HasOwner, Named, Audited):
        __table_args__ = {"comment": "boats"}

    assert Car.__table__.name == "cars" and Boat.__table__.comment == "boats"
    assert set(Car.__table__.c.keys()) == {"id", "version", "name", "owner_id", "note"}
    assert Car.__table__.c.owner_id is not Boat.__table__.c.owner_id
    assert [fk.target_fullname for fk in Boat.__table__.c.owner_id.foreign_keys] == ["owner.id"]
    assert Car.__table__.c.owner_id.nullable is False and Car.__table__.c.note.nullable
    Base.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            owner = Owner()
            session.add_all([Car(name="vw", owner=owner), Boat(name="raft", owner=owner)])
            session.commit()
            car = session.scalars(select(Car)).one()
            assert (car.owner.id, car.version, car.note) == (owner.id, 1, None)
    finally:
        Base.metadata.drop_all(engine)


def test_each_base_has_its_own_metadata_registry_and_type_map() -> None:
    class One(DeclarativeBase):
        type_annotation_map = {str: String(12)}

    shared = MetaData()

    class Two(DeclarativeBase):
        metadata = shared

    class A(One):
        __tablename__ = "a"
        id: Mapped[int] = mapped_column(primary_key=True)
        s: Mapped[str]

    class B(Two):
        __tablename__ = "a"  # the same name: another MetaData
        id: Mapped[int] = mapped_column(primary_key=True)
        s: Mapped[str]

    assert One.metadata is not Two.metadata and Two.metadata is shared
    assert One.registry is not Two.registry
    assert A.__table__.c.s.type.length == 12 and B.__table__.c.s.type.length is None
    assert One.type_annotation_map == {str: One.type_annotation_map[str]}


def test_plain_column_models_and_non_mapped_annotations_are_unchanged() -> None:
    class Base(DeclarativeBase):
        pass

    class Legacy(Base):
        __tablename__ = "legacy"
        counter: ClassVar[int] = 0
        label: str = "not a column"  # a plain annotation: an ordinary class attribute
        id = Column(Integer, primary_key=True)
        name = Column(String(10))

    assert list(Legacy.__table__.c.keys()) == ["id", "name"]
    assert Legacy.label == "not a column" and Legacy(name="x").name == "x"


def test_declarative_base_no_meta() -> None:
    class Meta(type):
        pass

    class Base(DeclarativeBaseNoMeta, metaclass=Meta):
        pass

    class Thing(Base):
        __tablename__ = "thing"
        id: Mapped[int] = mapped_column(primary_key=True)

    assert type(Thing) is Meta
    assert "FROM thing" in str(select(Thing))
    assert not hasattr(Thing(), "__clause_element__")
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Thing(id=7))
        session.commit()
        assert session.scalars(select(Thing)).one().id == 7


class Mood(enum.Enum):
    calm = "calm"


@pytest.mark.parametrize("body, error, match", [
    ("tags: Mapped[set['Thing']] = relationship()", session_ext.exc.ArgumentError,
     r"Mapped\[list\[\.\.\.\]\]"),
    ("other = relationship()", session_ext.exc.ArgumentError, "names no target class"),
    ("x: Mapped[complex]", session_ext.exc.ArgumentError, "type_annotation_map"),
    ("x: Mapped[int] = 5", session_ext.exc.ArgumentError, "ClassVar"),
    ("x: Mapped[int] = mapped_column(init=False)", session_ext.exc.ArgumentError,
     "MappedAsDataclass"),
])
def test_mistakes_are_named(body: str, error: type[Exception], match: str) -> None:
    namespace: dict[str, Any] = {}
    text = ("class Base(DeclarativeBase):\n    pass\n\n"
            "class Thing(Base):\n    __tablename__ = 'thing'\n"
            "    id: Mapped[int] = mapped_column(primary_key=True)\n    " + body + "\n")
    with pytest.raises(error, match=match):
        exec(text, {**vars(session_ext), "Optional": Optional}, namespace)


def test_deferred_columns_are_refused() -> None:
    with pytest.raises(session_ext.exc.ArgumentError, match="deferred"):
        mapped_column(deferred=True)


def test_write_only_and_dynamic_map_to_their_loader_or_say_what_to_use() -> None:
    from session_ext.mapping.relationships import LOADER_STRATEGIES

    class Base(DeclarativeBase):
        pass

    class Item(Base):
        __tablename__ = "item"
        id: Mapped[int] = mapped_column(primary_key=True)
        box_id: Mapped[int] = mapped_column(ForeignKey("box.id"))

    def declare() -> type:
        class Box(Base):
            __tablename__ = "box"
            id: Mapped[int] = mapped_column(primary_key=True)
            items: WriteOnlyMapped[Item] = relationship()
        return Box

    if "write_only" in LOADER_STRATEGIES:
        box_cls = declare()
        assert box_cls.items.lazy == "write_only"
        engine = create_engine("sqlite://")
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            box = box_cls()
            session.add(box)
            box.items.add_all([Item(), Item()])
            session.commit()
            assert len(session.scalars(box.items.select()).all()) == 2
    else:
        with pytest.raises(NotImplementedError, match=r"write_only.*Mapped\[list\[\.\.\.\]\]"):
            declare()


def test_mapped_as_dataclass() -> None:
    class Base(MappedAsDataclass, DeclarativeBase):
        pass

    class Author(Base):
        __tablename__ = "author"
        id: Mapped[int] = mapped_column(init=False, primary_key=True)
        name: Mapped[str] = mapped_column(String(30))
        bio: Mapped[str | None] = mapped_column(default=None)
        books: Mapped[list[Book]] = relationship(default_factory=list,
                                                 back_populates="author", repr=False)

    class Book(Base):
        __tablename__ = "book"
        id: Mapped[int] = mapped_column(init=False, primary_key=True)
        title: Mapped[str]
        author_id: Mapped[int | None] = mapped_column(ForeignKey("author.id"),
                                                         init=False, default=None)
        author: Mapped[Author | None] = relationship(default=None, back_populates="books")

    assert list(inspect.signature(Author).parameters) == ["name", "bio", "books"]
    assert dataclasses.is_dataclass(Author)
    ann = Author("Ann", books=[Book("One")])
    assert ann.books[0].author is ann  # back_populates in the dataclass __init__
    assert repr(ann) == "test_mapped_as_dataclass.<locals>.Author(id=None, name='Ann', bio=None)"
    assert Author("x") == Author("x") and Author("x") != Author("y")
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(ann)
        session.commit()
        assert (ann.id, ann.books[0].author_id) == (1, 1)
    with Session(engine) as session:
        loaded = session.scalars(select(Author)).one()
        assert (loaded.id, loaded.name, loaded.bio) == (1, "Ann", None) and loaded is not ann
        assert [b.title for b in loaded.books] == ["One"]
    with pytest.raises(TypeError):
        Author()  # name is required


INHERITANCE_PROGRAM = '''
from typing import Optional

from sqlalchemy import String, select


class Base(DeclarativeBase):
    pass


class Employee(Base):
    __tablename__ = "typed_employee"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(20))
    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "employee"}


class Manager(Employee):
    manager_data: Mapped[Optional[str]]
    __mapper_args__ = {"polymorphic_identity": "manager"}


class Engineer(Employee):
    engineer_info: Mapped[Optional[str]] = mapped_column(String(20))
    __mapper_args__ = {"polymorphic_identity": "engineer"}


def run(session_cls, engine):
    with session_cls(engine) as session:
        session.add_all([Manager(name="m", manager_data="x"),
                         Engineer(name="e", engineer_info="y"), Employee(name="p")])
        session.commit()
        everyone = session.scalars(select(Employee).order_by(Employee.id)).all()
        return ([(type(o).__name__, o.name) for o in everyone],
                [o.manager_data for o in session.scalars(select(Manager))])
'''


def test_single_table_inheritance_with_typed_models(engine: Any) -> None:
    from sqlalchemy.orm import Session as OrmSession

    seen = {}
    for kind, session_cls in (("sa", OrmSession), ("se", Session)):
        module = load(kind, INHERITANCE_PROGRAM)
        module.Base.metadata.create_all(engine)
        try:
            seen[kind] = module.run(session_cls, engine)
        finally:
            module.Base.metadata.drop_all(engine)
    assert seen["se"] == seen["sa"]
    assert seen["se"] == ([("Manager", "m"), ("Engineer", "e"), ("Employee", "p")], ["x"])
