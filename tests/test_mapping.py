"""Declarative mapping, Core expressions on mapped classes, column defaults at
flush time and ``session_ext.inspect()`` across the object lifecycle.

Mapping-structure checks are pure Python (no database); everything that
touches a database uses the ``engine`` fixture and so runs on every backend.
"""

from __future__ import annotations

import dataclasses
import itertools
import re

import pytest
from sqlalchemy import (
    CheckConstraint,
    Column,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy import exc as sa_exc

import session_ext
from session_ext import (
    DeclarativeBase,
    Session,
    declarative_base,
    declared_attr,
    exc,
    object_session,
    relationship,
)


def sql(element) -> str:
    """A statement or expression as SQL text with literal parameters."""
    return str(element.compile(compile_kwargs={"literal_binds": True}))


def history_lists(obj, key: str) -> tuple[list, list, list]:
    h = session_ext.inspect(obj).attrs[key].history
    return list(h.added), list(h.unchanged), list(h.deleted)


def lifecycle(obj) -> dict[str, bool]:
    st = session_ext.inspect(obj)
    return {
        "transient": st.transient,
        "pending": st.pending,
        "persistent": st.persistent,
        "deleted": st.deleted,
        "detached": st.detached,
    }


def only(flag: str) -> dict[str, bool]:
    return {k: k == flag for k in ("transient", "pending", "persistent", "deleted", "detached")}


# -- models used by the database tests ---------------------------------------

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))


_tokens = itertools.count(1)


def next_token() -> str:
    """Zero-argument callable default."""
    return f"tok-{next(_tokens)}"


def slug_from_title(context) -> str:
    """Context-taking callable default: derived from the row being inserted."""
    return context.get_current_parameters()["title"].lower().replace(" ", "-")


def note_from_update(context) -> str:
    """Context-taking callable onupdate: sees the values being written."""
    return "title:" + str(context.get_current_parameters().get("title"))


class Doc(Base):
    __tablename__ = "docs"
    id = Column(Integer, primary_key=True)
    title = Column(String(50), nullable=False)
    status = Column(String(20), default="draft")
    token = Column(String(20), default=next_token)
    slug = Column(String(60), default=slug_from_title)
    edited_by = Column(String(20), onupdate="editor")
    edit_note = Column(String(80), onupdate=note_from_update)
    created = Column(String(20), server_default="srv")
    revision = Column(Integer, server_default=text("1"), onupdate=literal_column("revision + 1"))
    touched = Column(Integer, server_default=text("0"), server_onupdate=FetchedValue())


@pytest.fixture
def db(engine):
    Base.metadata.create_all(engine)
    return engine


@pytest.fixture
def docs_db(db, backend):
    """``docs`` plus a trigger that bumps ``touched`` whenever ``title`` is updated
    (the server-side onupdate the mapping declares with FetchedValue())."""
    with db.begin() as conn:
        if backend == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION bump_touched() RETURNS trigger AS $$ "
                    "BEGIN NEW.touched := OLD.touched + 1; RETURN NEW; END; "
                    "$$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER docs_touch BEFORE UPDATE OF title ON docs "
                    "FOR EACH ROW EXECUTE FUNCTION bump_touched()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER docs_touch AFTER UPDATE OF title ON docs FOR EACH ROW "
                    "BEGIN UPDATE docs SET touched = touched + 1 WHERE id = NEW.id; END"
                )
            )
    return db


def doc_row(engine, doc_id: int):
    with engine.connect() as conn:
        return conn.execute(select(Doc.__table__).where(Doc.__table__.c.id == doc_id)).one()


# == declarative bases ========================================================


def test_declarative_base_defaults():
    B = declarative_base()
    assert B.__name__ == "Base"
    assert issubclass(B, DeclarativeBase)
    assert isinstance(B.metadata, MetaData)
    assert B.metadata is not Base.metadata

    class Thing(B):
        __tablename__ = "things"
        id = Column(Integer, primary_key=True)
        name = Column(String(50))

    table = B.metadata.tables["things"]
    assert isinstance(table, Table)
    assert Thing.__table__ is table
    assert [c.name for c in table.columns] == ["id", "name"]
    assert list(table.primary_key.columns.keys()) == ["id"]
    assert isinstance(table.c.name.type, String) and table.c.name.type.length == 50
    # plain sqlalchemy.Column objects end up in the table as the mapped columns
    assert Thing.id is table.c.id
    assert Thing.name is table.c.name
    assert "things" not in Base.metadata.tables


def test_declarative_base_name_and_shared_metadata():
    md = MetaData()
    B1 = declarative_base(metadata=md, name="FirstBase")
    B2 = declarative_base(md, name="SecondBase")
    assert B1.__name__ == "FirstBase"
    assert B2.__name__ == "SecondBase"
    assert B1.metadata is md and B2.metadata is md

    class A(B1):
        __tablename__ = "shared_a"
        id = Column(Integer, primary_key=True)

    class B(B2):
        __tablename__ = "shared_b"
        id = Column(Integer, primary_key=True)
        a_id = Column(Integer, ForeignKey("shared_a.id"))

    assert md.tables["shared_a"] is A.__table__
    assert md.tables["shared_b"] is B.__table__
    # the FK by name resolves because both classes live in the same MetaData
    assert B.__table__.c.a_id.references(A.__table__.c.id)


def test_subclassing_declarative_base():
    class MyBase(DeclarativeBase):
        pass

    class Person(MyBase):
        __tablename__ = "people"
        id = Column(Integer, primary_key=True)
        name = Column(String(50))

    assert isinstance(MyBase.metadata, MetaData)
    assert MyBase.metadata.tables["people"] is Person.__table__
    assert Person.name is Person.__table__.c.name
    assert session_ext.inspect(Person).table is Person.__table__

    class OtherBase(DeclarativeBase):
        pass

    assert OtherBase.metadata is not MyBase.metadata
    assert "people" not in OtherBase.metadata.tables


def test_subclassing_declarative_base_with_given_metadata():
    md = MetaData()

    class MyBase(DeclarativeBase):
        metadata = md

    class Person(MyBase):
        __tablename__ = "people"
        id = Column(Integer, primary_key=True)

    assert MyBase.metadata is md
    assert md.tables["people"] is Person.__table__


# == __table__: existing and reflected tables =================================


def test_existing_core_table_is_mapped(engine):
    md = MetaData()
    accounts = Table(
        "accounts",
        md,
        Column("id", Integer, primary_key=True),
        Column("title", String(40)),
        Column("balance", Integer),
    )
    B = declarative_base(metadata=md)

    class Account(B):
        __table__ = accounts

    assert Account.__table__ is accounts
    assert Account.title is accounts.c.title
    assert set(session_ext.inspect(Account).attrs) == {"id", "title", "balance"}

    md.create_all(engine)
    with Session(engine) as s:
        acc = Account(title="savings", balance=5)
        s.add(acc)
        s.commit()
    with engine.connect() as conn:
        rows = conn.execute(select(accounts.c.title, accounts.c.balance)).all()
    assert [tuple(r) for r in rows] == [("savings", 5)]
    with Session(engine) as s:
        loaded = s.scalars(select(Account)).one()
        assert isinstance(loaded, Account)
        assert (loaded.title, loaded.balance) == ("savings", 5)
        assert session_ext.inspect(loaded).persistent
        # a Core column's key is a quoted_name (a str subclass); the attribute
        # keys are plain str, so __dict__ lookups compare by identity
        assert {type(k) for k in vars(loaded) if k in {"id", "title", "balance"}} == {str}
        assert {type(k) for k in session_ext.inspect(Account).attrs} == {str}


def test_reflected_table_insert_and_load(engine):
    core_md = MetaData()
    legacy = Table(
        "legacy_items",
        core_md,
        Column("item_id", Integer, primary_key=True),
        Column("label", String(30), nullable=False),
        Column("qty", Integer, server_default=text("7")),
    )
    core_md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(legacy).values(label="pre"))

    reflected = Table("legacy_items", MetaData(), autoload_with=engine)
    assert reflected is not legacy
    B = declarative_base()

    class Item(B):
        __table__ = reflected

    assert Item.label is reflected.c.label
    assert set(session_ext.inspect(Item).attrs) == {"item_id", "label", "qty"}

    with Session(engine) as s:
        pre = s.scalars(select(Item).where(Item.label == "pre")).one()
        assert pre.qty == 7
        new = Item(label="new")
        s.add(new)
        s.flush()
        assert new.item_id is not None and new.item_id != pre.item_id
        assert new.qty == 7
        ids = (pre.item_id, new.item_id)
        s.commit()

    with engine.connect() as conn:
        rows = conn.execute(select(legacy).order_by(legacy.c.item_id)).all()
    assert [tuple(r) for r in rows] == [(ids[0], "pre", 7), (ids[1], "new", 7)]


def test_attribute_name_differs_from_column_name(engine):
    B = declarative_base()

    class Person(B):
        __tablename__ = "persons"
        id = Column("person_id", Integer, primary_key=True)
        name = Column("full_name", String(40), server_default="anon")

    t = Person.__table__
    assert [c.name for c in t.columns] == ["person_id", "full_name"]
    assert Person.name is t.c.name and Person.name.name == "full_name"
    assert sql(Person.name == "x") == "persons.full_name = 'x'"

    B.metadata.create_all(engine)
    with Session(engine) as s:
        named = Person(name="Ada")
        anon = Person()
        s.add_all([named, anon])
        s.flush()
        assert anon.name == "anon"
        ids = (named.id, anon.id)
        s.commit()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT person_id, full_name FROM persons ORDER BY person_id"))
        assert sorted(tuple(r) for r in rows) == sorted([(ids[0], "Ada"), (ids[1], "anon")])
    with Session(engine) as s:
        loaded = s.scalars(select(Person).where(Person.name == "Ada")).one()
        assert (loaded.id, loaded.name) == (ids[0], "Ada")
        assert s.get(Person, ids[1]).name == "anon"


# == abstract bases, mixins, declared_attr, __table_args__ ====================


def test_abstract_base_is_not_mapped_and_gives_copies():
    B = declarative_base()

    class Common(B):
        __abstract__ = True
        id = Column(Integer, primary_key=True)
        created_by = Column(String(20), default="system")

    class First(Common):
        __tablename__ = "first"
        x = Column(Integer)

    class Second(Common):
        __tablename__ = "second"

    assert set(B.metadata.tables) == {"first", "second"}
    assert "__table__" not in vars(Common)
    assert First.id is First.__table__.c.id
    assert Second.id is Second.__table__.c.id
    assert First.id is not Second.id
    assert First.created_by is not Second.created_by
    assert First.created_by.table is First.__table__
    assert Second.created_by.default.arg == "system"
    assert [c.name for c in First.__table__.columns] == ["id", "created_by", "x"]
    with pytest.raises(exc.UnmappedClassError, match="Common"):
        select(Common)
    with pytest.raises(exc.UnmappedClassError, match="Common"):
        session_ext.inspect(Common)


def test_mixin_columns_are_copied_per_class():
    B = declarative_base()

    class Audit:
        created = Column(String(30), default="c")
        note = Column(String(10))

    class A(Audit, B):
        __tablename__ = "mix_a"
        id = Column(Integer, primary_key=True)

    class C(Audit, B):
        __tablename__ = "mix_c"
        id = Column(Integer, primary_key=True)

    assert A.created is not C.created
    assert A.created is not Audit.__dict__["created"]
    assert A.created.table is A.__table__
    assert C.created.table is C.__table__
    assert A.note is A.__table__.c.note
    assert A.created.default.arg == "c"
    assert set(A.__table__.c.keys()) == {"id", "created", "note"}
    assert set(C.__table__.c.keys()) == {"id", "created", "note"}


def test_declared_attr_tablename_and_mixin_foreign_key(engine):
    B = declarative_base()

    class Owner(B):
        __tablename__ = "owners"
        id = Column(Integer, primary_key=True)
        name = Column(String(20))

    class AutoName:
        @declared_attr
        def __tablename__(cls):
            return cls.__name__.lower() + "s"

    class Owned:
        @declared_attr
        def owner_id(cls):
            return Column(Integer, ForeignKey("owners.id"), nullable=False)

    class Car(AutoName, Owned, B):
        id = Column(Integer, primary_key=True)
        model = Column(String(20))

    class Boat(AutoName, Owned, B):
        id = Column(Integer, primary_key=True)

    assert Car.__table__.name == "cars"
    assert Boat.__table__.name == "boats"
    assert Car.owner_id is Car.__table__.c.owner_id
    assert Car.owner_id is not Boat.owner_id
    for cls in (Car, Boat):
        fks = list(cls.__table__.c.owner_id.foreign_keys)
        assert [fk.target_fullname for fk in fks] == ["owners.id"]
        assert cls.__table__.c.owner_id.references(Owner.__table__.c.id)

    B.metadata.create_all(engine)
    with Session(engine) as s:
        owner = Owner(name="o")
        s.add(owner)
        s.flush()
        owner_id = owner.id
        car = Car(owner_id=owner_id, model="m")
        s.add(car)
        s.commit()
    with engine.connect() as conn:
        assert conn.execute(select(Car.__table__.c.owner_id, Car.__table__.c.model)).all() == [
            (owner_id, "m")
        ]
    # the foreign key generated by the declared_attr is real in the database
    with Session(engine) as s:
        s.add(Boat(owner_id=987654))
        with pytest.raises(sa_exc.IntegrityError):
            s.flush()
        s.rollback()


def test_mixin_foreign_key_column_without_declared_attr_is_refused():
    B = declarative_base()

    class Owner(B):
        __tablename__ = "owners"
        id = Column(Integer, primary_key=True)

    class BadMixin:
        owner_id = Column(Integer, ForeignKey("owners.id"))

    with pytest.raises(exc.ArgumentError) as ei:

        class Bad(BadMixin, B):
            __tablename__ = "bad"
            id = Column(Integer, primary_key=True)

    msg = str(ei.value)
    assert "owner_id" in msg and "BadMixin" in msg and "declared_attr" in msg
    assert "bad" not in B.metadata.tables


def test_table_args_tuple_with_constraints_and_dict(engine):
    B = declarative_base()

    class Member(B):
        __tablename__ = "members"
        __table_args__ = (
            UniqueConstraint("org", "email", name="uq_member_org_email"),
            CheckConstraint("age >= 0", name="ck_member_age"),
            Index("ix_member_email", "email"),
            {"info": {"audited": True}, "comment": "club members"},
        )
        id = Column(Integer, primary_key=True)
        org = Column(String(20))
        email = Column(String(50))
        age = Column(Integer)

    table = Member.__table__
    assert table.info == {"audited": True}
    assert table.comment == "club members"
    uniques = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
    assert [(u.name, [c.name for c in u.columns]) for u in uniques] == [
        ("uq_member_org_email", ["org", "email"])
    ]
    checks = [c for c in table.constraints if isinstance(c, CheckConstraint)]
    assert [c.name for c in checks] == ["ck_member_age"]
    assert [(i.name, [c.name for c in i.columns]) for i in table.indexes] == [
        ("ix_member_email", ["email"])
    ]

    B.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(Member(org="a", email="x@y", age=1))
        s.commit()
    with Session(engine) as s:
        s.add(Member(org="a", email="x@y", age=2))
        with pytest.raises(sa_exc.IntegrityError):
            s.flush()
        s.rollback()
        s.add(Member(org="b", email="x@y", age=-1))
        with pytest.raises(sa_exc.IntegrityError):
            s.flush()
        s.rollback()
    with engine.connect() as conn:
        assert conn.execute(select(table.c.org, table.c.age)).all() == [("a", 1)]


def test_table_args_dict_alone():
    B = declarative_base()

    class Tag(B):
        __tablename__ = "tags"
        __table_args__ = {"info": {"kind": "label"}, "comment": "tags table"}
        id = Column(Integer, primary_key=True)

    assert Tag.__table__.info == {"kind": "label"}
    assert Tag.__table__.comment == "tags table"


def test_declared_attr_table_args_on_mixin():
    B = declarative_base()

    class UniqueName:
        @declared_attr
        def __table_args__(cls):
            return (UniqueConstraint("name", name=f"uq_{cls.__tablename__}_name"),)

        name = Column(String(20))

    class Red(UniqueName, B):
        __tablename__ = "red"
        id = Column(Integer, primary_key=True)

    class Blue(UniqueName, B):
        __tablename__ = "blue"
        id = Column(Integer, primary_key=True)

    for cls, expected in ((Red, "uq_red_name"), (Blue, "uq_blue_name")):
        uniques = [c for c in cls.__table__.constraints if isinstance(c, UniqueConstraint)]
        assert [(u.name, [c.name for c in u.columns]) for u in uniques] == [(expected, ["name"])]


# == class attributes are Core expressions ===================================


def test_class_attributes_compile_like_table_columns():
    t = User.__table__
    pairs = [
        (User.name == "x", t.c.name == "x"),
        (User.id.in_([1, 2]), t.c.id.in_([1, 2])),
        (User.name.desc(), t.c.name.desc()),
        (User.id > 3, t.c.id > 3),
        (select(User), select(t)),
        (select(User.id, User.name), select(t.c.id, t.c.name)),
        (
            select(User).where(User.name == "x").order_by(User.name.desc()),
            select(t).where(t.c.name == "x").order_by(t.c.name.desc()),
        ),
        (
            select(User.id).where(User.id.in_([1, 2])),
            select(t.c.id).where(t.c.id.in_([1, 2])),
        ),
    ]
    for mapped, core in pairs:
        assert sql(mapped) == sql(core)
    assert sql(User.id.in_([1, 2])) == "users.id IN (1, 2)"
    assert sql(User.name.desc()) == "users.name DESC"
    assert list(select(User).selected_columns.keys()) == ["id", "name"]
    assert (User.name == "x").compile().params == {"name_1": "x"}


def test_class_attribute_expressions_run_on_a_plain_connection(db):
    with db.begin() as conn:
        conn.execute(insert(User.__table__), [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
    with db.connect() as conn:
        rows = conn.execute(
            select(User.id, User.name).where(User.id.in_([1, 2])).order_by(User.name.desc())
        ).all()
        assert [tuple(r) for r in rows] == [(2, "b"), (1, "a")]
        assert conn.execute(select(User).where(User.name == "a")).all() == [(1, "a")]


# == constructor, repr, missing primary key ===================================


def test_default_constructor_sets_attributes():
    u = User(id=5, name="ann")
    assert (u.id, u.name) == (5, "ann")
    blank = User()
    assert blank.id is None and blank.name is None
    st = session_ext.inspect(u)
    assert st.transient


def test_default_constructor_rejects_unknown_keyword():
    with pytest.raises(TypeError) as ei:
        User(name="x", nickname="y")
    msg = str(ei.value)
    assert "User" in msg and "nickname" in msg


def test_repr_names_class_and_primary_key(db):
    r = repr(User(id=98765, name="zed"))
    assert "User" in r
    assert re.search(r"\b98765\b", r)
    with Session(db) as s:
        u = User(name="loaded")
        s.add(u)
        s.commit()
        again = s.get(User, u.id)
        text_ = repr(again)
    assert "User" in text_ and re.search(rf"\b{again.id}\b", text_)


def test_model_without_primary_key_is_refused():
    B = declarative_base()
    with pytest.raises(exc.ArgumentError) as ei:

        class Log(B):
            __tablename__ = "logs"
            message = Column(String(50))

    assert isinstance(ei.value, sa_exc.ArgumentError)
    msg = str(ei.value)
    assert "Log" in msg and "primary key" in msg.lower()
    assert "logs" not in B.metadata.tables
    assert B.registry.mappers == []

    # the table name is free again: a correct class can take it
    class Log(B):  # noqa: F811
        __tablename__ = "logs"
        id = Column(Integer, primary_key=True)
        message = Column(String(50))

    assert B.metadata.tables["logs"] is Log.__table__


def test_existing_table_without_primary_key_is_refused():
    md = MetaData()
    nopk = Table("nopk", md, Column("x", Integer))
    B = declarative_base(metadata=md)
    with pytest.raises(exc.ArgumentError) as ei:

        class NoKey(B):
            __table__ = nopk

    assert "NoKey" in str(ei.value) and "primary key" in str(ei.value).lower()


def test_class_without_tablename_is_refused():
    B = declarative_base()
    with pytest.raises(exc.ArgumentError) as ei:

        class Nameless(B):
            id = Column(Integer, primary_key=True)

    assert "Nameless" in str(ei.value) and "__tablename__" in str(ei.value)


# == column defaults at flush =================================================


def test_python_defaults_applied_at_flush(docs_db, count_statements):
    with Session(docs_db) as s:
        d = Doc(title="Hello World")
        s.add(d)
        s.flush()
        with count_statements(docs_db) as stmts:
            values = (d.status, d.slug, d.token, d.created, d.revision, d.touched)
            doc_id = d.id
        assert stmts.count == 0, stmts
        assert doc_id is not None
        status, slug, token, created, revision, touched = values
        assert status == "draft"
        assert slug == "hello-world"
        assert re.fullmatch(r"tok-\d+", token)
        assert (created, revision, touched) == ("srv", 1, 0)
        s.commit()
    row = doc_row(docs_db, doc_id)
    assert (row.status, row.slug, row.token, row.created, row.revision, row.touched) == values


def test_explicit_values_override_defaults(docs_db):
    with Session(docs_db) as s:
        d = Doc(title="T", status="final", slug="custom", token="mine")
        s.add(d)
        s.flush()
        assert (d.status, d.slug, d.token) == ("final", "custom", "mine")
        doc_id = d.id
        s.commit()
    row = doc_row(docs_db, doc_id)
    assert (row.status, row.slug, row.token) == ("final", "custom", "mine")


def test_defaults_and_server_defaults_for_a_batch(docs_db):
    """Several rows flushed at once: each object gets its own key, defaults and
    fetched server defaults, paired with the right row."""
    titles = ["Alpha One", "Beta Two", "Gamma Three", "Delta Four"]
    with Session(docs_db) as s:
        docs = [Doc(title=t) for t in titles]
        s.add_all(docs)
        s.flush()
        got = {d.id: (d.title, d.slug, d.token, d.created, d.revision) for d in docs}
        s.commit()
    assert len(got) == len(titles)
    assert len({v[2] for v in got.values()}) == len(titles)  # tokens differ per row
    with docs_db.connect() as conn:
        t = Doc.__table__
        rows = conn.execute(
            select(t.c.id, t.c.title, t.c.slug, t.c.token, t.c.created, t.c.revision)
        )
        in_db = {r.id: (r.title, r.slug, r.token, r.created, r.revision) for r in rows}
    assert in_db == got
    for title, slug, _token, created, revision in got.values():
        assert slug == title.lower().replace(" ", "-")
        assert (created, revision) == ("srv", 1)


def test_server_defaults_fetched_for_batch_with_explicit_keys(docs_db):
    with Session(docs_db) as s:
        docs = [Doc(id=10, title="ten"), Doc(id=20, title="twenty", status="x")]
        s.add_all(docs)
        s.flush()
        got = [(d.id, d.status, d.created, d.revision, d.touched) for d in docs]
        s.commit()
    assert got == [(10, "draft", "srv", 1, 0), (20, "x", "srv", 1, 0)]
    assert doc_row(docs_db, 20).status == "x"


def test_python_default_on_primary_key(engine, count_statements):
    B = declarative_base()
    made: list[str] = []

    def new_key() -> str:
        made.append(f"k{len(made) + 1:03d}")
        return made[-1]

    class Ticket(B):
        __tablename__ = "tickets"
        code = Column(String(10), primary_key=True, default=new_key)
        subject = Column(String(20))

    B.metadata.create_all(engine)
    with Session(engine) as s:
        tickets = [Ticket(subject="a"), Ticket(subject="b")]
        s.add_all(tickets)
        s.flush()
        assert [t.code for t in tickets] == made
        assert len(set(made)) == 2
        assert [session_ext.inspect(t).key for t in tickets] == [
            (Ticket, (code,), None) for code in made
        ]
        with count_statements(engine) as stmts:
            assert s.get(Ticket, made[1]) is tickets[1]
        assert stmts.count == 0
        s.commit()
    with engine.connect() as conn:
        t = Ticket.__table__
        assert dict(conn.execute(select(t.c.code, t.c.subject)).all()) == {
            made[0]: "a",
            made[1]: "b",
        }


def test_python_onupdate_applied_at_flush(docs_db, count_statements):
    with Session(docs_db, expire_on_commit=False) as s:
        d = Doc(title="a")
        s.add(d)
        s.commit()
        assert d.edited_by is None and d.edit_note is None
        d.title = "b"
        s.flush()
        with count_statements(docs_db) as stmts:
            edited_by, note = d.edited_by, d.edit_note
        assert stmts.count == 0, stmts
        assert (edited_by, note) == ("editor", "title:b")
        # an explicitly set value is not replaced by onupdate
        d.title = "c"
        d.edited_by = "me"
        s.flush()
        assert (d.edited_by, d.edit_note) == ("me", "title:c")
        doc_id = d.id
        s.commit()
    row = doc_row(docs_db, doc_id)
    assert (row.title, row.edited_by, row.edit_note) == ("c", "me", "title:c")


def test_no_net_change_runs_no_update_and_no_onupdate(docs_db, count_statements):
    with Session(docs_db, expire_on_commit=False) as s:
        d = Doc(title="same")
        s.add(d)
        s.commit()
        d.title = "same"
        with count_statements(docs_db) as stmts:
            s.flush()
        assert stmts.count == 0, stmts
        assert d.edited_by is None
        s.commit()
    assert doc_row(docs_db, d.id).edited_by is None


def test_sql_and_server_onupdate_reloaded_on_access(docs_db, count_statements):
    with Session(docs_db, expire_on_commit=False) as s:
        d = Doc(title="a")
        s.add(d)
        s.commit()
        assert (d.revision, d.touched) == (1, 0)
        d.title = "b"
        s.flush()
        with count_statements(docs_db) as stmts:
            revision = d.revision
            touched = d.touched
        assert (revision, touched) == (2, 1)
        assert stmts.count == 1, stmts
        assert stmts.statements[0].lstrip().upper().startswith("SELECT")
        d.title = "c"
        s.flush()
        assert (d.revision, d.touched, d.edited_by) == (3, 2, "editor")
        doc_id = d.id
        s.commit()
    row = doc_row(docs_db, doc_id)
    assert (row.revision, row.touched) == (3, 2)


# == inspect(): lifecycle and history =========================================


def test_inspect_lifecycle_and_history(db):
    with Session(db) as s:
        u = User(name="a")
        st = session_ext.inspect(u)
        assert lifecycle(u) == only("transient")
        assert st.key is None and st.session is None
        assert history_lists(u, "name") == (["a"], [], [])
        assert history_lists(u, "id") == ([], [], [])

        s.add(u)
        assert session_ext.inspect(u) is st
        assert lifecycle(u) == only("pending")
        assert st.key is None and st.session is s
        assert history_lists(u, "name") == (["a"], [], [])

        s.flush()
        assert lifecycle(u) == only("persistent")
        assert u.id is not None
        key = (User, (u.id,), None)
        assert st.key == key
        assert st.session is s
        assert history_lists(u, "name") == ([], ["a"], [])

        u.name = "b"
        assert history_lists(u, "name") == (["b"], [], ["a"])
        s.flush()
        assert history_lists(u, "name") == ([], ["b"], [])

        s.delete(u)
        assert lifecycle(u) == only("persistent")  # not deleted until flushed
        s.flush()
        assert lifecycle(u) == only("deleted")
        assert st.session is s and st.key == key

        s.commit()
        assert lifecycle(u) == only("detached")
        assert st.session is None and st.key == key
        assert object_session(u) is None
    with db.connect() as conn:
        assert conn.execute(select(User.__table__)).all() == []


def test_inspect_history_setting_the_same_value(db):
    with db.begin() as conn:
        conn.execute(insert(User.__table__).values(id=1, name="same"))
    with Session(db) as s:
        u = s.get(User, 1)
        u.name = "same"
        assert history_lists(u, "name") == ([], ["same"], [])
        u.name = "other"
        assert history_lists(u, "name") == (["other"], [], ["same"])
        u.name = "same"
        assert history_lists(u, "name") == ([], ["same"], [])


def test_inspect_rollback_of_pending_object(db):
    with Session(db) as s:
        u = User(name="p")
        s.add(u)
        assert lifecycle(u) == only("pending")
        s.rollback()
        assert lifecycle(u) == only("transient")
        assert u not in s
        assert history_lists(u, "name") == (["p"], [], [])


def test_inspect_rollback_of_flushed_insert(db):
    with Session(db) as s:
        u = User(name="p")
        s.add(u)
        s.flush()
        assert lifecycle(u) == only("persistent")
        s.rollback()
        st = session_ext.inspect(u)
        assert lifecycle(u) == only("transient")
        assert st.key is None and st.session is None
        assert u not in s
        assert len(s.identity_map) == 0
    with db.connect() as conn:
        assert conn.execute(select(User.__table__)).all() == []


def test_inspect_rollback_of_flushed_update_and_delete(db):
    with db.begin() as conn:
        conn.execute(insert(User.__table__), [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}])
    with Session(db) as s:
        changed = s.get(User, 1)
        removed = s.get(User, 2)
        changed.name = "changed"
        s.delete(removed)
        s.flush()
        assert lifecycle(removed) == only("deleted")
        s.rollback()
        assert lifecycle(changed) == only("persistent")
        assert lifecycle(removed) == only("persistent")
        assert removed in s and changed in s
        assert changed.name == "one"
        assert history_lists(changed, "name") == ([], ["one"], [])
        assert removed.name == "two"
        assert s.get(User, 2) is removed


def test_inspect_rollback_of_unflushed_change(db):
    with db.begin() as conn:
        conn.execute(insert(User.__table__).values(id=1, name="one"))
    with Session(db) as s:
        u = s.get(User, 1)
        u.name = "changed"
        assert history_lists(u, "name") == (["changed"], [], ["one"])
        s.rollback()
        assert lifecycle(u) == only("persistent")
        assert u.name == "one"
        assert history_lists(u, "name") == ([], ["one"], [])
        assert not s.is_modified(u)


def test_inspect_rollback_of_unflushed_delete(db):
    with db.begin() as conn:
        conn.execute(insert(User.__table__).values(id=1, name="one"))
    with Session(db) as s:
        u = s.get(User, 1)
        s.delete(u)
        assert any(o is u for o in s.deleted)
        s.rollback()
        assert s.deleted == []
        assert lifecycle(u) == only("persistent")
        s.commit()
    with db.connect() as conn:
        assert conn.execute(select(User.__table__)).all() == [(1, "one")]


def test_inspect_of_class_and_unmapped_things():
    mapper = session_ext.inspect(User)
    assert mapper.class_ is User and mapper.table is User.__table__

    class Plain:
        pass

    with pytest.raises(exc.UnmappedInstanceError, match="Plain"):
        session_ext.inspect(Plain())
    with pytest.raises(exc.UnmappedClassError, match="Plain"):
        session_ext.inspect(Plain)
    with pytest.raises(AttributeError, match="nickname"):
        session_ext.inspect(User()).attrs.nickname  # noqa: B018


# -- constructors --------------------------------------------------------------------


def test_the_quick_constructor_behaves_like_the_full_one():
    CBase = declarative_base()

    class Author(CBase):
        __tablename__ = "ctor_authors"
        id = Column(Integer, primary_key=True)
        name = Column(String(20))
        books = session_ext.relationship("Book", back_populates="author")

    class Book(CBase):
        __tablename__ = "ctor_books"
        id = Column(Integer, primary_key=True)
        author_id = Column(ForeignKey("ctor_authors.id"))
        title = Column(String(20))
        author = session_ext.relationship("Author", back_populates="books")

    # the first construction configures the pending relationships
    a = Author(name="ann")
    assert a.__dict__["name"] == "ann" and a.books == []
    b = Book(title="t", author=a)  # a relationship keyword takes the base's way
    assert b.author is a and a.books == [b]
    assert Author.__init__ is DeclarativeBase.__init__  # nothing put on the class itself
    with pytest.raises(TypeError, match=r"'nmae' is an invalid keyword argument for Author"):
        Author(nmae="typo")


def test_a_constructor_of_the_models_own_is_kept():
    calls = []

    class Mixin:
        def __init__(self, **kw):
            calls.append("mixin")
            super().__init__(**kw)

    OwnBase = declarative_base(cls=Mixin)

    class WithMixin(OwnBase):
        __tablename__ = "ctor_mixin"
        id = Column(Integer, primary_key=True)
        name = Column(String(20))

    class Own(OwnBase):
        __tablename__ = "ctor_own"
        id = Column(Integer, primary_key=True)
        name = Column(String(20))

        def __init__(self, name: str) -> None:
            calls.append("own")
            super().__init__(name=name.upper())

    assert WithMixin(name="m").name == "m"
    assert Own("x").name == "X"
    assert calls == ["mixin", "own", "mixin"]


# --------------------------------------------------------------------------- generated constructors
def test_a_base_constructor_assigned_after_mapping_is_used():
    """Before aa1391f every model looked __init__ up through the MRO, so a
    constructor put on the base (or a mixin) after the models were declared
    (a plugin, a test helper) took effect; the generated __init__ in each
    class's __dict__ now shadows it."""
    LateBase = declarative_base()

    class Late(LateBase):
        __tablename__ = "rv3_late"
        id = Column(Integer, primary_key=True)
        name = Column(String(20))

    calls = []
    generic = LateBase.__init__

    def traced_init(self, **kw):
        calls.append(type(self).__name__)
        generic(self, **kw)

    LateBase.__init__ = traced_init
    try:
        obj = Late(name="x")
    finally:
        del LateBase.__init__
    assert obj.name == "x"
    assert calls == ["Late"]


def test_dataclass_decorator_on_a_model_gets_its_constructor():
    """``@dataclass`` only writes ``__init__`` when the class has none in its own
    ``__dict__``; the generated one (set during class creation, before the
    decorator runs) now suppresses the dataclass constructor: no
    ``__post_init__``, no positional fields."""
    DBase = declarative_base()
    posted = []

    @dataclasses.dataclass
    class Tagged(DBase):
        __tablename__ = "rv3_tagged"
        id = Column(Integer, primary_key=True)
        name = Column(String(20))
        extra: int = 0  # a plain dataclass field, not a column

        def __post_init__(self):
            posted.append(self.extra)

    t = Tagged(extra=3)
    assert t.extra == 3
    assert posted == [3]
    assert Tagged(4).extra == 4


def test_generated_constructor_matches_generic_for_columns_and_errors():
    """Disproves: keyword-only / unknown keyword / relationship keyword all behave
    as the generic constructor does."""
    GBase = declarative_base()

    class P(GBase):
        __tablename__ = "rv3_gp"
        id = Column(Integer, primary_key=True)
        name = Column(String(20))
        kids = relationship("K", back_populates="p")

    class K(GBase):
        __tablename__ = "rv3_gk"
        id = Column(Integer, primary_key=True)
        p_id = Column(ForeignKey("rv3_gp.id"))
        p = relationship("P", back_populates="kids")

    p = P(name="a")
    k = K(p=p)
    assert k.p is p and p.kids == [k]
    with pytest.raises(TypeError):
        P("positional")
    with pytest.raises(TypeError, match="nope"):
        P(nope=1)
    import copy

    c = copy.copy(P(name="b"))
    assert c.name == "b"
