"""Flush and loading behaviour compared with SQLAlchemy's ORM (issue 11).

Most tests run one small program twice on the same database, once with
``sqlalchemy.orm`` and once with ``session_ext`` (only the imports differ, see
:func:`orm_models`), and compare what each observes.
"""

from __future__ import annotations

import functools
import warnings
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy.orm as sa_orm
from sqlalchemy import Column, ForeignKey, Integer, String, delete, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect

import session_ext as se
from session_ext import exc as se_exc

KINDS = ("sa", "se")


@functools.cache
def orm_models(kind: str) -> SimpleNamespace:
    """The same models declared with SQLAlchemy's ORM ("sa") or session_ext ("se")."""
    orm: Any = sa_orm if kind == "sa" else se

    class Base(orm.DeclarativeBase):
        pass

    class Todo(Base):
        __tablename__ = "todo"
        id = Column(Integer, primary_key=True)
        title = Column(String(50), default=None)

    class ServerTodo(Base):
        __tablename__ = "server_todo"
        id = Column(Integer, primary_key=True)
        title = Column(String(50), server_default="untitled")

    class Tag(Base):
        __tablename__ = "tag"
        name = Column(String(20), primary_key=True)
        label = Column(String(20), nullable=False)

    class Post(Base):
        __tablename__ = "post"
        id = Column(Integer, primary_key=True)
        tags = orm.relationship("PostTag", cascade="all, delete-orphan")

    class PostTag(Base):
        __tablename__ = "post_tag"
        post_id = Column(ForeignKey("post.id"), primary_key=True)
        name = Column(String(20), primary_key=True)
        label = Column(String(20), nullable=False)

    class User(Base):
        __tablename__ = "users"
        id = Column(Integer, primary_key=True)
        name = Column(String(50))
        addresses = orm.relationship("Address", back_populates="user")

    class Address(Base):
        __tablename__ = "addresses"
        id = Column(Integer, primary_key=True)
        user_id = Column(ForeignKey("users.id"))
        email = Column(String(50))
        user = orm.relationship("User", back_populates="addresses")

    return SimpleNamespace(
        kind=kind,
        orm=orm,
        Session=orm.Session,
        inspect=sa_inspect if kind == "sa" else se.inspect,
        exc=sa_orm.exc if kind == "sa" else se_exc,
        Base=Base,
        Todo=Todo,
        ServerTodo=ServerTodo,
        Tag=Tag,
        Post=Post,
        PostTag=PostTag,
        User=User,
        Address=Address,
    )


def run_both(engine: Any, program: Any) -> dict[str, Any]:
    """``program(models, engine)`` with each ORM on freshly created tables."""
    out = {}
    for kind in KINDS:
        m = orm_models(kind)
        m.Base.metadata.drop_all(engine)
        m.Base.metadata.create_all(engine)
        try:
            out[kind] = program(m, engine)
        finally:
            m.Base.metadata.drop_all(engine)
    return out


def lifecycle(m: SimpleNamespace, obj: object) -> str:
    insp = m.inspect(obj)
    for name in ("transient", "pending", "persistent", "deleted", "detached"):
        if getattr(insp, name):
            return name
    return "?"


def outcome(fn: Any) -> str:
    """The exception class name ``fn()`` raises (its SQLAlchemy base for
    session_ext's subclasses), or "ok"."""
    try:
        fn()
    except sa_exc.SQLAlchemyError as err:
        for cls in type(err).__mro__:
            if cls.__module__.startswith("sqlalchemy"):
                return cls.__name__
        return type(err).__name__  # pragma: no cover
    return "ok"


# --------------------------------------------------------------------------- 1. empty rows


@pytest.mark.parametrize("model", ["Todo", "ServerTodo"])
@pytest.mark.parametrize("count", [2, 7, 1100])
def test_new_rows_without_any_column_value_insert_in_a_batch(engine, model, count):
    """Rows with no column set are INSERTed with the table's defaults (DEFAULT
    VALUES): two or more used to crash the SQLite driver-tuple batch; 1,100
    takes PostgreSQL's COPY path, a handful its multi-row RETURNING path."""

    def program(m, engine):
        cls = getattr(m, model)
        with m.Session(engine) as session:
            objs = [cls() for _ in range(count)]
            session.add_all(objs)
            session.commit()
            ids = [o.id for o in objs]
            titles = {o.title for o in objs}
            stored = session.scalar(select(func.count()).select_from(cls))
        return sorted(ids), titles, stored

    result = run_both(engine, program)
    assert result["se"] == result["sa"]
    ids, titles, stored = result["se"]
    assert ids == list(range(1, count + 1))
    assert titles == ({None} if model == "Todo" else {"untitled"})
    assert stored == count


def test_one_empty_row_and_a_batch_of_them_in_one_flush(engine):
    m = orm_models("se")
    m.Base.metadata.create_all(engine)
    with se.Session(engine) as session:
        session.add(m.Todo(title="first"))
        session.flush()
        session.add_all([m.Todo(), m.Todo(), m.Todo(title="x"), m.Todo()])
        session.commit()
        ids = session.scalars(select(m.Todo.id).order_by(m.Todo.id)).all()
        titles = session.scalars(select(m.Todo.title)).all()
    # rows with different column sets go in different batches (docs/differences.md)
    assert ids == [1, 2, 3, 4, 5]
    assert sorted(titles, key=str) == [None, None, None, "first", "x"]


# --------------------------------------------------------------------------- 2. same key again


def _seed_tag(m, engine):
    with m.Session(engine) as session:
        session.add(m.Tag(name="a", label="old"))
        session.commit()


def test_duplicate_key_insert_warns_and_raises_integrity_error_for_retry(engine):
    """A new object with the key of a persistent one: SQLAlchemy warns and lets
    the INSERT fail with IntegrityError, so the usual ``except IntegrityError:
    rollback(); retry`` pattern works; it used to be a FlushError."""

    def program(m, engine):
        _seed_tag(m, engine)
        with m.Session(engine) as session:
            held = session.get(m.Tag, "a")
            session.add(m.Tag(name="a", label="dup"))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    session.commit()
                    first = "ok"
                except sa_exc.IntegrityError:
                    first = "IntegrityError"
                    session.rollback()
            warned = [str(w.message) for w in caught if issubclass(w.category, sa_exc.SAWarning)]
            # the retry: update the existing row instead
            session.merge(m.Tag(name="a", label="merged"))
            session.commit()
            labels = session.scalars(select(m.Tag.label)).all()
            assert held.label == "merged"
        return first, len(warned), "conflicts" in " ".join(warned), labels

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == ("IntegrityError", 1, True, ["merged"])


def test_expired_holder_of_the_key_whose_row_is_gone_gives_way(engine):
    """The session still holds an expired object for key 'a' whose row another
    connection deleted: adding a new 'a' reloads the old one, finds it gone and
    INSERTs (SQLAlchemy's behaviour) instead of raising."""

    def program(m, engine):
        _seed_tag(m, engine)
        with m.Session(engine) as session:
            old = session.get(m.Tag, "a")
            session.commit()  # expires old
            with engine.begin() as conn:
                conn.execute(delete(m.Tag.__table__))
            new = m.Tag(name="a", label="new")
            session.add(new)
            session.commit()
            states = lifecycle(m, old), lifecycle(m, new)
            labels = session.scalars(select(m.Tag.label)).all()
            again = session.get(m.Tag, "a") is new
        return states, labels, again

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == (("detached", "persistent"), ["new"], True)


@pytest.mark.parametrize("flush_between", [False, True])
def test_rollback_after_delete_and_re_add_then_retry(engine, flush_between):
    """Delete 'a', add a new 'a' (a row switch, or DELETE then INSERT), fail
    later in the transaction, roll back, retry the same work: the retry commits,
    and objects inserted *and* deleted in the rolled back transaction are
    transient (they were reported pending with no key)."""

    def program(m, engine):
        _seed_tag(m, engine)
        seen = []
        with m.Session(engine) as session:
            for fail in (True, False):
                old = session.get(m.Tag, "a")
                session.delete(old)
                if flush_between:
                    session.flush()
                first = m.Tag(name="a", label="first")
                session.add(first)
                session.flush()
                session.delete(first)
                if flush_between:
                    session.flush()
                second = m.Tag(name="a", label="second")
                session.add(second)
                session.flush()
                session.add(m.Tag(name="b", label=None if fail else "b"))
                try:
                    session.commit()
                    seen.append("ok")
                except sa_exc.IntegrityError:
                    session.rollback()
                    seen.append(
                        (lifecycle(m, old), lifecycle(m, first), lifecycle(m, second))
                    )
            labels = session.scalars(select(m.Tag.label).order_by(m.Tag.name)).all()
        return seen, labels

    result = run_both(engine, program)
    assert result["se"] == result["sa"]
    assert result["se"] == (
        [("persistent", "transient", "transient"), "ok"],
        ["second", "b"],
    )


@pytest.mark.parametrize("flush_between", [False, True])
def test_child_replaced_in_collection_under_the_same_key(engine, flush_between, count_statements):
    """``post.tags = [PostTag(name='a')]`` replacing the loaded PostTag 'a'
    (delete-orphan): the new child's key comes from the parent at flush time;
    SQLAlchemy sees the row switch and UPDATEs. It used to INSERT first and fail
    on the duplicate key, so a rollback-and-retry failed again."""

    def program(m, engine):
        with m.Session(engine) as session:
            session.add(m.Post(id=1, tags=[m.PostTag(name="a", label="old")]))
            session.commit()
        seen = []
        with m.Session(engine) as session:
            for fail in (True, False):
                post = session.get(m.Post, 1)
                post.tags = [m.PostTag(name="a", label="new")]
                if flush_between:
                    session.flush()
                post.tags.append(m.PostTag(name="b", label=None if fail else "b"))
                try:
                    with count_statements(engine) as stmts:
                        session.commit()
                    seen.append(sorted(s.split()[0] for s in stmts.statements
                                       if not s.startswith(("COMMIT", "BEGIN"))))
                except sa_exc.IntegrityError as err:
                    seen.append(str(err.orig).split(":")[0].split()[0])
                    session.rollback()
            rows = session.execute(
                select(m.PostTag.post_id, m.PostTag.name, m.PostTag.label).order_by(m.PostTag.name)
            ).all()
        return seen, [tuple(r) for r in rows]

    result = run_both(engine, program)
    assert result["se"][1] == result["sa"][1] == [(1, "a", "new"), (1, "b", "b")]
    assert result["se"][0][1] == result["sa"][0][1]
