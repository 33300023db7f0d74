"""SQLAlchemy's session events page (doc/build/orm/session_events.rst), section
"Adding global WHERE / ON criteria": a ``do_orm_execute`` listener adding
``with_loader_criteria()`` to every top-level SELECT (``MyEntity.public ==
True``), and the ``HasTimestamp`` mixin with a lambda and
``include_aliases=True``, as a program of our own text run on ``sqlalchemy.orm``
and on session_ext with only the import lines changed.

The page's first listener calls ``with_loader_criteria(MyEntity.public ==
True)`` with one argument, which SQLAlchemy refuses (the entity is the first,
required argument); the program names the entity. The page's
``timedelta(months=1)`` is written ``timedelta(days=30)``, and its two mixin
classes (both named ``some_entity`` there) get tables of their own.
"""

from __future__ import annotations

from typing import Any

from doc_programs import same_on_both

PROGRAM = '''
import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, event, select
from sqlalchemy.orm import (DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker,
                            aliased, with_loader_criteria)


class Base(DeclarativeBase):
    pass


class MyEntity(Base):
    __tablename__ = "my_entity"
    id = mapped_column(Integer, primary_key=True)
    public = mapped_column(Boolean, nullable=False)
    owner_id = mapped_column(ForeignKey("owner.id"))


class Owner(Base):
    __tablename__ = "owner"
    id = mapped_column(Integer, primary_key=True)
    entities: Mapped[list[MyEntity]] = relationship(order_by=MyEntity.id)


class HasTimestamp:
    timestamp = mapped_column(DateTime, default=datetime.datetime.now)


class SomeEntity(HasTimestamp, Base):
    __tablename__ = "some_entity"
    id = mapped_column(Integer, primary_key=True)


class SomeOtherEntity(HasTimestamp, Base):
    __tablename__ = "some_other_entity"
    id = mapped_column(Integer, primary_key=True)


NOW = datetime.datetime(2026, 6, 1)
OLD = NOW - datetime.timedelta(days=60)
RECENT = NOW - datetime.timedelta(days=3)


def run(engine):
    out = {}
    Session = sessionmaker(engine)
    with Session() as s:
        s.add_all([Owner(id=1, entities=[MyEntity(id=1, public=True),
                                         MyEntity(id=2, public=False)]),
                   Owner(id=2, entities=[MyEntity(id=3, public=False)])])
        s.add_all([SomeEntity(id=1, timestamp=OLD), SomeEntity(id=2, timestamp=RECENT),
                   SomeOtherEntity(id=1, timestamp=RECENT),
                   SomeOtherEntity(id=2, timestamp=RECENT)])
        s.commit()

    # the first listener: every SELECT limits MyEntity to public rows
    Public = sessionmaker(engine)

    @event.listens_for(Public, "do_orm_execute")
    def _do_orm_execute(orm_execute_state):
        if (
            orm_execute_state.is_select
            and not orm_execute_state.is_column_load
            and not orm_execute_state.is_relationship_load
        ):
            orm_execute_state.statement = orm_execute_state.statement.options(
                with_loader_criteria(MyEntity, MyEntity.public == True)  # noqa: E712
            )

    with Public() as s:
        out["entities"] = s.scalars(select(MyEntity.id).order_by(MyEntity.id)).all()
        owners = s.scalars(select(Owner).order_by(Owner.id)).all()
        # lazy loads of the owners' collections carry the criteria
        out["lazy"] = [[e.id for e in o.entities] for o in owners]
        out["joined"] = s.execute(select(Owner.id, MyEntity.id).outerjoin(Owner.entities)
                                  .order_by(Owner.id, MyEntity.id)).all()
        out["query"] = [e.id for e in s.query(MyEntity).order_by(MyEntity.id)]
        out["get"] = s.get(MyEntity, 2) is None

    # the mixin + lambda form, aliases included
    Recent = sessionmaker(engine)

    @event.listens_for(Recent, "do_orm_execute")
    def _do_orm_execute_recent(orm_execute_state):
        if (
            orm_execute_state.is_select
            and not orm_execute_state.is_column_load
            and not orm_execute_state.is_relationship_load
        ):
            one_month_ago = NOW - datetime.timedelta(days=30)
            orm_execute_state.statement = orm_execute_state.statement.options(
                with_loader_criteria(
                    HasTimestamp,
                    lambda cls: cls.timestamp >= one_month_ago,
                    include_aliases=True,
                )
            )

    with Recent() as s:
        out["some"] = s.scalars(select(SomeEntity.id).order_by(SomeEntity.id)).all()
        out["other"] = s.scalars(select(SomeOtherEntity.id).order_by(SomeOtherEntity.id)).all()
        a = aliased(SomeEntity)
        out["aliased"] = s.scalars(select(a.id).order_by(a.id)).all()
        out["owners"] = len(s.scalars(select(Owner)).all())
    with Session() as s:
        out["unfiltered"] = len(s.scalars(select(SomeEntity)).all())
    return out
'''


def test_global_criteria_section_runs_the_same_on_both(engine: Any) -> None:
    out = same_on_both(PROGRAM, engine, name="session_events_loader_criteria")
    assert out["entities"] == [1] and out["query"] == [1]
    # the lazy loads of Owner.entities (relationship loads) got the criteria too
    assert out["lazy"] == [[1], []]
    # a join to MyEntity: the criteria in its ON clause, owner 2 kept
    assert out["joined"] == [(1, 1), (2, None)]
    assert out["get"] is True  # get() of a row that is not public
    # the mixin's lambda, per class, aliases included
    assert out["some"] == [2] and out["other"] == [1, 2] and out["aliased"] == [2]
    assert out["owners"] == 2 and out["unfiltered"] == 2
