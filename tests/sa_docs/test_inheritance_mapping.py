"""The declarative inheritance mapping page ("Mapping Class Inheritance
Hierarchies", doc/build/orm/inheritance.rst), as programs of our own text run
on ``sqlalchemy.orm`` and on session_ext with only the import lines changed.
The page declares mappings without data; each program declares one of them,
stores a few objects and reads them back.

Sections covered, in page order:

* Joined Table Inheritance (typed ``Mapped`` declarations, discriminator)
* Relationships with Joined Inheritance (to the base class; to a subclass
  whose table holds the foreign key)
* Single Table Inheritance (subclass columns ``nullable=True``)
* Resolving Column Conflicts with ``use_existing_column`` (the conflict's
  error, the parameter, the mixin form)
* Relationships with Single Table Inheritance (to the base; to a subclass)
* Building Deeper Hierarchies with ``polymorphic_abstract``

Not covered: Concrete Table Inheritance (``concrete=True``, ``ConcreteBase``,
``AbstractConcreteBase``, ``polymorphic_union``): session_ext has no concrete
inheritance.
"""

from __future__ import annotations

from typing import Any

from doc_programs import same_on_both

HEADER = '''
from __future__ import annotations

from datetime import datetime
from typing import List

from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.orm import selectinload
from sqlalchemy.orm import Session


class Base(DeclarativeBase):
    pass


def described(objs):
    return [(type(o).__name__, o.name) for o in objs]
'''

JOINED = HEADER + '''

class Company(Base):
    __tablename__ = "im_company"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    employees: Mapped[List[Employee]] = relationship(back_populates="company")


class Employee(Base):
    __tablename__ = "im_employee"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    type: Mapped[str]
    company_id: Mapped[int] = mapped_column(ForeignKey("im_company.id"))
    company: Mapped[Company] = relationship(back_populates="employees")

    __mapper_args__ = {
        "polymorphic_identity": "employee",
        "polymorphic_on": "type",
    }

    def __repr__(self):
        return f"{self.__class__.__name__}({self.name!r})"


class Engineer(Employee):
    __tablename__ = "im_engineer"
    id: Mapped[int] = mapped_column(ForeignKey("im_employee.id"), primary_key=True)
    engineer_name: Mapped[str]

    __mapper_args__ = {
        "polymorphic_identity": "engineer",
    }


class Manager(Employee):
    __tablename__ = "im_manager"
    id: Mapped[int] = mapped_column(ForeignKey("im_employee.id"), primary_key=True)
    manager_name: Mapped[str]

    __mapper_args__ = {
        "polymorphic_identity": "manager",
    }


def run(engine):
    seen = {}
    with Session(engine) as session:
        company = Company(name="acme", employees=[
            Engineer(name="eng", engineer_name="Ed"),
            Manager(name="mgr", manager_name="Mo"),
            Employee(name="emp"),
        ])
        session.add(company)
        session.commit()
        seen["types"] = session.execute(
            select(Employee.name, Employee.type).order_by(Employee.id)).all()
    with Session(engine) as session:
        everyone = session.scalars(select(Employee).order_by(Employee.id)).all()
        seen["everyone"] = repr(everyone)
        seen["subclass_values"] = (everyone[0].engineer_name, everyone[1].manager_name)
        seen["managers"] = repr(session.scalars(select(Manager)).all())
        company = session.scalars(select(Company)).one()
        seen["company_employees"] = sorted(repr(e) for e in company.employees)
        seen["back"] = everyone[1].company is company
        seen["pk"] = [c.name for c in Manager.__mapper__.primary_key]
        seen["tables"] = sorted(Base.metadata.tables)
    return seen
'''

JOINED_SUBCLASS_RELATIONSHIP = HEADER + '''

class Company(Base):
    __tablename__ = "im_company"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    managers: Mapped[List[Manager]] = relationship(back_populates="company")


class Employee(Base):
    __tablename__ = "im_employee"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    type: Mapped[str]

    __mapper_args__ = {
        "polymorphic_identity": "employee",
        "polymorphic_on": "type",
    }


class Manager(Employee):
    __tablename__ = "im_manager"
    id: Mapped[int] = mapped_column(ForeignKey("im_employee.id"), primary_key=True)
    manager_name: Mapped[str]
    company_id: Mapped[int] = mapped_column(ForeignKey("im_company.id"))
    company: Mapped[Company] = relationship(back_populates="managers")

    __mapper_args__ = {
        "polymorphic_identity": "manager",
    }


class Engineer(Employee):
    __tablename__ = "im_engineer"
    id: Mapped[int] = mapped_column(ForeignKey("im_employee.id"), primary_key=True)
    engineer_info: Mapped[str]

    __mapper_args__ = {
        "polymorphic_identity": "engineer",
    }


def run(engine):
    seen = {}
    with Session(engine) as session:
        company = Company(name="acme", managers=[
            Manager(name="m1", manager_name="Mo"), Manager(name="m2", manager_name="Max")])
        session.add_all([company, Engineer(name="e1", engineer_info="x")])
        session.commit()
    with Session(engine) as session:
        company = session.scalars(select(Company)).one()
        seen["managers"] = sorted(described(company.managers))
        seen["manager_company"] = [m.company.name for m in company.managers]
        stmt = select(Company).options(selectinload(Company.managers))
        seen["eager"] = sorted(described(session.scalars(stmt).one().managers))
        seen["joined"] = session.execute(
            select(Company.name, Manager.manager_name).join(Company.managers)
            .order_by(Manager.manager_name)).all()
        seen["has_attr"] = (hasattr(Manager, "company"), hasattr(Engineer, "company"))
    return seen
'''

SINGLE = HEADER + '''

class Company(Base):
    __tablename__ = "im_company"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    employees: Mapped[List[Employee]] = relationship(back_populates="company")


class Employee(Base):
    __tablename__ = "im_employee"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    type: Mapped[str]
    company_id: Mapped[int] = mapped_column(ForeignKey("im_company.id"))
    company: Mapped[Company] = relationship(back_populates="employees")

    __mapper_args__ = {
        "polymorphic_identity": "employee",
        "polymorphic_on": "type",
    }


class Manager(Employee):
    manager_data: Mapped[str] = mapped_column(nullable=True)

    __mapper_args__ = {
        "polymorphic_identity": "manager",
    }


class Engineer(Employee):
    engineer_info: Mapped[str] = mapped_column(nullable=True)

    __mapper_args__ = {
        "polymorphic_identity": "engineer",
    }


def run(engine):
    seen = {}
    seen["columns"] = [c.name for c in Employee.__table__.columns]
    seen["nullable"] = [c.nullable for c in Employee.__table__.columns]
    seen["own_table"] = Manager.__table__ is Employee.__table__
    with Session(engine) as session:
        session.add(Company(name="acme", employees=[
            Manager(name="m", manager_data="md"), Engineer(name="e", engineer_info="ei"),
            Employee(name="x")]))
        session.commit()
    with Session(engine) as session:
        seen["rows"] = session.execute(
            select(Employee.__table__).order_by(Employee.id)).all()
        company = session.scalars(select(Company)).one()
        seen["employees"] = sorted(described(company.employees))
        seen["engineers"] = described(session.scalars(select(Engineer)))
        seen["values"] = sorted((e.name, getattr(e, "manager_data", None),
                                 getattr(e, "engineer_info", None)) for e in company.employees)
    return seen
'''

SINGLE_SUBCLASS_RELATIONSHIP = HEADER + '''

class Company(Base):
    __tablename__ = "im_company"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    managers: Mapped[List[Manager]] = relationship(back_populates="company")


class Employee(Base):
    __tablename__ = "im_employee"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    type: Mapped[str]

    __mapper_args__ = {
        "polymorphic_identity": "employee",
        "polymorphic_on": "type",
    }


class Manager(Employee):
    manager_name: Mapped[str] = mapped_column(nullable=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("im_company.id"), nullable=True)
    company: Mapped[Company] = relationship(back_populates="managers")

    __mapper_args__ = {
        "polymorphic_identity": "manager",
    }


class Engineer(Employee):
    engineer_info: Mapped[str] = mapped_column(nullable=True)

    __mapper_args__ = {
        "polymorphic_identity": "engineer",
    }


def run(engine):
    seen = {}
    with Session(engine) as session:
        company = Company(name="acme", managers=[Manager(name="m1", manager_name="Mo")])
        session.add_all([company, Engineer(name="e1", engineer_info="x")])
        session.flush()
        # an engineer row pointing at the company is not one of its managers
        session.execute(Employee.__table__.update().where(Employee.name == "e1")
                        .values(company_id=company.id))
        session.commit()
    with Session(engine) as session:
        company = session.scalars(select(Company)).one()
        seen["managers"] = described(company.managers)
        stmt = select(Company).options(selectinload(Company.managers))
        seen["eager"] = described(session.scalars(stmt).one().managers)
        seen["company"] = session.scalars(select(Manager)).one().company.name
    return seen
'''

COLUMN_CONFLICT = HEADER + '''

class Employee(Base):
    __tablename__ = "im_employee"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    type: Mapped[str]

    __mapper_args__ = {
        "polymorphic_on": "type",
        "polymorphic_identity": "employee",
    }


class Engineer(Employee):
    __mapper_args__ = {
        "polymorphic_identity": "engineer",
    }
    start_date: Mapped[datetime] = mapped_column(nullable=True)


def conflict():
    try:
        class Manager(Employee):
            __mapper_args__ = {
                "polymorphic_identity": "manager",
            }
            start_date: Mapped[datetime] = mapped_column(nullable=True)
    except Exception as err:
        for cls in type(err).__mro__:
            if cls.__module__.startswith("sqlalchemy"):
                return cls.__name__
        return type(err).__name__
    return "ok"


RAISED = conflict()


def run(engine):
    return {"raised": RAISED}
'''

USE_EXISTING = HEADER + '''

class Employee(Base):
    __tablename__ = "im_employee"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    type: Mapped[str]

    __mapper_args__ = {
        "polymorphic_on": "type",
        "polymorphic_identity": "employee",
    }


#CLASSES


def run(engine):
    seen = {}
    seen["columns"] = [c.name for c in Employee.__table__.columns]
    seen["same_column"] = Engineer.__table__.c.start_date is Manager.__table__.c.start_date
    when = datetime(2020, 1, 2, 3, 4, 5)
    with Session(engine) as session:
        session.add_all([Engineer(name="e", start_date=when),
                         Manager(name="m", start_date=datetime(2021, 1, 1))])
        session.commit()
    with Session(engine) as session:
        seen["dates"] = [(type(o).__name__, o.start_date) for o in session.scalars(
            select(Employee).order_by(Employee.id))]
        seen["where"] = described(session.scalars(
            select(Manager).where(Manager.start_date > when)))
    return seen
'''

USE_EXISTING_PLAIN = USE_EXISTING.replace("#CLASSES", '''
class Engineer(Employee):
    __mapper_args__ = {
        "polymorphic_identity": "engineer",
    }
    start_date: Mapped[datetime] = mapped_column(
        nullable=True, use_existing_column=True
    )


class Manager(Employee):
    __mapper_args__ = {
        "polymorphic_identity": "manager",
    }
    start_date: Mapped[datetime] = mapped_column(
        nullable=True, use_existing_column=True
    )
''')

USE_EXISTING_MIXIN = USE_EXISTING.replace("#CLASSES", '''
class HasStartDate:
    start_date: Mapped[datetime] = mapped_column(
        nullable=True, use_existing_column=True
    )


class Engineer(HasStartDate, Employee):
    __mapper_args__ = {
        "polymorphic_identity": "engineer",
    }


class Manager(HasStartDate, Employee):
    __mapper_args__ = {
        "polymorphic_identity": "manager",
    }
''')

ABSTRACT = HEADER + '''

class Company(Base):
    __tablename__ = "im_company"
    id: Mapped[int] = mapped_column(primary_key=True)
    executives: Mapped[List[Executive]] = relationship()
    technologists: Mapped[List[Technologist]] = relationship()


class Employee(Base):
    __tablename__ = "im_employee"
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("im_company.id"))
    name: Mapped[str]
    type: Mapped[str]

    __mapper_args__ = {
        "polymorphic_on": "type",
    }


class Executive(Employee):
    """An executive of the company"""

    executive_background: Mapped[str] = mapped_column(nullable=True)

    __mapper_args__ = {"polymorphic_abstract": True}


class Technologist(Employee):
    """An employee who works with technology"""

    competencies: Mapped[str] = mapped_column(nullable=True)

    __mapper_args__ = {"polymorphic_abstract": True}


class Manager(Executive):
    """a manager"""

    __mapper_args__ = {"polymorphic_identity": "manager"}


class Principal(Executive):
    """a principal of the company"""

    __mapper_args__ = {"polymorphic_identity": "principal"}


class Engineer(Technologist):
    """an engineer"""

    __mapper_args__ = {"polymorphic_identity": "engineer"}


class SysAdmin(Technologist):
    """a systems administrator"""

    __mapper_args__ = {"polymorphic_identity": "sysadmin"}


def run(engine):
    seen = {}
    with Session(engine) as session:
        session.add(Company(
            executives=[Manager(name="m", executive_background="mba"),
                        Principal(name="p", executive_background="phd")],
            technologists=[Engineer(name="e", competencies="java, sql"),
                           SysAdmin(name="s", competencies="linux")],
        ))
        session.commit()
    with Session(engine) as session:
        seen["technologists"] = sorted(described(session.scalars(select(Technologist))))
        seen["executives"] = sorted(described(session.scalars(select(Executive))))
        companies = session.scalars(
            select(Company)
            .join(Company.technologists)
            .where(Technologist.competencies.ilike("%java%"))
            .options(selectinload(Company.executives))
        ).all()
        seen["companies"] = len(companies)
        seen["company_executives"] = sorted(described(companies[0].executives))
        seen["company_technologists"] = sorted(described(companies[0].technologists))
        seen["types"] = sorted(session.scalars(select(Employee.type)))
    return seen
'''


def test_joined_table_inheritance(engine: Any) -> None:
    seen = same_on_both(JOINED, engine, name="inh_map_joined")
    assert seen["everyone"] == "[Engineer('eng'), Manager('mgr'), Employee('emp')]"
    assert seen["types"] == [("eng", "engineer"), ("mgr", "manager"), ("emp", "employee")]
    assert seen["subclass_values"] == ("Ed", "Mo")
    assert seen["back"] is True


def test_relationship_to_a_joined_subclass(engine: Any) -> None:
    seen = same_on_both(JOINED_SUBCLASS_RELATIONSHIP, engine, name="inh_map_joined_rel")
    assert seen["managers"] == [("Manager", "m1"), ("Manager", "m2")]
    assert seen["eager"] == seen["managers"]
    assert seen["has_attr"] == (True, False)


def test_single_table_inheritance(engine: Any) -> None:
    seen = same_on_both(SINGLE, engine, name="inh_map_single")
    assert seen["own_table"] is True
    assert seen["engineers"] == [("Engineer", "e")]
    assert ("m", "md", None) in seen["values"]


def test_relationship_to_a_single_table_subclass(engine: Any) -> None:
    seen = same_on_both(SINGLE_SUBCLASS_RELATIONSHIP, engine, name="inh_map_single_rel")
    assert seen["managers"] == seen["eager"] == [("Manager", "m1")]
    assert seen["company"] == "acme"


def test_column_conflict_and_use_existing_column(engine: Any) -> None:
    assert same_on_both(COLUMN_CONFLICT, engine, name="inh_map_conflict") == {
        "raised": "ArgumentError"}
    for text in (USE_EXISTING_PLAIN, USE_EXISTING_MIXIN):
        seen = same_on_both(text, engine, name="inh_map_existing")
        assert seen["columns"] == ["id", "name", "type", "start_date"]
        assert seen["same_column"] is True
        assert seen["where"] == [("Manager", "m")]


def test_polymorphic_abstract(engine: Any) -> None:
    seen = same_on_both(ABSTRACT, engine, name="inh_map_abstract")
    assert seen["technologists"] == [("Engineer", "e"), ("SysAdmin", "s")]
    assert seen["executives"] == [("Manager", "m"), ("Principal", "p")]
    assert seen["companies"] == 1
    assert seen["company_technologists"] == seen["technologists"]
