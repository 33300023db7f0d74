"""Binds: __bind_key__ models, Core statements on their tables, create/drop/reflect."""

from __future__ import annotations

import pytest
from flask_support import AuditLog, User, db, on_databases
from sqlalchemy import Column, Integer, String, create_engine, func, insert, inspect, select, text

from session_ext.flask import ConfigError, SessionExt
from session_ext.web.binds import RoutedSession


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


@on_databases
def test_models_and_core_statements_are_routed_to_their_bind(make_app):
    app = make_app()
    with app.app_context():
        default, audit = db.engines[None], db.engines["audit"]
        assert "user" in _tables(default) and "audit_log" not in _tables(default)
        assert _tables(audit) == {"audit_log"}

        db.session.add(User(name="ada"))
        db.session.add(AuditLog(message="created ada"))
        db.session.commit()
        # ORM-style loading
        assert [a.message for a in AuditLog.query.all()] == ["created ada"]
        assert db.session.get(AuditLog, 1).message == "created ada"
        # Core statements on the bound table
        db.session.execute(insert(AuditLog.__table__).values(message="core insert"))
        db.session.execute(insert(AuditLog).values(message="entity insert"))
        db.session.commit()
        count = select(func.count()).select_from(AuditLog.__table__)
        assert db.session.scalar(count) == 3
        assert db.session.get_bind(clause=count) is audit
        assert db.session.get_bind(AuditLog) is audit
        assert db.session.get_bind(User) is default
        assert db.session.get_bind(clause=text("SELECT 1")) is default

    # the rows really are in the audit database
    with audit.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 3


def test_routing_is_the_cores_binds_built_once_per_app(make_app):
    app = make_app()
    with app.app_context():
        session = db.session()
        # no lookup of its own per statement: the core's get_bind, given binds=
        assert type(session).get_bind is RoutedSession.get_bind
        assert session.get_bind(AuditLog) is db.engines["audit"]
        state = app.extensions["session_ext"]
        routes = state.bind_routes(state.binds())
        assert routes[AuditLog] is routes[AuditLog.__table__] is db.engines["audit"]
        assert state.bind_routes(state.binds()) is routes  # cached while nothing changes


def test_view_writes_to_the_bind(make_app):
    app = make_app()
    client = app.test_client()
    assert client.get("/audit?m=one").json == {"count": 1}
    assert client.get("/audit?m=two").json == {"count": 2}


def test_create_all_and_drop_all_per_bind(make_app):
    app = make_app(create_tables=False)
    with app.app_context():
        default, audit = db.engines[None], db.engines["audit"]
        db.create_all(bind_key="audit")
        assert _tables(audit) == {"audit_log"}
        assert _tables(default) == set()
        db.create_all(bind_key=None)
        assert {"user", "blog_post"} <= _tables(default)
        db.drop_all(bind_key=["audit"])
        assert _tables(audit) == set()
        assert "user" in _tables(default)
        db.create_all()  # "__all__"
        assert _tables(audit) == {"audit_log"}
        db.drop_all()
        assert _tables(audit) == set() and _tables(default) == set()


def test_unknown_bind_key_is_a_clear_error(make_app):
    app = make_app()
    with app.app_context():
        with pytest.raises(ConfigError, match="'nope' is not configured.*SESSION_EXT_BINDS"):
            db.create_all(bind_key="nope")
        with pytest.raises(Exception, match="bind_key must be"):
            db.create_all(bind_key=3)


def test_model_with_an_unconfigured_bind_key(tmp_path):
    ext = SessionExt()

    class Orphan(ext.Model):
        __bind_key__ = "missing"
        id = Column(Integer, primary_key=True)

    from flask import Flask

    app = Flask("orphan", root_path=str(tmp_path))
    app.config["SESSION_EXT_DATABASE_URI"] = "sqlite://"
    ext.init_app(app)
    with app.app_context():
        with pytest.raises(ConfigError, match="'missing' is not configured"):
            ext.session.scalars(select(Orphan)).all()
        ext.engine.dispose()


def test_db_table_with_bind_key_and_reflect(make_app, tmp_path):
    app = make_app()
    events = db.Table("flask_events", Column("id", Integer, primary_key=True),
                      Column("kind", String(20)), bind_key="audit")
    try:
        assert events.info["bind_key"] == "audit"
        with app.app_context():
            db.create_all(bind_key="audit")
            assert "flask_events" in _tables(db.engines["audit"])
            db.session.execute(insert(events).values(kind="boot"))
            db.session.commit()
            assert db.session.scalar(select(func.count()).select_from(events)) == 1
    finally:
        db.metadata.remove(events)

    # reflect a table that only exists in the database, tagged with its bind
    other = create_engine(f"sqlite:///{tmp_path / 'reflect.sqlite3'}")
    with other.begin() as conn:
        conn.execute(text("CREATE TABLE legacy_things (id INTEGER PRIMARY KEY, label TEXT)"))
    other.dispose()
    ext = SessionExt()
    from flask import Flask

    app2 = Flask("reflect", root_path=str(tmp_path))
    app2.config["SESSION_EXT_BINDS"] = {"legacy": f"sqlite:///{tmp_path / 'reflect.sqlite3'}"}
    ext.init_app(app2)
    with app2.app_context():
        ext.reflect()
        table = ext.metadata.tables["legacy_things"]
        assert table.info["bind_key"] == "legacy"
        assert [c.name for c in table.columns] == ["id", "label"]
        ext.session.execute(insert(table).values(label="x"))
        ext.session.commit()
        assert ext.session.scalar(select(func.count()).select_from(table)) == 1
        ext.engines["legacy"].dispose()
