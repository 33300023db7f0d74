"""The unified tutorial's "Using SELECT Statements" chapter
(doc/build/tutorial/data_select.rst), its examples that select ORM entities or
ORM attributes, as a program of our own text run on ``sqlalchemy.orm`` and on
session_ext with only the import lines changed.

Where the page shows a Core statement (``user_table``) or only prints one, the
program runs the same statement written with the mapped classes through the
``Session`` and records the rows. Sections covered, in page order: the
``select()`` construct with an entity, selecting ORM entities and columns
(``Session.execute``/``scalars``, ``Row`` of an entity, entity and column
together), labeled expressions, textual column expressions, the WHERE clause
(``and_``/``or_``, ``filter_by``), explicit FROM clauses and joins
(``join_from``, ``join``, ``select_from``, ON clauses, outer and full joins),
ORDER BY / GROUP BY / HAVING (with labels), aliases (``aliased()`` of an
entity, twice), subqueries and CTEs (of columns, joined to an entity; ORM
entities from a subquery and a CTE through ``aliased()``), scalar and
correlated subqueries (the auto-correlation error included), LATERAL
(PostgreSQL), UNION ALL (rows, as a subquery, ORM entities through
``from_statement()`` and ``aliased()``), EXISTS, ``func.count()``, window
functions, ``FILTER``, and ``cast()``. Examples of pure Core (``func`` return
types, ``json_each``, dialect-only compilation) are not ORM examples and are
left out.
"""

from __future__ import annotations

from typing import Any

import pytest
from doc_programs import same_on_both

# the program as written, and under ``from __future__ import annotations``
FUTURE = {False: "", True: "from __future__ import annotations\n"}

PROGRAM = '''
import warnings
from typing import List, Optional

from sqlalchemy import (
    ForeignKey,
    String,
    and_,
    bindparam,
    cast,
    desc,
    literal_column,
    func,
    insert,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, aliased, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "tsel_user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    fullname: Mapped[Optional[str]]
    addresses: Mapped[List["Address"]] = relationship(back_populates="user")

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, name={self.name!r}, fullname={self.fullname!r})"


class Address(Base):
    __tablename__ = "tsel_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_address: Mapped[str]
    user_id = mapped_column(ForeignKey("tsel_user_account.id"))
    user: Mapped[User] = relationship(back_populates="addresses")

    def __repr__(self) -> str:
        return f"Address(id={self.id!r}, email_address={self.email_address!r})"


def seed(engine):
    users, addresses = User.__table__, Address.__table__
    owner = select(users.c.id).where(users.c.name == bindparam("username")).scalar_subquery()
    with engine.begin() as conn:
        conn.execute(insert(users), [
            {"name": "spongebob", "fullname": "Spongebob Squarepants"},
            {"name": "sandy", "fullname": "Sandy Cheeks"},
            {"name": "patrick", "fullname": "Patrick Star"},
        ])
        conn.execute(insert(addresses).values(user_id=owner), [
            {"username": "spongebob", "email_address": "spongebob@sqlalchemy.org"},
            {"username": "sandy", "email_address": "sandy@sqlalchemy.org"},
            {"username": "sandy", "email_address": "sandy@squirrelpower.org"},
        ])


def reprs(rows):
    return [tuple(repr(v) if isinstance(v, Base) else v for v in row) for row in rows]


def entities(session, seen):
    stmt = select(User).where(User.name == "spongebob")
    seen["select_user"] = reprs(session.execute(stmt))
    row = session.execute(select(User).order_by(User.id)).first()
    seen["row_of_entity"] = (len(row), repr(row[0]), repr(row.User))
    seen["scalars_first"] = repr(session.scalars(select(User).order_by(User.id)).first())
    row = session.execute(select(User.name, User.fullname).order_by(User.id)).first()
    seen["columns_row"] = (tuple(row), row.name, row.fullname)
    seen["column_and_entity"] = reprs(session.execute(
        select(User.name, Address).where(User.id == Address.user_id).order_by(Address.id)
    ).all())
    stmt = select(("Username: " + User.name).label("username")).order_by(User.name)
    seen["labeled"] = [row.username for row in session.execute(stmt)]
    stmt = select(text("'some phrase'"), User.name).order_by(User.name)
    seen["text_column"] = session.execute(stmt).all()
    stmt = select(literal_column("'some phrase'").label("p"), User.name).order_by(User.name)
    seen["literal_column"] = [f"{row.p}, {row.name}!" for row in session.execute(stmt)]


def where_and_joins(session, seen):
    seen["and_or"] = session.execute(
        select(Address.email_address).where(
            and_(or_(User.name == "squidward", User.name == "sandy"),
                 Address.user_id == User.id)
        ).order_by(Address.email_address)).all()
    seen["or_and"] = session.execute(
        select(Address.email_address).where(
            or_(User.name == "squidward",
                and_(Address.user_id == User.id, User.name == "sandy"))
        ).order_by(Address.email_address)).all()
    seen["filter_by"] = reprs(session.execute(
        select(User).filter_by(name="spongebob", fullname="Spongebob Squarepants")))
    with warnings.catch_warnings():  # the page shows this FROM list as a mistake
        warnings.simplefilter("ignore")
        seen["cartesian"] = len(session.execute(
            select(User.name, Address.email_address)).all())
    seen["join_from"] = session.execute(
        select(User.name, Address.email_address).join_from(User, Address)
        .order_by(Address.id)).all()
    seen["join"] = session.execute(
        select(User.name, Address.email_address).join(Address).order_by(Address.id)).all()
    seen["select_from_join"] = session.execute(
        select(Address.email_address).select_from(User).join(Address)
        .order_by(Address.id)).all()
    seen["count_star"] = session.execute(select(func.count("*")).select_from(User)).scalar()
    seen["on_clause"] = session.execute(
        select(Address.email_address).select_from(User)
        .join(Address, User.id == Address.user_id).order_by(Address.id)).all()
    seen["outer_join"] = reprs(session.execute(
        select(User).join(Address, isouter=True).order_by(User.id, Address.id)))
    seen["full_join"] = reprs(session.execute(
        select(User).join(Address, full=True).order_by(User.id, Address.id)))


def grouping_and_aliases(session, seen):
    seen["order_by_desc"] = reprs(session.execute(select(User).order_by(User.fullname.desc())))
    seen["having"] = session.execute(
        select(User.name, func.count(Address.id).label("count"))
        .join(Address)
        .group_by(User.name)
        .having(func.count(Address.id) > 1)
    ).all()
    seen["by_label"] = session.execute(
        select(Address.user_id, func.count(Address.id).label("num_addresses"))
        .group_by("user_id")
        .order_by("user_id", desc("num_addresses"))
    ).all()
    user_alias_1 = aliased(User)
    user_alias_2 = aliased(User)
    seen["self_join"] = session.execute(
        select(user_alias_1.name, user_alias_2.name)
        .join_from(user_alias_1, user_alias_2, user_alias_1.id > user_alias_2.id)
        .order_by(user_alias_1.id, user_alias_2.id)
    ).all()
    for key, first, second in (
        ("entity_aliases", "patrick@aol.com", "patrick@gmail.com"),
        ("entity_aliases_sandy", "sandy@sqlalchemy.org", "sandy@squirrelpower.org"),
    ):
        address_alias_1 = aliased(Address)
        address_alias_2 = aliased(Address)
        seen[key] = reprs(session.execute(
            select(User)
            .join_from(User, address_alias_1)
            .where(address_alias_1.email_address == first)
            .join_from(User, address_alias_2)
            .where(address_alias_2.email_address == second)
        ))


def subqueries(session, seen):
    for kind in ("subquery", "cte"):
        counted = select(func.count(Address.id).label("count"), Address.user_id).group_by(
            Address.user_id)
        subq = counted.subquery() if kind == "subquery" else counted.cte()
        seen[f"{kind}_columns"] = session.execute(
            select(subq.c.user_id, subq.c.count).order_by(subq.c.user_id)).all()
        seen[f"{kind}_joined"] = session.execute(
            select(User.name, User.fullname, subq.c.count).join_from(User, subq)
            .order_by(User.id)).all()
        selected = select(Address).where(~Address.email_address.like("%@aol.com"))
        address_subq = aliased(Address, selected.subquery() if kind == "subquery"
                               else selected.cte())
        stmt = (
            select(User, address_subq)
            .join_from(User, address_subq)
            .order_by(User.id, address_subq.id)
        )
        seen[f"{kind}_entities"] = [f"{user} {address}"
                                    for user, address in session.execute(stmt)]
        rows = session.execute(stmt).all()
        seen[f"{kind}_entities_identity"] = rows[1][0] is rows[2][0]


def scalar_subqueries(session, seen):
    subq = (
        select(func.count(Address.id))
        .where(User.id == Address.user_id)
        .scalar_subquery()
    )
    seen["scalar_subquery"] = session.execute(
        select(User.name, subq.label("address_count")).order_by(User.id)).all()
    stmt = (
        select(User.name, Address.email_address, subq.label("address_count"))
        .join_from(User, Address)
        .order_by(User.id, Address.id)
    )
    try:
        session.execute(stmt)
    except Exception as exc:
        seen["auto_correlation_error"] = type(exc).__name__
    subq = (
        select(func.count(Address.id))
        .where(User.id == Address.user_id)
        .scalar_subquery()
        .correlate(User)
    )
    seen["correlated"] = session.execute(
        select(User.name, Address.email_address, subq.label("address_count"))
        .join_from(User, Address)
        .order_by(User.id, Address.id)
    ).all()


def lateral(session, seen):
    subq = (
        select(
            func.count(Address.id).label("address_count"),
            Address.email_address,
            Address.user_id,
        )
        .where(User.id == Address.user_id)
        .group_by(Address.email_address, Address.user_id)
        .lateral()
    )
    seen["lateral"] = session.execute(
        select(User.name, subq.c.address_count, subq.c.email_address)
        .join_from(User, subq)
        .order_by(User.id, subq.c.email_address)
    ).all()


def unions_and_exists(session, seen):
    u = union_all(select(User).where(User.name == "sandy"),
                  select(User).where(User.name == "spongebob"))
    seen["union_rows"] = sorted(tuple(r) for r in session.execute(u))
    u_subq = u.subquery()
    seen["union_subquery"] = session.execute(
        select(u_subq.c.name, Address.email_address)
        .join_from(Address, u_subq)
        .order_by(u_subq.c.name, Address.email_address)
    ).all()
    orm_stmt = select(User).from_statement(u)
    seen["from_statement"] = sorted(repr(obj) for obj in session.execute(orm_stmt).scalars())
    user_alias = aliased(User, u.subquery())
    orm_stmt = select(user_alias).order_by(user_alias.id)
    objs = session.execute(orm_stmt).scalars().all()
    seen["aliased_union"] = [repr(obj) for obj in objs]
    seen["aliased_union_identity"] = objs[0] is session.get(User, 1)
    subq = (
        select(func.count(Address.id))
        .where(User.id == Address.user_id)
        .group_by(Address.user_id)
        .having(func.count(Address.id) > 1)
    ).exists()
    seen["exists"] = session.execute(select(User.name).where(subq)).all()
    subq = select(Address.id).where(User.id == Address.user_id).exists()
    seen["not_exists"] = session.execute(select(User.name).where(~subq)).all()


def functions(session, seen):
    seen["row_number"] = session.execute(
        select(
            func.row_number().over(partition_by=User.name, order_by=Address.email_address),
            User.name,
            Address.email_address,
        )
        .select_from(User)
        .join(Address)
        .order_by(User.name, Address.email_address)
    ).all()
    seen["count_over"] = session.execute(
        select(func.count().over(order_by=User.name), User.name, Address.email_address)
        .select_from(User)
        .join(Address)
        .order_by(User.name, Address.email_address)
    ).all()
    seen["filter"] = session.execute(
        select(
            func.count(Address.email_address).filter(User.name == "sandy"),
            func.count(Address.email_address).filter(User.name == "spongebob"),
        )
        .select_from(User)
        .join(Address)
    ).all()
    seen["count_function"] = session.execute(select(func.count()).select_from(User)).scalar()
    seen["cast"] = session.execute(select(cast(User.id, String)).order_by(User.id)).all()


def run(engine):
    seed(engine)
    seen = {}
    with Session(engine) as session:
        entities(session, seen)
        where_and_joins(session, seen)
        grouping_and_aliases(session, seen)
        subqueries(session, seen)
        scalar_subqueries(session, seen)
        if engine.dialect.name == "postgresql":
            lateral(session, seen)
        unions_and_exists(session, seen)
        functions(session, seen)
    return seen
'''


@pytest.mark.parametrize("future", [False, True], ids=["evaluated", "string_annotations"])
def test_data_select_runs_the_same_on_both(engine: Any, future: bool) -> None:
    seen = same_on_both(FUTURE[future] + PROGRAM, engine, name="tutorial_data_select")
    assert seen["select_user"] == [
        ("User(id=1, name='spongebob', fullname='Spongebob Squarepants')",)]
    assert seen["column_and_entity"][2] == (
        "sandy", "Address(id=3, email_address='sandy@squirrelpower.org')")
    assert seen["labeled"] == ["Username: patrick", "Username: sandy", "Username: spongebob"]
    assert seen["having"] == [("sandy", 2)]
    assert seen["literal_column"][0] == "some phrase, patrick!"
    assert seen["entity_aliases"] == []
    assert seen["entity_aliases_sandy"] == [
        ("User(id=2, name='sandy', fullname='Sandy Cheeks')",)]
    assert seen["subquery_entities"][2] == (
        "User(id=2, name='sandy', fullname='Sandy Cheeks') "
        "Address(id=3, email_address='sandy@squirrelpower.org')")
    assert seen["cte_entities"] == seen["subquery_entities"]
    assert seen["auto_correlation_error"] == "InvalidRequestError"
    assert seen["correlated"][0] == ("spongebob", "spongebob@sqlalchemy.org", 1)
    assert seen["aliased_union"] == [
        "User(id=1, name='spongebob', fullname='Spongebob Squarepants')",
        "User(id=2, name='sandy', fullname='Sandy Cheeks')",
    ]
    assert seen["exists"] == [("sandy",)]
    assert seen["not_exists"] == [("patrick",)]
    assert seen["filter"] == [(2, 1)]
    if engine.dialect.name == "postgresql":
        assert seen["lateral"][0] == ("spongebob", 1, "spongebob@sqlalchemy.org")
