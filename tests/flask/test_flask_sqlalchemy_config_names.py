"""Configuration as Flask-SQLAlchemy 3.1 reads it: the SQLALCHEMY_* spellings,
where engine options and echo apply, and the MySQL driver defaults."""

from __future__ import annotations

import types

import pytest
from flask import Flask
from flask_support import on_databases
from sqlalchemy import Column, Integer, String, select
from sqlalchemy.pool import NullPool, QueuePool, StaticPool

from session_ext.flask import ConfigError, SessionExt
from session_ext.flask.config import read_config


def _app(tmp_path, **config) -> Flask:
    app = Flask("fsa_config_test", root_path=str(tmp_path),
                instance_path=str(tmp_path / "inst"))
    app.config.update(config)
    return app


def _dispose(app: Flask) -> None:
    for engine in app.extensions["session_ext"].engines.values():
        engine.dispose()


@on_databases
def test_sqlalchemy_keys_configure_an_app_that_only_changed_its_imports(tmp_path, database_uri):
    ext = SessionExt()

    class Note(ext.Model):
        id = Column(Integer, primary_key=True)
        text = Column(String(50))

    class Remote(ext.Model):
        __bind_key__ = "remote"
        id = Column(Integer, primary_key=True)

    app = _app(
        tmp_path,
        SQLALCHEMY_DATABASE_URI=database_uri,
        SQLALCHEMY_BINDS={"remote": f"sqlite:///{tmp_path / 'remote.sqlite3'}"},
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SQLALCHEMY_ECHO=True,
        SQLALCHEMY_RECORD_QUERIES=False,
        SQLALCHEMY_TRACK_MODIFICATIONS=True,
    )
    ext.init_app(app)
    config = app.extensions["session_ext"].config
    assert config.record_queries is False  # TESTING would turn it on by default
    assert config.track_modifications is True
    with app.app_context():
        assert ext.engine.url.render_as_string(hide_password=False) == database_uri
        assert ext.engine.pool._pre_ping is True
        assert ext.engine.echo is True
        assert ext.engines["remote"].url.database == str(tmp_path / "remote.sqlite3")
        ext.create_all()
        ext.session.add_all([Note(text="hello"), Remote(id=7)])
        ext.session.commit()
        assert ext.session.scalar(select(Note.text)) == "hello"
        with ext.engines["remote"].connect() as conn:
            assert conn.scalar(select(Remote.id)) == 7
        ext.session.remove()  # its open transaction would block the DROP on PostgreSQL
        ext.drop_all()
    _dispose(app)


def test_the_session_ext_spelling_wins_when_only_it_is_set_and_none_means_unset(tmp_path):
    ext = SessionExt()
    # Flask-SQLAlchemy's init_app leaves its keys at None: they count as unset
    app = _app(tmp_path, SESSION_EXT_DATABASE_URI="sqlite://", SQLALCHEMY_DATABASE_URI=None,
               SQLALCHEMY_ECHO=None)
    ext.init_app(app)
    with app.app_context():
        assert ext.engine.url.render_as_string() == "sqlite://"
        assert ext.engine.echo is False
    _dispose(app)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ({"SESSION_EXT_DATABASE_URI": "sqlite://"}, {"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db"}),
        ({"SESSION_EXT_ECHO": True}, {"SQLALCHEMY_ECHO": False}),
        ({"SESSION_EXT_BINDS": {"a": "sqlite://"}}, {"SQLALCHEMY_BINDS": {"b": "sqlite://"}}),
        ({"SESSION_EXT_ENGINE_OPTIONS": {"pool_pre_ping": True}},
         {"SQLALCHEMY_ENGINE_OPTIONS": {}}),
        ({"SESSION_EXT_RECORD_QUERIES": True}, {"SQLALCHEMY_RECORD_QUERIES": False}),
        ({"SESSION_EXT_TRACK_MODIFICATIONS": False}, {"SQLALCHEMY_TRACK_MODIFICATIONS": True}),
    ],
)
def test_both_spellings_set_differently_is_an_error_naming_both(tmp_path, ours, theirs):
    config = {"SESSION_EXT_DATABASE_URI": "sqlite://", **ours, **theirs}
    app = _app(tmp_path, **config)
    with pytest.raises(ConfigError) as info:
        SessionExt().init_app(app)
    (ours_key,), (theirs_key,) = ours, theirs
    assert ours_key in str(info.value) and theirs_key in str(info.value)
    assert "different values" in str(info.value)
    assert "session_ext" not in app.extensions


def test_both_spellings_set_to_the_same_value_are_accepted(tmp_path):
    app = _app(tmp_path, SESSION_EXT_DATABASE_URI="sqlite://", SQLALCHEMY_DATABASE_URI="sqlite://",
               SESSION_EXT_ECHO=True, SQLALCHEMY_ECHO=True)
    ext = SessionExt(app)
    with app.app_context():
        assert ext.engine.echo is True
    _dispose(app)


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"SQLALCHEMY_DATABASE_URI": "not a url"}, "SQLALCHEMY_DATABASE_URI"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SQLALCHEMY_ECHO": "yes"}, "SQLALCHEMY_ECHO"),
        ({"SQLALCHEMY_BINDS": {"a": 3}}, "SQLALCHEMY_BINDS['a']"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SQLALCHEMY_ENGINE_OPTIONS": ["echo"]},
         "SQLALCHEMY_ENGINE_OPTIONS"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db",
          "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": "x"}}, "SQLALCHEMY_DATABASE_URI"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SQLALCHEMY_TRACK_MODIFICATIONS": 1},
         "SQLALCHEMY_TRACK_MODIFICATIONS"),
    ],
)
def test_errors_name_the_flask_sqlalchemy_key_that_was_read(tmp_path, config, named):
    with pytest.raises(ConfigError) as info:
        SessionExt().init_app(_app(tmp_path, **config))
    assert named in str(info.value)


def test_engine_options_key_is_for_the_default_database_only(tmp_path):
    """As in Flask-SQLAlchemy 3: the extension's engine_options are every
    engine's defaults, a bind's own options override them, and
    SESSION_EXT_ENGINE_OPTIONS applies to the default engine."""
    ext = SessionExt(engine_options={"pool_recycle": 10, "pool_pre_ping": True})
    app = _app(
        tmp_path,
        SESSION_EXT_DATABASE_URI=f"sqlite:///{tmp_path / 'a.sqlite3'}",
        SESSION_EXT_ENGINE_OPTIONS={"pool_recycle": 20},
        SESSION_EXT_BINDS={"plain": f"sqlite:///{tmp_path / 'p.sqlite3'}",
                           "own": {"url": f"sqlite:///{tmp_path / 'o.sqlite3'}",
                                   "pool_recycle": 30}},
    )
    ext.init_app(app)
    with app.app_context():
        assert ext.engines[None].pool._recycle == 20
        assert ext.engines["plain"].pool._recycle == 10  # not SESSION_EXT_ENGINE_OPTIONS's 20
        assert ext.engines["own"].pool._recycle == 30
        assert all(engine.pool._pre_ping for engine in ext.engines.values())
    _dispose(app)


def test_echo_reaches_every_engine_and_its_pool_unless_an_option_says_otherwise(tmp_path):
    ext = SessionExt()
    app = _app(
        tmp_path,
        SESSION_EXT_DATABASE_URI=f"sqlite:///{tmp_path / 'a.sqlite3'}",
        SESSION_EXT_ECHO=True,
        SESSION_EXT_BINDS={"loud": f"sqlite:///{tmp_path / 'l.sqlite3'}",
                           "quiet": {"url": f"sqlite:///{tmp_path / 'q.sqlite3'}",
                                     "echo": False}},
    )
    ext.init_app(app)
    with app.app_context():
        engines = ext.engines
        assert engines[None].echo is True and engines[None].pool.echo is True
        assert engines["loud"].echo is True and engines["loud"].pool.echo is True
        assert engines["quiet"].echo is False and engines["quiet"].pool.echo is True
    _dispose(app)


# --------------------------------------------------------------------------- MySQL defaults
#: stands in for a MySQL driver: creating an engine imports and inspects the
#: driver module but connects to nothing
_FAKE_MYSQLDB = types.SimpleNamespace(paramstyle="format", version_info=(2, 2, 0),
                                      __version__="2.2.0", Error=Exception)


def _mysql_app(tmp_path, url, **options):
    return _app(tmp_path, SESSION_EXT_DATABASE_URI=url,
                SESSION_EXT_ENGINE_OPTIONS={"module": _FAKE_MYSQLDB, **options})


def test_mysql_gets_pool_recycle_and_utf8mb4(tmp_path):
    app = _mysql_app(tmp_path, "mysql+mysqldb://scott:tiger@db.example/shop")
    ext = SessionExt(app)
    with app.app_context():
        engine = ext.engine
        assert engine.url.query["charset"] == "utf8mb4"
        assert isinstance(engine.pool, QueuePool)
        assert engine.pool._recycle == 7200
        assert engine.url.database == "shop" and engine.url.host == "db.example"
    _dispose(app)


def test_mysql_defaults_do_not_override_what_is_given(tmp_path):
    app = _mysql_app(tmp_path, "mysql+mysqldb://u@h/db?charset=latin1", pool_recycle=60)
    ext = SessionExt(app)
    with app.app_context():
        assert ext.engine.url.query["charset"] == "latin1"
        assert ext.engine.pool._recycle == 60
    _dispose(app)


def test_mysql_pool_recycle_only_for_the_queue_pool(tmp_path):
    config = read_config(_app(tmp_path, SESSION_EXT_DATABASE_URI="mariadb+pymysql://u@h/db",
                              SESSION_EXT_ENGINE_OPTIONS={"poolclass": NullPool}), {})
    bind = config.binds[None]
    assert "pool_recycle" not in bind.options
    assert bind.url.query["charset"] == "utf8mb4"
    queued = read_config(_app(tmp_path, SESSION_EXT_DATABASE_URI="mysql+pymysql://u@h/db",
                              SESSION_EXT_ENGINE_OPTIONS={"poolclass": QueuePool}), {})
    assert queued.binds[None].options["pool_recycle"] == 7200


def test_other_databases_get_no_mysql_defaults(tmp_path):
    config = read_config(_app(tmp_path, SESSION_EXT_DATABASE_URI="postgresql+psycopg://u@h/db",
                              SESSION_EXT_BINDS={"mem": "sqlite://"}), {})
    assert "pool_recycle" not in config.binds[None].options
    assert "charset" not in config.binds[None].url.query
    assert config.binds["mem"].options["poolclass"] is StaticPool
