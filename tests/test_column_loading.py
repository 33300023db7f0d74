"""Column loading: deferred columns (``mapped_column(deferred=True)``, groups,
``deferred_raiseload``), the options ``load_only``/``defer``/``undefer``/
``undefer_group`` (also chained after relationship options), and
``query_expression()``/``with_expression()``."""

from __future__ import annotations

import pytest
from sqlalchemy import ForeignKey, LargeBinary, Text, func, inspect, select

from session_ext import (
    DeclarativeBase,
    Mapped,
    Session,
    defaultload,
    defer,
    load_only,
    mapped_column,
    query_expression,
    relationship,
    selectinload,
    undefer,
    undefer_group,
    with_expression,
)
from session_ext.exc import InvalidRequestError


class Base(DeclarativeBase):
    pass


class Writer(Base):
    __tablename__ = "cl_writer"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    notes: Mapped[str | None] = mapped_column(Text, deferred=True)
    pages: Mapped[int] = query_expression()
    novels: Mapped[list[Novel]] = relationship(back_populates="writer", order_by="Novel.id")


class Novel(Base):
    __tablename__ = "cl_novel"
    id: Mapped[int] = mapped_column(primary_key=True)
    writer_id: Mapped[int] = mapped_column(ForeignKey("cl_writer.id"))
    title: Mapped[str]
    blurb: Mapped[str] = mapped_column(Text, deferred=True, deferred_group="text")
    body: Mapped[str] = mapped_column(Text, deferred=True, deferred_group="text")
    cover: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, deferred_raiseload=True)
    writer: Mapped[Writer] = relationship(back_populates="novels")


@pytest.fixture
def session(engine):
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(Writer(name="w", notes="n", novels=[
            Novel(title="a", blurb="ba", body="xa", cover=b"1"),
            Novel(title="b", blurb="bb", body="xb", cover=b"2")]))
        s.commit()
    with Session(engine) as s:
        yield s
    Base.metadata.drop_all(engine)


def _unloaded(obj):
    return sorted(inspect(obj).unloaded)


def test_deferred_columns_load_by_group_on_access(session, count_statements):
    novel = session.scalars(select(Novel).order_by(Novel.id)).first()
    assert _unloaded(novel) == ["blurb", "body", "cover"]
    with count_statements(session.connection()) as stmts:
        assert novel.blurb == "ba"
    assert len(stmts) == 1
    assert _unloaded(novel) == ["cover"]  # the group only


def test_deferred_raiseload_raises_until_undeferred(session):
    novel = session.scalars(select(Novel).order_by(Novel.id)).first()
    with pytest.raises(InvalidRequestError, match=r"'Novel.cover' is not available due to"):
        _ = novel.cover
    same = session.scalars(select(Novel).order_by(Novel.id).options(undefer("*"))
                           .execution_options(populate_existing=True)).first()
    assert same is novel and novel.cover == b"1"


def test_load_only_defer_and_undefer_group(session):
    novel = session.scalars(select(Novel).options(load_only(Novel.title))).first()
    assert _unloaded(novel) == ["blurb", "body", "cover", "writer_id"]
    session.expunge_all()
    novel = session.scalars(select(Novel).options(undefer_group("text"))).first()
    assert _unloaded(novel) == ["cover"]
    session.expunge_all()
    writer = session.scalars(select(Writer).options(defer(Writer.name, raiseload=True),
                                                    undefer(Writer.notes))).one()
    assert writer.notes == "n"
    with pytest.raises(InvalidRequestError, match="raiseload"):
        _ = writer.name


def test_a_later_row_fills_in_what_an_object_lacks(session):
    writer = session.scalars(select(Writer)).one()
    assert "notes" in inspect(writer).unloaded
    again = session.scalars(select(Writer).options(undefer(Writer.notes))).one()
    assert again is writer and "notes" not in inspect(writer).unloaded


def test_column_options_chained_after_relationship_options(session):
    writer = session.scalars(
        select(Writer).options(selectinload(Writer.novels).load_only(Novel.title))).one()
    assert [n.title for n in writer.novels] == ["a", "b"]
    assert "blurb" in inspect(writer.novels[0]).unloaded
    session.expunge_all()
    writer = session.scalars(
        select(Writer).options(defaultload(Writer.novels).undefer(Novel.blurb))).one()
    assert "novels" not in writer.__dict__
    assert [n.blurb for n in writer.novels] == ["ba", "bb"]
    assert "body" in inspect(writer.novels[0]).unloaded


def test_with_expression_fills_a_query_expression(session):
    writer = session.scalars(select(Writer)).one()
    assert writer.pages is None
    session.expunge_all()
    stmt = (select(Writer).join(Writer.novels).group_by(Writer.id)
            .options(with_expression(Writer.pages, func.count(Novel.id))))
    writer = session.scalars(stmt).one()
    assert writer.pages == 2
    assert writer.name == "w"


def test_get_defers_too(session):
    writer_id = session.scalar(select(Writer.id))
    writer = session.get(Writer, writer_id)
    assert "notes" in inspect(writer).unloaded
    assert writer.notes == "n"
