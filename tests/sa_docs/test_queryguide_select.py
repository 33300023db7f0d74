"""The ORM query guide's "Writing SELECT statements for ORM Mapped Classes"
page (doc/build/orm/queryguide/select.rst), as a program of our own text run
on ``sqlalchemy.orm`` and on session_ext with only the import lines changed.

Sections covered, in page order: selecting entities and attributes (entities,
several entities, aliased names, ``add_columns``, individual attributes,
``Bundle`` and ``DictBundle``, aliases), ORM results from textual statements
(``from_statement``, ``aliased`` over a textual subquery), entities from
subqueries (by column correspondence and ``adapt_on_names``), entities from
UNIONs, joins (relationship joins, chained joins, the join that cannot be made,
joins to a target entity, with an ON clause, ``.and_()`` criteria, aliased
targets and ``of_type``, joins from an alias, joins to subqueries, along
relationship paths to subqueries, subqueries of several entities,
``join_from`` / ``select_from``), relationship WHERE operators (``any``,
``has``, ``==`` / ``!=`` an object, ``contains``, ``with_parent``).
Every section of the page is covered; the SQL the page prints is not compared
(it differs legitimately), the rows and objects it returns are.
"""

from __future__ import annotations

from typing import Any

from doc_programs import same_on_both
from queryguide_setup import setup_text

PROGRAM = setup_text("qgsel_") + '''
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import union_all
from sqlalchemy import inspect
from sqlalchemy.orm import aliased
from sqlalchemy.orm import Bundle
from sqlalchemy.orm import with_parent


def reprs(objs):
    return [repr(o) for o in objs]


def error_name(fn):
    try:
        fn()
    except Exception as err:
        return type(err).__name__
    return None


def selecting_entities(session, seen):
    stmt = select(User).where(User.name == "spongebob")
    result = session.execute(stmt)
    seen["intro"] = [f"{u.name} {u.fullname}" for u in result.scalars()]

    result = session.execute(select(User).order_by(User.id))
    rows = result.all()
    seen["entity_rows"] = [(len(row), repr(row[0])) for row in rows]
    seen["entity_scalars"] = reprs(session.scalars(select(User).order_by(User.id)).all())
    seen["scalars_are_row_objects"] = [
        a is b[0] for a, b in zip(session.scalars(select(User).order_by(User.id)), rows)
    ]

    stmt = select(User, Address).join(User.addresses).order_by(User.id, Address.id)
    seen["two_entities"] = [
        (row.User.name, row.Address.email_address) for row in session.execute(stmt)
    ]

    user_cls = aliased(User, name="user_cls")
    email_cls = aliased(Address, name="email")
    stmt = (
        select(user_cls, email_cls)
        .join(user_cls.addresses.of_type(email_cls))
        .order_by(user_cls.id, email_cls.id)
    )
    row = session.execute(stmt).first()
    seen["named_aliases"] = (list(row._fields), row.user_cls.name, row.email.email_address)
    seen["alias_loads_same_object"] = row.user_cls is session.get(User, 1)

    stmt = select(User).join(User.addresses).add_columns(Address).order_by(User.id, Address.id)
    seen["add_columns"] = [(repr(u), repr(a)) for u, a in session.execute(stmt)]

    result = session.execute(
        select(User.name, Address.email_address)
        .join(User.addresses)
        .order_by(User.id, Address.id)
    )
    rows = result.all()
    seen["attributes"] = [(row.name, row.email_address) for row in rows]
    seen["attribute_fields"] = list(rows[0]._fields)


def bundles(session, seen):
    stmt = select(
        Bundle("user", User.name, User.fullname),
        Bundle("email", Address.email_address),
    ).join_from(User, Address)
    seen["bundle"] = sorted(
        (row.user.name, row.user.fullname, row.email.email_address)
        for row in session.execute(stmt)
    )
    try:
        from sqlalchemy.orm import DictBundle
    except ImportError:  # SQLAlchemy 2.0 has no DictBundle
        return
    bn = DictBundle("user", User.name, User.fullname)
    stmt = select(bn).where(bn.c.name == "sandy")
    seen["dict_bundle"] = [row.user for row in session.execute(stmt)]


def aliases(session, seen):
    u1 = aliased(User)
    seen["anon_alias"] = reprs(session.scalars(select(u1).order_by(u1.id)))
    u1 = aliased(User, name="u1")
    row = session.execute(select(u1).order_by(u1.id)).first()
    seen["named_alias"] = (list(row._fields), row.u1.name)


def textual(session, seen):
    textual_sql = text("SELECT id, name, fullname FROM " + P + "user_account ORDER BY id")
    textual_sql = textual_sql.columns(User.id, User.name, User.fullname)
    orm_sql = select(User).from_statement(textual_sql)
    users = session.execute(orm_sql).scalars().all()
    seen["from_statement"] = reprs(users)
    seen["from_statement_identity"] = users[0] is session.get(User, 1)
    orm_subquery = aliased(User, textual_sql.subquery())
    seen["textual_subquery"] = reprs(session.execute(select(orm_subquery)).scalars())


def subqueries(session, seen):
    inner_stmt = select(User).where(User.id < 7).order_by(User.id)
    subq = inner_stmt.subquery()
    aliased_user = aliased(User, subq)
    seen["entity_from_subquery"] = reprs(session.execute(select(aliased_user)).scalars())

    inner_stmt = select(
        literal(14).label("id"),
        literal("made up name").label("name"),
        literal("made up fullname").label("fullname"),
    )
    subq = inner_stmt.subquery()
    aliased_user = aliased(User, subq, adapt_on_names=True)
    made_up = session.execute(select(aliased_user)).scalars().all()
    seen["adapt_on_names"] = reprs(made_up)
    seen["adapt_on_names_state"] = [
        (inspect(u).persistent, inspect(u).identity) for u in made_up
    ]


def unions(session, seen):
    u = union_all(
        select(User).where(User.id < 2), select(User).where(User.id == 3)
    ).order_by(User.id)
    stmt = select(User).from_statement(u)
    seen["union_from_statement"] = reprs(session.execute(stmt).scalars())

    subq = union_all(
        select(User).where(User.id < 2), select(User).where(User.id == 3)
    ).subquery()
    user_alias = aliased(User, subq)
    stmt = select(user_alias).order_by(user_alias.id)
    seen["union_subquery"] = reprs(session.execute(stmt).scalars())


def joins(session, seen):
    def users(stmt):
        return sorted(u.id for u in session.scalars(stmt))

    seen["relationship_join"] = users(select(User).join(User.addresses))
    seen["chained_join"] = users(select(User).join(User.orders).join(Order.items))
    # the join that cannot be made: the database refuses it (in a SAVEPOINT, so
    # that PostgreSQL's transaction goes on)
    savepoint = session.begin_nested()
    seen["wrong_join_order"] = error_name(
        lambda: session.scalars(select(User).join(Order.items).join(User.orders)).all()
    )
    savepoint.rollback()
    seen["chained_join_3"] = users(
        select(User).join(User.orders).join(Order.items).join(User.addresses)
    )
    seen["join_entity"] = users(select(User).join(Address))
    seen["join_on_clause"] = users(select(User).join(Address, User.id == Address.user_id))
    seen["join_on_relationship"] = users(select(User).join(Address, User.addresses))

    stmt = select(User.fullname).join(
        User.addresses.and_(Address.email_address == "squirrel@squirrelpower.org")
    )
    seen["join_and"] = [tuple(r) for r in session.execute(stmt).all()]

    address_alias_1 = aliased(Address)
    address_alias_2 = aliased(Address)
    stmt = (
        select(User)
        .join(address_alias_1, User.addresses)
        .where(address_alias_1.email_address == "patrick@aol.com")
        .join(address_alias_2, User.addresses)
        .where(address_alias_2.email_address == "patrick@gmail.com")
    )
    seen["two_aliases"] = users(stmt)
    stmt = (
        select(User)
        .join(address_alias_1, User.addresses)
        .where(address_alias_1.email_address == "sandy@sqlalchemy.org")
        .join(address_alias_2, User.addresses)
        .where(address_alias_2.email_address == "squirrel@squirrelpower.org")
    )
    seen["two_aliases_match"] = users(stmt)
    stmt = (
        select(User)
        .join(User.addresses.of_type(address_alias_1))
        .where(address_alias_1.email_address == "sandy@sqlalchemy.org")
        .join(User.addresses.of_type(address_alias_2))
        .where(address_alias_2.email_address == "squirrel@squirrelpower.org")
    )
    seen["two_of_type"] = users(stmt)

    user_alias_1 = aliased(User)
    stmt = select(user_alias_1.name).join(user_alias_1.addresses)
    seen["join_from_alias"] = sorted(session.scalars(stmt))


def join_subqueries(session, seen):
    subq = select(Address).where(Address.email_address == "pat999@aol.com").subquery()
    stmt = select(User).join(subq, User.id == subq.c.user_id)
    seen["join_subquery"] = reprs(session.scalars(stmt))

    address_subq = aliased(Address, subq, name="address")
    stmt = select(User, address_subq).join(address_subq)
    rows = session.execute(stmt).all()
    seen["join_aliased_subquery"] = [(repr(r.User), repr(r.address)) for r in rows]
    seen["subquery_entity_identity"] = rows[0].address is session.get(Address, 4)

    stmt = select(User, address_subq).join(User.addresses.of_type(address_subq))
    seen["of_type_subquery"] = [
        (repr(r.User), repr(r.address)) for r in session.execute(stmt)
    ]

    user_address_subq = (
        select(User.id, User.name, User.fullname, Address.id, Address.email_address)
        .join_from(User, Address)
        .where(Address.email_address.in_(["pat999@aol.com", "squirrel@squirrelpower.org"]))
        .subquery()
    )
    user_alias = aliased(User, user_address_subq, name="user")
    address_alias = aliased(Address, user_address_subq, name="address")
    stmt = select(user_alias, address_alias).where(user_alias.name == "sandy")
    seen["multi_entity_subquery"] = [
        (repr(r.user), repr(r.address), list(r._fields)) for r in session.execute(stmt)
    ]


def join_from(session, seen):
    def emails(stmt):
        return sorted(a.email_address for a in session.scalars(stmt))

    seen["join_from_rel"] = emails(
        select(Address).join_from(User, User.addresses).where(User.name == "sandy")
    )
    seen["join_from_entity"] = emails(
        select(Address).join_from(User, Address).where(User.name == "sandy")
    )
    seen["select_from"] = emails(
        select(Address).select_from(User).join(Address).where(User.name == "sandy")
    )
    seen["select_from_overridden"] = emails(
        select(Address).select_from(User).join(Address.user).where(User.name == "sandy")
    )
    user_table = User.__table__
    address_table = Address.__table__
    j = address_table.join(user_table, user_table.c.id == address_table.c.user_id)
    stmt = (
        select(address_table)
        .select_from(user_table)
        .select_from(j)
        .where(user_table.c.name == "sandy")
    )
    seen["core_join"] = sorted(tuple(r) for r in session.execute(stmt))


def where_operators(session, seen):
    stmt = select(User.fullname).where(
        User.addresses.any(Address.email_address == "squirrel@squirrelpower.org")
    )
    seen["any"] = [tuple(r) for r in session.execute(stmt).all()]
    stmt = select(User.fullname).where(~User.addresses.any())
    seen["not_any"] = [tuple(r) for r in session.execute(stmt).all()]
    stmt = select(Address.email_address).where(Address.user.has(User.name == "sandy"))
    seen["has"] = sorted(tuple(r) for r in session.execute(stmt).all())

    session.expunge_all()
    user_obj = session.get(User, 1)
    seen["m2o_eq"] = reprs(session.scalars(select(Address).where(Address.user == user_obj)))
    seen["m2o_ne"] = sorted(
        a.id for a in session.scalars(select(Address).where(Address.user != user_obj))
    )
    address_obj = session.get(Address, 1)
    seen["contains"] = reprs(
        session.scalars(select(User).where(User.addresses.contains(address_obj)))
    )
    seen["with_parent"] = reprs(
        session.scalars(select(Address).where(with_parent(user_obj, User.addresses)))
    )
    seen["states"] = [
        (inspect(o).persistent, inspect(o).detached) for o in (user_obj, address_obj)
    ]


def run(engine):
    seen = {}
    with Session(engine) as session:
        add_data(session)
    for part in (
        selecting_entities, bundles, aliases, textual, subqueries, unions,
        joins, join_subqueries, join_from, where_operators,
    ):
        with Session(engine) as session:
            part(session, seen)
    return seen
'''


def test_queryguide_select_runs_the_same_on_both(engine: Any) -> None:
    # DictBundle is new in SQLAlchemy 2.1
    seen = same_on_both(PROGRAM, engine, name="queryguide_select", oracle_since=(2, 1))
    assert seen["intro"] == ["spongebob Spongebob Squarepants"]
    assert seen["entity_rows"][1] == (1, "User(id=2, name='sandy', fullname='Sandy Cheeks')")
    assert seen["two_entities"][2] == ("sandy", "squirrel@squirrelpower.org")
    assert seen["named_aliases"] == (["user_cls", "email"], "spongebob",
                                     "spongebob@sqlalchemy.org")
    assert seen["bundle"][0] == ("patrick", "Patrick Star", "pat999@aol.com")
    assert seen["from_statement"][4] == (
        "User(id=5, name='ehkrabs', fullname='Eugene H. Krabs')")
    assert seen["adapt_on_names"] == [
        "User(id=14, name='made up name', fullname='made up fullname')"]
    assert seen["union_from_statement"] == [
        "User(id=1, name='spongebob', fullname='Spongebob Squarepants')",
        "User(id=3, name='patrick', fullname='Patrick Star')",
    ]
    assert seen["relationship_join"] == [1, 2, 2, 3, 4]
    assert seen["wrong_join_order"] is not None
    assert seen["join_and"] == [("Sandy Cheeks",)]
    assert seen["two_of_type"] == [2]
    assert seen["multi_entity_subquery"][0][1] == (
        "Address(id=3, email_address='squirrel@squirrelpower.org')")
    assert seen["not_any"] == [("Eugene H. Krabs",)]
    assert seen["with_parent"] == ["Address(id=1, email_address='spongebob@sqlalchemy.org')"]
