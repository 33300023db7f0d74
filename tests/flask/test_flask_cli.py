"""flask session-ext create-all / drop-all / check, through app.test_cli_runner()."""

from __future__ import annotations

from flask_support import on_databases
from sqlalchemy import inspect


def _tables(app, key=None) -> set[str]:
    engine = app.extensions["session_ext"].engines[key]
    return set(inspect(engine).get_table_names())


@on_databases
def test_create_all_check_drop_all(make_app):
    app = make_app(create_tables=False)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["session-ext", "check"])
    assert result.exit_code == 1
    assert "FAIL default" in result.output and "missing: " in result.output
    assert "FAIL audit" in result.output

    result = runner.invoke(args=["session-ext", "create-all"])
    assert result.exit_code == 0, result.output
    assert "default: 2 table(s) ensured: user, blog_post" in result.output
    assert "audit: 1 table(s) ensured: audit_log" in result.output
    assert {"user", "blog_post"} <= _tables(app)
    assert _tables(app, "audit") == {"audit_log"}

    result = runner.invoke(args=["session-ext", "check"])
    assert result.exit_code == 0, result.output
    assert "ok   default" in result.output
    assert "2/2 model tables present" in result.output
    assert "ok   audit" in result.output

    result = runner.invoke(args=["session-ext", "drop-all"], input="n\n")
    assert result.exit_code == 1  # aborted at the prompt
    assert "user" in _tables(app)

    result = runner.invoke(args=["session-ext", "drop-all", "--bind", "default", "--yes"])
    assert result.exit_code == 0, result.output
    assert "default: 2 table(s) dropped" in result.output
    assert _tables(app) & {"user", "blog_post"} == set()
    assert _tables(app, "audit") == {"audit_log"}

    result = runner.invoke(args=["session-ext", "drop-all", "--bind", "audit"], input="y\n")
    assert result.exit_code == 0, result.output
    assert _tables(app, "audit") == set()


def test_create_all_one_bind_and_unknown_bind(make_app):
    app = make_app(create_tables=False)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["session-ext", "create-all", "--bind", "audit"])
    assert result.exit_code == 0, result.output
    assert _tables(app, "audit") == {"audit_log"}
    assert _tables(app) == set()
    result = runner.invoke(args=["session-ext", "create-all", "--bind", "nope"])
    assert result.exit_code == 2
    assert "no bind 'nope'; configured: default, audit" in result.output


def test_check_reports_an_unreachable_database(make_app, tmp_path):
    missing_dir = tmp_path / "does-not-exist" / "db.sqlite3"
    app = make_app(create_tables=False, SESSION_EXT_BINDS={"audit": f"sqlite:///{missing_dir}"})
    result = app.test_cli_runner().invoke(args=["session-ext", "check"])
    assert result.exit_code == 1
    assert "FAIL audit:" in result.output
    assert "OperationalError" in result.output


def test_group_is_listed_in_flask_help(make_app):
    app = make_app(create_tables=False)
    result = app.test_cli_runner().invoke(args=["session-ext", "--help"])
    assert result.exit_code == 0
    for command in ("create-all", "drop-all", "check"):
        assert command in result.output
