"""The ORM query guide's "Writing SELECT statements for Inheritance Mappings"
page (doc/build/orm/queryguide/inheritance.rst, with its setups
_inheritance_setup.rst and _single_inheritance.rst), as programs of our own
text run on ``sqlalchemy.orm`` and on session_ext with only the import lines
changed.

Sections covered, in page order:

* SELECTing from the base class vs. a subclass (joined inheritance), lazy load
  of a subclass column
* selectin_polymorphic() as a loader option, chained after selectinload(),
  with sibling subclass options, as a sub-option through ``Load.options()``
* polymorphic_load="selectin" on mappers
* with_polymorphic() with a list and ``"*"``, filtering on subclass attributes,
  aliased=True with and without flat=True
* polymorphic_load="inline" and the mapper's with_polymorphic="*"
* of_type() joins to a with_polymorphic() entity and to a subclass, eager
  loading of polymorphic subtypes (selectinload and joinedload of
  ``...of_type(with_polymorphic(...))``)
* single inheritance: SELECTs of the base and of a subclass, attribute loads,
  with_polymorphic(), polymorphic_load="inline"

Each program records what it observes (reprs, values, which attributes are
unloaded, whether an attribute access emitted SQL) but no SQL text.
"""

from __future__ import annotations

from typing import Any

from doc_programs import same_on_both

JOINED_MODELS = '''
from typing import List

from sqlalchemy import ForeignKey, event, inspect, or_, select
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload, selectin_polymorphic, selectinload, with_polymorphic


class Base(DeclarativeBase):
    pass


class Company(Base):
    __tablename__ = "qgi_company"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    employees: Mapped[List["Employee"]] = relationship(back_populates="company")


class Employee(Base):
    __tablename__ = "qgi_employee"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    type: Mapped[str]
    company_id: Mapped[int] = mapped_column(ForeignKey("qgi_company.id"))
    company: Mapped[Company] = relationship(back_populates="employees")

    def __repr__(self):
        return f"{self.__class__.__name__}({self.name!r})"

    __mapper_args__ = {
        "polymorphic_identity": "employee",
        "polymorphic_on": "type",
        #EMPLOYEE_ARGS
    }


class Manager(Employee):
    __tablename__ = "qgi_manager"
    id: Mapped[int] = mapped_column(ForeignKey("qgi_employee.id"), primary_key=True)
    manager_name: Mapped[str]
    paperwork: Mapped[List["Paperwork"]] = relationship()
    __mapper_args__ = {
        "polymorphic_identity": "manager",
        #SUBCLASS_ARGS
    }


class Paperwork(Base):
    __tablename__ = "qgi_paperwork"
    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("qgi_manager.id"))
    document_name: Mapped[str]

    def __repr__(self):
        return f"Paperwork({self.document_name!r})"


class Engineer(Employee):
    __tablename__ = "qgi_engineer"
    id: Mapped[int] = mapped_column(ForeignKey("qgi_employee.id"), primary_key=True)
    engineer_info: Mapped[str]
    __mapper_args__ = {
        "polymorphic_identity": "engineer",
        #SUBCLASS_ARGS
    }


def add_data(session):
    session.add(
        Company(
            name="Krusty Krab",
            employees=[
                Manager(
                    name="Mr. Krabs",
                    manager_name="Eugene H. Krabs",
                    paperwork=[
                        Paperwork(document_name="Secret Recipes"),
                        Paperwork(document_name="Krabby Patty Orders"),
                    ],
                ),
                Engineer(name="SpongeBob", engineer_info="Krabby Patty Master"),
                Engineer(
                    name="Squidward",
                    engineer_info="Senior Customer Engagement Engineer",
                ),
            ],
        )
    )
    session.commit()


class Statements:
    """How many statements the engine ran (a Core event; no SQL text kept)."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0
        event.listen(engine, "before_cursor_execute", self.seen)

    def seen(self, *args):
        self.count += 1

    def during(self, fn):
        before = self.count
        value = fn()
        return value, self.count - before

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self.seen)


def unloaded(obj):
    """The column attributes of ``obj`` not loaded yet."""
    state = inspect(obj)
    return sorted(k for k in state.unloaded if k in state.mapper.column_attrs)
'''

JOINED_PROGRAM = JOINED_MODELS + '''

def run(engine):
    seen = {}
    statements = Statements(engine)
    conn = engine.connect()
    session = Session(conn)
    add_data(session)

    # SELECT of a subclass, then of the base class
    stmt = select(Manager).order_by(Manager.id)
    managers = session.scalars(stmt).all()
    seen["managers"] = repr(managers)
    session.close()

    stmt = select(Employee).order_by(Employee.id)
    objects = session.scalars(stmt).all()
    seen["employees"] = repr(objects)
    seen["employees_unloaded"] = [unloaded(o) for o in objects]
    mr_krabs = objects[0]
    seen["lazy_manager_name"] = statements.during(lambda: mr_krabs.manager_name)
    session.close()

    # selectin_polymorphic()
    loader_opt = selectin_polymorphic(Employee, [Manager, Engineer])
    stmt = select(Employee).order_by(Employee.id).options(loader_opt)
    objects = session.scalars(stmt).all()
    seen["selectin_polymorphic"] = repr(objects)
    seen["selectin_polymorphic_unloaded"] = [unloaded(o) for o in objects]
    seen["selectin_polymorphic_access"] = statements.during(
        lambda: (objects[0].manager_name, objects[1].engineer_info))
    session.close()

    # applied to an existing eager load
    stmt = select(Company).options(
        selectinload(Company.employees).selectin_polymorphic([Manager, Engineer])
    )
    out = []
    for company in session.scalars(stmt):
        out.append((company.name, repr(company.employees),
                    [unloaded(e) for e in company.employees]))
    seen["chained_selectin_polymorphic"] = out
    session.close()

    # loader options for the subclasses, as siblings
    stmt = (
        select(Employee)
        .order_by(Employee.id)
        .options(
            selectin_polymorphic(Employee, [Manager, Engineer]),
            selectinload(Manager.paperwork),
        )
    )
    objects = session.scalars(stmt).all()
    seen["sibling_options"] = repr(objects[0])
    seen["sibling_paperwork"] = statements.during(lambda: repr(objects[0].paperwork))
    session.close()

    # selectin_polymorphic() as a sub-option
    stmt = select(Company).options(
        selectinload(Company.employees).options(
            selectin_polymorphic(Employee, [Manager, Engineer]),
            selectinload(Manager.paperwork),
        )
    )
    out = []
    for company in session.scalars(stmt):
        out.append(f"company: {company.name}")
        for employee in company.employees:
            if isinstance(employee, Manager):
                out.append(f"manager: {employee.name} paperwork: {employee.paperwork}")
    seen["sub_options"] = out
    seen["sub_options_loaded"] = [unloaded(e) for e in company.employees]
    session.close()

    # with_polymorphic()
    employee_poly = with_polymorphic(Employee, [Engineer, Manager])
    employee_poly = with_polymorphic(Employee, "*")
    stmt = select(employee_poly).order_by(employee_poly.id)
    objects = session.scalars(stmt).all()
    seen["with_polymorphic"] = repr(objects)
    seen["with_polymorphic_access"] = statements.during(lambda: objects[0].manager_name)
    seen["with_polymorphic_unloaded"] = [unloaded(o) for o in objects]
    session.close()

    # filtering subclass attributes
    employee_poly = with_polymorphic(Employee, [Engineer, Manager])
    stmt = (
        select(employee_poly)
        .where(
            or_(
                employee_poly.Manager.manager_name == "Eugene H. Krabs",
                employee_poly.Engineer.engineer_info
                == "Senior Customer Engagement Engineer",
            )
        )
        .order_by(employee_poly.id)
    )
    seen["with_polymorphic_where"] = repr(session.scalars(stmt).all())
    session.close()

    # aliasing, flat and not
    for flat in (True, False):
        manager_employee = with_polymorphic(Employee, [Manager], aliased=True, flat=flat)
        engineer_employee = with_polymorphic(Employee, [Engineer], aliased=True, flat=flat)
        stmt = (
            select(manager_employee, engineer_employee)
            .join(
                engineer_employee,
                engineer_employee.company_id == manager_employee.company_id,
            )
            .where(
                or_(
                    manager_employee.name == "Mr. Krabs",
                    manager_employee.Manager.manager_name == "Eugene H. Krabs",
                )
            )
            .order_by(engineer_employee.name, manager_employee.name)
        )
        seen[f"aliased_flat_{flat}"] = [
            f"{manager} {engineer}" for manager, engineer in session.execute(stmt)
        ]
        session.close()

    # joining to a with_polymorphic() entity, and to a subclass
    employee_plus_engineer = with_polymorphic(Employee, [Engineer])
    stmt = (
        select(Company.name, employee_plus_engineer.name)
        .join(Company.employees.of_type(employee_plus_engineer))
        .where(
            or_(
                employee_plus_engineer.name == "SpongeBob",
                employee_plus_engineer.Engineer.engineer_info
                == "Senior Customer Engagement Engineer",
            )
        )
        .order_by(employee_plus_engineer.name)
    )
    seen["of_type_poly"] = [f"{c} {e}" for c, e in session.execute(stmt)]
    stmt = (
        select(Company.name, Engineer.name)
        .join(Company.employees.of_type(Engineer))
        .where(
            or_(
                Engineer.name == "SpongeBob",
                Engineer.engineer_info == "Senior Customer Engagement Engineer",
            )
        )
        .order_by(Engineer.name)
    )
    seen["of_type_subclass"] = [f"{c} {e}" for c, e in session.execute(stmt)]
    session.close()

    # eager loading of polymorphic subtypes
    all_employees = with_polymorphic(Employee, "*")
    stmt = select(Company).options(selectinload(Company.employees.of_type(all_employees)))
    out = []
    for company in session.scalars(stmt):
        out.append(f"company: {company.name}")
        out.append(f"employees: {sorted(company.employees, key=lambda e: e.id)}")
        out.append([unloaded(e) for e in company.employees])
    seen["selectinload_of_type"] = out
    session.close()
    # joined eager loading needs the aliased form (flat=True)
    all_employees = with_polymorphic(Employee, "*", flat=True)
    stmt = select(Company).options(joinedload(Company.employees.of_type(all_employees)))
    out = []
    for company in session.scalars(stmt).unique():
        out.append(f"company: {company.name}")
        out.append(f"employees: {sorted(company.employees, key=lambda e: e.id)}")
        out.append([unloaded(e) for e in company.employees])
    seen["joinedload_of_type"] = out
    session.close()
    conn.close()
    statements.close()
    return seen
'''

# the mapper-level configurations of the page: polymorphic_load on the
# subclasses, or with_polymorphic on the base; a SELECT of the base class then
# loads the subclass columns too
MAPPER_CONFIG_PROGRAM = JOINED_MODELS + '''

def run(engine):
    seen = {}
    statements = Statements(engine)
    with Session(engine) as session:
        add_data(session)
    with Session(engine) as session:
        objects = session.scalars(select(Employee).order_by(Employee.id)).all()
        seen["objects"] = repr(objects)
        seen["unloaded"] = [unloaded(o) for o in objects]
        seen["access"] = statements.during(
            lambda: (objects[0].manager_name, objects[1].engineer_info))
        seen["get"] = repr(session.get(Employee, 2))
    with Session(engine) as session:
        stmt = select(Employee).where(Employee.name == "SpongeBob")
        obj = session.scalars(stmt).one()
        seen["one"] = (repr(obj), unloaded(obj))
    #FILTER
    statements.close()
    return seen
'''

SUBCLASS_FILTER = '''
    with Session(engine) as session:
        stmt = select(Employee).where(
            or_(Manager.manager_name == "Eugene H. Krabs",
                Engineer.engineer_info == "Krabby Patty Master")
        ).order_by(Employee.id)
        seen["filtered"] = repr(session.scalars(stmt).all())
'''

SINGLE_PROGRAM = '''
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import Session
from sqlalchemy.orm import with_polymorphic


class Base(DeclarativeBase):
    pass


class Employee(Base):
    __tablename__ = "qgis_employee"
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
    manager_name: Mapped[str] = mapped_column(nullable=True)
    __mapper_args__ = {
        "polymorphic_identity": "manager",
        #SUBCLASS_ARGS
    }


class Engineer(Employee):
    engineer_info: Mapped[str] = mapped_column(nullable=True)
    __mapper_args__ = {
        "polymorphic_identity": "engineer",
        #SUBCLASS_ARGS
    }


def run(engine):
    seen = {}
    conn = engine.connect()
    session = Session(conn)
    session.add_all(
        [
            Manager(
                name="Mr. Krabs",
                manager_name="Eugene H. Krabs",
            ),
            Engineer(name="SpongeBob", engineer_info="Krabby Patty Master"),
            Engineer(
                name="Squidward",
                engineer_info="Senior Customer Engagement Engineer",
            ),
        ],
    )
    session.commit()

    stmt = select(Employee).order_by(Employee.id)
    seen["employees"] = [f"{obj}" for obj in session.scalars(stmt)]
    stmt = select(Engineer).order_by(Engineer.id)
    objects = session.scalars(stmt).all()
    seen["engineers"] = [f"{obj}" for obj in objects]
    seen["engineer_infos"] = [obj.engineer_info for obj in objects]
    session.close()

    mr_krabs = session.scalars(select(Employee).where(Employee.name == "Mr. Krabs")).one()
    seen["manager_name"] = mr_krabs.manager_name
    session.close()

    employees = with_polymorphic(Employee, "*")
    stmt = select(employees).order_by(employees.id)
    objects = session.scalars(stmt).all()
    seen["with_polymorphic"] = [f"{obj}" for obj in objects]
    seen["with_polymorphic_values"] = [
        objects[0].manager_name, objects[1].engineer_info, objects[2].engineer_info]
    stmt = select(employees).where(employees.Engineer.engineer_info == "Krabby Patty Master")
    seen["with_polymorphic_where"] = [f"{obj}" for obj in session.scalars(stmt)]
    session.close()
    conn.close()
    return seen
'''


def _program(text: str, employee_args: str = "", subclass_args: str = "",
             filter_: str = "") -> str:
    return (text.replace("#EMPLOYEE_ARGS", employee_args)
            .replace("#SUBCLASS_ARGS", subclass_args).replace("#FILTER", filter_))


def test_joined_inheritance_sections(engine: Any) -> None:
    seen = same_on_both(_program(JOINED_PROGRAM), engine, name="qg_inheritance")
    assert seen["managers"] == "[Manager('Mr. Krabs')]"
    everyone = "[Manager('Mr. Krabs'), Engineer('SpongeBob'), Engineer('Squidward')]"
    assert seen["employees"] == everyone
    assert seen["employees_unloaded"][0] == ["manager_name"]
    assert seen["lazy_manager_name"] == ("Eugene H. Krabs", 1)
    assert seen["selectin_polymorphic"] == everyone
    assert seen["selectin_polymorphic_unloaded"] == [[], [], []]
    assert seen["selectin_polymorphic_access"][1] == 0
    assert seen["sibling_paperwork"] == (
        "[Paperwork('Secret Recipes'), Paperwork('Krabby Patty Orders')]", 0)
    assert seen["sub_options"][1].startswith("manager: Mr. Krabs paperwork: [Paperwork(")
    assert seen["with_polymorphic"] == everyone
    assert seen["with_polymorphic_access"] == ("Eugene H. Krabs", 0)
    assert seen["with_polymorphic_where"] == "[Manager('Mr. Krabs'), Engineer('Squidward')]"
    pairs = ["Manager('Mr. Krabs') Manager('Mr. Krabs')",
             "Manager('Mr. Krabs') Engineer('SpongeBob')",
             "Manager('Mr. Krabs') Engineer('Squidward')"]
    assert seen["aliased_flat_True"] == seen["aliased_flat_False"] == pairs
    assert seen["of_type_poly"] == seen["of_type_subclass"] == [
        "Krusty Krab SpongeBob", "Krusty Krab Squidward"]
    assert seen["selectinload_of_type"][2] == [[], [], []]
    assert seen["joinedload_of_type"] == seen["selectinload_of_type"]


def test_polymorphic_load_selectin_on_mappers(engine: Any) -> None:
    text = _program(MAPPER_CONFIG_PROGRAM, subclass_args='"polymorphic_load": "selectin",')
    seen = same_on_both(text, engine, name="qg_inheritance_selectin")
    assert seen["unloaded"] == [[], [], []]
    assert seen["access"] == (("Eugene H. Krabs", "Krabby Patty Master"), 0)


def test_polymorphic_load_inline_on_mappers(engine: Any) -> None:
    text = _program(MAPPER_CONFIG_PROGRAM, subclass_args='"polymorphic_load": "inline",',
                    filter_=SUBCLASS_FILTER)
    seen = same_on_both(text, engine, name="qg_inheritance_inline")
    assert seen["unloaded"] == [[], [], []]
    assert seen["filtered"] == "[Manager('Mr. Krabs'), Engineer('SpongeBob')]"


def test_with_polymorphic_on_the_base_mapper(engine: Any) -> None:
    text = _program(MAPPER_CONFIG_PROGRAM, employee_args='"with_polymorphic": "*",',
                    filter_=SUBCLASS_FILTER)
    seen = same_on_both(text, engine, name="qg_inheritance_mapper_wp")
    assert seen["unloaded"] == [[], [], []]
    assert seen["access"][1] == 0
    assert seen["filtered"] == "[Manager('Mr. Krabs'), Engineer('SpongeBob')]"


def test_single_inheritance_sections(engine: Any) -> None:
    for args in ("", '"polymorphic_load": "inline",'):
        seen = same_on_both(_program(SINGLE_PROGRAM, subclass_args=args), engine,
                            name="qg_inheritance_single")
        assert seen["employees"] == [
            "Manager('Mr. Krabs')", "Engineer('SpongeBob')", "Engineer('Squidward')"]
        assert seen["engineers"] == ["Engineer('SpongeBob')", "Engineer('Squidward')"]
        assert seen["manager_name"] == "Eugene H. Krabs"
        assert seen["with_polymorphic_values"][0] == "Eugene H. Krabs"
        assert seen["with_polymorphic_where"] == ["Engineer('SpongeBob')"]
