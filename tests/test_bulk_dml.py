"""ORM bulk INSERT (groups of keys, RETURNING entities, joined-table
inheritance), bulk UPDATE by primary key, and UPDATE/DELETE of a joined-table
subclass with WHERE criteria."""

from __future__ import annotations

import pytest
from sqlalchemy import ForeignKey, delete, insert, inspect, select, update

from session_ext import DeclarativeBase, Mapped, Session, mapped_column
from session_ext.exc import InvalidRequestError, PendingRollbackError, StaleDataError


class Base(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "bd_person"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    nick: Mapped[str | None]


class Staff(Base):
    __tablename__ = "bd_staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    kind: Mapped[str]
    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "staff"}


class Boss(Staff):
    __tablename__ = "bd_boss"
    id: Mapped[int] = mapped_column(ForeignKey("bd_staff.id"), primary_key=True)
    title: Mapped[str]
    __mapper_args__ = {"polymorphic_identity": "boss"}


@pytest.fixture
def session(engine):
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    Base.metadata.drop_all(engine)


def test_bulk_insert_groups_rows_by_their_keys(session):
    session.execute(insert(Person), [{"name": "a"}, {"name": "b", "nick": "B"},
                                     {"name": "c", "nick": None}])
    rows = session.execute(select(Person.name, Person.nick).order_by(Person.name)).all()
    assert [tuple(r) for r in rows] == [("a", None), ("b", "B"), ("c", None)]


def test_insert_returning_entities_are_the_sessions_objects(session):
    people = session.scalars(insert(Person).returning(Person),
                             [{"name": "a"}, {"name": "b", "nick": "B"}]).all()
    assert [p.name for p in people] == ["a", "b"]
    assert all(inspect(p).persistent for p in people)
    assert session.get(Person, people[1].id) is people[1]


def test_joined_subclass_bulk_insert_writes_each_table(session):
    bosses = session.scalars(insert(Boss).returning(Boss),
                             [{"name": "x", "title": "T1"}, {"name": "y", "title": "T2"}]).all()
    assert [(type(b), b.name, b.title, b.kind) for b in bosses] == [
        (Boss, "x", "T1", "boss"), (Boss, "y", "T2", "boss")]


def test_bulk_update_by_primary_key(session):
    people = session.scalars(insert(Person).returning(Person),
                             [{"name": "a"}, {"name": "b"}, {"name": "c"}]).all()
    session.execute(update(Person), [{"id": people[0].id, "nick": "A"},
                                     {"id": people[2].id, "nick": "C", "name": "cc"}])
    rows = session.execute(select(Person.name, Person.nick).order_by(Person.id)).all()
    assert [tuple(r) for r in rows] == [("a", "A"), ("b", None), ("cc", "C")]
    assert people[2].name == "cc"
    with pytest.raises(InvalidRequestError, match="primary key"):
        session.execute(update(Person), [{"nick": "no key"}])


def test_joined_subclass_bulk_update_and_where_statements(session):
    bosses = session.scalars(insert(Boss).returning(Boss),
                             [{"name": "x", "title": "T1"}, {"name": "y", "title": "T2"}]).all()
    session.execute(update(Boss), [{"id": bosses[0].id, "name": "xx", "title": "T9"}])
    session.execute(update(Boss).where(Boss.id == bosses[1].id).values(title="T8"))
    rows = session.scalars(select(Boss).order_by(Boss.id)
                           .execution_options(populate_existing=True)).all()
    assert [(b.name, b.title) for b in rows] == [("xx", "T9"), ("y", "T8")]
    assert session.execute(delete(Boss).where(Boss.id == bosses[1].id)).rowcount == 1
    assert inspect(bosses[1]).deleted


def test_update_returning_entities(session):
    session.execute(insert(Person), [{"name": "a"}])
    a = session.scalars(select(Person)).one()
    got = session.scalars(update(Person).where(Person.name == "a").values(nick="N")
                          .returning(Person)).all()
    assert got == [a] and a.nick == "N"


# --------------------------------------------------------------------------- legacy bulk methods
def test_bulk_save_objects_writes_without_adding(session):
    new = [Person(name="a"), Person(name="b", nick="B")]
    session.bulk_save_objects(new)
    assert [inspect(o).transient for o in new] == [True, True]
    assert not any(o in session for o in new) and new[0].__dict__.get("id") is None
    keyed = [Person(name="c"), Person(name="d")]
    session.bulk_save_objects(keyed, return_defaults=True)
    assert [inspect(o).detached for o in keyed] == [True, True]
    assert [o.id for o in keyed] == [3, 4]
    loaded = session.get(Person, 3)
    keyed[0].nick = "C"
    session.bulk_save_objects(keyed)  # UPDATE by key: only the changed column
    assert loaded.nick is None  # the session's object is not synchronized
    session.refresh(loaded)
    assert loaded.nick == "C"
    assert session.scalars(select(Person.name).order_by(Person.id)).all() == ["a", "b", "c", "d"]


def test_bulk_insert_mappings_returns_defaults_into_the_dicts(session):
    plain = [{"name": "a", "nick": None}]
    session.bulk_insert_mappings(Person, plain)
    assert plain == [{"name": "a", "nick": None}]
    given = [{"name": "b"}, {"name": "c", "nick": None}, {"name": "d", "nick": "D"}]
    session.bulk_insert_mappings(Person, given, return_defaults=True)
    assert [m["id"] for m in given] == [2, 3, 4]
    bosses = [{"name": "x", "title": "T"}]
    session.bulk_insert_mappings(Boss, bosses, return_defaults=True)
    assert session.get(Boss, bosses[0]["id"]).title == "T"


def test_bulk_update_mappings_checks_rowcounts(session):
    session.bulk_insert_mappings(Person, [{"name": "a"}, {"name": "b"}])
    session.bulk_update_mappings(Person, [{"id": 1, "nick": "A"}, {"id": 2, "name": "b2"}])
    assert session.execute(select(Person.name, Person.nick).order_by(Person.id)).all() == [
        ("a", "A"), ("b2", None)]
    session.commit()
    with pytest.raises(StaleDataError):
        session.bulk_update_mappings(Person, [{"id": 99, "nick": "gone"}])
    with pytest.raises(PendingRollbackError):
        session.execute(select(Person.id))
    session.rollback()
    assert session.scalar(select(Person.nick).where(Person.id == 1)) == "A"


def test_get_bind_sees_flushing_during_bulk_operations(engine):
    seen = []

    class Recording(Session):
        def get_bind(self, mapper=None, clause=None, **kw):
            seen.append(self._flushing)
            return super().get_bind(mapper, clause, **kw)

    Base.metadata.create_all(engine)
    try:
        with Recording(engine) as s:
            assert s._flushing is False
            s.bulk_insert_mappings(Person, [{"name": "a"}])
            assert seen == [True] and s._flushing is False
    finally:
        Base.metadata.drop_all(engine)
