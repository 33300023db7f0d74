"""Autoflush before loads, UPDATE/DELETE synchronisation and joined eager
collections, compared with SQLAlchemy's ORM (issue 11,
tests/differential/FINDINGS.md #2, #3, #10, #15, #22).

Each test runs one small program twice on the same database, once with
``sqlalchemy.orm`` and once with ``session_ext`` (only the imports differ), and
compares what each observes.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy.orm as sa_orm
from conformance import lifecycle as object_lifecycle
from conformance import raised_name, run_each
from sqlalchemy import Column, ForeignKey, Integer, String, delete, func, select, update
from sqlalchemy import inspect as sa_inspect

import session_ext as se


@functools.cache
def orm_models(kind: str) -> SimpleNamespace:
    """The same models declared with SQLAlchemy's ORM ("sa") or session_ext ("se")."""
    orm: Any = sa_orm if kind == "sa" else se

    class Base(orm.DeclarativeBase):
        pass

    class User(Base):
        __tablename__ = "users"
        id = Column(Integer, primary_key=True)
        name = Column(String(30), nullable=False)
        nickname = Column(String(30))
        age = Column(Integer)
        status = Column(String(10), default="new")
        addresses = orm.relationship(
            "Address", back_populates="user", cascade="all, delete-orphan", order_by="Address.id"
        )

    class Address(Base):
        __tablename__ = "addresses"
        id = Column(Integer, primary_key=True)
        user_id = Column(ForeignKey("users.id"))
        email = Column(String(50), nullable=False)
        user = orm.relationship("User", back_populates="addresses")

    class Note(Base):
        __tablename__ = "notes"
        id = Column(Integer, primary_key=True)
        text = Column(String(30))

    return SimpleNamespace(
        kind=kind,
        orm=orm,
        Session=orm.Session,
        inspect=sa_inspect if kind == "sa" else se.inspect,
        joinedload=orm.joinedload,
        Base=Base,
        User=User,
        Address=Address,
        Note=Note,
    )


def run_both(engine: Any, program: Any) -> dict[str, Any]:
    """``program(models, engine)`` with each ORM on freshly created tables."""
    return run_each(orm_models, engine, program, drop_first=True)


def lifecycle(m: SimpleNamespace, obj: object) -> str:
    return object_lifecycle(m.inspect, obj)








def loaded(obj: object, *keys: str) -> dict[str, Any]:
    """The loaded values of ``keys`` ("-" for not loaded)."""
    return {k: obj.__dict__.get(k, "-") for k in keys}


# --------------------------------------------------------------------------- autoflush


def test_loading_expired_attributes_autoflushes_first(engine, count_statements):
    """#22: reading an expired attribute loads it with a SELECT, and like any
    query that first flushes the session's pending changes."""

    def program(m, engine):
        with m.Session(engine) as session:
            u = m.User(name="ann")
            session.add(u)
            session.commit()
            n = m.Note(text="z")
            session.add(n)
            u.id  # noqa: B018 - the load under test
            first = lifecycle(m, n)
            v = m.User(name="bob")
            session.add(v)
            session.commit()
            n2 = m.Note(text="y")
            session.add(n2)
            with count_statements(engine) as stmts:
                name = v.name
            return first, lifecycle(m, n2), name, [s.split()[0] for s in stmts.statements]

    result = run_both(engine, program)
    assert result["se"] == result["sa"]
    assert result["se"] == ("persistent", "persistent", "bob", ["INSERT", "SELECT"])


def test_loading_a_fully_loaded_object_does_not_autoflush(engine):
    def program(m, engine):
        with m.Session(engine, expire_on_commit=False) as session:
            u = m.User(name="ann")
            session.add(u)
            session.commit()
            n = m.Note(text="z")
            session.add(n)
            u.name  # noqa: B018
            return lifecycle(m, n)

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == "pending"


def test_merge_autoflushes_first(engine):
    """#2: merge(load=True) flushes the session before it looks anything up;
    load=False does not."""

    def program(m, engine):
        with m.Session(engine) as session:
            n0 = m.Note(text="a")
            session.add(n0)
            session.flush()
            n1 = m.Note(text="b")
            session.add(n1)
            session.merge(n0)
            after_merge = lifecycle(m, n1)
            n2 = m.Note(text="c")
            session.add(n2)
            session.merge(n0, load=False)
            return after_merge, lifecycle(m, n2)

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == ("persistent", "pending")


def test_delete_autoflushes_before_loading_what_it_cascades_to(engine):
    """#15: delete() of an expired object loads it and its delete-cascade
    collection, autoflushing first; the cascaded objects are deleted too."""

    def program(m, engine):
        with m.Session(engine) as session:
            u = m.User(name="ann", addresses=[m.Address(email="e1"), m.Address(email="e2")])
            session.add(u)
            session.commit()
            n = m.Note(text="t")
            session.add(n)
            session.delete(u)
            seen = (lifecycle(m, n), len(session.deleted), sorted(
                k for k in u.__dict__ if not k.startswith("_")))
            session.commit()
            rows = session.scalar(select(func.count()).select_from(m.Address))
            return seen, rows

    result = run_both(engine, program)
    assert result["se"] == result["sa"]
    assert result["se"] == (
        ("persistent", 3, ["addresses", "age", "id", "name", "nickname", "status"]), 0
    )


def test_delete_of_a_loaded_object_does_not_autoflush(engine):
    def program(m, engine):
        with m.Session(engine) as session:
            u = m.User(name="ann", addresses=[m.Address(email="e1")])
            session.add(u)
            session.commit()
            u.addresses  # noqa: B018
            n = m.Note(text="t")
            session.add(n)
            session.delete(u)
            return lifecycle(m, n), len(session.deleted)

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == ("pending", 2)


# --------------------------------------------------------------------------- synchronize_session

#: WHERE clauses Python evaluates, with SET values Python computes
EVALUABLE = [
    ("age > 5", lambda U: U.age > 5, lambda U: {"age": U.age * 2, "nickname": "x"}),
    ("in_", lambda U: U.name.in_(["ann", "cy"]), lambda U: {"age": U.age + 1}),
    ("is None", lambda U: U.nickname.is_(None), lambda U: {"nickname": U.name + "!"}),
    ("not and", lambda U: ~((U.age >= 3) & (U.name != "bob")), lambda U: {"age": 0}),
    ("or", lambda U: (U.age == 1) | (U.name.startswith("c")), lambda U: {"status": "or"}),
    ("none", None, lambda U: {"age": U.age - 1}),
]


def _seed_users(m, session):
    users = [m.User(name="ann", age=1), m.User(name="bob", age=7, nickname="b"),
             m.User(name="cy", age=None)]
    session.add_all(users)
    session.commit()
    for u in users:
        u.name  # noqa: B018 - load them again
    return users


@pytest.mark.parametrize("sync", ["evaluate", "auto", "fetch"])
@pytest.mark.parametrize("case", EVALUABLE, ids=[c[0] for c in EVALUABLE])
def test_update_sets_evaluated_values_on_matched_objects(engine, sync, case):
    """#3: the matched objects get the new values computed in Python (no
    reload), whichever strategy found them."""
    _name, where, values = case

    def program(m, engine):
        with m.Session(engine) as session:
            users = _seed_users(m, session)
            stmt = update(m.User).values(**values(m.User))
            if where is not None:
                stmt = stmt.where(where(m.User))
            session.execute(stmt, execution_options={"synchronize_session": sync})
            seen = [loaded(u, "name", "nickname", "age", "status") for u in users]
            session.expire_all()
            stored = [loaded(u, "name", "nickname", "age", "status") for u in users
                      if u.name]  # reloads them
            return seen, stored

    result = run_both(engine, program)
    assert result["se"] == result["sa"]
    seen, stored = result["se"]
    assert seen == stored  # the values set in Python are the database's


def test_update_evaluate_leaves_unloaded_and_changed_attributes_to_be_loaded(engine):
    """Attributes not loaded stay unloaded; an attribute with an unflushed change
    (autoflush off) is expired; a value Python cannot compute is expired."""

    def program(m, engine):
        with m.Session(engine, autoflush=False) as session:
            ann, bob, cy = _seed_users(m, session)
            session.expire(ann, ["age"])
            bob.nickname = "changed"
            session.execute(
                update(m.User).values(age=5, nickname="n", name=func.upper(m.User.name)),
                execution_options={"synchronize_session": "evaluate"},
            )
            return [loaded(u, "name", "nickname", "age") for u in (ann, bob, cy)]

    result = run_both(engine, program)
    assert result["se"] == result["sa"]
    assert result["se"][0] == {"name": "-", "nickname": "n", "age": "-"}
    assert result["se"][1] == {"name": "-", "nickname": "-", "age": 5}


def test_update_evaluate_applies_to_objects_whose_row_did_not_match(engine):
    """'evaluate' trusts the objects: one whose loaded value matches in Python
    gets the new value even if its row no longer matches."""

    def program(m, engine):
        with m.Session(engine) as session:
            ann, bob, cy = _seed_users(m, session)
            session.execute(update(m.User).where(m.User.id == ann.id).values(age=50),
                            execution_options={"synchronize_session": False})
            session.execute(update(m.User).where(m.User.age < 5).values(nickname="young"),
                            execution_options={"synchronize_session": "evaluate"})
            return ann.age, ann.nickname

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == (1, "young")


@pytest.mark.parametrize("stmt_kind", ["update", "delete"])
@pytest.mark.parametrize("criteria", ["like", "any", "function", "subquery"])
def test_evaluate_raises_for_criteria_python_cannot_evaluate(engine, stmt_kind, criteria):
    """'evaluate' raises InvalidRequestError before running the statement;
    'auto' falls back to 'fetch'."""

    def where(m):
        return {
            "like": lambda: m.User.name.like("a%"),
            "any": lambda: ~m.User.addresses.any(),
            "function": lambda: func.lower(m.User.name) == "ann",
            "subquery": lambda: m.User.id.in_(select(m.Note.id)),
        }[criteria]()

    def program(m, engine):
        with m.Session(engine) as session:
            ann, bob, cy = _seed_users(m, session)
            session.add(m.Note(text="n"))
            session.commit()
            ann.name  # noqa: B018

            def stmt():
                if stmt_kind == "update":
                    return update(m.User).where(where(m)).values(age=9)
                return delete(m.User).where(where(m))
            raised = raised_name(lambda: session.execute(
                stmt(), execution_options={"synchronize_session": "evaluate"}))
            unchanged = session.scalar(select(func.count()).where(m.User.age == 9))
            session.execute(stmt(), execution_options={"synchronize_session": "auto"})
            return raised, unchanged, lifecycle(m, ann), loaded(ann, "age")

    result = run_both(engine, program)
    assert result["se"] == result["sa"]
    raised, unchanged, state, _age = result["se"]
    assert raised == "InvalidRequestError"
    assert unchanged == 0
    assert state == ("deleted" if stmt_kind == "delete" else "persistent")


@pytest.mark.parametrize("sync", ["evaluate", "auto", "fetch"])
def test_delete_marks_matched_objects_deleted(engine, sync):
    def program(m, engine):
        with m.Session(engine) as session:
            ann, bob, cy = _seed_users(m, session)
            session.expire(cy, ["age"])
            session.execute(delete(m.User).where(m.User.age < 5),
                            execution_options={"synchronize_session": sync})
            return [lifecycle(m, u) for u in (ann, bob, cy)], sorted(
                k for k in cy.__dict__ if not k.startswith("_"))

    result = run_both(engine, program)
    assert result["se"] == result["sa"]
    states, cy_keys = result["se"]
    assert states[:2] == ["deleted", "persistent"]
    if sync == "fetch":
        assert cy_keys == ["id", "name", "nickname", "status"]
    else:  # an attribute the criteria need is not loaded: expired as a whole
        assert cy_keys == []


# --------------------------------------------------------------------------- joined eager


def test_joined_eager_collection_needs_unique(engine):
    """#10: a select() that joined-eager-loads a collection must be read
    through .unique(); the legacy Query and many-to-one joins need not."""

    def program(m, engine):
        with m.Session(engine) as session:
            session.add(m.User(name="ann", addresses=[m.Address(email="e1"),
                                                      m.Address(email="e2")]))
            session.commit()
            stmt = select(m.User).options(m.joinedload(m.User.addresses))
            without = raised_name(lambda: session.scalars(stmt).all())
            without_rows = raised_name(lambda: session.execute(stmt).all())
            with_unique = [len(u.addresses) for u in session.scalars(stmt).unique().all()]
            rows = len(session.execute(stmt).unique().all())
            query = [u.name for u in session.query(m.User)
                     .options(m.joinedload(m.User.addresses)).all()]
            many_to_one = len(session.scalars(
                select(m.Address).options(m.joinedload(m.Address.user))).all())
            return without, without_rows, with_unique, rows, query, many_to_one

    result = run_both(engine, program)
    assert result["se"] == result["sa"]
    assert result["se"] == ("InvalidRequestError", "InvalidRequestError", [2], 1, ["ann"], 2)
