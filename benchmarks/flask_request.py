"""Workload 6: one request doing one primary-key get, through Flask's test
client, for the session_ext extension and its peers on the same SQLite file."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Flask
from sqlalchemy import Column, Integer, String, create_engine, insert

import session_ext.flask as se_flask

from .harness import Case, Workload


def _app(name: str) -> Flask:
    app = Flask(name)
    app.config["TESTING"] = False
    return app


def flask_workload(db_path: str, n: int) -> Workload:
    uri = f"sqlite:///{db_path}"
    engine = create_engine(uri)
    from sqlalchemy import MetaData, Table

    md = MetaData()
    table = Table("bench_req", md, Column("id", Integer, primary_key=True),
                  Column("name", String(50)))
    md.drop_all(engine)
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"id": i, "name": f"n{i}"} for i in range(1, 101)])
    engine.dispose()

    # bare route: no database at all
    bare = _app("bare")

    @bare.get("/item/<int:pk>")
    def bare_view(pk: int) -> Any:
        return {"id": pk}

    # raw sqlite3 route: a connection per request, one SELECT
    raw = _app("raw")

    @raw.get("/item/<int:pk>")
    def raw_view(pk: int) -> Any:
        conn = sqlite3.connect(db_path)
        try:
            row = conn.execute("SELECT id, name FROM bench_req WHERE id = ?", (pk,)).fetchone()
        finally:
            conn.close()
        return {"id": row[0], "name": row[1]}

    # session_ext's Flask extension
    se_app = _app("se")
    se_app.config["SESSION_EXT_DATABASE_URI"] = uri
    se_app.config["SESSION_EXT_RECORD_QUERIES"] = False
    se_db = se_flask.SessionExt()

    class SEItem(se_db.Model):  # type: ignore[name-defined, misc]
        __table__ = Table("bench_req", se_db.metadata, autoload_with=create_engine(uri))

    se_db.init_app(se_app)

    @se_app.get("/item/<int:pk>")
    def se_view(pk: int) -> Any:
        obj = se_db.session.get(SEItem, pk)
        return {"id": obj.id, "name": obj.name}

    cases = [
        Case("bare Flask route (no database)", _runner(bare, n)),
        Case("raw sqlite3 route", _runner(raw, n)),
        Case("session_ext.flask db.session.get", _runner(se_app, n)),
    ]
    fsa = _flask_sqlalchemy_app(uri)
    if fsa is not None:
        cases.append(Case("Flask-SQLAlchemy db.session.get", _runner(fsa, n)))
    return Workload(f"{n:,} requests, one PK get each [flask, sqlite]", n, cases,
                    baseline="raw sqlite3 route")


def _runner(app: Flask, n: int) -> Any:
    client = app.test_client()

    def run() -> None:
        for i in range(n):
            response = client.get(f"/item/{i % 100 + 1}")
            assert response.status_code == 200

    return run


def _flask_sqlalchemy_app(uri: str) -> Flask | None:
    try:
        from flask_sqlalchemy import SQLAlchemy
    except ImportError:
        return None
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass

    app = _app("fsa")
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    app.config["SQLALCHEMY_RECORD_QUERIES"] = False
    db = SQLAlchemy(model_class=Base)
    db.init_app(app)
    from sqlalchemy import Table

    with app.app_context():

        class Item(db.Model):  # type: ignore[name-defined, misc]
            __table__ = Table("bench_req", db.metadata, autoload_with=db.engine)

    @app.get("/item/<int:pk>")
    def view(pk: int) -> Any:
        obj = db.session.get(Item, pk)
        return {"id": obj.id, "name": obj.name}

    return app
