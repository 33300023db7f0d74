"""get_recorded_queries(): statements, parameters, duration, caller location."""

from __future__ import annotations

from flask_support import User, db
from sqlalchemy import insert, select

from session_ext.flask import get_recorded_queries


def test_records_statements_with_location(make_app):
    app = make_app(TESTING=True)
    with app.app_context():
        assert get_recorded_queries() == []
        db.session.add(User(name="ada"))
        db.session.commit()
        db.session.scalars(select(User).where(User.name == "ada")).one()
        queries = get_recorded_queries()
    statements = [q.statement for q in queries]
    assert any(s.startswith("INSERT INTO user") for s in statements), statements
    select_info = next(q for q in queries if q.statement.startswith("SELECT"))
    assert "ada" in repr(select_info.parameters)
    assert select_info.duration >= 0
    assert select_info.end_time >= select_info.start_time
    assert __file__ in select_info.location
    assert "test_records_statements_with_location" in select_info.location


def test_each_request_has_its_own_list(make_app):
    app = make_app(TESTING=True)
    counts = []

    @app.get("/count-queries")
    def count_queries():
        db.session.scalar(select(User.id))
        # SQLite's explicit BEGIN (see configure_sqlite) goes to the driver unrecorded
        counts.append(len(get_recorded_queries()))
        return "ok"

    client = app.test_client()
    client.get("/count-queries")
    client.get("/count-queries")
    assert counts == [1, 1]


def test_nothing_recorded_when_off_or_outside_a_context(make_app):
    app = make_app(SESSION_EXT_RECORD_QUERIES=False)
    with app.app_context():
        db.session.scalar(select(User.id))
        assert get_recorded_queries() == []
    assert get_recorded_queries() == []


def test_parameters_are_a_list_of_parameter_sets(make_app):
    """Flask-SQLAlchemy's shape: one entry per parameter set, so a single
    statement has a one-item list and an executemany() one item per row."""
    app = make_app(SESSION_EXT_RECORD_QUERIES=True)
    with app.app_context():
        db.session.scalars(select(User).where(User.name == "ada")).all()
        db.session.execute(insert(User), [{"name": "bo"}, {"name": "cy"}, {"name": "di"}])
        queries = get_recorded_queries()
    select_info = next(q for q in queries if q.statement.startswith("SELECT"))
    assert isinstance(select_info.parameters, list) and len(select_info.parameters) == 1
    assert "ada" in repr(select_info.parameters[0])
    inserts = [q for q in queries if q.statement.startswith("INSERT")]
    rows = [p for q in inserts for p in q.parameters]
    assert all(isinstance(q.parameters, list) for q in inserts)
    assert len(rows) == 3 and all(any(n in repr(p) for n in ("bo", "cy", "di")) for p in rows)
