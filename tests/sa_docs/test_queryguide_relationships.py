"""The ORM query guide's "Relationship Loading Techniques" page
(doc/build/orm/queryguide/relationships.rst), as a program of our own text run
on ``sqlalchemy.orm`` and on session_ext with only the import lines changed.

Sections covered, in page order: loader strategies at mapping time
(``lazy="selectin"``), loader options (``lazyload``, ``joinedload``, ``noload``,
``raiseload(..., sql_only=True)``, ``Load(User)`` chains, chained
options, options chained after a lazy load), criteria in loader options
(``.and_()``, with ``populate_existing``), sub-options (``defaultload``,
``Load.options()``), the "sticky" options of lazy loads, lazy loading
(collections, many-to-one from the identity map), ``raiseload`` (per
attribute, ``"*"``, ``Load(Order).raiseload("*")``, chained ``raiseload("*")``),
joined eager loading (options, ``unique()``, ``innerjoin`` at mapping and
option level, an inner join chained below an outer one), the "zen" of joined
eager loading (explicit joins beside the eager join, LIMIT), select IN
loading (collections and many-to-one), subquery eager loading (with
ORDER BY + LIMIT), what kind of loading (``immediateload``), wildcard
strategies (``lazyload("*")`` and an explicit option beside it, per-entity
``Load(Address).lazyload("*")``), routing explicit joins into eager
collections (``contains_eager``: plain, through an alias with ``of_type``,
chained, a custom-filtered collection with ``populate_existing``).
Each step records what is loaded (``inspect(obj).unloaded``), how many
statements ran, the objects, and the exceptions raised; not the SQL.
Not covered: "Polymorphic Eager Loading" (it points to the inheritance pages,
another test's subject) and the API reference list at the end.
"""

from __future__ import annotations

from typing import Any

from doc_programs import same_on_both

PROGRAM = '''
from typing import List
from typing import Optional

from sqlalchemy import Column
from sqlalchemy import event
from sqlalchemy import ForeignKey
from sqlalchemy import inspect
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import Table
from sqlalchemy.orm import aliased
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import defaultload
from sqlalchemy.orm import immediateload
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import lazyload
from sqlalchemy.orm import Load
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import noload
from sqlalchemy.orm import raiseload
from sqlalchemy.orm import relationship
from sqlalchemy.orm import selectinload
from sqlalchemy.orm import Session
from sqlalchemy.orm import subqueryload


class Base(DeclarativeBase):
    pass


# -- "Configuring Loader Strategies at Mapping Time" ------------------------
class Parent(Base):
    __tablename__ = "qgrel_parent"

    id: Mapped[int] = mapped_column(primary_key=True)
    children: Mapped[List["Child"]] = relationship(lazy="selectin")


class Child(Base):
    __tablename__ = "qgrel_child"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("qgrel_parent.id"))
    subelements: Mapped[List["SubElement"]] = relationship()


class SubElement(Base):
    __tablename__ = "qgrel_subelement"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("qgrel_child.id"))


# -- A / B / C / D of the loader criteria and sub-option examples -----------
atob_table = Table(
    "qgrel_atob",
    Base.metadata,
    Column("a_id", ForeignKey("qgrel_a.id"), primary_key=True),
    Column("b_id", ForeignKey("qgrel_b.id"), primary_key=True),
)


class A(Base):
    __tablename__ = "qgrel_a"

    id: Mapped[int] = mapped_column(primary_key=True)
    bs: Mapped[List["B"]] = relationship(back_populates="a")
    atob: Mapped[List["B"]] = relationship(secondary=atob_table)


class B(Base):
    __tablename__ = "qgrel_b"

    id: Mapped[int] = mapped_column(primary_key=True)
    a_id: Mapped[Optional[int]] = mapped_column(ForeignKey("qgrel_a.id"))
    c_id: Mapped[Optional[int]] = mapped_column(ForeignKey("qgrel_c.id"))
    d_id: Mapped[Optional[int]] = mapped_column(ForeignKey("qgrel_d.id"))
    a: Mapped[Optional[A]] = relationship(back_populates="bs")
    btoc: Mapped[Optional["C"]] = relationship()
    btod: Mapped[Optional["D"]] = relationship()


class C(Base):
    __tablename__ = "qgrel_c"

    id: Mapped[int] = mapped_column(primary_key=True)


class D(Base):
    __tablename__ = "qgrel_d"

    id: Mapped[int] = mapped_column(primary_key=True)


# -- users, addresses, widgets, orders, items -------------------------------
class Widget(Base):
    __tablename__ = "qgrel_widgets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class User(Base):
    __tablename__ = "qgrel_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    fullname: Mapped[Optional[str]]
    nickname: Mapped[Optional[str]]
    addresses: Mapped[List["Address"]] = relationship(back_populates="user")
    orders: Mapped[List["Order"]] = relationship(back_populates="user")

    def __repr__(self) -> str:
        return f"User({self.name!r})"


class Address(Base):
    __tablename__ = "qgrel_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_address: Mapped[str]
    user_id: Mapped[int] = mapped_column(ForeignKey("qgrel_users.id"))
    widget_id: Mapped[Optional[int]] = mapped_column(ForeignKey("qgrel_widgets.id"))
    user: Mapped[User] = relationship(back_populates="addresses")
    widgets: Mapped[Optional[Widget]] = relationship()

    def __repr__(self) -> str:
        return f"Address({self.email_address!r})"


order_items_table = Table(
    "qgrel_order_items",
    Base.metadata,
    Column("order_id", ForeignKey("qgrel_orders.id"), primary_key=True),
    Column("item_id", ForeignKey("qgrel_items.id"), primary_key=True),
)


class Order(Base):
    __tablename__ = "qgrel_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("qgrel_users.id"))
    user: Mapped[User] = relationship(back_populates="orders", lazy="joined", innerjoin=True)
    items: Mapped[List["Item"]] = relationship(secondary=order_items_table)


class Item(Base):
    __tablename__ = "qgrel_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    widget_id: Mapped[Optional[int]] = mapped_column(ForeignKey("qgrel_widgets.id"))
    widget: Mapped[Optional[Widget]] = relationship()


# -- a class whose relationships load eagerly by default (wildcards) ---------
class MyClass(Base):
    __tablename__ = "qgrel_myclass"

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[Optional[int]] = mapped_column(ForeignKey("qgrel_widgets.id"))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("qgrel_users.id"))
    widget: Mapped[Optional[Widget]] = relationship(lazy="joined")
    user: Mapped[Optional[User]] = relationship(lazy="selectin")


def add_data(session):
    w1, w2 = Widget(name="w1"), Widget(name="w2")
    spongebob = User(name="spongebob", fullname="Spongebob Squarepants")
    spongebob.addresses = [
        Address(email_address="spongebob@google.com", widgets=w1),
        Address(email_address="j25@yahoo.com", widgets=w2),
    ]
    ed = User(name="ed", fullname="Ed Jones")
    ed.addresses = [
        Address(email_address="ed@aol.com", widgets=w1),
        Address(email_address="ed@nowidget.com"),
    ]
    patrick = User(name="patrick", fullname="Patrick Star")
    patrick.addresses = [Address(email_address="pat999@aol.com")]
    squidward = User(name="squidward")
    i1, i2, i3 = Item(name="i1", widget=w1), Item(name="i2"), Item(name="i3", widget=w2)
    spongebob.orders = [Order(items=[i1, i2]), Order(items=[i3])]
    ed.orders = [Order(items=[i1])]
    session.add_all([spongebob, ed, patrick, squidward])

    for n in range(3):
        session.add(
            Parent(
                children=[
                    Child(subelements=[SubElement() for _ in range(k)]) for k in range(n + 1)
                ]
            )
        )
    c1, c2 = C(), D()
    a1 = A(bs=[B(btoc=c1), B(), B(btod=c2)])
    a2 = A(bs=[B(), B(btoc=c1, btod=c2), B(), B()])
    a1.atob = [a1.bs[0], a2.bs[1]]
    a2.atob = [a2.bs[1]]
    session.add_all([a1, a2])
    session.add_all([MyClass(widget=w1, user=ed), MyClass(widget=w2), MyClass()])
    session.commit()


class Counter:
    def __init__(self, engine):
        self.n = 0
        event.listen(engine, "before_cursor_execute", self.count)

    def count(self, *args):
        self.n += 1

    def take(self):
        n, self.n = self.n, 0
        return n


def unloaded(obj):
    return sorted(inspect(obj).unloaded & set(inspect(obj).mapper.relationships.keys()))


def error_name(fn):
    try:
        fn()
    except Exception as err:
        return type(err).__name__
    return None


def mapping_time_and_options(session, seen, sql):
    sql.take()
    parents = session.scalars(select(Parent).order_by(Parent.id)).all()
    seen["selectin_default"] = ([unloaded(p) for p in parents], sql.take())
    seen["selectin_children"] = [len(p.children) for p in parents]
    seen["selectin_children_sql"] = sql.take()
    session.expunge_all()

    parents = session.scalars(select(Parent).options(lazyload(Parent.children))).all()
    seen["lazyload_option"] = ([unloaded(p) for p in parents], sql.take())
    session.expunge_all()

    parents = session.scalars(
        select(Parent).options(joinedload(Parent.children))
    ).unique().all()
    seen["joinedload_option"] = ([unloaded(p) for p in parents], sql.take())
    session.expunge_all()

    stmt = select(Parent).options(joinedload(Parent.children).subqueryload(Child.subelements))
    parents = session.scalars(stmt).unique().all()
    seen["chained_options"] = (
        sorted(unloaded(c) == [] for p in parents for c in p.children), sql.take()
    )
    session.expunge_all()

    stmt = select(Parent).options(lazyload(Parent.children).subqueryload(Child.subelements))
    parents = session.scalars(stmt.order_by(Parent.id)).all()
    seen["chained_after_lazy"] = ([unloaded(p) for p in parents], sql.take())
    children = parents[2].children
    seen["lazy_children_with_eager_sub"] = (
        [unloaded(c) for c in children], [len(c.subelements) for c in children], sql.take()
    )
    # "sticky": after an expiry, the lazy load applies the same sub-option again
    session.expire(parents[2])
    children = parents[2].children
    seen["sticky_options"] = ([unloaded(c) for c in children], sql.take())
    session.expunge_all()


def loader_criteria(session, seen, sql):
    stmt = select(A).order_by(A.id).options(lazyload(A.bs.and_(B.id > 5)))
    a_objs = session.scalars(stmt).all()
    seen["lazyload_and"] = [sorted(b.id for b in a.bs) for a in a_objs]
    # already loaded collections are not refreshed ...
    stmt = select(A).order_by(A.id).options(selectinload(A.bs.and_(B.id > 2)))
    seen["and_no_refresh"] = [sorted(b.id for b in a.bs) for a in session.scalars(stmt)]
    # ... unless populate_existing
    stmt = (
        select(A)
        .order_by(A.id)
        .options(lazyload(A.bs.and_(B.id > 2)))
        .execution_options(populate_existing=True)
    )
    seen["and_populate_existing"] = [
        sorted(b.id for b in a.bs) for a in session.scalars(stmt)
    ]
    stmt = (
        select(A)
        .order_by(A.id)
        .options(selectinload(A.bs.and_(B.id < 3)))
        .execution_options(populate_existing=True)
    )
    seen["selectinload_and"] = [sorted(b.id for b in a.bs) for a in session.scalars(stmt)]
    stmt = (
        select(A)
        .order_by(A.id)
        .options(joinedload(A.bs.and_(B.id.in_([2, 4, 7]))))
        .execution_options(populate_existing=True)
    )
    seen["joinedload_and"] = [
        sorted(b.id for b in a.bs) for a in session.scalars(stmt).unique()
    ]
    session.expunge_all()

    sql.take()
    stmt = select(A).order_by(A.id).options(defaultload(A.atob).joinedload(B.btoc))
    a_objs = session.scalars(stmt).all()
    seen["defaultload"] = ([unloaded(a) for a in a_objs], sql.take())
    seen["defaultload_then"] = (
        [[unloaded(b) for b in a.atob] for a in a_objs], sql.take()
    )
    session.expunge_all()

    stmt = select(A).order_by(A.id).options(
        defaultload(A.atob).options(joinedload(B.btoc), joinedload(B.btod))
    )
    a_objs = session.scalars(stmt).all()
    seen["load_options"] = [[unloaded(b) for b in a.atob] for a in a_objs]
    seen["load_options_values"] = [
        [(b.btoc is not None, b.btod is not None) for b in a.atob] for a in a_objs
    ]
    sql.take()
    session.expunge_all()


def lazy_loading(session, seen, sql):
    spongebob = session.scalars(select(User).filter_by(name="spongebob")).one()
    sql.take()
    seen["lazy_collection"] = (repr(spongebob.addresses), sql.take())
    address = session.scalars(select(Address).filter_by(email_address="j25@yahoo.com")).one()
    sql.take()
    seen["m2o_from_identity_map"] = (address.user is spongebob, sql.take())
    session.expunge_all()

    users = session.scalars(select(User).options(lazyload(User.addresses))).all()
    seen["lazyload"] = [unloaded(u) for u in users]
    session.expunge_all()

    user = session.scalars(
        select(User).filter_by(name="ed").options(raiseload(User.addresses))
    ).one()
    seen["raiseload"] = (error_name(lambda: user.addresses), error_name(lambda: user.orders))
    session.expunge_all()

    stmt = select(Order).order_by(Order.id).options(joinedload(Order.items), raiseload("*"))
    order = session.scalars(stmt).unique().first()
    seen["raiseload_wildcard"] = (
        [i.name for i in order.items],
        error_name(lambda: order.user),
        [error_name(lambda: i.widget) for i in order.items],
    )
    session.expunge_all()

    stmt = select(Order).order_by(Order.id).options(
        joinedload(Order.items), Load(Order).raiseload("*")
    )
    order = session.scalars(stmt).unique().first()
    seen["raiseload_order_only"] = (
        error_name(lambda: order.user),
        [error_name(lambda: i.widget) for i in order.items],
    )
    session.expunge_all()

    stmt = select(Address).order_by(Address.id).options(raiseload(Address.user, sql_only=True))
    addresses = session.scalars(stmt).all()
    seen["raiseload_sql_only"] = [error_name(lambda: a.user) for a in addresses]
    session.expunge_all()
    addresses = session.scalars(stmt).all()
    users = session.scalars(select(User)).all()  # the users in the identity map: no SQL
    seen["raiseload_sql_only_in_map"] = [repr(a.user) for a in addresses]
    session.expunge_all()

    users = session.scalars(
        select(User).order_by(User.id).options(noload(User.addresses))
    ).all()
    seen["noload"] = [u.addresses for u in users]
    session.expunge_all()

    stmt = select(Order).order_by(Order.id).options(joinedload(Order.items).raiseload("*"))
    order = session.scalars(stmt).unique().first()
    seen["raiseload_items_only"] = (
        repr(order.user),
        [error_name(lambda: i.widget) for i in order.items],
    )
    session.expunge_all()


def joined_eager(session, seen, sql):
    sql.take()
    orders = session.scalars(select(Order).order_by(Order.id)).all()
    seen["mapping_joined_innerjoin"] = (
        [repr(o.user) for o in orders], [unloaded(o) for o in orders], sql.take()
    )
    session.expunge_all()

    stmt = select(User).options(joinedload(User.addresses)).filter_by(name="spongebob")
    spongebob = session.scalars(stmt).unique().all()
    seen["joinedload"] = ([repr(u.addresses) for u in spongebob], sql.take())
    seen["joinedload_without_unique"] = error_name(lambda: session.scalars(stmt).all())
    session.expunge_all()

    stmt = select(Address).order_by(Address.id).options(
        joinedload(Address.user, innerjoin=True)
    )
    seen["joinedload_innerjoin"] = (
        [repr(a.user) for a in session.scalars(stmt)], sql.take()
    )
    session.expunge_all()

    stmt = select(User).options(
        joinedload(User.addresses).joinedload(Address.widgets, innerjoin=True)
    )
    results = session.scalars(stmt).unique().all()
    seen["right_nested"] = (
        sorted(
            (u.name, sorted((a.email_address, a.widgets.name) for a in u.addresses))
            for u in results
        ),
        sql.take(),
    )
    session.expunge_all()

    stmt = (
        select(User)
        .join(User.addresses)
        .filter(User.name == "spongebob")
        .order_by(Address.email_address)
    )
    seen["explicit_join"] = [repr(u) for u in session.scalars(stmt).unique().all()]
    session.expunge_all()
    stmt = (
        select(User)
        .join(User.addresses)
        .options(joinedload(User.addresses))
        .filter(User.name == "spongebob")
        .order_by(Address.email_address)
    )
    result = session.scalars(stmt).unique().all()
    seen["join_and_joinedload"] = [(repr(u), sorted(repr(u.addresses))) for u in result]
    session.expunge_all()
    stmt = (
        select(User)
        .join(User.addresses)
        .options(joinedload(User.addresses))
        .filter(User.name == "spongebob")
        .filter(Address.email_address == "j25@yahoo.com")
    )
    result = session.scalars(stmt).unique().all()
    seen["join_filter_joinedload"] = [
        (repr(u), sorted(a.email_address for a in u.addresses)) for u in result
    ]
    session.expunge_all()
    stmt = (
        select(User)
        .join(User.addresses)
        .options(selectinload(User.addresses))
        .filter(User.name == "spongebob")
        .filter(Address.email_address == "j25@yahoo.com")
    )
    result = session.scalars(stmt).all()
    seen["join_filter_selectinload"] = [
        (repr(u), sorted(a.email_address for a in u.addresses)) for u in result
    ]
    session.expunge_all()
    stmt = select(User).options(joinedload(User.addresses)).order_by(User.id).limit(2)
    result = session.scalars(stmt).unique().all()
    seen["joinedload_limit"] = [(repr(u), len(u.addresses)) for u in result]
    session.expunge_all()


def selectin_and_subquery(session, seen, sql):
    sql.take()
    stmt = (
        select(User)
        .options(selectinload(User.addresses))
        .filter(or_(User.name == "spongebob", User.name == "ed"))
    )
    result = session.scalars(stmt).all()
    seen["selectinload"] = (
        sorted((u.name, len(u.addresses)) for u in result), sql.take()
    )
    session.expunge_all()
    stmt = select(Address).options(selectinload(Address.user))
    result = session.scalars(stmt).all()
    seen["selectinload_m2o"] = (sorted(repr(a.user) for a in result), sql.take())
    session.expunge_all()

    stmt = select(User).options(subqueryload(User.addresses)).filter_by(name="spongebob")
    results = session.scalars(stmt).all()
    seen["subqueryload"] = ([sorted(repr(u.addresses)) for u in results], sql.take())
    session.expunge_all()
    stmt = (
        select(User)
        .options(subqueryload(User.addresses))
        .order_by(User.name, User.id)
        .limit(1)
    )
    results = session.scalars(stmt).all()
    seen["subqueryload_limit"] = (
        [(repr(u), sorted(a.email_address for a in u.addresses)) for u in results],
        sql.take(),
    )
    session.expunge_all()

    stmt = select(Address).order_by(Address.id).options(immediateload(Address.user))
    result = session.scalars(stmt).all()
    seen["immediateload"] = ([unloaded(a) for a in result], sql.take() > 1)
    session.expunge_all()


def wildcards(session, seen, sql):
    sql.take()
    objs = session.scalars(select(MyClass).order_by(MyClass.id)).all()
    seen["eager_defaults"] = ([unloaded(o) for o in objs], sql.take())
    session.expunge_all()
    objs = session.scalars(select(MyClass).order_by(MyClass.id).options(lazyload("*"))).all()
    seen["lazyload_wildcard"] = ([unloaded(o) for o in objs], sql.take())
    session.expunge_all()
    stmt = select(MyClass).order_by(MyClass.id).options(
        lazyload("*"), joinedload(MyClass.widget)
    )
    objs = session.scalars(stmt).all()
    seen["wildcard_and_explicit"] = ([unloaded(o) for o in objs], sql.take())
    session.expunge_all()
    stmt = select(MyClass).order_by(MyClass.id).options(
        joinedload(MyClass.widget), lazyload("*")
    )
    objs = session.scalars(stmt).all()
    seen["explicit_and_wildcard"] = [unloaded(o) for o in objs]
    session.expunge_all()

    stmt = select(User).order_by(User.id).options(
        Load(User).joinedload(User.orders).selectinload(Order.items)
    )
    users = session.scalars(stmt).unique().all()
    seen["load_chain"] = [
        (unloaded(u), [(unloaded(o), len(o.items)) for o in u.orders]) for u in users
    ]
    session.expunge_all()

    stmt = (
        select(User, Address)
        .join(User.addresses)
        .order_by(Address.id)
        .options(selectinload(User.orders), Load(Address).lazyload("*"))
    )
    rows = session.execute(stmt).all()
    seen["per_entity_wildcard"] = [(unloaded(u), unloaded(a)) for u, a in rows]
    session.expunge_all()


def routing_joins(session, seen, sql):
    sql.take()
    stmt = select(User).join(User.addresses).options(contains_eager(User.addresses))
    users = session.scalars(stmt).unique().all()
    seen["contains_eager"] = (
        sorted((u.name, sorted(a.email_address for a in u.addresses)) for u in users),
        sql.take(),
    )
    session.expunge_all()

    adalias = aliased(Address)
    stmt = (
        select(User)
        .outerjoin(User.addresses.of_type(adalias))
        .options(contains_eager(User.addresses.of_type(adalias)))
    )
    r = session.scalars(stmt).unique().all()
    seen["contains_eager_alias"] = (
        sorted((u.name, sorted(a.email_address for a in u.addresses)) for u in r),
        sql.take(),
    )
    session.expunge_all()

    stmt = (
        select(User)
        .join(User.orders)
        .join(Order.items)
        .options(contains_eager(User.orders).contains_eager(Order.items))
    )
    users = session.scalars(stmt).unique().all()
    seen["contains_eager_chain"] = (
        sorted((u.name, sorted(sorted(i.name for i in o.items) for o in u.orders))
               for u in users),
        sql.take(),
    )
    session.expunge_all()

    everyone = session.scalars(select(User).options(selectinload(User.addresses))).all()
    sql.take()
    stmt = (
        select(User)
        .join(User.addresses)
        .filter(Address.email_address.like("%@aol.com"))
        .options(contains_eager(User.addresses))
        .execution_options(populate_existing=True)
    )
    users = session.scalars(stmt).unique().all()
    seen["custom_filtered"] = (
        sorted((u.name, [a.email_address for a in u.addresses]) for u in users), sql.take()
    )
    seen["custom_filtered_same_objects"] = all(u in everyone for u in users)
    session.expire_all()
    seen["custom_not_sticky"] = sorted(
        (u.name, sorted(a.email_address for a in u.addresses)) for u in users
    )


def run(engine):
    seen = {}
    with Session(engine) as session:
        add_data(session)
    sql = Counter(engine)
    try:
        for part in (
            mapping_time_and_options, loader_criteria, lazy_loading, joined_eager,
            selectin_and_subquery, wildcards, routing_joins,
        ):
            with Session(engine) as session:
                part(session, seen, sql)
    finally:
        event.remove(engine, "before_cursor_execute", sql.count)
    return seen
'''


def test_queryguide_relationships_runs_the_same_on_both(engine: Any) -> None:
    seen = same_on_both(PROGRAM, engine, name="queryguide_relationships")
    assert seen["selectin_default"] == ([[], [], []], 2)
    assert seen["lazyload_option"][0] == [["children"]] * 3
    assert seen["lazyload_and"] == [[], [6, 7]]
    assert seen["raiseload"] == ("InvalidRequestError", None)
    assert seen["joinedload_without_unique"] == "InvalidRequestError"
    assert seen["contains_eager_alias"][0][-1] == ("squidward", [])
