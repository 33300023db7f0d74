"""The ORM query guide's "ORM API Features for Querying" page
(doc/build/orm/queryguide/api.rst), as a program of our own text run on
``sqlalchemy.orm`` and on session_ext with only the import lines changed.

Sections covered, in page order: ORM execution options (``populate_existing``
alone and with ``selectinload``; ``autoflush=False``; ``yield_per`` with
iteration, with ``partitions()``, its equivalent ``stream_results`` /
``max_row_buffer`` + ``Result.yield_per()``, and the combinations it refuses),
``identity_token`` (with ``schema_translate_map``, on PostgreSQL where schemas
exist), inspecting entities and columns (``Select.column_descriptions`` for
entities, attributes, aliases and plain columns, ``entity_description`` and
``returning_column_descriptions`` of an ORM ``update()``).
The "Additional ORM API Constructs" section is a reference list of names
(``aliased``, ``Bundle``, ``with_parent``, ...) whose behaviour the select page's
test runs. The "ORM Loader Options" section only links to the column and
relationship loading pages (tests/sa_docs/test_queryguide_relationships.py).
"""

from __future__ import annotations

from typing import Any

from doc_programs import same_on_both
from queryguide_setup import setup_text

PROGRAM = setup_text("qgapi_") + '''
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.orm import aliased
from sqlalchemy.orm import selectinload


def error_name(fn):
    try:
        fn()
    except Exception as err:
        return type(err).__name__
    return None


def more_users(session):
    session.add_all(
        [User(name=f"user{i}", fullname=f"User Number {i}") for i in range(6, 26)]
    )
    session.commit()


def populate_existing(session, seen):
    users = session.scalars(select(User).order_by(User.id)).all()
    sandy = users[1]
    seen["sandy_addresses_before"] = [a.email_address for a in sandy.addresses]
    session.execute(text("UPDATE " + P + "user_account SET fullname = 'changed'"))
    session.execute(
        text("UPDATE " + P + "address SET email_address = 'x@y' WHERE user_id = 2")
    )
    again = session.scalars(select(User).order_by(User.id)).all()
    seen["plain_reload_keeps_values"] = [u.fullname for u in again][:3]
    seen["same_objects"] = [a is b for a, b in zip(users, again)]

    stmt = select(User).execution_options(populate_existing=True)
    result = session.execute(stmt)
    seen["populate_existing"] = sorted(u.fullname for u in result.scalars())
    seen["collection_after_populate"] = [a.email_address for a in sandy.addresses]

    names = ["sandy", "patrick"]
    stmt = (
        select(User)
        .where(User.name.in_(names))
        .execution_options(populate_existing=True)
        .options(selectinload(User.addresses))
    )
    refreshed = session.execute(stmt).scalars().all()
    seen["populate_existing_related"] = sorted(
        (u.name, sorted(a.email_address for a in u.addresses)) for u in refreshed
    )
    sandy.fullname = "pending change"
    session.execute(select(User).execution_options(populate_existing=True))
    seen["pending_change_flushed_first"] = sandy.fullname
    seen["modified_after"] = session.is_modified(sandy)
    session.rollback()


def autoflush_option(session, seen):
    session.add(User(name="pending", fullname="Not Yet Flushed"))
    stmt = select(User).execution_options(autoflush=False)
    seen["autoflush_false"] = sorted(u.name for u in session.execute(stmt).scalars())
    seen["still_pending"] = [inspect(o).pending for o in session.new]
    seen["autoflush_default"] = sorted(u.name for u in session.execute(select(User)).scalars())
    seen["after_default"] = len(session.new)
    session.rollback()


def yield_per(session, seen):
    stmt = select(User).order_by(User.id).execution_options(yield_per=10)
    seen["yield_per"] = [u.id for u in session.scalars(stmt)]

    stmt = select(User).order_by(User.id).execution_options(
        stream_results=True, max_row_buffer=10
    )
    seen["stream_results"] = [u.id for u in session.scalars(stmt).yield_per(10)]

    stmt = select(User).order_by(User.id).execution_options(yield_per=10)
    seen["partitions"] = [
        [u.id for u in partition] for partition in session.scalars(stmt).partitions()
    ]
    seen["partitions_identity"] = (
        next(iter(session.scalars(stmt).partitions()))[0] is session.get(User, 1)
    )

    seen["yield_per_unique"] = error_name(
        lambda: session.scalars(
            select(User).execution_options(yield_per=10)
        ).unique().all()
    )


def column_descriptions(seen):
    def describe(descriptions):
        out = []
        for d in descriptions:
            entity = d.get("entity")
            out.append(
                (
                    d["name"],
                    d.get("aliased"),
                    entity is User if "entity" in d else "no entity",
                    d["type"] is User if d["type"] is User else type(d["type"]).__name__,
                    d["expr"] is User,
                )
            )
        return out

    user_alias = aliased(User, name="user2")
    stmt = select(User, User.id, user_alias)
    seen["column_descriptions"] = describe(stmt.column_descriptions)
    seen["alias_description"] = stmt.column_descriptions[2]["expr"] is user_alias

    user_table = User.__table__
    address_table = Address.__table__
    stmt = select(user_table, address_table.c.id)
    seen["core_descriptions"] = describe(stmt.column_descriptions)

    stmt = update(User).values(name="somename").returning(User.id)
    d = stmt.entity_description
    seen["entity_description"] = (
        d["name"], d["entity"] is User, d["type"] is User, d["expr"] is User,
        d["table"] is user_table,
    )
    seen["returning_column_descriptions"] = describe(stmt.returning_column_descriptions)


def run(engine):
    seen = {}
    with Session(engine) as session:
        add_data(session)
        more_users(session)
    for part in (populate_existing, autoflush_option, yield_per):
        with Session(engine) as session:
            part(session, seen)
    column_descriptions(seen)
    return seen
'''

IDENTITY_TOKEN = '''
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import Session


class Base(DeclarativeBase):
    pass


class MyTable(Base):
    __tablename__ = "qgapi_my_table"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


def run(engine):
    seen = {}
    for schema, name in (("qgapi_schema", "this is schema one"),
                         ("qgapi_schema_2", "this is schema two")):
        with Session(engine.execution_options(schema_translate_map={None: schema})) as sess:
            sess.add(MyTable(name=name))
            sess.commit()

    with Session(engine) as sess:
        obj1 = sess.scalar(
            select(MyTable)
            .where(MyTable.id == 1)
            .execution_options(
                schema_translate_map={None: "qgapi_schema"},
                identity_token="qgapi_schema",
            )
        )
        obj2 = sess.scalar(
            select(MyTable)
            .where(MyTable.id == 1)
            .execution_options(
                schema_translate_map={None: "qgapi_schema_2"},
                identity_token="qgapi_schema_2",
            )
        )
        seen["distinct"] = obj1 is not obj2
        seen["names"] = (obj1.name, obj2.name)
        seen["keys"] = [
            (k[0].__name__, k[1], k[2]) for k in (inspect(obj1).key, inspect(obj2).key)
        ]
        seen["identity"] = (inspect(obj1).identity, inspect(obj2).identity)
        again = sess.scalar(
            select(MyTable)
            .where(MyTable.id == 1)
            .execution_options(
                schema_translate_map={None: "qgapi_schema"},
                identity_token="qgapi_schema",
            )
        )
        seen["same_token_same_object"] = again is obj1
        seen["in_session"] = len(list(sess))
    return seen
'''


def test_queryguide_api_runs_the_same_on_both(engine: Any) -> None:
    seen = same_on_both(PROGRAM, engine, name="queryguide_api")
    assert seen["plain_reload_keeps_values"] == [
        "Spongebob Squarepants", "Sandy Cheeks", "Patrick Star"]
    assert seen["populate_existing"][0] == "changed"
    assert seen["autoflush_false"].count("pending") == 0
    assert "pending" in seen["autoflush_default"]
    assert seen["yield_per"] == list(range(1, 26))
    assert [len(p) for p in seen["partitions"]] == [10, 10, 5]
    assert seen["column_descriptions"][2][:2] == ("user2", True)


def _schemas(engine: Any, create: bool) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        for schema in ("qgapi_schema", "qgapi_schema_2"):
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            if create:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
                conn.execute(text(f"CREATE TABLE {schema}.qgapi_my_table "
                                  "(id SERIAL PRIMARY KEY, name VARCHAR NOT NULL)"))


def test_queryguide_identity_token_runs_the_same_on_both(pg_engine: Any) -> None:
    """The identity token section, on PostgreSQL (its schemas)."""
    _schemas(pg_engine, True)
    try:
        seen = same_on_both(IDENTITY_TOKEN, pg_engine, name="queryguide_identity_token",
                            create=lambda module, engine: _schemas(engine, True))
    finally:
        _schemas(pg_engine, False)
    assert seen["distinct"] is True
    assert seen["names"] == ("this is schema one", "this is schema two")
    assert seen["keys"] == [("MyTable", (1,), "qgapi_schema"),
                            ("MyTable", (1,), "qgapi_schema_2")]
    assert seen["same_token_same_object"] is True
