"""``merge()`` and relationship events compared with SQLAlchemy's ORM (issue 11).

The findings of the differential test (tests/differential/FINDINGS.md) about
``merge()``, backrefs and collections, each as a small program run once with
``sqlalchemy.orm`` and once with ``session_ext`` (tables prefixed
``sa_``/``se_``); what a user can observe must agree.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, Table, text

FLAVORS = ("sa", "se")


def _build(flavor: str) -> SimpleNamespace:
    if flavor == "sa":
        from sqlalchemy.orm import Session, declarative_base, relationship
    else:
        from session_ext import Session, declarative_base, relationship
    Base = declarative_base()
    p = f"{flavor}_m_"

    user_keywords = Table(
        p + "user_keywords",
        Base.metadata,
        Column("user_id", ForeignKey(p + "users.id"), primary_key=True),
        Column("keyword_word", ForeignKey(p + "keywords.word"), primary_key=True),
    )

    class User(Base):
        __tablename__ = p + "users"
        id = Column(Integer, primary_key=True)
        name = Column(String(30))
        addresses = relationship("Address", back_populates="user",
                                 cascade="all, delete-orphan", order_by="Address.id")
        notes = relationship("Note", backref="author", order_by="Note.id")
        keywords = relationship("Keyword", secondary=user_keywords, back_populates="users",
                                order_by="Keyword.word")

        def __repr__(self) -> str:
            return f"User({self.__dict__.get('id')})"

    class Address(Base):
        __tablename__ = p + "addresses"
        id = Column(Integer, primary_key=True)
        user_id = Column(ForeignKey(p + "users.id"))
        email = Column(String(30))
        user = relationship("User", back_populates="addresses")

        def __repr__(self) -> str:
            return f"Address({self.__dict__.get('id')})"

    class Note(Base):
        __tablename__ = p + "notes"
        id = Column(Integer, primary_key=True)
        user_id = Column(ForeignKey(p + "users.id"))
        text = Column(String(30))

        def __repr__(self) -> str:
            return f"Note({self.__dict__.get('id')})"

    class Keyword(Base):
        __tablename__ = p + "keywords"
        word = Column(String(20), primary_key=True)
        users = relationship("User", secondary=user_keywords, back_populates="keywords",
                             order_by="User.id")

        def __repr__(self) -> str:
            return f"Keyword({self.__dict__.get('word')})"

    return SimpleNamespace(flavor=flavor, Base=Base, Session=Session, User=User,
                           Address=Address, Note=Note, Keyword=Keyword, prefix=p)


MODELS = {f: _build(f) for f in FLAVORS}


def run_both(engine: Any, program: Any) -> Any:
    """Run ``program(models, engine)`` on both ORMs; the results must be equal.
    Returns session_ext's."""
    results = {}
    for flavor in FLAVORS:
        m = MODELS[flavor]
        m.Base.metadata.create_all(engine)
        try:
            results[flavor] = program(m, engine)
        finally:
            m.Base.metadata.drop_all(engine)
    assert results["se"] == results["sa"]
    return results["se"]


def rows(m: SimpleNamespace, engine: Any, table: str) -> list[tuple[Any, ...]]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text(f"SELECT * FROM {m.prefix}{table} ORDER BY 1"))]


def listed(objs: Any) -> list[str]:
    return sorted(repr(o) for o in objs)


# =========================================================== #11: merge() of a collection only read
def _merge_read_collection(m: SimpleNamespace, engine: Any) -> list[Any]:
    out: list[Any] = []
    with m.Session(engine) as s:
        s.add(m.User(id=1, name="ann", addresses=[m.Address(id=1, email="e1")]))
        s.commit()
    with m.Session(engine) as s:
        t = m.User(id=1, name="bob")
        out.append(list(t.addresses))
        out.append("addresses" in t.__dict__)  # reading stores nothing
        out.append(t.addresses is t.addresses)
        s.merge(t)
        s.commit()
    out.append(rows(m, engine, "addresses"))  # the address survives (delete-orphan)
    out.append(rows(m, engine, "users"))
    with m.Session(engine) as s:
        # the empty collection becomes the object's value with its first change
        t = m.User(id=2, name="cy")
        coll = t.addresses
        coll.append(m.Address(id=2, email="e2"))
        out.append(("addresses" in t.__dict__, t.addresses is coll, len(t.addresses)))
        # a backref append lands in the collection already handed out
        k = m.Keyword(word="k")
        users = k.users
        t.keywords.append(k)
        out.append((users is k.users, listed(users)))
        s.add(t)
        s.commit()
    out.append(rows(m, engine, "addresses"))
    out.append(rows(m, engine, "user_keywords"))
    return out


def test_merge_leaves_a_collection_that_was_only_read(engine):
    """Before: reading ``t.addresses`` of a transient object stored [] in its
    ``__dict__``, and ``merge(t)`` copied that empty list onto the persistent
    user, deleting its address (delete-orphan): data loss."""
    out = run_both(engine, _merge_read_collection)
    assert out[:3] == [[], False, True]
    assert out[3] == [(1, 1, "e1")]
    assert out[4] == [(1, "bob")]
    assert out[5] == (True, True, 1)
    assert out[-1] == [(2, "k")]
