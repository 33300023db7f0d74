"""SQLAlchemy's ORM query guide, "ORM-Enabled INSERT, UPDATE, and DELETE
statements" (``orm/queryguide/dml``), as a program of our own text run on
``sqlalchemy.orm`` and on session_ext with only the import lines changed.

Sections covered, in page order: ORM bulk INSERT (plain, RETURNING entities,
RETURNING with ``sort_by_parameter_order``, heterogeneous parameter sets, NULL
values and ``render_nulls``, joined-table inheritance, SQL expressions in
``values()`` combined with a parameter list, per-row SQL expressions in
``values([...])``), upserts (``on_conflict_do_update`` of the dialect in use,
with RETURNING entities and ``populate_existing``), ORM bulk UPDATE by primary
key (also for joined-table inheritance; bypassed through
``session.connection()``), UPDATE/DELETE with WHERE criteria, the
``synchronize_session`` options, UPDATE ... RETURNING entities, and
UPDATE/DELETE of a joined-table inheritance subclass (local columns, scalar
subquery, UPDATE .. FROM, a DELETE per table).  Not covered: the legacy
``Session.bulk_insert_mappings()`` / ``bulk_update_mappings()`` the page shows
(no doctest) only as code to port to the statements above; session_ext has no
such methods.

The page's setup runs on one connection whose ROLLBACK restarts every section;
here each section ends with ``session.rollback()`` on a ``Session(engine)``,
and primary keys are looked up by name (PostgreSQL's sequences do not roll back,
so the page's literal ids 1, 3, 5 would not name the same rows there).
"""

from __future__ import annotations

from doc_programs import same_on_both

PROGRAM = '''
import datetime
from typing import List, Optional

from sqlalchemy import ForeignKey, bindparam, delete, func, insert, inspect, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "qgdml_user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    fullname: Mapped[Optional[str]]
    species: Mapped[Optional[str]]
    addresses: Mapped[List["Address"]] = relationship(back_populates="user")

    def __repr__(self) -> str:
        return f"User(name={self.name!r}, fullname={self.fullname!r})"


class Address(Base):
    __tablename__ = "qgdml_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("qgdml_user_account.id"))
    email_address: Mapped[str]
    user: Mapped[User] = relationship(back_populates="addresses")

    def __repr__(self) -> str:
        return f"Address(email_address={self.email_address!r})"


class LogRecord(Base):
    __tablename__ = "qgdml_log_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str]
    code: Mapped[str]
    timestamp: Mapped[datetime.datetime]

    def __repr__(self):
        return f"LogRecord({self.message!r}, {self.code!r})"


class Employee(Base):
    __tablename__ = "qgdml_employee"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    type: Mapped[str]

    def __repr__(self):
        return f"{self.__class__.__name__}({self.name!r})"

    __mapper_args__ = {
        "polymorphic_identity": "employee",
        "polymorphic_on": "type",
    }


class Manager(Employee):
    __tablename__ = "qgdml_manager"

    id: Mapped[int] = mapped_column(ForeignKey("qgdml_employee.id"), primary_key=True)
    manager_name: Mapped[str]

    def __repr__(self):
        return f"{self.__class__.__name__}({self.name!r}, manager_name={self.manager_name!r})"

    __mapper_args__ = {
        "polymorphic_identity": "manager",
    }


class Engineer(Employee):
    __tablename__ = "qgdml_engineer"

    id: Mapped[int] = mapped_column(ForeignKey("qgdml_employee.id"), primary_key=True)
    engineer_info: Mapped[str]

    def __repr__(self):
        return f"{self.__class__.__name__}({self.name!r}, engineer_info={self.engineer_info!r})"

    __mapper_args__ = {
        "polymorphic_identity": "engineer",
    }


FIVE_USERS = [
    {"name": "spongebob", "fullname": "Spongebob Squarepants"},
    {"name": "sandy", "fullname": "Sandy Cheeks"},
    {"name": "patrick", "fullname": "Patrick Star"},
    {"name": "squidward", "fullname": "Squidward Tentacles"},
    {"name": "ehkrabs", "fullname": "Eugene H. Krabs"},
]

WITH_SPECIES = [
    {"name": "spongebob", "fullname": "Spongebob Squarepants", "species": "Sea Sponge"},
    {"name": "sandy", "fullname": "Sandy Cheeks", "species": "Squirrel"},
    {"name": "patrick", "species": "Starfish"},
    {"name": "squidward", "fullname": "Squidward Tentacles", "species": "Squid"},
    {"name": "ehkrabs", "fullname": "Eugene H. Krabs", "species": "Crab"},
]

EMPLOYEES = [
    {"name": "name_a", "fullname": "Employee A", "species": "Squid"},
    {"name": "name_b", "fullname": "Employee B", "species": "Squirrel"},
    {"name": "name_c", "fullname": "Employee C", "species": None},
    {"name": "name_d", "fullname": "Employee D", "species": "Bluefish"},
]


def user_rows(session):
    return [tuple(r) for r in session.execute(
        select(User.name, User.fullname, User.species).order_by(User.name))]


def ids_by_name(session):
    return dict(session.execute(select(User.name, User.id)).all())


def upsert_insert(engine):
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    return upsert


def bulk_insert(session, seen):
    session.execute(insert(User), FIVE_USERS)
    seen["bulk_insert"] = user_rows(session)
    seen["bulk_insert_identity_map"] = len(session.identity_map)
    session.rollback()

    users = session.scalars(insert(User).returning(User), FIVE_USERS)
    users = users.all()
    seen["returning_entities"] = [repr(u) for u in users]
    seen["returning_states"] = [inspect(u).persistent for u in users]
    seen["returning_identity"] = session.get(User, users[1].id) is users[1]
    seen["returning_in_session"] = all(u in session for u in users)
    seen["returning_clean"] = (list(session.new), list(session.dirty))
    seen["returning_lazy_addresses"] = users[0].addresses
    session.rollback()
    seen["returning_after_rollback"] = [
        (inspect(u).transient, inspect(u).detached) for u in users]

    data = [
        {"name": "pearl", "fullname": "Pearl Krabs"},
        {"name": "plankton", "fullname": "Plankton"},
        {"name": "gary", "fullname": "Gary"},
    ]
    user_ids = session.scalars(
        insert(User).returning(User.id, sort_by_parameter_order=True), data
    )
    for user_id, input_record in zip(user_ids, data):
        input_record["id"] = user_id
    by_name = ids_by_name(session)
    seen["ordered_ids_match"] = [r["id"] == by_name[r["name"]] for r in data]
    seen["ordered_keys"] = [sorted(r) for r in data]
    session.rollback()

    users = session.scalars(insert(User).returning(User), WITH_SPECIES)
    seen["heterogeneous"] = [(repr(u), u.species) for u in users]
    seen["heterogeneous_rows"] = user_rows(session)

    session.execute(insert(User), EMPLOYEES)
    seen["nulls"] = user_rows(session)
    session.rollback()

    session.execute(insert(User).execution_options(render_nulls=True), EMPLOYEES)
    seen["render_nulls"] = user_rows(session)
    session.rollback()


def joined_and_expressions(session, seen):
    managers = session.scalars(
        insert(Manager).returning(Manager),
        [
            {"name": "sandy", "manager_name": "Sandy Cheeks"},
            {"name": "ehkrabs", "manager_name": "Eugene H. Krabs"},
        ],
    )
    managers = managers.all()
    seen["joined_insert"] = [repr(m) for m in managers]
    seen["joined_insert_types"] = [(type(m).__name__, m.type) for m in managers]
    seen["joined_rows"] = [(m.name, m.type, m.manager_name) for m in session.scalars(
        select(Manager).order_by(Manager.name).execution_options(populate_existing=True))]
    seen["joined_identity"] = session.get(Employee, managers[0].id) is managers[0]
    session.rollback()

    log_record_result = session.scalars(
        insert(LogRecord).values(code="SQLA", timestamp=func.now()).returning(LogRecord),
        [
            {"message": "log message #1"},
            {"message": "log message #2"},
            {"message": "log message #3"},
            {"message": "log message #4"},
        ],
    )
    records = log_record_result.all()
    seen["log_records"] = [repr(r) for r in records]
    seen["log_timestamps"] = [isinstance(r.timestamp, datetime.datetime) for r in records]
    session.rollback()

    session.execute(insert(User), WITH_SPECIES)
    address_result = session.scalars(
        insert(Address)
        .values(
            [
                {
                    "user_id": select(User.id).where(User.name == "sandy"),
                    "email_address": "sandy@company.com",
                },
                {
                    "user_id": select(User.id).where(User.name == "spongebob"),
                    "email_address": "spongebob@company.com",
                },
                {
                    "user_id": select(User.id).where(User.name == "patrick"),
                    "email_address": "patrick@company.com",
                },
            ]
        )
        .returning(Address),
    )
    addresses = address_result.all()
    seen["per_row_expressions"] = [repr(a) for a in addresses]
    seen["per_row_owners"] = [repr(a.user) for a in addresses]
    session.rollback()


def upserts(engine, session, seen):
    session.execute(
        insert(User).values(
            [
                dict(name="sandy"),
                dict(name="spongebob", fullname="Spongebob Squarepants"),
            ]
        )
    )
    seen["multi_values_rows"] = user_rows(session)
    sandy = session.scalars(select(User).where(User.name == "sandy")).one()
    seen["sandy_before"] = repr(sandy)

    stmt = upsert_insert(engine)(User).values(FIVE_USERS)
    stmt = stmt.on_conflict_do_update(
        index_elements=[User.name], set_=dict(fullname=stmt.excluded.fullname)
    )
    session.execute(stmt)
    seen["upsert_rows"] = user_rows(session)
    seen["sandy_after_upsert"] = repr(sandy)

    result = session.scalars(
        stmt.returning(User), execution_options={"populate_existing": True}
    )
    upserted = result.all()
    seen["upsert_returning"] = sorted(repr(u) for u in upserted)
    seen["upsert_same_sandy"] = any(u is sandy for u in upserted)
    seen["sandy_populated"] = repr(sandy)
    session.rollback()


def bulk_update(session, seen):
    session.execute(insert(User), FIVE_USERS)
    session.commit()
    ids = ids_by_name(session)
    patrick = session.get(User, ids["patrick"])
    seen["patrick_loaded"] = repr(patrick)
    session.execute(
        update(User),
        [
            {"id": ids["spongebob"], "fullname": "Spongebob Squarepants"},
            {"id": ids["patrick"], "fullname": "Patrick Star"},
            {"id": ids["ehkrabs"], "fullname": "Eugene H. Krabs"},
        ],
    )
    seen["bulk_update_rows"] = user_rows(session)

    session.execute(
        update(User),
        [
            {"id": ids["sandy"], "fullname": "Sandy C."},
            {"id": ids["patrick"], "fullname": "Patrick S.", "species": "Starfish"},
        ],
    )
    seen["bulk_update_heterogeneous"] = user_rows(session)
    seen["patrick_after_bulk_update"] = (repr(patrick), patrick.species)

    try:
        session.execute(update(User), [{"fullname": "no key"}])
    except Exception as err:
        seen["bulk_update_without_key"] = type(err).__name__
    session.rollback()

    session.connection().execute(
        update(User).where(User.name == bindparam("u_name")),
        [
            {"u_name": "spongebob", "fullname": "Spongebob Squarepants"},
            {"u_name": "patrick", "fullname": "Patrick Star"},
        ],
    )
    seen["connection_update"] = user_rows(session)

    managers = session.execute(
        insert(Manager).returning(Manager),
        [
            {"name": "sandy", "manager_name": "Sandy Cheeks"},
            {"name": "ehkrabs", "manager_name": "Eugene H. Krabs"},
        ],
    ).scalars().all()
    seen["managers_inserted"] = [repr(m) for m in managers]
    session.commit()
    mids = dict(session.execute(select(Employee.name, Employee.id)).all())
    session.execute(
        update(Manager),
        [
            {
                "id": mids["sandy"],
                "name": "scheeks",
                "manager_name": "Sandy Cheeks, President",
            },
            {
                "id": mids["ehkrabs"],
                "name": "eugene",
                "manager_name": "Eugene H. Krabs, VP Marketing",
            },
        ],
    )
    seen["joined_bulk_update"] = sorted(
        repr(m) for m in session.scalars(
            select(Manager).execution_options(populate_existing=True)))
    session.rollback()


def with_where(session, seen):
    users = session.scalars(select(User).order_by(User.name)).all()
    by_name = {u.name: u for u in users}
    stmt = (
        update(User)
        .where(User.name.in_(["squidward", "sandy"]))
        .values(fullname="Name starts with S")
    )
    result = session.execute(stmt)
    seen["update_rowcount"] = result.rowcount
    seen["update_synced"] = [repr(u) for u in users]
    seen["update_dirty"] = list(session.dirty)

    stmt = delete(User).where(User.name.in_(["squidward", "sandy"]))
    result = session.execute(stmt)
    seen["delete_rowcount"] = result.rowcount
    seen["delete_states"] = [
        (u.name, inspect(u).deleted, inspect(u).persistent, u in session) for u in users]
    seen["delete_rows"] = user_rows(session)
    session.rollback()
    seen["after_rollback"] = [(u.name, inspect(u).persistent) for u in users]

    squidward = by_name["squidward"]
    seen["squidward_before"] = repr(squidward)
    stmt = (
        update(User).where(User.name == "squidward").values(fullname="Squidward (no sync)")
    )
    session.execute(stmt, execution_options={"synchronize_session": False})
    seen["no_sync_kept"] = repr(squidward)
    session.expire(squidward)
    seen["no_sync_expired"] = repr(squidward)

    stmt = (
        update(User)
        .where(User.name == "squidward")
        .values(fullname="Squid T.")
        .execution_options(synchronize_session=False)
    )
    session.execute(stmt)
    seen["no_sync_statement_option"] = repr(squidward)

    stmt = (
        update(User)
        .where(User.name == "squidward")
        .values(fullname="Squidward Tentacles")
        .returning(User)
    )
    result = session.scalars(stmt)
    returned = result.all()
    seen["update_returning"] = [repr(u) for u in returned]
    seen["update_returning_same"] = [u is squidward for u in returned]
    seen["update_returning_synced"] = repr(squidward)

    stmt = delete(User).where(User.name == "ehkrabs").returning(User.id, User.name)
    seen["delete_returning_names"] = [name for _id, name in session.execute(stmt)]
    seen["delete_returning_state"] = inspect(by_name["ehkrabs"]).deleted
    session.rollback()


def joined_where(session, seen):
    mids = dict(session.execute(select(Employee.name, Employee.id)).all())
    sandy_id = mids["sandy"]
    stmt = (
        update(Manager)
        .where(Manager.id == sandy_id)
        .values(manager_name="Sandy Cheeks, President")
    )
    seen["joined_local_update"] = session.execute(stmt).rowcount

    stmt = (
        update(Manager)
        .where(
            Manager.id
            == select(Employee.id).where(Employee.name == "sandy").scalar_subquery()
        )
        .values(manager_name="Sandy Cheeks, CEO")
    )
    seen["joined_subquery_update"] = session.execute(stmt).rowcount

    stmt = (
        update(Manager)
        .where(Manager.id == Employee.id, Employee.name == "ehkrabs")
        .values(manager_name="Eugene H. Krabs, CFO")
    )
    seen["joined_update_from"] = session.execute(stmt).rowcount
    seen["joined_after_updates"] = sorted(
        repr(m) for m in session.scalars(
            select(Manager).execution_options(populate_existing=True)))

    seen["delete_manager"] = session.execute(
        delete(Manager).where(Manager.id == sandy_id)).rowcount
    seen["delete_employee"] = session.execute(
        delete(Employee).where(Employee.id == sandy_id)).rowcount
    seen["employees_left"] = sorted(
        repr(e) for e in session.scalars(
            select(Employee).execution_options(populate_existing=True)))
    session.rollback()


def run(engine):
    seen = {}
    with Session(engine) as session:
        bulk_insert(session, seen)
        joined_and_expressions(session, seen)
        upserts(engine, session, seen)
        bulk_update(session, seen)
        with_where(session, seen)
        joined_where(session, seen)
    return seen
'''


def test_queryguide_dml(engine):
    seen = same_on_both(PROGRAM, engine, name="queryguide_dml")
    assert seen["returning_entities"][0] == (
        "User(name='spongebob', fullname='Spongebob Squarepants')")
    assert seen["returning_states"] == [True] * 5
    assert seen["ordered_ids_match"] == [True, True, True]
    assert ("patrick", None, "Starfish") in seen["heterogeneous_rows"]
    assert seen["joined_insert"] == [
        "Manager('sandy', manager_name='Sandy Cheeks')",
        "Manager('ehkrabs', manager_name='Eugene H. Krabs')",
    ]
    assert seen["upsert_same_sandy"] is True
    assert seen["sandy_populated"] == "User(name='sandy', fullname='Sandy Cheeks')"
    assert ("sandy", "Sandy C.", None) in seen["bulk_update_heterogeneous"]
    assert "Manager('eugene', manager_name='Eugene H. Krabs, VP Marketing')" in (
        seen["joined_bulk_update"])
    assert seen["update_rowcount"] == 2 and seen["delete_rowcount"] == 2
    assert seen["update_returning_same"] == [True]
    assert seen["no_sync_kept"] == "User(name='squidward', fullname='Squidward Tentacles')"
    assert seen["no_sync_expired"] == "User(name='squidward', fullname='Squidward (no sync)')"
    assert seen["no_sync_statement_option"] == seen["no_sync_expired"]
    assert seen["employees_left"] == [
        "Manager('ehkrabs', manager_name='Eugene H. Krabs, CFO')"]
