"""db.Model: table names, Model.query, query_class, model_class, shell context."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_support import BlogPost, User, db
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, select

import session_ext
from session_ext import DeclarativeBase, declared_attr
from session_ext.flask import Query, SessionExt
from session_ext.flask.model import snake_case


@pytest.mark.parametrize(
    ("name", "expected"),
    [("User", "user"), ("UserProfile", "user_profile"), ("HTTPRequest", "http_request"),
     ("Post2Tag", "post2_tag"), ("ABC", "abc")],
)
def test_snake_case(name, expected):
    assert snake_case(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Order_Item", "order__item"), ("_Private", "private"), ("ABCThing", "abc_thing"),
     ("User2Group", "user2_group")],
)
def test_table_names_are_flask_sqlalchemys(name, expected):
    ext = SessionExt()
    model = type(ext.Model)(name, (ext.Model,), {"id": Column(Integer, primary_key=True)})
    assert model.__table__.name == expected
    fsa_model = pytest.importorskip("flask_sqlalchemy.model")
    assert fsa_model.camel_to_snake_case(name) == expected


def test_default_and_explicit_table_names():
    assert User.__tablename__ == "user"
    assert BlogPost.__table__.name == "blog_post"
    ext = SessionExt()

    class Base(ext.Model):
        __abstract__ = True
        id = Column(Integer, primary_key=True)

    class TaggedItem(Base):
        pass

    class Mixin:
        @declared_attr
        def __tablename__(cls):
            return "mixed_" + cls.__name__.lower()

    class Widget(Mixin, ext.Model):
        id = Column(Integer, primary_key=True)

    class Named(ext.Model):
        __tablename__ = "explicit_name"
        id = Column(Integer, primary_key=True)

    assert TaggedItem.__table__.name == "tagged_item"
    assert Widget.__table__.name == "mixed_widget"
    assert Named.__table__.name == "explicit_name"
    assert set(ext.metadata.tables) == {"tagged_item", "mixed_widget", "explicit_name"}


def test_model_query_and_relationships(app):
    ada = User(name="ada")
    ada.posts.append(BlogPost(title="Notes"))
    db.session.add(ada)
    db.session.commit()
    assert isinstance(User.query, Query)
    assert User.query.filter_by(name="ada").one().posts[0].title == "Notes"
    assert User.query.get(ada.id) is ada
    assert db.session.query(User).count() == 1
    assert isinstance(db.session.query(User), Query)
    assert isinstance(db.Model.query, session_ext.flask.QueryProperty)  # not mapped


def test_query_class_per_extension_and_per_model(tmp_path):
    class ActiveQuery(Query):
        def named(self, name):
            return self.filter_by(name=name)

    class SpecialQuery(Query):
        special = True

    ext = SessionExt(query_class=ActiveQuery)

    class Person(ext.Model):
        id = Column(Integer, primary_key=True)
        name = Column(String(20))

    class Pet(ext.Model):
        query_class = SpecialQuery
        id = Column(Integer, primary_key=True)

    app = Flask("qc", root_path=str(tmp_path))
    app.config["SESSION_EXT_DATABASE_URI"] = "sqlite://"
    ext.init_app(app)
    with app.app_context():
        ext.create_all()
        ext.session.add(Person(name="bo"))
        ext.session.commit()
        assert Person.query.named("bo").one().name == "bo"
        assert isinstance(ext.session.query(Person), ActiveQuery)
        assert isinstance(Pet.query, SpecialQuery)
        ext.engine.dispose()
    with pytest.raises(session_ext.exc.ArgumentError, match="query_class"):
        SessionExt(query_class=dict)


def test_model_class_as_mixin_and_as_declarative_base(tmp_path):
    class Describe:
        def describe(self):
            return f"{type(self).__name__}#{self.id}"

    ext = SessionExt(model_class=Describe, metadata=MetaData(schema=None))

    class Thing(ext.Model):
        id = Column(Integer, primary_key=True)

    assert issubclass(ext.Model, Describe)
    assert Thing(id=3).describe() == "Thing#3"

    class MyBase(DeclarativeBase):
        pass

    ext2 = SessionExt(model_class=MyBase)
    assert issubclass(ext2.Model, MyBase) and ext2.Model.registry is MyBase.registry
    assert ext2.metadata is MyBase.metadata

    class Gadget(MyBase):
        __tablename__ = "gadget"
        __bind_key__ = "gadgets"
        id = Column(Integer, primary_key=True)
        owner_id = Column(Integer, ForeignKey("gadget.id"))

    app = Flask("mc", root_path=str(tmp_path))
    app.config["SESSION_EXT_DATABASE_URI"] = "sqlite://"
    app.config["SESSION_EXT_BINDS"] = {"gadgets": "sqlite://"}
    ext2.init_app(app)
    with app.app_context():
        ext2.create_all(bind_key="gadgets")  # the bind key of a foreign base is honoured
        ext2.session.add(Gadget(id=1))
        ext2.session.commit()
        assert Gadget.query.count() == 1
        assert ext2.session.get_bind(Gadget) is ext2.engines["gadgets"]
        for engine in ext2.engines.values():
            engine.dispose()

    with pytest.raises(session_ext.exc.ArgumentError, match="own metadata"):
        SessionExt(model_class=MyBase, metadata=MetaData())
    with pytest.raises(session_ext.exc.ArgumentError, match="mapped or abstract model"):
        SessionExt(model_class=Gadget)


def test_shell_context_has_db_and_every_model(app):
    context = app.make_shell_context()
    assert context["db"] is db
    assert context["User"] is User
    assert context["BlogPost"] is BlogPost


def test_sqlalchemy_and_session_ext_names_on_db():
    assert db.Column is session_ext.flask.extension.sqlalchemy.Column
    assert db.select is select
    assert db.relationship is session_ext.relationship
    assert db.selectinload is session_ext.selectinload
    with pytest.raises(AttributeError):
        _ = db.no_such_name


def test_package_exports_resolve():
    import session_ext.flask as package

    assert sorted(package.__all__) == sorted(package._EXPORTS)
    for name in package.__all__:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError):
        _ = package.not_exported
