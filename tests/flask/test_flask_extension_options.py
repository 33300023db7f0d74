"""SessionExt's constructor options as Flask-SQLAlchemy 3.1 takes them:
session_options (scopefunc, class_, query_cls, autoflush, expire_on_commit),
disable_autonaming, add_models_to_shell, db.Model.query_class, a base of
one's own with a custom metaclass, @declared_attr over @classmethod, and the
keywords of the *_or_404 helpers."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from flask_support import BlogPost, User, db
from sqlalchemy import Column, ForeignKey, Integer, String, event, select
from werkzeug.exceptions import NotFound

import session_ext
from session_ext import declarative_base, declared_attr, selectinload
from session_ext.flask import Query, Session, SessionExt
from session_ext.flask.model import DefaultMeta, Model, ModelMeta


def _app(tmp_path, name="opts", **config) -> Flask:
    app = Flask(name, root_path=str(tmp_path), instance_path=str(tmp_path / "inst"))
    app.config["SESSION_EXT_DATABASE_URI"] = f"sqlite:///{tmp_path / 'opts.sqlite3'}"
    app.config.update(config)
    return app


def _dispose(app: Flask) -> None:
    for engine in app.extensions["session_ext"].engines.values():
        engine.dispose()


# --------------------------------------------------------------------------- session_options
def test_scopefunc_in_session_options_scopes_db_session(tmp_path):
    ext = SessionExt(session_options={"scopefunc": threading.get_ident})
    app = _app(tmp_path)
    ext.init_app(app)
    seen = []

    def other_thread():
        with app.app_context():
            seen.append(ext.session())

    with app.app_context():
        first = ext.session()
        with app.app_context():  # a nested app context of the same thread: the same session
            assert ext.session() is first
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert seen and seen[0] is not first
    with app.app_context():  # teardown removed the thread's session
        assert ext.session() is not first
    _dispose(app)


def test_default_scope_is_the_app_context(tmp_path):
    ext = SessionExt()
    app = _app(tmp_path)
    ext.init_app(app)
    with app.app_context():
        first = ext.session()
        with app.app_context():
            assert ext.session() is not first
    _dispose(app)


def test_a_scopefunc_that_is_not_callable_is_refused():
    with pytest.raises(session_ext.exc.ArgumentError, match="scopefunc"):
        SessionExt(session_options={"scopefunc": "thread"})


def test_other_session_options_reach_every_session(tmp_path):
    class CountingQuery(Query):
        pass

    class AuditingSession(Session):
        made = 0

        def __init__(self, db, **kwargs):
            type(self).made += 1
            super().__init__(db, **kwargs)

    ext = SessionExt(session_options={"class_": AuditingSession, "query_cls": CountingQuery,
                                      "autoflush": False, "expire_on_commit": False})

    class Item(ext.Model):
        id = Column(Integer, primary_key=True)
        name = Column(String(20))

    app = _app(tmp_path)
    ext.init_app(app)
    with app.app_context():
        ext.create_all()
        session = ext.session()
        assert isinstance(session, AuditingSession) and AuditingSession.made == 1
        assert session.autoflush is False and session.expire_on_commit is False
        assert isinstance(ext.session.query(Item), CountingQuery)
        item = Item(name="x")
        ext.session.add(item)
        assert ext.session.scalar(select(Item.id)) is None  # no autoflush
        ext.session.commit()
        assert "name" in vars(item)  # not expired by the commit
    _dispose(app)


# --------------------------------------------------------------------------- models
def test_model_query_class_is_the_extensions_query():
    class MyQuery(Query):
        pass

    assert db.Model.query_class is Query
    assert User.query_class is Query
    ext = SessionExt(query_class=MyQuery)
    assert ext.Model.query_class is MyQuery

    class Mixin:
        query_class = None

    class OwnQueryMixin:
        query_class = MyQuery

    assert SessionExt(model_class=Mixin).Model.query_class is Query
    assert SessionExt(model_class=OwnQueryMixin).Model.query_class is MyQuery


def test_disable_autonaming_requires_table_names(tmp_path):
    ext = SessionExt(disable_autonaming=True)
    with pytest.raises(session_ext.exc.ArgumentError, match="no __tablename__"):
        class Unnamed(ext.Model):
            id = Column(Integer, primary_key=True)

    class Named(ext.Model):
        __tablename__ = "named_things"
        id = Column(Integer, primary_key=True)

    assert Named.__table__.name == "named_things"
    assert "unnamed" not in ext.metadata.tables
    named = SessionExt()

    class AutoNamed(named.Model):
        id = Column(Integer, primary_key=True)

    assert AutoNamed.__table__.name == "auto_named"


def test_a_declarative_base_with_a_custom_metaclass(tmp_path):
    created = []

    class RecordingMeta(ModelMeta):
        def __init__(cls, name, bases, namespace, **kw):
            super().__init__(name, bases, namespace, **kw)
            created.append(name)

    assert DefaultMeta is ModelMeta  # Flask-SQLAlchemy's name for it
    base = declarative_base(cls=Model, name="Model", metaclass=RecordingMeta)
    ext = SessionExt(model_class=base)
    assert ext.Model is base and type(base) is RecordingMeta

    class ShopItem(ext.Model):
        __bind_key__ = "shop"
        id = Column(Integer, primary_key=True)

    assert created == ["Model", "ShopItem"]
    assert ShopItem.__table__.name == "shop_item"  # ModelMeta's naming
    assert ShopItem.__table__.info["bind_key"] == "shop"
    assert ShopItem.query_class is Query
    app = _app(tmp_path, SESSION_EXT_BINDS={"shop": "sqlite://"})
    ext.init_app(app)
    with app.app_context():
        ext.create_all()
        ext.session.add(ShopItem(id=5))
        ext.session.commit()
        assert ShopItem.query.one().id == 5
        assert ext.session.get_bind(ShopItem) is ext.engines["shop"]
    _dispose(app)
    with pytest.raises(session_ext.exc.ArgumentError, match="metaclass"):
        declarative_base(metaclass=type)


def test_declared_attr_over_classmethod(tmp_path):
    ext = SessionExt()

    class Owned:
        @declared_attr
        @classmethod
        def __tablename__(cls) -> str:
            return "owned_" + cls.__name__.lower()

        @declared_attr
        @classmethod
        def owner_id(cls):
            return Column(Integer, ForeignKey("owner.id"))

    class Owner(ext.Model):
        id = Column(Integer, primary_key=True)

    class Car(Owned, ext.Model):
        id = Column(Integer, primary_key=True)

    class Boat(Owned, ext.Model):
        id = Column(Integer, primary_key=True)

    assert Car.__table__.name == "owned_car" and Boat.__table__.name == "owned_boat"
    fk_car, = Car.__table__.c.owner_id.foreign_keys
    fk_boat, = Boat.__table__.c.owner_id.foreign_keys
    assert fk_car is not fk_boat and fk_car.target_fullname == "owner.id"
    app = _app(tmp_path)
    ext.init_app(app)
    with app.app_context():
        ext.create_all()
        ext.session.add_all([Owner(id=1), Car(id=1, owner_id=1)])
        ext.session.commit()
        assert ext.session.scalar(select(Car.owner_id)) == 1
    _dispose(app)


def test_add_models_to_shell_false(tmp_path):
    ext = SessionExt(add_models_to_shell=False)
    app = _app(tmp_path)
    ext.init_app(app)
    assert "db" not in app.make_shell_context()
    _dispose(app)


# --------------------------------------------------------------------------- 404 helpers
@pytest.fixture
def author(app):
    ada = User(name="ada")
    db.session.add(ada)
    db.session.add_all([BlogPost(title="one", author=ada), BlogPost(title="two", author=ada)])
    db.session.commit()
    ada_id = ada.id
    db.session.expunge_all()
    return ada_id


def test_get_or_404_passes_session_get_keywords(app, author):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        ada = db.get_or_404(User, str(author), options=[selectinload(User.posts)])
        assert len(statements) == 2  # the user, then the posts in one SELECT
        assert [p.title for p in ada.posts] == ["one", "two"]
        assert len(statements) == 2  # already loaded
        with db.session.no_autoflush:
            ada.__dict__["name"] = "stale"
        assert db.get_or_404(User, author).name == "stale"  # identity map, no SQL
        assert db.get_or_404(User, author, populate_existing=True).name == "ada"
        assert len(statements) == 3
    finally:
        event.remove(engine, "before_cursor_execute", count)
    with pytest.raises(NotFound) as info:
        db.get_or_404(User, 999, options=[selectinload(User.posts)], description="No user.")
    assert info.value.description == "No user."
    with pytest.raises(NotFound):
        db.get_or_404(User, "abc", populate_existing=True)  # no key can be "abc"


def test_first_and_one_or_404_descriptions(app, author):
    with pytest.raises(NotFound) as info:
        db.first_or_404(select(User).where(User.name == "zed"), description="No zed.")
    assert info.value.description == "No zed."
    with pytest.raises(NotFound) as info:
        db.one_or_404(select(BlogPost), description="Not one post.")
    assert info.value.description == "Not one post."
    with pytest.raises(NotFound) as info:
        User.query.filter_by(name="zed").first_or_404(description="Nobody.")
    assert info.value.description == "Nobody."
    with pytest.raises(NotFound) as info:
        BlogPost.query.one_or_404(description="Two posts.")
    assert info.value.description == "Two posts."
    assert BlogPost.query.filter_by(title="two").one_or_404(description="x").title == "two"


def test_disable_autonaming_with_a_typed_base():
    from session_ext import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    ext = SessionExt(model_class=Base, disable_autonaming=True)
    with pytest.raises(session_ext.exc.ArgumentError, match="no __tablename__"):
        class Unnamed(ext.Model):
            id: Mapped[int] = mapped_column(primary_key=True)

    class Named(ext.Model):
        __tablename__ = "typed_named"
        id: Mapped[int] = mapped_column(primary_key=True)

    assert Named.__table__.name == "typed_named"
    assert ext.Model.query_class is Query

    class Base2(DeclarativeBase):
        pass

    class AutoNamed(SessionExt(model_class=Base2).Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    assert AutoNamed.__table__.name == "auto_named"
