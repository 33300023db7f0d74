"""The query surface of SQLAlchemy 2.x compared with its ORM: each program runs
on ``sqlalchemy.orm`` and on session_ext (tables ``sa_*``/``se_*``) and the
results must agree.  Covered: joins along relationships (one-to-many,
many-to-one, many-to-many, outer, ``.and_()``, the relationship as ON clause,
``of_type()``, self-referential), ``aliased()`` of classes and of
subqueries/CTEs, ``with_parent()``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from conformance import same_on_both
from sqlalchemy import Column, ForeignKey, Integer, String, Table, func, select, text

FLAVORS = ("sa", "se")


def _build(flavor: str) -> SimpleNamespace:
    if flavor == "sa":
        from sqlalchemy.orm import (
            Bundle,
            Session,
            aliased,
            contains_eager,
            declarative_base,
            joinedload,
            relationship,
            selectinload,
            with_parent,
        )
    else:
        from session_ext import (
            Bundle,
            Session,
            aliased,
            contains_eager,
            declarative_base,
            joinedload,
            relationship,
            selectinload,
            with_parent,
        )
    Base = declarative_base()
    p = f"qs{flavor}_"

    user_tags = Table(
        p + "user_tags",
        Base.metadata,
        Column("user_id", ForeignKey(p + "users.id"), primary_key=True),
        Column("tag_id", ForeignKey(p + "tags.id"), primary_key=True),
    )

    class User(Base):
        __tablename__ = p + "users"
        id = Column(Integer, primary_key=True)
        name = Column(String(30))
        addresses = relationship("Address", back_populates="user", order_by="Address.id")
        tags = relationship("Tag", secondary=user_tags, order_by="Tag.id")

    class Address(Base):
        __tablename__ = p + "addresses"
        id = Column(Integer, primary_key=True)
        user_id = Column(ForeignKey(p + "users.id"))
        email = Column(String(30))
        user = relationship("User", back_populates="addresses")

    class Tag(Base):
        __tablename__ = p + "tags"
        id = Column(Integer, primary_key=True)
        name = Column(String(30))

    class Node(Base):
        __tablename__ = p + "nodes"
        id = Column(Integer, primary_key=True)
        parent_id = Column(ForeignKey(p + "nodes.id"))
        name = Column(String(30))
        children = relationship("Node", back_populates="parent", order_by="Node.id")
        parent = relationship("Node", back_populates="children", remote_side=[id])

    return SimpleNamespace(
        flavor=flavor, Base=Base, Session=Session, User=User, Address=Address, Tag=Tag,
        Node=Node, aliased=aliased, with_parent=with_parent, contains_eager=contains_eager,
        joinedload=joinedload, selectinload=selectinload, Bundle=Bundle,
    )


MODELS = {f: _build(f) for f in FLAVORS}


def seed(m: SimpleNamespace, engine: Any) -> None:
    """users ann(1), bob(2), cy(3); addresses a@x, b@y of ann, c@x of bob, d@x of
    nobody; tags red, blue: ann has both, bob blue; nodes root <- mid <- leaf."""
    with m.Session(engine) as s:
        red, blue = m.Tag(id=1, name="red"), m.Tag(id=2, name="blue")
        ann = m.User(id=1, name="ann", tags=[red, blue])
        bob = m.User(id=2, name="bob", tags=[blue])
        s.add_all([ann, bob, m.User(id=3, name="cy")])
        s.add_all([
            m.Address(id=1, user=ann, email="a@x"), m.Address(id=2, user=ann, email="b@y"),
            m.Address(id=3, user=bob, email="c@x"), m.Address(id=4, email="d@x"),
        ])
        root = m.Node(id=1, name="root")
        mid = m.Node(id=2, name="mid", parent=root)
        s.add_all([root, mid, m.Node(id=3, name="leaf", parent=mid)])
        s.commit()


def run(engine: Any, program: Any) -> Any:
    """``program(m, session)`` on both libraries over the seeded tables."""

    def body(m: SimpleNamespace, eng: Any) -> Any:
        seed(m, eng)
        with m.Session(eng) as s:
            return program(m, s)

    return same_on_both(MODELS, engine, body)


def names(objs: Any) -> list[Any]:
    return [getattr(o, "name", None) or getattr(o, "email", None) for o in objs]


# -- joins along relationships ------------------------------------------------------------
JOINS = {
    "one_to_many": lambda m: select(m.User).join(m.User.addresses)
    .where(m.Address.email.like("%@x")).order_by(m.User.id),
    "many_to_one": lambda m: select(m.Address).join(m.Address.user)
    .where(m.User.name == "ann").order_by(m.Address.id),
    "many_to_many": lambda m: select(m.User).join(m.User.tags)
    .where(m.Tag.name == "blue").order_by(m.User.id),
    "outerjoin": lambda m: select(m.User.name, func.count(m.Address.id))
    .outerjoin(m.User.addresses).group_by(m.User.name).order_by(m.User.name),
    "outerjoin_many_to_many": lambda m: select(m.User.name, m.Tag.name)
    .outerjoin(m.User.tags).order_by(m.User.id, m.Tag.id),
    "and_criteria": lambda m: select(m.User.name, m.Address.email)
    .outerjoin(m.User.addresses.and_(m.Address.email.like("%@x")))
    .order_by(m.User.id, m.Address.id),
    "onclause_form": lambda m: select(m.User).join(m.Address, m.User.addresses)
    .where(m.Address.email == "c@x"),
    "chained": lambda m: select(m.Address).join(m.Address.user).join(m.User.tags)
    .where(m.Tag.name == "red").order_by(m.Address.id),
    "entities_of_both": lambda m: select(m.User, m.Address).join(m.User.addresses)
    .order_by(m.Address.id),
    "filter_by_after_join": lambda m: select(m.User).join(m.User.addresses)
    .filter_by(email="c@x"),
    "join_from": lambda m: select(m.Address.email).join_from(m.User, m.Address, m.User.addresses)
    .where(m.User.name == "ann").order_by(m.Address.id),
}


def _render(row: Any) -> Any:
    if isinstance(row, tuple) or hasattr(row, "_fields"):
        return tuple(_render(v) for v in row)
    return getattr(row, "name", None) or getattr(row, "email", None) or row


@pytest.mark.parametrize("case", sorted(JOINS))
def test_join_along_relationship(engine: Any, case: str) -> None:
    result = run(engine, lambda m, s: [_render(r) for r in s.execute(JOINS[case](m)).all()])
    assert result  # every case finds rows


def test_join_with_and_criteria_binds_are_per_statement(engine: Any) -> None:
    """Two statements differing only in the .and_() value each use their own."""

    def program(m: SimpleNamespace, s: Any) -> Any:
        def emails(pattern: str) -> list[Any]:
            stmt = select(m.Address.email).join_from(
                m.User, m.Address, m.User.addresses.and_(m.Address.email.like(pattern))
            ).order_by(m.Address.id)
            return s.scalars(stmt).all()

        return emails("%@x"), emails("%@y"), emails("%@x")

    assert run(engine, program) == (["a@x", "c@x"], ["b@y"], ["a@x", "c@x"])


def test_query_join_along_relationship(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        q1 = s.query(m.User).join(m.User.tags).filter(m.Tag.name == "red").all()
        q2 = s.query(m.User).join(m.User.addresses).filter_by(email="c@x").all()
        q3 = s.query(m.User).join(m.Address, m.User.addresses).filter(
            m.Address.id == 2).all()
        return names(q1), names(q2), names(q3)

    assert run(engine, program) == (["ann"], ["bob"], ["ann"])


# -- aliased() ------------------------------------------------------------------------
def test_aliased_class(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        ua = m.aliased(m.User)
        pairs = s.execute(
            select(m.User.name, ua.name).join(ua, ua.id > m.User.id).order_by(m.User.id, ua.id)
        ).all()
        objs = s.scalars(select(ua).where(ua.name != "cy").order_by(ua.id)).all()
        same = objs[0] is s.get(m.User, 1)
        named = m.aliased(m.User, name="u2")
        by_name = s.scalars(select(named).filter_by(name="bob")).all()
        return [tuple(p) for p in pairs], names(objs), same, names(by_name)

    pairs, objs, same, by_name = run(engine, program)
    assert pairs == [("ann", "bob"), ("ann", "cy"), ("bob", "cy")]
    assert (objs, same, by_name) == (["ann", "bob"], True, ["bob"])


def test_aliased_joins_and_of_type(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        a1, a2 = m.aliased(m.Address), m.aliased(m.Address)
        both = s.scalars(
            select(m.User).join(a1, m.User.addresses.of_type(a1))
            .join(a2, m.User.addresses.of_type(a2))
            .where(a1.email == "a@x", a2.email == "b@y")
        ).all()
        ua = m.aliased(m.User)
        from_alias = s.execute(
            select(ua.name, m.Address.email).join(ua.addresses).order_by(m.Address.id)
        ).all()
        aa = m.aliased(m.Address)
        of_type_and = s.execute(
            select(m.User.name, aa.email)
            .outerjoin(aa, m.User.addresses.of_type(aa).and_(aa.email.like("%@y")))
            .order_by(m.User.id)
        ).all()
        return names(both), [tuple(r) for r in from_alias], [tuple(r) for r in of_type_and]

    both, from_alias, of_type_and = run(engine, program)
    assert both == ["ann"]
    assert from_alias == [("ann", "a@x"), ("ann", "b@y"), ("bob", "c@x")]
    assert of_type_and == [("ann", "b@y"), ("bob", None), ("cy", None)]


def test_relationship_criteria_of_an_aliased_class(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        ua, aa = m.aliased(m.User), m.aliased(m.Address)
        any_ = s.scalars(select(ua).where(ua.addresses.any(m.Address.email == "c@x"))).all()
        has = s.scalars(
            select(aa).where(aa.user.has(m.User.name == "ann")).order_by(aa.id)).all()
        tagged = s.scalars(
            select(ua.name).where(ua.tags.any(m.Tag.name == "red"))).all()
        contains = s.scalars(
            select(ua.name).where(ua.addresses.contains(s.get(m.Address, 2)))).all()
        return names(any_), names(has), tagged, contains

    assert run(engine, program) == (["bob"], ["a@x", "b@y"], ["ann"], ["ann"])


def test_self_referential_join_through_alias(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        child = m.aliased(m.Node)
        rows = s.execute(
            select(m.Node.name, child.name).join(m.Node.children.of_type(child))
            .order_by(m.Node.id)
        ).all()
        parent = m.aliased(m.Node)
        up = s.execute(
            select(m.Node.name, parent.name).join(m.Node.parent.of_type(parent))
            .order_by(m.Node.id)
        ).all()
        return [tuple(r) for r in rows], [tuple(r) for r in up]

    rows, up = run(engine, program)
    assert rows == [("root", "mid"), ("mid", "leaf")]
    assert up == [("mid", "root"), ("leaf", "mid")]


def test_aliased_subquery_and_cte(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        sub = select(m.User).where(m.User.name != "bob").subquery()
        us = m.aliased(m.User, sub)
        from_sub = s.scalars(select(us).order_by(us.id)).all()
        identical = from_sub[0] is s.get(m.User, 1)
        cte = select(m.User.name, m.User.id).where(m.User.id > 1).cte("later_users")
        uc = m.aliased(m.User, cte)
        from_cte = s.scalars(select(uc).order_by(uc.name.desc())).all()
        joined = s.execute(
            select(us.name, m.Address.email).join(m.Address, m.Address.user_id == us.id)
            .order_by(m.Address.id)
        ).all()
        return names(from_sub), identical, names(from_cte), [tuple(r) for r in joined]

    from_sub, identical, from_cte, joined = run(engine, program)
    assert (from_sub, identical, from_cte) == (["ann", "cy"], True, ["cy", "bob"])
    assert joined == [("ann", "a@x"), ("ann", "b@y")]


# -- with_parent() -------------------------------------------------------------------
def test_with_parent(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        ann = s.get(m.User, 1)
        addrs = s.scalars(
            select(m.Address).where(m.with_parent(ann, m.User.addresses)).order_by(m.Address.id)
        ).all()
        tags = s.scalars(
            select(m.Tag).where(m.with_parent(ann, m.User.tags)).order_by(m.Tag.id)
        ).all()
        a3 = s.get(m.Address, 3)
        owner = s.scalars(select(m.User).where(m.with_parent(a3, m.Address.user))).all()
        aa = m.aliased(m.Address)
        aliased_rows = s.scalars(
            select(aa.email).where(m.with_parent(ann, m.User.addresses, aa))
            .order_by(aa.id)
        ).all()
        return names(addrs), names(tags), names(owner), aliased_rows

    assert run(engine, program) == (["a@x", "b@y"], ["red", "blue"], ["bob"], ["a@x", "b@y"])


# -- contains_eager(), joinedload(innerjoin=True) ----------------------------------------
def _loaded(m: SimpleNamespace, users: list[Any], key: str) -> list[Any]:
    """(name, names of the loaded collection or None when not loaded) per user."""
    return [(u.name, names(u.__dict__[key]) if key in u.__dict__ else None) for u in users]


def test_contains_eager(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        stmt = (
            select(m.User).join(m.User.addresses).where(m.Address.email.like("%@x"))
            .options(m.contains_eager(m.User.addresses)).order_by(m.User.id, m.Address.id)
        )
        users = s.scalars(stmt).unique().all()
        filtered = _loaded(m, users, "addresses")  # only the joined rows: a@x for ann
        s.expunge_all()
        aa = m.aliased(m.Address)
        stmt = (
            select(m.User).outerjoin(aa, m.User.addresses.of_type(aa))
            .options(m.contains_eager(m.User.addresses.of_type(aa))).order_by(m.User.id, aa.id)
        )
        aliased_users = _loaded(m, s.scalars(stmt).unique().all(), "addresses")
        s.expunge_all()
        addrs = s.scalars(
            select(m.Address).join(m.Address.user).options(m.contains_eager(m.Address.user))
            .order_by(m.Address.id)
        ).all()
        owners = [(a.email, a.__dict__["user"].name) for a in addrs]
        return filtered, aliased_users, owners

    filtered, aliased_users, owners = run(engine, program)
    assert filtered == [("ann", ["a@x"]), ("bob", ["c@x"])]
    assert aliased_users == [("ann", ["a@x", "b@y"]), ("bob", ["c@x"]), ("cy", [])]
    assert owners == [("a@x", "ann"), ("b@y", "ann"), ("c@x", "bob")]


def test_joinedload_innerjoin(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        addrs = s.scalars(
            select(m.Address).options(m.joinedload(m.Address.user, innerjoin=True))
            .order_by(m.Address.id)
        ).all()  # the address of nobody is not returned: an inner join
        inner = [(a.email, a.__dict__["user"].name) for a in addrs]
        s.expunge_all()
        users = s.scalars(
            select(m.User).options(m.joinedload(m.User.tags, innerjoin=True)).order_by(m.User.id)
        ).unique().all()
        tagged = _loaded(m, users, "tags")
        s.expunge_all()
        chained = s.scalars(
            select(m.Address)
            .options(m.joinedload(m.Address.user).joinedload(m.User.tags, innerjoin=True))
            .order_by(m.Address.id)
        ).unique().all()  # inner below an outer join: parents without tags stay
        return inner, tagged, [a.email for a in chained]

    inner, tagged, chained = run(engine, program)
    assert inner == [("a@x", "ann"), ("b@y", "ann"), ("c@x", "bob")]
    assert tagged == [("ann", ["red", "blue"]), ("bob", ["blue"])]
    assert chained == ["a@x", "b@y", "c@x", "d@x"]


# -- from_statement() -------------------------------------------------------------------
def test_from_statement(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        users = m.User.__table__.name
        ann = s.get(m.User, 1)
        by_text = s.scalars(
            select(m.User).from_statement(
                text(f"SELECT name, id FROM {users} WHERE name != :n ORDER BY id")
            ),
            {"n": "bob"},
        ).all()  # columns matched by name, in any order
        by_select = s.scalars(
            select(m.User).from_statement(select(m.User).where(m.User.name == "bob"))
        ).all()
        s.expunge_all()
        eager = s.scalars(
            select(m.User).options(m.selectinload(m.User.addresses))
            .from_statement(text(f"SELECT * FROM {users} WHERE id = 1"))
        ).all()
        loaded = "addresses" in eager[0].__dict__
        legacy = s.query(m.User).from_statement(
            text(f"SELECT * FROM {users} WHERE id = 3")).all()
        return (names(by_text), by_text[0] is ann, names(by_select), names(eager), loaded,
                names(legacy))

    assert run(engine, program) == (["ann", "cy"], True, ["bob"], ["ann"], True, ["cy"])


# -- Bundle ----------------------------------------------------------------------------
def test_bundle(engine: Any) -> None:
    def program(m: SimpleNamespace, s: Any) -> Any:
        user = m.Bundle("user", m.User.id, m.User.name)
        rows = s.execute(
            select(user, m.Address.email).join(m.User.addresses).where(user.c.name == "ann")
            .order_by(m.Address.id)
        ).all()
        shaped = [(r.user.id, r.user.name, r[0][1], r.email, tuple(r.user)) for r in rows]
        alone = [tuple(v) for v in s.scalars(select(user).order_by(m.User.id))]

        class AsDict(m.Bundle):  # type: ignore[misc, name-defined]
            def create_row_processor(self, query: Any, procs: Any, labels: Any) -> Any:
                def proc(row: Any) -> Any:
                    return dict(zip(labels, (p(row) for p in procs)))

                return proc

        with_entity = s.execute(
            select(AsDict("d", m.User.id, m.User.name), m.User).where(m.User.id < 3)
            .order_by(m.User.id)
        ).all()
        return shaped, alone, [(d, u.name) for d, u in with_entity]

    shaped, alone, with_entity = run(engine, program)
    assert shaped == [(1, "ann", "ann", "a@x", (1, "ann")), (1, "ann", "ann", "b@y", (1, "ann"))]
    assert alone == [(1, "ann"), (2, "bob"), (3, "cy")]
    assert with_entity == [({"id": 1, "name": "ann"}, "ann"), ({"id": 2, "name": "bob"}, "bob")]
