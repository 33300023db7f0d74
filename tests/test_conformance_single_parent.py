"""``relationship(single_parent=True)`` and the delete-orphan cascade on the
many-to-one / many-to-many side, compared with SQLAlchemy's ORM."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from conformance import raised_name, same_on_both
from sqlalchemy import Column, ForeignKey, Integer, String, Table, select

FLAVORS = ("sa", "se")


def _build(flavor: str, **user_kw: Any) -> SimpleNamespace:
    if flavor == "sa":
        from sqlalchemy.orm import Session, configure_mappers, declarative_base, relationship
    else:
        from session_ext import Session, declarative_base, relationship

        configure_mappers = None
    Base = declarative_base()
    p = f"sp{flavor}_"
    links = Table(
        p + "links", Base.metadata,
        Column("a_id", ForeignKey(p + "a.id"), primary_key=True),
        Column("t_id", ForeignKey(p + "tags.id"), primary_key=True),
    )

    class Pref(Base):
        __tablename__ = p + "prefs"
        id = Column(Integer, primary_key=True)
        name = Column(String(20))

    class Tag(Base):
        __tablename__ = p + "tags"
        id = Column(Integer, primary_key=True)
        name = Column(String(20))

    class A(Base):
        __tablename__ = p + "a"
        id = Column(Integer, primary_key=True)
        pref_id = Column(ForeignKey(p + "prefs.id"))
        pref = relationship(Pref, **user_kw)
        tags = relationship(Tag, secondary=links, **user_kw)

    if configure_mappers is not None:
        configure_mappers()
    else:
        A(id=0)  # the first instance configures the mapping
    return SimpleNamespace(Base=Base, Session=Session, A=A, Pref=Pref, Tag=Tag)


def test_delete_orphan_on_many_to_one_needs_single_parent() -> None:
    results = {f: raised_name(lambda f=f: _build(f, cascade="all, delete-orphan"))
               for f in FLAVORS}
    assert results == {"sa": "ArgumentError", "se": "ArgumentError"}


MODELS = {f: _build(f, cascade="all, delete-orphan", single_parent=True) for f in FLAVORS}


def test_single_parent(engine: Any) -> None:
    def program(m: SimpleNamespace, eng: Any) -> Any:
        with m.Session(eng) as s:
            pref, tag = m.Pref(name="p"), m.Tag(name="t")
            a1 = m.A(id=1, pref=pref, tags=[tag])
            a2 = m.A(id=2)
            out = [raised_name(lambda: setattr(a2, "pref", pref)),
                   raised_name(lambda: a2.tags.append(tag))]
            a1.pref = None  # released: another parent may take it now
            a1.tags.remove(tag)
            a2.pref = pref
            a2.tags.append(tag)
            s.add_all([a1, a2])
            s.commit()
            a2.pref = None  # orphaned: deleted by the delete-orphan cascade
            a2.tags.remove(tag)
            s.commit()
            out.append(s.scalars(select(m.Pref.name)).all())
            out.append(s.scalars(select(m.Tag.name)).all())
            return out

    assert same_on_both(MODELS, engine, program) == [
        "InvalidRequestError", "InvalidRequestError", [], [],
    ]
