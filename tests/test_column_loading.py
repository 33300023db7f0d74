"""Column loading: deferred columns (``mapped_column(deferred=True)``, groups,
``deferred_raiseload``), the options ``load_only``/``defer``/``undefer``/
``undefer_group`` (also chained after relationship options), and
``query_expression()``/``with_expression()``."""

from __future__ import annotations

import pytest
from doc_programs import same_on_both
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
    """Unloaded column attributes (``unloaded`` names relationships too, as SQLAlchemy's)."""
    state = inspect(obj)
    return sorted(k for k in state.unloaded if k not in state.mapper.relationships)


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


DEFERRAL_WITH_EAGER_LOADING = '''
from typing import List, Optional
from sqlalchemy import ForeignKey, Text, select, inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.orm import joinedload, selectinload, defer, load_only, undefer, aliased
class Base(DeclarativeBase):
    pass
class U(Base):
    __tablename__ = "cu"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    bio: Mapped[Optional[str]] = mapped_column(Text, deferred=True)
    bs: Mapped[List["B"]] = relationship(back_populates="u", order_by="B.id")
class B(Base):
    __tablename__ = "cb"
    id: Mapped[int] = mapped_column(primary_key=True)
    u_id: Mapped[int] = mapped_column(ForeignKey("cu.id"))
    t: Mapped[str]
    s: Mapped[str] = mapped_column(Text, deferred=True)
    u: Mapped[U] = relationship(back_populates="bs")
def un(o):
    return sorted(k for k in ("id","name","bio","u_id","t","s") if k in inspect(o).unloaded)
def run(engine):
    seen = {}
    with Session(engine) as s:
        s.add_all([U(name="a", bio="ba", bs=[B(t="1", s="s1"), B(t="2", s="s2")]),
                   U(name="b", bio="bb")])
        s.commit()
    with Session(engine) as s:
        us = s.scalars(select(U).options(joinedload(U.bs)).order_by(U.id).limit(1)).unique().all()
        seen["j_limit"] = [(un(u), [(b.t, un(b)) for b in u.bs]) for u in us]
        s.expunge_all()
        bs = s.scalars(select(B).options(joinedload(B.u), defer(B.t)).order_by(B.id)).all()
        seen["j_m2o"] = [(un(b), un(b.u), b.u.name) for b in bs]
        s.expunge_all()
        bs = s.scalars(select(B).options(selectinload(B.u), undefer(B.s)).order_by(B.id)).all()
        seen["sel"] = [(un(b), b.s, un(b.u)) for b in bs]
        s.expunge_all()
        u = s.scalars(select(U).where(U.name == "a")).one()
        s.expire(u)
        seen["expire"] = (u.name, un(u))
        u.bio = "new"
        s.flush()
        seen["flush"] = (un(u), u.bio)
        s.commit()
        seen["after_commit"] = (u.name, un(u), u.bio)
        ua = aliased(U)
        seen["aliased"] = [(x.name, un(x)) for x in s.scalars(select(ua).order_by(ua.id))]
        s.expunge_all()
        seen["aliased_undefer"] = [
            un(x) for x in s.scalars(select(ua).options(undefer(ua.bio)).order_by(ua.id))]
        s.expunge_all()
        rows = s.execute(select(U.id, U.bio).order_by(U.id)).all()
        seen["cols"] = [tuple(r) for r in rows]
        s.expunge_all()
        got = s.scalars(select(U).options(load_only(U.name)).order_by(U.id)).all()
        got2 = s.scalars(select(U).order_by(U.id)).all()
        seen["requery"] = [un(x) for x in got2]
        seen["bio_after"] = [x.bio for x in got2]
    return seen
'''


def test_deferral_with_eager_loading_expiry_and_flush_as_sqlalchemy(engine):
    seen = same_on_both(DEFERRAL_WITH_EAGER_LOADING, engine, name="deferral_eager")
    assert seen["j_limit"] == [(["bio"], [("1", ["s"]), ("2", ["s"])])]
    assert seen["after_commit"] == ("a", ["bio"], "new")


@pytest.mark.filterwarnings("error")
def test_with_expression_reads_a_column_of_a_statement_given_to_from_statement(session):
    from sqlalchemy import union_all

    counted = (select(Writer, func.count(Novel.id).label("n")).join(Writer.novels)
               .group_by(Writer.id))
    union = union_all(counted, counted)
    stmt = (select(Writer).from_statement(union)
            .options(with_expression(Writer.pages, union.selected_columns.n)))
    writers = session.scalars(stmt).all()
    assert [w.pages for w in writers] == [2, 2]
    assert writers[0] is writers[1]


def test_deferred_columns_of_an_imperative_mapping(engine):
    from sqlalchemy import Column, Integer, MetaData, String, Table

    from session_ext import Registry, deferred, instance_state

    registry = Registry(metadata=MetaData())
    table = Table("cl_imperative_book", registry.metadata,
                  Column("id", Integer, primary_key=True), Column("title", String(50)),
                  Column("summary", Text), Column("cover_image", LargeBinary))

    class Book:
        pass

    registry.map_imperatively(Book, table, properties={
        "summary": deferred(table.c.summary), "cover_image": deferred(table.c.cover_image)})
    registry.metadata.create_all(engine)
    try:
        with Session(engine) as s:
            s.execute(table.insert(), [{"title": "t", "summary": "s", "cover_image": b"i"}])
            book = s.scalars(select(Book)).one()
            assert sorted(instance_state(book).unloaded) == ["cover_image", "summary"]
            assert book.summary == "s"
            assert sorted(instance_state(book).unloaded) == ["cover_image"]
    finally:
        registry.metadata.drop_all(engine)
    with pytest.raises(Exception, match="column_property"):
        deferred(table.c.title + "x")


QUERY_EXPRESSIONS = '''
from sqlalchemy import select, literal, func
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.orm import query_expression, with_expression
class Base(DeclarativeBase):
    pass
class A(Base):
    __tablename__ = "ex_a"
    id: Mapped[int] = mapped_column(primary_key=True)
    x: Mapped[int]
    e: Mapped[int] = query_expression()
    d: Mapped[int] = query_expression(literal(7))
def run(engine):
    seen = {}
    with Session(engine) as s:
        s.add(A(x=1)); s.commit()
        a = s.scalars(select(A)).one()
        seen["plain"] = (a.e, a.d)
        a2 = s.scalars(select(A).options(with_expression(A.e, A.x + 10))).one()
        seen["already_loaded"] = (a2 is a, a.e)
        s.scalars(select(A).options(with_expression(A.e, A.x + 20))
                  .execution_options(populate_existing=True)).one()
        seen["populate"] = a.e
        s.expire(a)
        seen["expired"] = (a.e, a.x, a.e)
        s.expunge_all()
        a = s.scalars(select(A).options(with_expression(A.e, A.x + 30))).one()
        seen["fresh"] = a.e
        s.commit()
        seen["after_commit"] = (a.e, a.x, a.e, a.d)
    return seen
'''


def test_query_expressions_on_loaded_expired_and_reloaded_objects_as_sqlalchemy(engine):
    # SQLAlchemy 2.0 keeps a with_expression() value over a reload; 2.1 evaluates it again
    seen = same_on_both(QUERY_EXPRESSIONS, engine, name="query_expressions",
                        oracle_since=(2, 1))
    assert seen["plain"] == (None, 7)
    assert seen["expired"] == (None, 1, 21)
    assert seen["after_commit"] == (None, 1, 31, 7)
