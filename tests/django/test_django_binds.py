"""Several databases: routing by __bind_key__, db.Table, engines, create_all/drop_all."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django_support import AuditEntry, Item, audit_events
from sqlalchemy import func, insert, inspect, select

from session_ext.django import db


def tables_in(key: str | None) -> set[str]:
    with db.get_engine(key).connect() as conn:
        return set(inspect(conn).get_table_names())


def count_in(key: str | None, table: str) -> int:
    with db.get_engine(key).connect() as conn:
        return conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()


def test_engines_per_bind(databases):
    assert set(db.engines) == {None, "audit"}
    assert db.engine is db.get_engine() is db.get_engine("default") is db.engines[None]
    assert str(db.get_engine("audit").url) == databases["audit"]
    with pytest.raises(ImproperlyConfigured, match="No database named 'nope'"):
        db.get_engine("nope")


def test_create_all_puts_each_table_in_its_database():
    assert {"item", "note"} <= tables_in(None)
    assert "audit_entry" not in tables_in(None)
    assert tables_in("audit") == {"audit_entry", "audit_event"}


def test_drop_all_and_create_all_for_one_bind():
    db.drop_all("audit")
    assert tables_in("audit") == set()
    assert "item" in tables_in(None)
    db.create_all(["audit"])
    assert tables_in("audit") == {"audit_entry", "audit_event"}
    with pytest.raises(TypeError):
        db.create_all(3)


def test_objects_and_statements_are_routed_by_bind_key():
    db.session.add_all([AuditEntry(message="a"), Item(name="i")])
    db.session.commit()
    db.session.execute(insert(audit_events).values(id=1))
    db.session.commit()
    assert count_in("audit", "audit_entry") == 1
    assert count_in("audit", "audit_event") == 1
    assert count_in(None, "item") == 1
    assert db.session.get(AuditEntry, 1).message == "a"
    assert db.session.scalars(select(AuditEntry)).one().message == "a"
    assert db.session.scalar(select(func.count()).select_from(audit_events)) == 1
    assert AuditEntry.query.count() == 1


def test_bind_routing_in_a_request():
    assert Client().get("/audit/create?message=hello").status_code == 200
    assert count_in("audit", "audit_entry") == 1


def test_models_declared_after_start_up_are_routed(temporary_models):
    from sqlalchemy import Column, Integer

    class LateAudit(db.Model):
        __bind_key__ = "audit"
        id = Column(Integer, primary_key=True)

    temporary_models.append(LateAudit)
    db.create_all("audit")
    assert "late_audit" in tables_in("audit")
    db.session.add(LateAudit())
    db.session.commit()
    assert count_in("audit", "late_audit") == 1


def test_bind_key_default_names_the_default_database(temporary_models):
    from sqlalchemy import Column, Integer

    from session_ext.django.checks import check_bind_keys

    class ExplicitDefault(db.Model):
        __bind_key__ = "default"
        id = Column(Integer, primary_key=True)

    temporary_models.append(ExplicitDefault)
    assert check_bind_keys() == []
    assert "explicit_default" in [t.name for t in db.tables(None)]
    db.create_all("default")
    assert "explicit_default" in tables_in(None)
    db.session.add(ExplicitDefault())
    db.session.commit()
    assert count_in(None, "explicit_default") == 1


def test_a_session_of_its_own_outside_the_registry():
    from session_ext.django import Session

    with Session() as session:
        assert session.get_bind() is db.engine
        assert session.get_bind(AuditEntry) is db.get_engine("audit")
    with Session(db.get_engine("audit")) as session:
        assert session.get_bind() is db.get_engine("audit")
    assert len(db.session.registry) == 0
