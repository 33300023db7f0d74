"""init_app: configuration keys, errors naming them, engines per app."""

from __future__ import annotations

import os
import threading

import pytest
from flask import Flask
from flask_support import User, db
from sqlalchemy import select, text
from sqlalchemy.pool import StaticPool

from session_ext.flask import ConfigError, SessionExt


def _app(tmp_path, **config) -> Flask:
    app = Flask("config_test", root_path=str(tmp_path), instance_path=str(tmp_path / "inst"))
    app.config.update(config)
    return app


def _dispose(app: Flask) -> None:
    for engine in app.extensions["session_ext"].engines.values():
        engine.dispose()


@pytest.fixture
def fresh_db():
    return SessionExt()


def test_no_uri_and_no_binds_fails_in_init_app(tmp_path, fresh_db):
    with pytest.raises(ConfigError, match="SESSION_EXT_DATABASE_URI.*SESSION_EXT_BINDS"):
        fresh_db.init_app(_app(tmp_path))


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"SESSION_EXT_DATABASE_URI": 42}, "SESSION_EXT_DATABASE_URI"),
        ({"SESSION_EXT_DATABASE_URI": "not a url"}, "SESSION_EXT_DATABASE_URI"),
        ({"SESSION_EXT_DATABASE_URI": ""}, "SESSION_EXT_DATABASE_URI"),
        ({"SESSION_EXT_BINDS": ["sqlite://"]}, "SESSION_EXT_BINDS"),
        ({"SESSION_EXT_BINDS": {"logs": 3}}, "SESSION_EXT_BINDS['logs']"),
        ({"SESSION_EXT_BINDS": {"logs": {"echo": True}}}, "SESSION_EXT_BINDS['logs']"),
        ({"SESSION_EXT_BINDS": {None: "sqlite://"}}, "SESSION_EXT_BINDS"),
        ({"SESSION_EXT_DATABASE_URI": "sqlite://", "SESSION_EXT_ENGINE_OPTIONS": "echo"},
         "SESSION_EXT_ENGINE_OPTIONS"),
        ({"SESSION_EXT_DATABASE_URI": "sqlite://", "SESSION_EXT_ECHO": "yes"},
         "SESSION_EXT_ECHO"),
        ({"SESSION_EXT_DATABASE_URI": "sqlite://", "SESSION_EXT_RECORD_QUERIES": 1},
         "SESSION_EXT_RECORD_QUERIES"),
        ({"SESSION_EXT_DATABASE_URI": "sqlite://", "SESSION_EXT_COMMIT_ON_TEARDOWN": "true"},
         "SESSION_EXT_COMMIT_ON_TEARDOWN"),
        ({"SESSION_EXT_DATABASE_URI": "sqlite://",
          "SESSION_EXT_ENGINE_OPTIONS": {"no_such_option": 1}}, "SESSION_EXT_DATABASE_URI"),
        ({"SESSION_EXT_DATABASE_URI": "nosuchdialect://x"}, "SESSION_EXT_DATABASE_URI"),
        ({"SESSION_EXT_DATABASE_URI": "sqlite:///x.sqlite3",
          "SESSION_EXT_ENGINE_OPTIONS": {"pool_size": "x"}}, "pool_size must be an integer"),
        ({"SESSION_EXT_BINDS": {"logs": {"url": "sqlite://", "pool_timeout": "5s"}}},
         "SESSION_EXT_BINDS['logs']"),
        ({"SESSION_EXT_DATABASE_URL": "sqlite://"},
         "did you mean SESSION_EXT_DATABASE_URI?"),
        ({"SESSION_EXT_DATABASE_URI": "sqlite://", "SESSION_EXT_ECHOO": True},
         "Unknown setting SESSION_EXT_ECHOO"),
    ],
)
def test_malformed_values_fail_in_init_app_naming_the_key(tmp_path, fresh_db, config, key):
    app = _app(tmp_path, **config)
    with pytest.raises(ConfigError) as info:
        fresh_db.init_app(app)
    assert key in str(info.value)
    assert "session_ext" not in app.extensions


def test_binding_twice_to_one_app_raises(tmp_path, fresh_db):
    app = _app(tmp_path, SESSION_EXT_DATABASE_URI="sqlite://")
    fresh_db.init_app(app)
    with pytest.raises(RuntimeError, match="already registered"):
        fresh_db.init_app(app)
    with pytest.raises(RuntimeError, match="already registered"):
        SessionExt().init_app(app)
    _dispose(app)


def test_the_app_is_never_stored_on_the_extension(tmp_path, fresh_db):
    app = _app(tmp_path, SESSION_EXT_DATABASE_URI="sqlite://")
    fresh_db.init_app(app)
    assert all(value is not app for value in vars(fresh_db).values())
    state = app.extensions["session_ext"]
    assert state.db is fresh_db
    assert all(value is not app for value in vars(state).values())
    _dispose(app)


def test_constructor_with_app_calls_init_app(tmp_path):
    app = _app(tmp_path, SESSION_EXT_DATABASE_URI="sqlite://")
    ext = SessionExt(app)
    assert app.extensions["session_ext"].db is ext
    _dispose(app)


def test_another_apps_extension_is_refused(tmp_path, fresh_db):
    app = _app(tmp_path, SESSION_EXT_DATABASE_URI="sqlite://")
    fresh_db.init_app(app)
    with app.app_context():
        with pytest.raises(RuntimeError, match="not registered with this SessionExt"):
            db.session()
        with pytest.raises(RuntimeError, match="init_app"):
            _ = db.engine
    _dispose(app)


def test_relative_sqlite_path_resolves_under_instance_path(tmp_path, fresh_db):
    app = _app(tmp_path, SESSION_EXT_DATABASE_URI="sqlite:///data/app.sqlite3",
               SESSION_EXT_BINDS={"b": "sqlite:///file:other.sqlite3?uri=true"})
    os.makedirs(os.path.join(app.instance_path, "data"))
    fresh_db.init_app(app)
    with app.app_context():
        assert fresh_db.engine.url.database == os.path.join(app.instance_path, "data",
                                                            "app.sqlite3")
        assert fresh_db.engines["b"].url.database == "file:" + os.path.join(
            app.instance_path, "other.sqlite3")
        with fresh_db.engine.connect() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.commit()
    assert os.path.exists(os.path.join(app.instance_path, "data", "app.sqlite3"))
    _dispose(app)


def test_absolute_sqlite_path_is_kept(tmp_path, fresh_db):
    path = tmp_path / "abs.sqlite3"
    app = _app(tmp_path, SESSION_EXT_DATABASE_URI=f"sqlite:///{path}")
    fresh_db.init_app(app)
    with app.app_context():
        assert fresh_db.engine.url.database == str(path)
    _dispose(app)


def test_in_memory_sqlite_is_shared_across_threads(tmp_path):
    app = _app(tmp_path, SESSION_EXT_DATABASE_URI="sqlite://")
    db.init_app(app)
    with app.app_context():
        assert isinstance(db.engine.pool, StaticPool)
        db.create_all()
        db.session.add(User(name="main-thread"))
        db.session.commit()

    seen: list[list[str]] = []

    def other_thread() -> None:
        with app.app_context():
            seen.append(db.session.scalars(select(User.name)).all())

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen == [["main-thread"]]
    _dispose(app)


def test_engine_options_precedence(tmp_path):
    ext = SessionExt(engine_options={"pool_recycle": 10, "echo_pool": True})
    app = _app(
        tmp_path,
        SESSION_EXT_DATABASE_URI=f"sqlite:///{tmp_path / 'a.sqlite3'}",
        SESSION_EXT_ENGINE_OPTIONS={"pool_recycle": 20},
        SESSION_EXT_ECHO=True,
        SESSION_EXT_BINDS={"x": {"url": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                                 "pool_recycle": 30, "echo": False}},
    )
    ext.init_app(app)
    with app.app_context():
        default, bound = ext.engines[None], ext.engines["x"]
        assert default.pool._recycle == 20
        assert default.echo is True
        assert bound.pool._recycle == 30
        assert bound.echo is False
        assert default.pool.echo is True  # from the extension's options
    _dispose(app)


def test_record_queries_defaults_to_debug_or_testing(tmp_path):
    for flags, expected in (({}, False), ({"TESTING": True}, True), ({"DEBUG": True}, True),
                            ({"TESTING": True, "SESSION_EXT_RECORD_QUERIES": False}, False)):
        app = _app(tmp_path, SESSION_EXT_DATABASE_URI="sqlite://", **flags)
        SessionExt().init_app(app)
        assert app.extensions["session_ext"].config.record_queries is expected, flags
        _dispose(app)


def test_binds_only_configuration(tmp_path, fresh_db):
    app = _app(tmp_path, SESSION_EXT_BINDS={"only": "sqlite://"})
    fresh_db.init_app(app)
    with app.app_context():
        assert list(fresh_db.engines) == ["only"]
        with pytest.raises(ConfigError, match="no default database.*SESSION_EXT_DATABASE_URI"):
            _ = fresh_db.engine
    _dispose(app)


def test_engine_and_engines_outside_an_app_context(fresh_db):
    with pytest.raises(RuntimeError, match="app_context"):
        _ = fresh_db.engine
    with pytest.raises(RuntimeError, match="app_context"):
        fresh_db.create_all()


def test_session_options_reach_every_session(tmp_path):
    ext = SessionExt(session_options={"expire_on_commit": False, "autoflush": False})
    app = _app(tmp_path, SESSION_EXT_DATABASE_URI="sqlite://")
    ext.init_app(app)
    with app.app_context():
        session = ext.session()
        assert session.expire_on_commit is False
        assert session.autoflush is False
    _dispose(app)


def test_repr_shows_the_current_apps_databases(tmp_path, fresh_db):
    app = _app(tmp_path, SESSION_EXT_DATABASE_URI="sqlite://")
    fresh_db.init_app(app)
    assert repr(fresh_db) == "<SessionExt>"
    with app.app_context():
        assert repr(fresh_db) == "<SessionExt default=sqlite://>"
    _dispose(app)
