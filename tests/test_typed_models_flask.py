"""``SessionExt(model_class=Base)`` with a typed ``session_ext.DeclarativeBase``,
as Flask-SQLAlchemy 3.1's ``SQLAlchemy(model_class=Base)``: one program text,
run with Flask-SQLAlchemy and with session_ext (only imports and config key
names differ), must observe the same."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Column, Integer, String

import session_ext
from session_ext.flask import SessionExt

HEADERS = {
    "fsa": "from flask_sqlalchemy import SQLAlchemy as Extension\n"
           "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n"
           "URI_KEY, BINDS_KEY = 'SQLALCHEMY_DATABASE_URI', 'SQLALCHEMY_BINDS'\n",
    "se": "from session_ext.flask import SessionExt as Extension\n"
          "from session_ext import DeclarativeBase, Mapped, mapped_column, relationship\n"
          "URI_KEY, BINDS_KEY = 'SESSION_EXT_DATABASE_URI', 'SESSION_EXT_BINDS'\n",
}

PROGRAM = '''
from __future__ import annotations
#IMPORTS
from typing import Optional

from flask import Flask
from sqlalchemy import ForeignKey, String, func, select


class Base(DeclarativeBase):
    pass


db = Extension(model_class=Base)


class TodoItem(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    done: Mapped[bool] = mapped_column(default=False)
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("owner.id"))
    owner: Mapped[Optional[Owner]] = relationship(back_populates="items")


class Owner(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    items: Mapped[list[TodoItem]] = relationship(back_populates="owner",
                                                 order_by="TodoItem.id")


class AuditLogEntry(db.Model):
    __bind_key__ = "logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(50))


def run(uri, logs_uri):
    app = Flask(__name__)
    app.config[URI_KEY] = uri
    app.config[BINDS_KEY] = {"logs": logs_uri}
    db.init_app(app)
    seen = {}
    with app.app_context():
        db.create_all()
        try:
            seen["tables"] = sorted(m.__table__.name for m in (TodoItem, Owner, AuditLogEntry))
            seen["shared_metadata"] = db.metadata is Base.metadata
            ann = Owner(name="ann")
            db.session.add(ann)
            db.session.add_all([TodoItem(title="write", owner=ann), TodoItem(title="test")])
            db.session.add(AuditLogEntry(text="created"))
            db.session.commit()
            seen["titles"] = db.session.scalars(
                select(TodoItem.title).order_by(TodoItem.id)).all()
            open_items = TodoItem.query.filter_by(done=False).order_by(TodoItem.id).all()
            seen["query"] = [(t.title, t.done, t.owner.name if t.owner else None)
                             for t in open_items]
            seen["owner_items"] = [t.title for t in Owner.query.one().items]
            with db.engines["logs"].connect() as conn:
                seen["logs_on_bind"] = conn.scalar(
                    select(func.count()).select_from(AuditLogEntry.__table__))
            with db.engines[None].connect() as conn:
                seen["todo_on_default"] = conn.scalar(
                    select(func.count()).select_from(TodoItem.__table__))
        finally:
            db.session.remove()
            db.drop_all()
            for engine in db.engines.values():
                engine.dispose()
    return seen
'''


def load(kind: str) -> Any:
    name = f"typed_flask_{kind}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    text = PROGRAM.replace("#IMPORTS\n", HEADERS[kind])
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)  # stays in sys.modules: Flask
    return module


@pytest.fixture(scope="module")
def programs() -> dict[str, Any]:
    try:
        return {kind: load(kind) for kind in HEADERS}
    finally:
        for kind in HEADERS:
            sys.modules.pop(f"typed_flask_{kind}", None)


def test_model_class_base_behaves_as_in_flask_sqlalchemy(programs: dict[str, Any], engine: Any,
                                                         tmp_path: Path) -> None:
    uri = engine.url.render_as_string(hide_password=False)
    seen = {}
    for kind, module in programs.items():
        logs = f"sqlite:///{tmp_path / f'logs_{kind}.sqlite3'}"
        seen[kind] = module.run(uri, logs)
    assert seen["se"] == seen["fsa"]
    assert seen["se"]["tables"] == ["audit_log_entry", "owner", "todo_item"]
    assert seen["se"]["shared_metadata"]
    # Flask-SQLAlchemy's db.Model is a copy of Base; session_ext's a subclass of it
    assert issubclass(programs["se"].db.Model, programs["se"].Base)
    assert seen["se"]["query"] == [("write", False, "ann"), ("test", False, None)]
    assert seen["se"]["logs_on_bind"] == 1 and seen["se"]["todo_on_default"] == 2


def test_db_model_shares_the_base_registry(programs: dict[str, Any]) -> None:
    se = programs["se"]
    assert se.db.Model.registry is se.Base.registry
    assert se.db.metadata is se.Base.metadata
    assert se.TodoItem.__table__.name == "todo_item"
    assert "__mapper__" not in vars(se.db.Model)  # a base, not a mapped class


def test_orm_declarative_base_is_refused_with_the_fix() -> None:
    from sqlalchemy.orm import DeclarativeBase, declarative_base

    class OrmBase(DeclarativeBase):
        pass

    for base in (OrmBase, declarative_base()):
        with pytest.raises(session_ext.exc.ArgumentError,
                           match=r"SQLAlchemy's ORM.*session_ext\.DeclarativeBase"):
            SessionExt(model_class=base)


def test_base_with_its_own_metaclass() -> None:
    class Meta(type):
        pass

    class Base(session_ext.DeclarativeBaseNoMeta, metaclass=Meta):
        pass

    ext = SessionExt(model_class=Base)

    class Gizmo(ext.Model):
        id = Column(Integer, primary_key=True)

    assert isinstance(Gizmo, Meta)
    assert Gizmo.__table__.name == "gizmo" and Gizmo.__table__.metadata is Base.metadata
    app = Flask("meta_base")
    app.config["SESSION_EXT_DATABASE_URI"] = "sqlite://"
    ext.init_app(app)
    with app.app_context():
        ext.create_all()
        ext.session.add(Gizmo(id=4))
        ext.session.commit()
        assert [g.id for g in Gizmo.query.all()] == [4]
        ext.engine.dispose()


def test_dataclass_base_as_model_class(tmp_path: Path) -> None:
    class Base(session_ext.MappedAsDataclass, session_ext.DeclarativeBase):
        pass

    ext = SessionExt(model_class=Base)

    class TodoItem(ext.Model):
        id: session_ext.Mapped[int] = session_ext.mapped_column(init=False, primary_key=True)
        title: session_ext.Mapped[str] = session_ext.mapped_column(String(100))

    assert TodoItem.__table__.name == "todo_item"
    app = Flask("dataclass_base")
    app.config["SESSION_EXT_DATABASE_URI"] = f"sqlite:///{tmp_path / 'dc.sqlite3'}"
    ext.init_app(app)
    with app.app_context():
        ext.create_all()
        ext.session.add(TodoItem("write"))
        ext.session.commit()
        assert repr(TodoItem.query.one()).endswith("TodoItem(id=1, title='write')")
        ext.engine.dispose()
