"""``lazy="dynamic"``, ``lazy="write_only"`` and ``lazy="raise_on_sql"``
compared with SQLAlchemy's ORM: each program runs on ``sqlalchemy.orm`` and on
session_ext (tables ``cvsa_*``/``cvse_*``) and the results must agree."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from conformance import raised_name, same_on_both
from sqlalchemy import Column, ForeignKey, Integer, String, Table, select

FLAVORS = ("sa", "se")


def _build(flavor: str) -> SimpleNamespace:
    if flavor == "sa":
        from sqlalchemy.orm import Session, declarative_base, raiseload, relationship
    else:
        from session_ext import Session, declarative_base, raiseload, relationship
    Base = declarative_base()
    p = f"cv{flavor}_"

    account_tags = Table(
        p + "account_tags",
        Base.metadata,
        Column("account_id", ForeignKey(p + "accounts.id"), primary_key=True),
        Column("tag_id", ForeignKey(p + "tags.id"), primary_key=True),
    )

    class Account(Base):
        __tablename__ = p + "accounts"
        id = Column(Integer, primary_key=True)
        name = Column(String(30))
        posts = relationship("Post", lazy="dynamic", back_populates="account",
                             order_by="Post.id")
        tags = relationship("Tag", secondary=account_tags, lazy="dynamic", order_by="Tag.id")
        entries = relationship("Entry", lazy="write_only", order_by="Entry.id",
                               passive_deletes=True)
        notes = relationship("Note", lazy="raise_on_sql", back_populates="account")

    class Post(Base):
        __tablename__ = p + "posts"
        id = Column(Integer, primary_key=True)
        account_id = Column(ForeignKey(p + "accounts.id"))
        title = Column(String(30))
        account = relationship("Account", back_populates="posts")

    class Tag(Base):
        __tablename__ = p + "tags"
        id = Column(Integer, primary_key=True)
        name = Column(String(30))

    class Entry(Base):
        __tablename__ = p + "entries"
        id = Column(Integer, primary_key=True)
        account_id = Column(ForeignKey(p + "accounts.id"))
        text = Column(String(30))

    class Note(Base):
        __tablename__ = p + "notes"
        id = Column(Integer, primary_key=True)
        account_id = Column(ForeignKey(p + "accounts.id"))
        account = relationship("Account", back_populates="notes", lazy="raise_on_sql")

    return SimpleNamespace(
        flavor=flavor, Base=Base, Session=Session, Account=Account, Post=Post, Tag=Tag,
        Entry=Entry, Note=Note, raiseload=raiseload,
    )


MODELS = {f: _build(f) for f in FLAVORS}


def run(engine: Any, program: Any) -> Any:
    def body(m: SimpleNamespace, eng: Any) -> Any:
        with m.Session(eng) as s:
            return program(m, s)

    return same_on_both(MODELS, engine, body)


def titles(objs: Any) -> list[str]:
    return [getattr(o, "title", None) or o.name for o in objs]


# -- lazy="dynamic" ---------------------------------------------------------------------
def test_dynamic_append_query_remove(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        acc = m.Account(name="a")
        p1 = m.Post(title="p1")
        acc.posts.append(p1)
        transient = titles(acc.posts)  # no session: what was appended
        s.add(acc)
        acc.posts.extend([m.Post(title="p2"), m.Post(title="p3")])
        out = [transient, acc.posts.count()]  # autoflushes first
        out.append(titles(acc.posts.filter(m.Post.title != "p2").all()))
        out.append(acc.posts.order_by(None).order_by(m.Post.id.desc()).first().title)
        out.append(titles(acc.posts[1:3]))
        out.append(p1.account is acc)  # the backref was set
        acc.posts.remove(p1)
        s.commit()
        out.append((titles(acc.posts), p1.account_id, p1.account))
        acc.posts = [p1]  # assignment replaces the collection
        s.commit()
        out.append(sorted(s.execute(select(m.Post.title, m.Post.account_id)).all()))
        return out

    result = run(engine, program)
    assert result[:3] == [["p1"], 3, ["p1", "p3"]]
    assert result[5:] == [True, (["p2", "p3"], None, None), [("p1", 1), ("p2", None),
                                                             ("p3", None)]]


def test_dynamic_many_to_many_and_parent_delete(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        acc = m.Account(name="a")
        red, blue = m.Tag(name="red"), m.Tag(name="blue")
        acc.tags.append(red)
        acc.tags.append(blue)
        acc.posts.append(m.Post(title="p1"))
        s.add(acc)
        s.commit()
        out = [titles(acc.tags), titles(acc.tags.filter_by(name="blue"))]
        acc.tags.remove(red)
        s.commit()
        out.append(titles(acc.tags))
        s.expire_all()  # nothing of the account is in memory any more
        acc.posts.append(m.Post(title="p2"))
        s.flush()
        acc.posts.remove(s.scalars(select(m.Post).filter_by(title="p2")).one())
        s.delete(acc)
        s.commit()  # the dynamic children are found in the database; keys set NULL
        out.append(s.execute(
            select(m.Post.title, m.Post.account_id).order_by(m.Post.id)).all())
        return out

    assert run(engine, program) == [
        ["red", "blue"], ["blue"], ["blue"], [("p1", None), ("p2", None)],
    ]


# -- lazy="write_only" ------------------------------------------------------------------
def test_write_only_collection(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        acc = m.Account(name="a")
        e1 = m.Entry(text="e1")
        acc.entries.add_all([e1, m.Entry(text="e2")])
        s.add(acc)
        s.commit()
        out = [[e.text for e in s.scalars(acc.entries.select())]]
        s.execute(acc.entries.insert(), [{"text": "e3"}, {"text": "e4"}])
        s.execute(acc.entries.update().values(text="E2").where(m.Entry.text == "e2"))
        s.execute(acc.entries.delete().where(m.Entry.text == "e4"))
        acc.entries.remove(e1)
        acc.entries.add(m.Entry(text="e5"))
        s.commit()
        out.append(s.execute(
            select(m.Entry.text, m.Entry.account_id).order_by(m.Entry.id)).all())
        try:
            iter(acc.entries)
        except TypeError:
            out.append("not iterable")
        return out

    assert run(engine, program) == [
        ["e1", "e2"],
        [("e1", None), ("E2", 1), ("e3", 1), ("e5", 1)],
        "not iterable",
    ]


# -- lazy="raise_on_sql" ----------------------------------------------------------------
def test_raise_on_sql(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        acc = m.Account(name="a", notes=[m.Note(), m.Note()])
        s.add_all([acc, m.Note()])
        s.commit()
        s.expunge_all()
        notes = s.scalars(select(m.Note).order_by(m.Note.id)).all()
        out = [raised_name(lambda: notes[0].account)]  # not in the identity map: SQL needed
        account = s.get(m.Account, 1)
        out.append(notes[1].account is account)  # in the identity map: no SQL
        out.append(notes[2].account)  # NULL foreign key: None without SQL
        out.append(raised_name(lambda: account.notes))
        s.expunge_all()
        posts_acc = s.scalars(
            select(m.Account).options(m.raiseload(m.Account.notes, sql_only=True))
        ).one()
        out.append(raised_name(lambda: posts_acc.notes))
        return out

    assert run(engine, program) == [
        "InvalidRequestError", True, None, "InvalidRequestError", "InvalidRequestError",
    ]
