"""settings.SESSION_EXT: validation through the system checks (one test per
check id), URLs derived from Django's DATABASES, engine and session options,
and re-reading the settings when a test overrides them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django_support import AuditEntry, Item
from sqlalchemy import event, select, text
from sqlalchemy.pool import StaticPool

from session_ext.django import Session, db, registry
from session_ext.django.conf import read_settings


def messages() -> list[checks.CheckMessage]:
    return checks.run_checks(tags=["session_ext"])


def ids(found: list[checks.CheckMessage]) -> list[str]:
    return sorted(m.id for m in found)


def only(found: list[checks.CheckMessage], id_: str) -> checks.CheckMessage:
    matching = [m for m in found if m.id == id_]
    assert len(matching) == 1, [(m.id, m.msg) for m in found]
    return matching[0]


# -- the app and a clean configuration ---------------------------------------------


def test_app_config_label_and_name():
    config = apps.get_app_config("session_ext")
    assert config.name == "session_ext.django"
    assert type(config).__name__ == "SessionExtConfig"


def test_valid_settings_pass_every_check(configure):
    configure(COMMIT_ON_TEARDOWN=True, ECHO=False, ENGINE_OPTIONS={"pool_pre_ping": True},
              SESSION_OPTIONS={"expire_on_commit": False})
    assert messages() == []
    assert registry.problems == []


# -- one test per check id ----------------------------------------------------------


def test_e001_setting_not_a_dict(settings):
    settings.SESSION_EXT = ["sqlite://"]
    error = only(messages(), "session_ext.E001")
    assert isinstance(error, checks.Error)
    assert "must be a dict, not list" in error.msg
    assert "DATABASES" in error.hint


def test_e001_makes_db_session_raise_with_the_problem(settings):
    settings.SESSION_EXT = "sqlite://"
    with pytest.raises(ImproperlyConfigured, match=r"session_ext\.E001"):
        db.session()
    with pytest.raises(ImproperlyConfigured, match="manage.py check"):
        db.engine  # noqa: B018


def test_e002_unknown_key_suggests_the_right_one(configure):
    configure(create=False, COMMIT_ON_TEARDOWM=True)
    error = only(messages(), "session_ext.E002")
    assert "'COMMIT_ON_TEARDOWM'" in error.msg
    assert "Did you mean 'COMMIT_ON_TEARDOWN'?" in error.hint
    assert error.obj == "SESSION_EXT"


def test_e002_unknown_key_in_a_database_entry(configure, databases):
    configure(create=False, DATABASES={**databases,
                                       "audit": {"URL": databases["audit"], "OPTIONS": {}}})
    error = only(messages(), "session_ext.E002")
    assert error.obj == "SESSION_EXT['DATABASES']['audit']"
    assert "'ENGINE_OPTIONS'" in error.hint


@pytest.mark.parametrize(
    ("keys", "where", "text_"),
    [
        ({"ECHO": "yes"}, "SESSION_EXT['ECHO']", "must be True or False"),
        ({"COMMIT_ON_TEARDOWN": 1}, "SESSION_EXT['COMMIT_ON_TEARDOWN']", "not 1 (int)"),
        ({"ENGINE_OPTIONS": ["echo"]}, "SESSION_EXT['ENGINE_OPTIONS']", "not list"),
        ({"ENGINE_OPTIONS": {1: 2}}, "SESSION_EXT['ENGINE_OPTIONS']", "not strings"),
        ({"SESSION_OPTIONS": "fast"}, "SESSION_EXT['SESSION_OPTIONS']", "not str"),
        ({"DATABASES": "sqlite://"}, "SESSION_EXT['DATABASES']", "non-empty dict"),
        ({"DATABASES": {}}, "SESSION_EXT['DATABASES']", "non-empty dict"),
        ({"DATABASES": {"default": 42}}, "SESSION_EXT['DATABASES']['default']",
         "URL string or a dict"),
    ],
)
def test_e003_wrong_types(configure, keys, where, text_):
    configure(create=False, **keys)
    error = only(messages(), "session_ext.E003")
    assert error.obj == where
    assert text_ in error.msg
    assert error.hint


@pytest.mark.parametrize("url", ["not a url", "", "   ", "://nowhere"])
def test_e004_unparsable_url(configure, databases, url):
    configure(create=False, DATABASES={**databases, "audit": url})
    error = only(messages(), "session_ext.E004")
    assert error.obj == "SESSION_EXT['DATABASES']['audit']"
    assert "sqlite:///app.sqlite3" in error.hint


def test_e004_in_an_entry_dict(configure, databases):
    configure(create=False, DATABASES={**databases, "audit": {"URL": "nope"}})
    assert only(messages(), "session_ext.E004").obj == "SESSION_EXT['DATABASES']['audit']['URL']"


@pytest.mark.parametrize("name", ["", "  ", "__all__", 7])
def test_e005_bad_bind_names(configure, databases, name):
    configure(create=False, DATABASES={**databases, name: "sqlite://"})
    error = only(messages(), "session_ext.E005")
    assert "cannot be a bind name" in error.msg
    assert "__bind_key__" in error.hint


@pytest.mark.parametrize("entry", [{}, {"URL": "sqlite://", "DJANGO_DATABASE": "default"},
                                   {"ENGINE_OPTIONS": {}}])
def test_e006_entry_needs_exactly_one_source(configure, databases, entry):
    configure(create=False, DATABASES={**databases, "audit": entry})
    error = only(messages(), "session_ext.E006")
    assert "exactly one of 'URL' and 'DJANGO_DATABASE'" in error.msg


def test_e007_unknown_django_alias(configure, databases):
    configure(create=False, DATABASES={**databases, "audit": {"DJANGO_DATABASE": "replica"}})
    error = only(messages(), "session_ext.E007")
    assert "'replica'" in error.msg and "settings.DATABASES" in error.msg


def test_e007_unsupported_django_backend():
    _, problems = read_settings(None, {"default": {"ENGINE": "django.db.backends.mysql",
                                                   "NAME": "shop"}})
    assert [p.id for p in problems] == ["session_ext.E007"]
    assert "django.db.backends.mysql" in problems[0].message
    assert "SESSION_EXT['DATABASES']" in problems[0].hint


def test_e007_no_django_database_and_no_url():
    _, problems = read_settings({}, {})
    assert [p.id for p in problems] == ["session_ext.E007"]


@pytest.mark.parametrize(
    ("options", "text_"),
    [
        ({"autoflsh": False}, "Did you mean 'autoflush'?"),
        ({"bind": None}, "__bind_key__"),
        ({"binds": {}}, "__bind_key__"),
        ({"class_": dict}, "Subclass session_ext.django.Session"),
    ],
)
def test_e008_session_options(configure, options, text_):
    configure(create=False, SESSION_OPTIONS=options)
    error = only(messages(), "session_ext.E008")
    assert text_ in error.hint


@pytest.mark.parametrize(
    ("bind", "text_"),
    [
        ("nosuchdialect://x", "NoSuchModuleError"),
        ({"URL": "sqlite://", "ENGINE_OPTIONS": {"no_such_option": 1}}, "TypeError"),
        ({"URL": "sqlite:///x.sqlite3", "ENGINE_OPTIONS": {"pool_size": "x"}},
         "pool_size must be an integer, not 'x'"),
        ({"URL": "sqlite://", "ENGINE_OPTIONS": {"pool_pre_ping": "yes"}},
         "pool_pre_ping must be True or False"),
        ("mysql+mysqldb://user@localhost/shop", "ModuleNotFoundError"),
    ],
)
def test_e009_engine_cannot_be_created(configure, databases, bind, text_):
    configure(create=False, DATABASES={**databases, "audit": bind})
    error = only(messages(), "session_ext.E009")
    assert text_ in error.msg
    assert registry.engines == {}  # no half-configured registry
    with pytest.raises(ImproperlyConfigured, match=r"session_ext\.E009"):
        db.session()


def test_e009_hint_for_a_missing_driver(configure, databases):
    configure(create=False, DATABASES={**databases, "audit": "mysql+mysqldb://u@h/d"})
    assert "Install the database driver" in only(messages(), "session_ext.E009").hint


def test_e010_model_bind_key_not_configured(configure, databases):
    configure(create=False, DATABASES={"default": databases["default"]})
    error = only(messages(), "session_ext.E010")
    assert "AuditEntry" in error.msg and "table 'audit_event'" in error.msg
    assert "'audit'" in error.hint
    with pytest.raises(ImproperlyConfigured, match="__bind_key__ 'audit'"):
        db.create_all()
    # models on the configured database keep working; the misconfigured one says why
    db.session.add(Item(name="fine"))
    db.session.commit()
    assert db.session.scalars(select(Item.name)).all() == ["fine"]
    with pytest.raises(ImproperlyConfigured, match="No database named 'audit'"):
        db.session.get(AuditEntry, 1)
    db.session.rollback()
    assert db.session.get(Item, 1).name == "fine"


def test_w001_no_default_database(configure, databases):
    configure(create=False, DATABASES={"audit": databases["audit"]})
    warning = only(messages(), "session_ext.W001")
    assert isinstance(warning, checks.Warning)
    assert ids(messages()) == ["session_ext.W001"]
    with pytest.raises(ImproperlyConfigured, match="No database named 'default'"):
        db.engine  # noqa: B018


def test_w002_middleware_missing(settings):
    settings.MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
    warning = only(messages(), "session_ext.W002")
    assert "per thread, not per request" in warning.msg
    assert "session_ext.django.middleware.SessionExtMiddleware" in warning.hint


def test_w002_accepts_a_subclass_of_the_middleware(settings):
    settings.MIDDLEWARE = ["test_django_settings.MyMiddleware"]
    assert messages() == []


def _my_middleware() -> type:
    from session_ext.django import SessionExtMiddleware

    class MyMiddleware(SessionExtMiddleware):
        pass

    return MyMiddleware


MyMiddleware = _my_middleware()


def test_w003_sqlite_directory_missing(configure, databases, tmp_path):
    url = f"sqlite:///{tmp_path / 'missing' / 'audit.sqlite3'}"
    configure(create=False, DATABASES={**databases, "audit": url})
    warning = only(messages(), "session_ext.W003")
    assert "does not exist" in warning.msg and "Create the directory" in warning.hint


def test_broken_settings_do_not_break_requests_that_use_no_database(settings):
    settings.SESSION_EXT = {"ECHO": "loud"}
    from django.test import Client

    with pytest.raises(ImproperlyConfigured, match=r"session_ext\.E003"):
        Client().get("/items/999")  # a view that uses the database
    assert Client().get("/nowhere").status_code == 404  # the middleware itself is fine


def test_errors_are_logged_when_configuring(settings, caplog):
    settings.SESSION_EXT = {"ECHO": "loud"}
    assert "session_ext is not configured" in caplog.text
    assert "session_ext.E003" in caplog.text


# -- URLs derived from Django's DATABASES -------------------------------------------


def test_default_is_djangos_default_database_when_databases_is_unset(settings, tmp_path):
    settings.SESSION_EXT = {}
    django_name = settings.DATABASES["default"]["NAME"]
    assert db.engine.url.database == django_name
    assert db.engine.url.get_backend_name() == "sqlite"


def test_django_database_entry_by_alias(configure, databases):
    from django.conf import settings

    configure(DATABASES={**databases, "audit": {"DJANGO_DATABASE": "default"}})
    assert db.get_engine("audit").url.database == settings.DATABASES["default"]["NAME"]


@pytest.mark.parametrize(
    ("name", "expected_database", "static"),
    [
        ("/srv/app/db.sqlite3", "/srv/app/db.sqlite3", False),
        ("relative.sqlite3", "relative.sqlite3", False),
        (":memory:", None, True),
        ("", None, True),
        ("file:memdb?mode=memory&cache=shared", "file:memdb?mode=memory&cache=shared", True),
    ],
)
def test_sqlite_urls_from_django(name, expected_database, static):
    entry = {"ENGINE": "django.db.backends.sqlite3", "NAME": name, "OPTIONS": {"timeout": 7}}
    found, problems = read_settings({}, {"default": entry})
    assert [p for p in problems if p.is_error] == []
    bind = found.binds[None]
    assert bind.url.database == expected_database
    assert bind.options["connect_args"]["timeout"] == 7
    assert (bind.options.get("poolclass") is StaticPool) == static


def test_relative_sqlite_path_from_django_stays_djangos(tmp_path):
    """Django opens a relative NAME from the working directory, not BASE_DIR."""
    entry = {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}
    found, _ = read_settings({"DATABASES": {"default": {"DJANGO_DATABASE": "default"},
                                            "own": "sqlite:///own.sqlite3"}},
                             {"default": entry}, base_dir=tmp_path)
    assert found.binds[None].url.database == "db.sqlite3"
    assert found.binds["own"].url.database == str(tmp_path / "own.sqlite3")
    derived, _ = read_settings(None, {"default": entry}, base_dir=tmp_path)
    assert derived.binds[None].url.database == "db.sqlite3"


def test_sqlite_path_object_from_django(tmp_path):
    entry = {"ENGINE": "django.db.backends.sqlite3", "NAME": tmp_path / "x.sqlite3"}
    found, _ = read_settings(None, {"default": entry})
    assert found.binds[None].url.database == str(tmp_path / "x.sqlite3")


def test_postgresql_url_from_django():
    entry = {"ENGINE": "django.db.backends.postgresql", "NAME": "shop", "USER": "ann",
             "PASSWORD": "s3cret", "HOST": "db.internal", "PORT": "6432",
             "OPTIONS": {"sslmode": "require", "isolation_level": 3, "pool": True}}
    found, problems = read_settings(None, {"default": entry})
    assert problems == []
    bind = found.binds[None]
    assert bind.url.render_as_string(hide_password=False) == (
        "postgresql+psycopg://ann:s3cret@db.internal:6432/shop"
    )
    assert bind.options == {"connect_args": {"sslmode": "require"}}


def test_postgresql_socket_directory_from_django():
    entry = {"ENGINE": "django.db.backends.postgresql", "NAME": "shop", "HOST": "/run/pg"}
    found, _ = read_settings(None, {"default": entry})
    url = found.binds[None].url
    assert url.host is None and url.query == {"host": "/run/pg"} and url.port is None


def test_postgresql_from_django_connects(pg_engine):
    """A Django DATABASES entry for the test server gives a working engine."""
    url = pg_engine.url
    entry = {"ENGINE": "django.db.backends.postgresql", "NAME": url.database,
             "USER": url.username or "", "PASSWORD": url.password or "",
             "HOST": url.query.get("host", url.host or ""),
             "PORT": url.port or url.query.get("port", "")}
    problems = registry.configure({"DATABASES": {
        "default": read_settings({}, {"default": entry})[0].binds[None].url}})
    try:
        assert problems == []
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar() == url.database
    finally:
        registry.configure()


# -- SQLite specifics, engine and session options -----------------------------------


def test_relative_sqlite_url_is_relative_to_base_dir(configure, settings, databases, tmp_path):
    settings.BASE_DIR = tmp_path
    configure(DATABASES={**databases, "audit": "sqlite:///rel.sqlite3"})
    assert db.get_engine("audit").url.database == os.path.join(tmp_path, "rel.sqlite3")


def test_in_memory_sqlite_is_one_shared_connection(configure, databases):
    configure(DATABASES={**databases, "audit": "sqlite://"})
    engine = db.get_engine("audit")
    assert isinstance(engine.pool, StaticPool)


def test_engine_option_precedence(configure, databases):
    configure(ENGINE_OPTIONS={"echo": False, "pool_size": 3, "max_overflow": 1}, ECHO=True,
              DATABASES={"default": databases["default"],
                         "audit": {"URL": databases["audit"],
                                   "ENGINE_OPTIONS": {"pool_size": 7, "echo": False}}})
    assert db.engine.echo is True  # ECHO over ENGINE_OPTIONS
    assert db.engine.pool.size() == 3
    assert db.get_engine("audit").echo is False  # a bind's own options win
    assert db.get_engine("audit").pool.size() == 7


def test_sqlite_engines_are_configured_for_savepoints(configure):
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_session_options_apply_to_every_session(configure):
    configure(SESSION_OPTIONS={"expire_on_commit": False, "autoflush": False})
    session = db.session()
    assert session.expire_on_commit is False and session.autoflush is False


class CountingSession(Session):
    created = 0

    def __init__(self, **kw: Any) -> None:
        type(self).created += 1
        super().__init__(**kw)


def test_session_class_option(configure):
    configure(SESSION_OPTIONS={"class_": CountingSession})
    assert isinstance(db.session(), CountingSession)
    assert CountingSession.created == 1


def test_changing_the_setting_disposes_of_the_old_engines(configure, databases, tmp_path):
    old = db.engine
    disposed: list[Any] = []
    event.listen(old, "engine_disposed", lambda engine: disposed.append(engine))
    configure(DATABASES={**databases, "default": f"sqlite:///{tmp_path / 'other.sqlite3'}"})
    assert disposed == [old]
    assert db.engine is not old
    assert db.engine.url.database == str(tmp_path / "other.sqlite3")


def test_registry_configure_without_django_settings(tmp_path: Path):
    """Scripts can configure the registry from a dict of the same shape."""
    problems = registry.configure({"DATABASES": {"default": "sqlite://",
                                                 "audit": "sqlite://"}})
    try:
        assert problems == []
        assert db.engine.url.database is None
        db.create_all()
        assert db.session.execute(text("SELECT count(*) FROM item")).scalar() == 0
    finally:
        db.session.remove()
        registry.configure()  # back to the settings


def test_registry_not_set_up_says_how(monkeypatch):
    fresh = type(registry)()
    with pytest.raises(ImproperlyConfigured, match="INSTALLED_APPS"):
        fresh.require()


# -- regressions: reported, not raised -------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "databases", "id_", "text_"),
    [
        (None, {"default": "sqlite:///x"}, "session_ext.E007", "not a dict but str"),
        (None, {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "x",
                            "OPTIONS": "sslmode=require"}},
         "session_ext.E007", "OPTIONS must be a dict"),
        (None, {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "x",
                            "PORT": "abc"}},
         "session_ext.E007", "PORT 'abc' is not a port number"),
        ({"DATABASES": {"default": "postgresql://u:s3cret@h:notaport/db"}}, {},
         "session_ext.E004", "cannot be parsed"),
        ({"DATABASES": {"default": {"DJANGO_DATABASE": ["x"]}}}, {},
         "session_ext.E003", "must be the name of a Django database"),
    ],
)
def test_bad_input_is_a_problem_not_a_crash(raw, databases, id_, text_):
    _, problems = read_settings(raw, databases)
    assert [p.id for p in problems] == [id_]
    assert text_ in problems[0].message
    assert "s3cret" not in str(problems[0])  # a URL's password is never shown


def test_in_memory_sqlite_with_bad_connect_args_is_e009_not_a_crash(configure, databases):
    configure(create=False, DATABASES={**databases, "audit": {
        "URL": "sqlite://", "ENGINE_OPTIONS": {"connect_args": 5}}})
    assert only(messages(), "session_ext.E009").obj == "SESSION_EXT['DATABASES']['audit']"


def test_base_dir_that_is_no_path_is_ignored():
    found, problems = read_settings({"DATABASES": {"default": "sqlite:///rel.sqlite3"}}, {},
                                    base_dir=42)
    assert found.binds[None].url.database == "rel.sqlite3"


def test_bind_keys_that_are_not_strings_are_reported(temporary_models):
    from sqlalchemy import Column, Integer

    class NumberKey(db.Model):
        __bind_key__ = 3
        id = Column(Integer, primary_key=True)

    class ListKey(db.Model):
        __bind_key__ = ["audit"]
        id = Column(Integer, primary_key=True)

    temporary_models.extend([NumberKey, ListKey])
    found = [m for m in messages() if m.id == "session_ext.E010"]
    assert sorted(m.obj for m in found) == ["ListKey", "NumberKey"]
    assert all("not a database name" in m.msg for m in found)
    with pytest.raises(ImproperlyConfigured, match="not a database name"):
        db.create_all()


def test_middleware_check_survives_a_module_that_fails_to_import(settings, tmp_path,
                                                                   monkeypatch):
    (tmp_path / "broken_middleware.py").write_text("raise RuntimeError('at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    settings.MIDDLEWARE = ["broken_middleware.Thing"]
    assert ids(messages()) == ["session_ext.W002"]


# -- regressions: following Django's databases, stale sessions ------------------------


def test_derived_database_follows_djangos_test_database(settings, databases,
                                                        django_db_blocker):
    """Django's test runner points DATABASES['default']['NAME'] at the test
    database in place, without a signal: session_ext must not keep writing to
    the real database."""
    from django.db import connection

    settings.SESSION_EXT = {"DATABASES": {"default": {"DJANGO_DATABASE": "default"},
                                          "audit": databases["audit"]}}
    real = db.engine.url.database
    with django_db_blocker.unblock():
        old_name = connection.settings_dict["NAME"]
        test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            assert settings.DATABASES["default"]["NAME"] == test_name
            assert test_name != real
            assert db.engine.url.database == test_name
            db.create_all()
            db.session.execute(text("INSERT INTO item (name) VALUES ('in the test db')"))
            db.session.commit()
            with connection.cursor() as cursor:  # Django's connection sees the row
                cursor.execute("SELECT name FROM item")
                assert cursor.fetchall() == [("in the test db",)]
            db.session.remove()
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    assert db.engine.url.database == real


def test_overriding_the_setting_replaces_the_threads_stale_session(configure, databases,
                                                                   tmp_path):
    stale = db.session()
    old_engine = stale.get_bind()
    configure(DATABASES={**databases, "default": f"sqlite:///{tmp_path / 'other.sqlite3'}"})
    fresh = db.session()
    assert fresh is not stale
    assert fresh.get_bind() is db.engine is not old_engine
    db.session.add(Item(name="where"))
    db.session.commit()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM item")).scalars().all() == ["where"]


def test_bind_routes_cache_is_keyed_by_the_engines_themselves(configure, databases):
    from django_support import AuditEntry  # noqa: I001

    routes = registry.bind_routes()
    assert routes[AuditEntry] is db.get_engine("audit")
    configure(DATABASES={**databases})  # new engines, same counts of models and tables
    assert registry.bind_routes()[AuditEntry] is db.get_engine("audit")
    assert registry.bind_routes()[AuditEntry] is not routes[AuditEntry]
