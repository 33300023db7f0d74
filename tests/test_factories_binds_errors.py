"""Session factories (``sessionmaker``, ``create_session``), routing statements
to engines (``binds``, ``bind_mapper``, ``bind_table``, ``get_bind``) and the
exception classes of ``session_ext.exc``."""

from __future__ import annotations

import pytest
import sqlalchemy
from sqlalchemy import Column, Integer, String, create_engine, delete, func, insert, select
from sqlalchemy import exc as sa_exc

from session_ext import (
    DeclarativeBase,
    Session,
    create_session,
    inspect,
    sessionmaker,
)
from session_ext import exc as se_exc
from session_ext.engines import configure_sqlite


class Base(DeclarativeBase):
    pass


class Alpha(Base):
    __tablename__ = "alpha"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))


class Gamma(Base):
    __tablename__ = "gamma"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))


class OtherBase(DeclarativeBase):
    pass


class Beta(OtherBase):
    __tablename__ = "beta"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))


class Delta(OtherBase):
    __tablename__ = "delta"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))


ALL_METADATA = (Base.metadata, OtherBase.metadata)


def create_tables(engine):
    for md in ALL_METADATA:
        md.create_all(engine)


@pytest.fixture
def db(engine):
    create_tables(engine)
    return engine


def names(engine, model):
    table = model.__table__
    with engine.connect() as conn:
        return conn.scalars(select(table.c.name).order_by(table.c.id)).all()


@pytest.fixture
def file_engines(tmp_path):
    """Three separate SQLite databases, each with every table."""
    engines = []
    for i in range(3):
        eng = configure_sqlite(create_engine(f"sqlite:///{tmp_path / f'db{i}.sqlite3'}"))
        create_tables(eng)
        engines.append(eng)
    try:
        yield engines
    finally:
        for eng in engines:
            eng.dispose()


def where_is(engines, model):
    """For each engine, the names of ``model`` rows stored in its database."""
    return [names(eng, model) for eng in engines]


# --------------------------------------------------------------------------- sessionmaker


def test_sessionmaker_returns_configured_session(db):
    maker = sessionmaker(db)
    session = maker()
    try:
        assert type(session) is Session
        assert session.bind is db
        assert session.autoflush is True
        assert session.expire_on_commit is True
        assert session.info == {}
        session.add(Alpha(id=1, name="made"))
        session.commit()
    finally:
        session.close()
    assert names(db, Alpha) == ["made"]
    assert maker() is not maker()


def test_sessionmaker_configured_keywords_and_call_time_override(db):
    other = create_engine("sqlite://")
    maker = sessionmaker(db, autoflush=False, expire_on_commit=False, twophase=False)
    configured = maker()
    assert configured.autoflush is False
    assert configured.expire_on_commit is False
    overridden = maker(autoflush=True, expire_on_commit=True, bind=other)
    assert overridden.autoflush is True
    assert overridden.expire_on_commit is True
    assert overridden.bind is other
    # the factory itself is unchanged by call-time keywords
    again = maker()
    assert again.autoflush is False and again.bind is db
    other.dispose()


def test_sessionmaker_info_is_merged_into_a_per_session_copy():
    maker = sessionmaker(info={"app": "demo", "level": 1})
    merged = maker(info={"level": 2, "request": "r1"})
    assert merged.info == {"app": "demo", "level": 2, "request": "r1"}
    plain = maker()
    assert plain.info == {"app": "demo", "level": 1}
    plain.info["mutated"] = True
    merged.info["app"] = "changed"
    fresh = maker()
    assert fresh.info == {"app": "demo", "level": 1}
    assert "mutated" not in maker().info


def test_sessionmaker_configure_affects_later_sessions_only(db):
    other = create_engine("sqlite://")
    maker = sessionmaker(db)
    before = maker()
    maker.configure(autoflush=False, bind=other)
    after = maker()
    assert before.autoflush is True and before.bind is db
    assert after.autoflush is False and after.bind is other
    other.dispose()


def test_sessionmaker_begin_commits_and_closes(db):
    maker = sessionmaker(db)
    with maker.begin() as session:
        assert isinstance(session, Session)
        assert session.in_transaction()
        obj = Alpha(id=1, name="begun")
        session.add(obj)
    assert names(db, Alpha) == ["begun"]
    assert not session.in_transaction()
    assert inspect(obj).detached
    assert obj not in session
    # expire_on_commit + closed session: the attribute cannot be loaded any more
    with pytest.raises(se_exc.DetachedInstanceError) as err:
        _ = obj.name
    assert "Alpha" in str(err.value)
    assert "name" in str(err.value)


def test_sessionmaker_begin_rolls_back_on_error_and_closes(db):
    maker = sessionmaker(db)
    obj = Alpha(id=1, name="doomed")
    with pytest.raises(KeyError):
        with maker.begin() as session:
            session.add(obj)
            session.flush()
            raise KeyError("fail")
    assert names(db, Alpha) == []
    assert not session.in_transaction()
    assert inspect(obj).transient
    assert list(session) == []


def test_sessionmaker_1x_spellings(db):
    session = sessionmaker(bind=db)()
    assert session.bind is db
    session.close()

    Factory = sessionmaker()
    assert Factory().bind is None
    Factory.configure(bind=db)
    with Factory() as session:
        assert session.bind is db
        session.add(Alpha(id=1, name="legacy"))
        session.commit()
    assert names(db, Alpha) == ["legacy"]


def test_sessionmaker_custom_class(db):
    class MySession(Session):
        def greet(self):
            return "hello"

    maker = sessionmaker(db, class_=MySession)
    with maker() as session:
        assert isinstance(session, MySession)
        assert session.greet() == "hello"
        session.add(Alpha(id=1, name="custom"))
        session.commit()
    with maker.begin() as session:
        assert isinstance(session, MySession)
    assert names(db, Alpha) == ["custom"]


# --------------------------------------------------------------------------- create_session


def test_create_session_defaults(db):
    session = create_session(db)
    try:
        assert isinstance(session, Session)
        assert session.bind is db
        assert session.autoflush is False
        assert session.expire_on_commit is False
        obj = Alpha(id=1, name="quiet")
        session.add(obj)
        assert session.scalars(select(Alpha)).all() == []  # no autoflush
        session.commit()
        assert "name" not in inspect(obj).expired_attributes  # no expire on commit
    finally:
        session.close()
    assert names(db, Alpha) == ["quiet"]


def test_create_session_keywords_override_defaults(db):
    session = create_session(bind=db, autoflush=True, expire_on_commit=True)
    assert session.autoflush is True and session.expire_on_commit is True
    assert create_session().bind is None


@pytest.mark.parametrize("value", [True, False])
def test_create_session_autocommit_is_refused(value):
    with pytest.raises(se_exc.ArgumentError) as err:
        create_session(autocommit=value)
    message = str(err.value)
    assert "autocommit" in message
    assert "commit()" in message
    assert isinstance(err.value, sa_exc.ArgumentError)


# --------------------------------------------------------------------------- binds


def test_binds_route_flushes_to_the_right_database(file_engines):
    e1, e2, e3 = file_engines
    session = Session(binds={Alpha: e1, OtherBase: e2, Gamma.__table__: e3})
    try:
        session.add_all(
            [
                Alpha(id=1, name="alpha"),
                Beta(id=1, name="beta"),
                Delta(id=1, name="delta"),
                Gamma(id=1, name="gamma"),
            ]
        )
        session.commit()
    finally:
        session.close()
    assert where_is(file_engines, Alpha) == [["alpha"], [], []]
    assert where_is(file_engines, Beta) == [[], ["beta"], []]
    assert where_is(file_engines, Delta) == [[], ["delta"], []]
    assert where_is(file_engines, Gamma) == [[], [], ["gamma"]]


def test_binds_route_queries_and_core_statements(file_engines):
    e1, e2, e3 = file_engines
    with e1.begin() as conn:
        conn.execute(insert(Alpha.__table__).values(id=1, name="only-in-e1"))
    with e2.begin() as conn:
        conn.execute(insert(Beta.__table__).values(id=1, name="only-in-e2"))
    with Session(binds={Alpha: e1, OtherBase: e2, Gamma.__table__: e3}) as session:
        assert [a.name for a in session.scalars(select(Alpha))] == ["only-in-e1"]
        assert [b.name for b in session.scalars(select(Beta))] == ["only-in-e2"]
        assert session.get(Alpha, 1).name == "only-in-e1"
        assert session.get(Beta, 1).name == "only-in-e2"
        session.execute(insert(Gamma.__table__).values(id=5, name="core-insert"))
        assert session.scalar(select(func.count()).select_from(Gamma.__table__)) == 1
        session.commit()
    assert where_is(file_engines, Gamma) == [[], [], ["core-insert"]]


def test_binding_a_class_also_routes_core_statements_on_its_table(file_engines):
    """SQLAlchemy registers a bound mapper's table too, so Core statements on the
    class's columns or table find the same engine."""
    e1, _e2, _e3 = file_engines
    with e1.begin() as conn:
        conn.execute(insert(Alpha.__table__).values(id=1, name="in-e1"))
    with Session(binds={Alpha: e1}) as session:
        assert session.get_bind(clause=select(Alpha.__table__)) is e1
        assert session.scalars(select(Alpha.name)).all() == ["in-e1"]


def test_bind_mapper_and_bind_table(file_engines):
    e1, e2, e3 = file_engines
    session = Session()
    session.bind_mapper(Alpha, e1)
    session.bind_mapper(OtherBase, e2)
    session.bind_table(Gamma.__table__, e3)
    assert session.get_bind(Alpha) is e1
    assert session.get_bind(inspect(Alpha)) is e1
    assert session.get_bind(Beta) is e2
    assert session.get_bind(Gamma) is e3
    assert session.get_bind(clause=select(Gamma.__table__)) is e3
    try:
        session.add_all([Alpha(id=1, name="a"), Beta(id=1, name="b"), Gamma(id=1, name="g")])
        session.commit()
    finally:
        session.close()
    assert where_is(file_engines, Alpha) == [["a"], [], []]
    assert where_is(file_engines, Beta) == [[], ["b"], []]
    assert where_is(file_engines, Gamma) == [[], [], ["g"]]


def test_bind_mapper_rejects_non_mapping_keys():
    eng = create_engine("sqlite://")
    session = Session()
    with pytest.raises(se_exc.ArgumentError) as err:
        session.bind_mapper("alpha", eng)
    assert "'alpha'" in str(err.value)
    with pytest.raises(se_exc.ArgumentError):
        Session(binds={42: eng})


def test_get_bind_lookup_order():
    e0, e_class, e_base, e_table, e_other = (create_engine("sqlite://") for _ in range(5))
    session = Session(
        bind=e0,
        binds={Alpha: e_class, Base: e_base, Gamma.__table__: e_table, Beta.__table__: e_other},
    )
    # the class itself wins over its base
    assert session.get_bind(Alpha) is e_class
    # a base class in the MRO wins over the mapper's table
    assert session.get_bind(Gamma) is e_base
    # the mapper wins over the tables in the clause
    assert session.get_bind(Alpha, clause=select(Gamma.__table__)) is e_class
    # tables in the clause, then the session bind
    assert session.get_bind(clause=select(Beta.__table__)) is e_other
    assert session.get_bind(clause=insert(Beta.__table__)) is e_other
    assert session.get_bind(clause=delete(Beta.__table__)) is e_other
    assert session.get_bind(clause=select(Delta.__table__)) is e0
    assert session.get_bind() is e0
    assert session.get_bind(Delta) is e0


def test_get_bind_table_of_mapper():
    e_table = create_engine("sqlite://")
    session = Session(binds={Gamma.__table__: e_table})
    assert session.get_bind(Gamma) is e_table
    assert session.get_bind(inspect(Gamma)) is e_table


def test_get_bind_without_any_bind_raises_helpful_error():
    session = Session(binds={Alpha: create_engine("sqlite://")})
    with pytest.raises(se_exc.UnboundExecutionError) as err:
        session.get_bind(Beta)
    message = str(err.value)
    assert "Beta" in message
    assert "bind=" in message
    assert "binds=" in message
    assert isinstance(err.value, sa_exc.UnboundExecutionError)

    with pytest.raises(se_exc.UnboundExecutionError) as err:
        Session().get_bind()
    assert "bind=" in str(err.value)


def test_executing_without_bind_raises_unbound(db):
    with Session() as session:
        with pytest.raises(se_exc.UnboundExecutionError) as err:
            session.execute(select(Beta))
        assert "Beta" in str(err.value) or "beta" in str(err.value)
        session.add(Beta(id=1, name="nowhere"))
        with pytest.raises(se_exc.UnboundExecutionError):
            session.flush()


# --------------------------------------------------------------------------- exceptions


@pytest.mark.parametrize(
    "name",
    ["InvalidRequestError", "PendingRollbackError", "UnboundExecutionError", "ArgumentError"],
)
def test_exc_classes_subclass_core_classes(name):
    ours = getattr(se_exc, name)
    core = getattr(sa_exc, name)
    assert ours is not core
    assert issubclass(ours, core)
    assert issubclass(ours, sa_exc.SQLAlchemyError)


@pytest.mark.parametrize("name", ["NoResultFound", "MultipleResultsFound"])
def test_result_exceptions_are_cores(name):
    assert getattr(se_exc, name) is getattr(sa_exc, name)
    assert getattr(se_exc, name) is getattr(sqlalchemy.exc, name)


@pytest.mark.parametrize(
    "name",
    [
        "DetachedInstanceError",
        "ObjectDeletedError",
        "StaleDataError",
        "FlushError",
        "UnmappedInstanceError",
    ],
)
def test_orm_level_exceptions_exist(name):
    cls = getattr(se_exc, name)
    assert isinstance(cls, type)
    assert issubclass(cls, sa_exc.SQLAlchemyError)
    assert issubclass(cls, Exception)


def test_orm_exception_hierarchy_matches_sqlalchemy():
    assert issubclass(se_exc.ObjectDeletedError, sa_exc.InvalidRequestError)
    assert issubclass(se_exc.UnmappedInstanceError, sa_exc.InvalidRequestError)
    assert not issubclass(se_exc.StaleDataError, sa_exc.InvalidRequestError)
    assert not issubclass(se_exc.FlushError, sa_exc.InvalidRequestError)


def test_no_result_and_multiple_results_raised(db):
    with db.begin() as conn:
        conn.execute(insert(Alpha.__table__), [{"id": 1, "name": "x"}, {"id": 2, "name": "x"}])
    with Session(db) as session:
        with pytest.raises(se_exc.NoResultFound) as err:
            session.get_one(Alpha, 99)
        assert "Alpha" in str(err.value)
        assert "99" in str(err.value)
        with pytest.raises(sa_exc.NoResultFound):
            session.execute(select(Alpha).where(Alpha.id == 99)).scalar_one()
        with pytest.raises(se_exc.MultipleResultsFound):
            session.execute(select(Alpha).where(Alpha.name == "x")).scalar_one()


def test_unmapped_instance_error_names_the_class(db):
    class NotMapped:
        pass

    with Session(db) as session:
        with pytest.raises(se_exc.UnmappedInstanceError) as err:
            session.add(NotMapped())
        assert "NotMapped" in str(err.value)
        with pytest.raises(se_exc.UnmappedInstanceError) as err:
            session.delete(NotMapped())
        assert "NotMapped" in str(err.value)
        with pytest.raises(sa_exc.InvalidRequestError):
            inspect(NotMapped())


def test_object_deleted_error_on_refresh_of_vanished_row(db):
    with db.begin() as conn:
        conn.execute(insert(Alpha.__table__).values(id=1, name="gone"))
    with Session(db, expire_on_commit=False) as session:
        obj = session.get(Alpha, 1)
        session.commit()
        with db.begin() as conn:
            conn.execute(delete(Alpha.__table__))
        session.expire(obj)
        with pytest.raises(se_exc.ObjectDeletedError) as err:
            _ = obj.name
        message = str(err.value)
        assert "Alpha" in message
        assert "deleted" in message


def test_invalid_request_errors_name_object_and_operation(db):
    with Session(db) as session:
        transient = Alpha(id=1, name="t")
        with pytest.raises(se_exc.InvalidRequestError) as err:
            session.delete(transient)
        assert "Alpha" in str(err.value)
        assert "not persisted" in str(err.value)
        with pytest.raises(se_exc.InvalidRequestError) as err:
            session.expunge(transient)
        assert "Alpha" in str(err.value)
        with pytest.raises(se_exc.InvalidRequestError) as err:
            session.refresh(transient)
        assert "Alpha" in str(err.value)
        assert "refresh" in str(err.value)


def test_object_in_two_sessions_is_refused(db):
    obj = Alpha(id=1, name="shared")
    with Session(db) as first, Session(db) as second:
        first.add(obj)
        with pytest.raises(se_exc.InvalidRequestError) as err:
            second.add(obj)
        assert "Alpha" in str(err.value)
        assert "already attached" in str(err.value)
