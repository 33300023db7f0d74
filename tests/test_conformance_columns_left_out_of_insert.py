"""Columns an INSERT left out, compared with SQLAlchemy's ORM (issue 11,
tests/differential/FINDINGS.md #5).

A column with no value and no default of any kind is not sent in the INSERT:
SQLAlchemy's ORM keeps it *not loaded, but known to be NULL*.  Reading it gives
None without SQL (also on a detached object), ``merge()`` does not copy it, a
row loaded later fills it in, and expiring it makes it an ordinary expired
attribute.  A column with a server default is fetched (RETURNING) or expired.
Each program runs once per library; what it observes must agree.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

import sqlalchemy.orm as sa_orm
from conformance import same_on_both
from sqlalchemy import Column, Integer, String, event, select, text, update
from sqlalchemy import inspect as sa_inspect

import session_ext as se


@functools.cache
def _models(kind: str) -> SimpleNamespace:
    orm: Any = sa_orm if kind == "sa" else se

    class Base(orm.DeclarativeBase):
        pass

    class Person(Base):
        __tablename__ = f"{kind}_omit_person"
        id = Column(Integer, primary_key=True)
        name = Column(String(30))
        age = Column(Integer)
        level = Column(Integer, server_default=text("7"))
        status = Column(String(10), default="new")

    return SimpleNamespace(Base=Base, Person=Person, Session=orm.Session,
                           inspect=sa_inspect if kind == "sa" else se.inspect)


def _look(m: SimpleNamespace, obj: Any, seen: list[str]) -> tuple[Any, ...]:
    """Loaded attributes, unloaded and expired ones, and the SQL run since the last look."""
    insp = m.inspect(obj)
    out = (
        sorted(k for k in obj.__dict__ if not k.startswith("_")),
        sorted(insp.unloaded),
        sorted(insp.expired_attributes),
        list(seen),
    )
    seen.clear()
    return out


def _same_on_both(engine: Any, program: Any) -> Any:
    """``program(models, engine, seen)`` on each library, ``seen`` collecting
    the first word of each statement run; asserts both observed the same."""

    def each(m: SimpleNamespace, engine: Any) -> Any:
        seen: list[str] = []

        def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            seen.append(statement.split()[0])

        event.listen(engine, "before_cursor_execute", record)
        try:
            return program(m, engine, seen)
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return same_on_both(_models, engine, each)


def test_reading_a_column_left_out_of_the_insert_runs_no_sql(engine):
    def program(m, engine, seen):
        with m.Session(engine, expire_on_commit=False) as session:
            p = m.Person(name="ann")
            session.add(p)
            session.flush()
            after_insert = _look(m, p, seen)
            read = (p.age, p.level, p.status)
            after_read = _look(m, p, seen)
            session.commit()
        seen.clear()
        detached = p.age  # no session: still None, no DetachedInstanceError
        return after_insert, read, after_read, detached, seen

    after_insert, read, after_read, detached, seen = _same_on_both(engine, program)
    assert after_insert[0] == ["id", "level", "name", "status"]  # level: RETURNING
    assert after_insert[1] == ["age"] and after_insert[2] == []
    assert read == (None, 7, "new")
    assert after_read[3] == [] and detached is None and seen == []


def test_expiring_a_column_left_out_makes_it_load(engine):
    def program(m, engine, seen):
        with m.Session(engine) as session:
            p = m.Person(name="ann")
            session.add(p)
            session.flush()
            session.execute(text("UPDATE " + m.Person.__tablename__ + " SET age = 5"))
            seen.clear()
            session.expire(p, ["name"])  # another column: age stays known-None
            name = p.name
            some = (_look(m, p, seen), name, p.age)
            session.expire(p, ["age"])
            one = (_look(m, p, seen), p.age, _look(m, p, seen))
            q = m.Person(name="bob")
            session.add(q)
            session.flush()
            session.expire(q)
            whole = (_look(m, q, seen), q.age, _look(m, q, seen))
            r = m.Person(name="cy")
            session.add(r)
            session.flush()
            session.refresh(r)
            refreshed = _look(m, r, seen)
        return some, one, whole, refreshed

    some, one, whole, refreshed = _same_on_both(engine, program)
    assert some == ((["id", "level", "name", "status"], ["age"], [], ["SELECT"]), "ann", None)
    assert one[0][2] == ["age"] and one[1] == 5 and one[2][3] == ["SELECT"]
    assert whole[1] is None and whole[2][1] == [] and whole[2][3] == ["SELECT"]
    assert refreshed[1] == [] and refreshed[3] == ["INSERT", "SELECT"]


def test_a_later_row_fills_in_a_column_left_out(engine):
    def program(m, engine, seen):
        with m.Session(engine) as session:
            p = m.Person(name="ann")
            session.add(p)
            session.flush()
            session.execute(text("UPDATE " + m.Person.__tablename__ + " SET age = 5"))
            seen.clear()
            session.scalars(select(m.Person)).all()
            return _look(m, p, seen), p.age

    look, age = _same_on_both(engine, program)
    assert look[1] == [] and look[3] == ["SELECT"] and age == 5


def test_merge_does_not_copy_a_column_left_out(engine):
    """merge() of an object whose column was left out of its INSERT leaves the
    target's value; merged onto such an object, a source without the value
    expires it there."""

    def program(m, engine, seen):
        with m.Session(engine, expire_on_commit=False) as session:
            p = m.Person(name="ann")
            session.add(p)
            session.commit()
        with m.Session(engine) as session:
            target = session.get(m.Person, p.id)
            target.age = 4
            session.flush()
            merged = session.merge(p)
            copied = (merged is target, merged.age)
            session.commit()
        with m.Session(engine, expire_on_commit=False) as session:
            w = m.Person(name="bob")
            session.add(w)
            session.flush()
            session.execute(text("UPDATE " + m.Person.__tablename__ + " SET age = 6"))
            seen.clear()
            session.merge(m.Person(id=w.id, name="bo"))
            onto = (_look(m, w, seen), w.age, _look(m, w, seen))
            session.rollback()
        return copied, onto

    copied, onto = _same_on_both(engine, program)
    assert copied == (True, 4)
    assert onto[0][2] == ["age"] and onto[1] == 6 and onto[2][3] == ["UPDATE", "SELECT"]


def test_evaluate_takes_a_column_left_out_as_null(engine):
    def program(m, engine, seen):
        with m.Session(engine) as session:
            p = m.Person(name="ann")
            session.add(p)
            session.flush()
            session.expire(p, ["name"])
            session.execute(update(m.Person).where(m.Person.age.is_(None)).values(status="x"),
                            execution_options={"synchronize_session": "evaluate"})
            return p.__dict__.get("status"), p.age

    assert _same_on_both(engine, program) == ("x", None)
