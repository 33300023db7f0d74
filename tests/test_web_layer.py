"""The framework-free web layer both adapters use (session_ext.web): page
arguments, not-found helpers, table names, bind routing, per-bind schema."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, inspect, select

from session_ext import DeclarativeBase, Session
from session_ext.web import not_found, pages
from session_ext.web.binds import BindRoutes, MissingBind, RoutedSession, bind_routes
from session_ext.web.naming import default_tablename, snake_case
from session_ext.web.schema import (
    ALL_BINDS,
    check_database,
    create_all,
    drop_all,
    select_bind_keys,
    tables_of_bind,
)


class Base(DeclarativeBase):
    pass


class Plain(Base):
    __tablename__ = "web_plain"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))


class Audited(Base):
    __tablename__ = "web_audited"
    __bind_key__ = "audit"
    id = Column(Integer, primary_key=True)


class Orphan(Base):
    __tablename__ = "web_orphan"
    __bind_key__ = "nowhere"
    id = Column(Integer, primary_key=True)


events = Table("web_events", Base.metadata, Column("id", Integer, primary_key=True),
               info={"bind_key": "audit"})


class NotConfigured(Exception):
    pass


def lookup(binds, key):
    try:
        return binds[key]
    except KeyError:
        raise NotConfigured(f"no bind {key!r}") from None


# -- page arguments ------------------------------------------------------------------


def test_page_args_from_the_request_are_checked_and_capped():
    args = {"page": "3", "per_page": "500"}
    assert pages.page_args(None, None, None, True, args.get) == (3, 100)
    assert pages.page_args(None, None, 40, True, args.get) == (3, 40)
    assert pages.page_args(2, 7, None, True, args.get) == (2, 7)  # given ones win, no cap
    assert pages.page_args(None, None, None, True) == (1, 20)  # no request


@pytest.mark.parametrize("bad", [{"page": "0"}, {"page": "x"}, {"per_page": "-1"}, {"page": ""}])
def test_bad_page_args_are_not_found_or_the_defaults(bad):
    with pytest.raises(not_found.NotFound, match="page"):
        pages.page_args(None, None, None, True, bad.get)
    page, per_page = pages.page_args(None, None, None, False, bad.get)
    assert (page, per_page) == (1, 20)


@pytest.mark.parametrize("cap", [0, True, "5", 2.5])
def test_max_per_page_must_be_a_positive_integer(cap):
    with pytest.raises(ValueError, match="max_per_page"):
        pages.page_args(1, 10, cap, True)


def test_a_page_past_the_last_is_not_found(engine):
    Base.metadata.create_all(engine, tables=[Plain.__table__])
    try:
        with Session(engine) as session:
            session.add_all([Plain(id=i, name=f"p{i}") for i in range(1, 6)])
            session.commit()
            page = pages.page_of_statement(session, select(Plain).order_by(Plain.id),
                                           read_arg={"page": "2", "per_page": "2"}.get)
            assert [p.id for p in page.items] == [3, 4] and page.total == 5
            with pytest.raises(not_found.NotFound, match="Page 4 is past the last page"):
                pages.page_of_statement(session, select(Plain), page=4, per_page=2)
            assert pages.page_of_statement(session, select(Plain), page=4, per_page=2,
                                           error_out=False).items == []
            query = session.query(Plain).order_by(Plain.id)
            assert [p.id for p in pages.page_of_query(query, page=3, per_page=2).items] == [5]
    finally:
        Base.metadata.drop_all(engine, tables=[Plain.__table__])


# -- not found -----------------------------------------------------------------------


def test_not_found_helpers(engine):
    Base.metadata.create_all(engine, tables=[Plain.__table__])
    try:
        with Session(engine) as session:
            session.add_all([Plain(id=1, name="a"), Plain(id=2, name="a")])
            session.commit()
            assert not_found.get_or_404(session, Plain, "2").id == 2
            with pytest.raises(not_found.NotFound) as info:
                not_found.get_or_404(session, Plain, "abc")
            assert info.value.description is None
            assert info.value.message == "No Plain with primary key 'abc'."
            with pytest.raises(not_found.NotFound, match="^gone$"):
                not_found.get_or_404(session, Plain, 99, "gone")
            assert not_found.first_or_404(session, select(Plain).order_by(Plain.id)).id == 1
            with pytest.raises(not_found.NotFound, match="No single row"):
                not_found.one_or_404(session, select(Plain).where(Plain.name == "a"))
            with pytest.raises(not_found.NotFound, match="No row matches"):
                not_found.query_first_or_404(session.query(Plain).filter_by(name="z"))
            assert not_found.query_one_or_404(session.query(Plain).filter_by(id=2)).id == 2
    finally:
        Base.metadata.drop_all(engine, tables=[Plain.__table__])


# -- table names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [("UserProfile", "user_profile"), ("HTTPResponse", "http_response"),
     ("User2Group", "user2_group"), ("ABCThing", "abc_thing"), ("Order_Item", "order__item"),
     ("_Private", "private"), ("ABC", "abc"), ("getHTTPCode", "get_http_code")],
)
def test_snake_case(name, expected):
    assert snake_case(name) == expected


def test_snake_case_is_flask_sqlalchemys():
    model = pytest.importorskip("flask_sqlalchemy.model")
    names = ["Order_Item", "HTTPResponse", "User2Group", "ABCThing", "_Private", "__X_y",
             "OAuth2Token", "Snake_case_Name", "PDFFile2", "MyHTMLParser", "HTML5", "a_B_c",
             "X1Y2", "Item_", "ÜberThing", "AbcÜber"]
    assert [snake_case(n) for n in names] == [model.camel_to_snake_case(n) for n in names]


def test_snake_case_can_keep_leading_underscores():
    assert snake_case("_Private", keep_leading_underscores=True) == "_private"
    assert snake_case("__Order_Item", keep_leading_underscores=True) == "__order__item"


def test_default_tablename_leaves_named_and_abstract_classes_alone():
    assert default_tablename("BlogPost", {}, (object,)) == "blog_post"
    assert default_tablename("X", {"__tablename__": "x"}, (object,)) is None
    assert default_tablename("X", {"__abstract__": True}, (object,)) is None
    assert default_tablename("Sub", {}, (Plain,)) is None  # shares its parent's table

    class TableOwner:
        __table__ = events

    assert default_tablename("Sub", {}, (TableOwner,)) is None


# -- bind routing --------------------------------------------------------------------


def test_bind_routes_map_models_and_tables_to_their_binds():
    default, audit = create_engine("sqlite://"), create_engine("sqlite://")
    routes = bind_routes({None: default, "audit": audit}, lookup, Base.registry.mappers,
                         Base.metadata.tables.values())
    assert routes[Audited] is audit and routes[Audited.__table__] is audit
    assert routes[events] is audit
    assert Plain not in routes and Plain.__table__ not in routes
    assert isinstance(routes[Orphan], MissingBind)
    assert "no bind 'nowhere'" in repr(routes[Orphan])


def test_routed_session_uses_routes_and_refuses_a_missing_bind():
    default, audit = create_engine("sqlite://"), create_engine("sqlite://")
    cache = BindRoutes(lookup)
    binds = {None: default, "audit": audit}
    routes = cache.for_session(binds, Base.registry.mappers, Base.metadata.tables)
    assert cache.for_session(dict(binds), Base.registry.mappers, Base.metadata.tables) is routes
    assert cache.for_session({None: audit, "audit": audit}, Base.registry.mappers,
                             Base.metadata.tables) is not routes
    Base.metadata.create_all(audit, tables=[Audited.__table__, events])
    Base.metadata.create_all(default, tables=[Plain.__table__])
    with RoutedSession(default, binds=routes) as session:
        assert session.get_bind(Audited) is audit
        assert session.get_bind(clause=select(events)) is audit
        assert session.get_bind(Plain) is default
        session.add_all([Audited(id=1), Plain(id=1)])
        session.commit()
        assert session.scalar(select(Audited.id)) == 1
        for _ in range(2):  # the same error each time, from a fresh traceback
            with pytest.raises(NotConfigured, match="no bind 'nowhere'"):
                session.execute(select(Orphan))
        assert session.scalar(select(Plain.id)) == 1  # the other models keep working
    assert inspect(audit).get_table_names() == ["web_audited", "web_events"]


# -- schema per bind -----------------------------------------------------------------


def test_select_bind_keys():
    configured = [None, "audit"]

    def check(key):
        if key not in configured:
            raise NotConfigured(key)

    assert select_bind_keys(ALL_BINDS, configured, check) == [None, "audit"]
    assert select_bind_keys("audit", configured, check) == ["audit"]
    assert select_bind_keys(["default", "audit"], configured, check,
                            default_name="default") == [None, "audit"]
    with pytest.raises(NotConfigured):
        select_bind_keys("nope", configured, check)
    with pytest.raises(ValueError, match="bind must be '__all__'"):
        select_bind_keys(3, configured, check, argument="bind", error=ValueError)


def test_create_drop_and_check_per_bind(tmp_path):
    metadata = MetaData()
    Table("in_default", metadata, Column("id", Integer, primary_key=True))
    Table("in_audit", metadata, Column("id", Integer, primary_key=True), info={"bind_key": "audit"})
    Table("named_default", metadata, Column("id", Integer, primary_key=True),
          info={"bind_key": "default"})
    engines = {None: create_engine(f"sqlite:///{tmp_path / 'd.db'}"),
               "audit": create_engine(f"sqlite:///{tmp_path / 'a.db'}")}

    def tables_of(key):
        return tables_of_bind(metadata, key, default_name="default")

    assert [t.name for t in tables_of(None)] == ["in_default", "named_default"]
    assert [t.name for t in tables_of_bind(metadata, None)] == ["in_default"]
    report = check_database("audit", engines["audit"], ["in_audit"])
    assert not report.ok and report.missing == ["in_audit"]
    assert report.line("make tables").startswith("FAIL audit: sqlite:///")
    assert "missing: in_audit (run `make tables`)" in report.line("make tables")

    create_all(metadata, ["audit"], tables_of, engines.__getitem__)
    assert inspect(engines["audit"]).get_table_names() == ["in_audit"]
    assert inspect(engines[None]).get_table_names() == []
    report = check_database("audit", engines["audit"], ["in_audit"])
    assert report.ok and report.line("x").startswith("ok   audit: ")
    assert "1/1 model tables present" in report.line("x")
    drop_all(metadata, ["audit"], tables_of, engines.__getitem__)
    assert inspect(engines["audit"]).get_table_names() == []

    broken = check_database("broken", create_engine(f"sqlite:///{tmp_path}/no/such/dir.db"), [])
    assert not broken.ok and broken.error is not None
    assert broken.line("x").startswith("FAIL broken: ") and "cannot connect" in broken.line("x")
    for engine in engines.values():
        engine.dispose()
