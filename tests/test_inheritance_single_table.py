"""Single-table inheritance: one table for a hierarchy of classes, told apart
by a discriminator column (``__mapper_args__`` ``polymorphic_on`` /
``polymorphic_identity``).  Each program runs once with ``sqlalchemy.orm``
and once with ``session_ext`` (only the imports differ) and both must observe
the same."""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy.orm as sa_orm
from conformance import same_on_both, sqlalchemy_class_name
from doc_programs import load_program
from sqlalchemy import Column, ForeignKey, Integer, String, func, select

import session_ext as se
from session_ext import exc as se_exc


@functools.cache
def models(kind: str) -> SimpleNamespace:
    orm: Any = sa_orm if kind == "sa" else se

    class Base(orm.DeclarativeBase):
        pass

    class Company(Base):
        __tablename__ = "company"
        id = Column(Integer, primary_key=True)
        name = Column(String(50))
        employees = orm.relationship("Employee", back_populates="company",
                                     order_by="Employee.id")
        managers = orm.relationship("Manager", order_by="Employee.id", viewonly=True)

    class Employee(Base):
        __tablename__ = "employee"
        id = Column(Integer, primary_key=True)
        name = Column(String(50))
        type = Column(String(20))
        company_id = Column(ForeignKey("company.id"))
        company = orm.relationship("Company", back_populates="employees")
        __mapper_args__ = {"polymorphic_on": type, "polymorphic_identity": "employee"}

    class Manager(Employee):
        manager_name = Column(String(50))
        __mapper_args__ = {"polymorphic_identity": "manager"}

    class Engineer(Employee):
        engineer_info = Column(String(50))
        __mapper_args__ = {"polymorphic_identity": "engineer"}

    class Principal(Engineer):
        level = Column(Integer)
        __mapper_args__ = {"polymorphic_identity": "principal"}

    return SimpleNamespace(kind=kind, orm=orm, Base=Base, Company=Company, Employee=Employee,
                           Manager=Manager, Engineer=Engineer, Principal=Principal)


def _seed(m: Any, engine: Any) -> None:
    with m.orm.Session(engine) as s:
        c = m.Company(name="acme")
        s.add_all([
            m.Employee(name="e1", company=c),
            m.Manager(name="m1", manager_name="boss", company=c),
            m.Engineer(name="g1", engineer_info="rust", company=c),
            m.Principal(name="p1", engineer_info="c", level=3, company=c),
        ])
        s.commit()


def _describe(obj: Any) -> tuple[Any, ...]:
    return (type(obj).__name__, obj.id, obj.name, obj.type)


def test_discriminator_is_set_on_new_objects_and_flushed(engine: Any) -> None:
    def program(m: Any, engine: Any) -> Any:
        mgr = m.Manager(name="m")
        before = mgr.type
        with m.orm.Session(engine) as s:
            s.add_all([mgr, m.Principal(name="p"), m.Employee(name="e")])
            s.commit()
            rows = s.execute(select(m.Employee.__table__).order_by("id")).all()
        return before, [tuple(r) for r in rows]

    before, rows = same_on_both(models, engine, program)
    assert before == "manager"
    assert [r[2] for r in rows] == ["manager", "principal", "employee"]


def test_select_base_returns_subclass_objects(engine: Any) -> None:
    def program(m: Any, engine: Any) -> Any:
        _seed(m, engine)
        with m.orm.Session(engine) as s:
            objs = s.scalars(select(m.Employee).order_by(m.Employee.id)).all()
            extra = [objs[1].manager_name, objs[2].engineer_info, objs[3].level]
            return [_describe(o) for o in objs], extra

    described, extra = same_on_both(models, engine, program)
    assert [d[0] for d in described] == ["Employee", "Manager", "Engineer", "Principal"]
    assert extra == ["boss", "rust", 3]


def test_select_subclass_filters_by_discriminator(engine: Any) -> None:
    def program(m: Any, engine: Any) -> Any:
        _seed(m, engine)
        with m.orm.Session(engine) as s:
            engineers = s.scalars(select(m.Engineer).order_by(m.Engineer.id)).all()
            managers = s.scalars(select(m.Manager)).all()
            n = s.scalar(select(func.count()).select_from(m.Engineer))
            where = s.scalars(select(m.Engineer).where(m.Engineer.name == "m1")).all()
            return ([_describe(o) for o in engineers], [_describe(o) for o in managers],
                    n, where)

    engineers, managers, _n, where = same_on_both(models, engine, program)
    assert [e[0] for e in engineers] == ["Engineer", "Principal"]
    assert [m[0] for m in managers] == ["Manager"]
    assert where == []


def test_get_gives_subclass_and_one_identity(engine: Any) -> None:
    def program(m: Any, engine: Any) -> Any:
        _seed(m, engine)
        with m.orm.Session(engine) as s:
            mgr_id = s.scalar(select(m.Employee.id).where(m.Employee.name == "m1"))
            a = s.get(m.Employee, mgr_id)
            b = s.get(m.Manager, mgr_id)
            wrong = s.get(m.Engineer, mgr_id)
            listed = s.scalars(select(m.Employee).where(m.Employee.id == mgr_id)).one()
        with m.orm.Session(engine) as s:
            fresh = s.get(m.Manager, mgr_id)
            fresh_wrong = s.get(m.Engineer, mgr_id)
            return (type(a).__name__, a is b, a is listed, wrong, type(fresh).__name__,
                    fresh_wrong)

    result = same_on_both(models, engine, program)
    assert result == ("Manager", True, True, None, "Manager", None)


def test_update_and_delete_of_subclass_objects(engine: Any) -> None:
    def program(m: Any, engine: Any) -> Any:
        _seed(m, engine)
        with m.orm.Session(engine) as s:
            mgr = s.scalars(select(m.Manager)).one()
            mgr.manager_name = "chief"
            p = s.scalars(select(m.Principal)).one()
            s.delete(p)
            s.commit()
        with m.orm.Session(engine) as s:
            rows = s.execute(select(m.Employee.__table__).order_by("id")).all()
            return [tuple(r) for r in rows]

    rows = same_on_both(models, engine, program)
    assert len(rows) == 3
    assert "chief" in rows[1]


def test_relationships_to_base_and_subclass(engine: Any) -> None:
    def program(m: Any, engine: Any) -> Any:
        _seed(m, engine)
        with m.orm.Session(engine) as s:
            c = s.scalars(select(m.Company)).one()
            emps = [_describe(e) for e in c.employees]
            mgrs = [_describe(e) for e in c.managers]
            eng = s.scalars(select(m.Engineer)).first()
            company = eng.company.name
            eager = s.scalars(
                select(m.Company).options(m.orm.selectinload(m.Company.employees))
                .execution_options(populate_existing=True)
            ).one()
            return emps, mgrs, company, [type(e).__name__ for e in eager.employees]

    emps, mgrs, company, eager = same_on_both(models, engine, program)
    assert [e[0] for e in emps] == ["Employee", "Manager", "Engineer", "Principal"]
    assert [e[0] for e in mgrs] == ["Manager"]
    assert company == "acme"
    assert eager == ["Employee", "Manager", "Engineer", "Principal"]


def test_joinedload_of_polymorphic_collection(engine: Any) -> None:
    def program(m: Any, engine: Any) -> Any:
        _seed(m, engine)
        with m.orm.Session(engine) as s:
            c = s.scalars(
                select(m.Company).options(m.orm.joinedload(m.Company.employees))
            ).unique().one()
            return [type(e).__name__ for e in c.employees], c.employees[1].manager_name

    names, manager_name = same_on_both(models, engine, program)
    assert names == ["Employee", "Manager", "Engineer", "Principal"]
    assert manager_name == "boss"


def test_subclass_has_only_its_own_columns() -> None:
    m = models("se")
    assert not hasattr(m.Engineer, "manager_name")
    assert "manager_name" not in se.inspect(m.Employee).attrs
    assert "manager_name" in se.inspect(m.Manager).attrs
    assert "company" in se.inspect(m.Manager).attrs
    assert m.Manager.__table__ is m.Employee.__table__


def test_polymorphic_on_as_a_name(engine: Any) -> None:
    class Base(se.DeclarativeBase):
        pass

    class Shape(Base):
        __tablename__ = "shape"
        id = Column(Integer, primary_key=True)
        kind = Column(String(10))
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "shape"}

    class Circle(Shape):
        radius = Column(Integer)
        __mapper_args__ = {"polymorphic_identity": "circle"}

    Base.metadata.create_all(engine)
    try:
        with se.Session(engine) as s:
            s.add_all([Circle(radius=2), Shape()])
            s.commit()
            s.expunge_all()
            assert [type(o).__name__ for o in s.scalars(select(Shape).order_by(Shape.id))] == [
                "Circle", "Shape"]
    finally:
        Base.metadata.drop_all(engine)


def test_unknown_discriminator_raises(engine: Any) -> None:
    m = models("se")
    m.Base.metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(m.Employee.__table__.insert(), {"id": 1, "name": "x", "type": "nope"})
        with se.Session(engine) as s, pytest.raises(se_exc.InvalidRequestError, match="nope"):
            s.scalars(select(m.Employee)).all()
    finally:
        m.Base.metadata.drop_all(engine)


@functools.cache
def backref_models(kind: str) -> SimpleNamespace:
    orm: Any = sa_orm if kind == "sa" else se

    class Base(orm.DeclarativeBase):
        pass

    class Department(Base):
        __tablename__ = "department"
        id = Column(Integer, primary_key=True)
        staff = orm.relationship("Person", backref="department", order_by="Person.id")

    class Person(Base):
        __tablename__ = "person"
        id = Column(Integer, primary_key=True)
        kind = Column(String(20))
        department_id = Column(ForeignKey("department.id"))
        __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "person"}

    class Lead(Person):
        __mapper_args__ = {"polymorphic_identity": "lead"}

    class Project(Base):
        __tablename__ = "project"
        id = Column(Integer, primary_key=True)
        lead_id = Column(ForeignKey("person.id"))
        lead = orm.relationship("Lead", backref="projects")

    return SimpleNamespace(kind=kind, orm=orm, Base=Base, Department=Department,
                           Person=Person, Lead=Lead, Project=Project)


def test_backrefs_reach_subclasses_and_relationships_of_a_subclass(engine: Any) -> None:
    def program(m: Any, engine: Any) -> Any:
        with m.orm.Session(engine) as s:
            d = m.Department()
            lead = m.Lead(department=d)
            s.add_all([m.Person(department=d), m.Project(lead=lead), m.Project(lead=lead)])
            s.commit()
            ids = (d.id, lead.department_id)
        with m.orm.Session(engine) as s:
            lead = s.scalars(select(m.Person).where(m.Person.kind == "lead")).one()
            dept = lead.department
            return (ids[0] == ids[1], type(lead).__name__, len(lead.projects),
                    [type(p).__name__ for p in dept.staff],
                    type(s.scalars(select(m.Project)).first().lead).__name__)

    result = same_on_both(backref_models, engine, program)
    assert result == (True, "Lead", 2, ["Person", "Lead"], "Lead")


@pytest.mark.parametrize("loader", ["joinedload", "selectinload"])
def test_eager_loading_a_relationship_to_a_subclass(engine: Any, loader: str) -> None:
    def program(m: Any, engine: Any) -> Any:
        _seed(m, engine)
        with m.orm.Session(engine) as s:
            option = getattr(m.orm, loader)
            c = s.scalars(select(m.Company).options(option(m.Company.managers))).unique().one()
            return [_describe(e) for e in c.managers]

    managers = same_on_both(models, engine, program)
    assert [e[0] for e in managers] == ["Manager"]



USE_EXISTING_PROGRAM = """
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Employee(Base):
    __tablename__ = "employee"
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str]
    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "employee"}


class Engineer(Employee):
    __mapper_args__ = {"polymorphic_identity": "engineer"}
    level: Mapped[int] = mapped_column(nullable=True, use_existing_column=USE)


def declare_manager():
    class Manager(Employee):
        __mapper_args__ = {"polymorphic_identity": "manager"}
        level: Mapped[int] = mapped_column(nullable=True, use_existing_column=USE)

    return Manager
"""


@pytest.mark.parametrize("use_existing", [True, False])
def test_use_existing_column_shares_a_column_declared_by_two_subclasses(
        use_existing: bool) -> None:
    seen = {}
    for kind in ("sa", "se"):
        m = load_program(USE_EXISTING_PROGRAM.replace("USE", str(use_existing)), kind)
        try:
            manager = m.declare_manager()
        except Exception as err:
            seen[kind] = sqlalchemy_class_name(err)
            continue
        seen[kind] = ([c.name for c in m.Employee.__table__.columns],
                      manager.__table__.c.level is m.Engineer.__table__.c.level)
    assert seen["se"] == seen["sa"]
    assert seen["se"] == ((["id", "type", "level"], True) if use_existing else "ArgumentError")
