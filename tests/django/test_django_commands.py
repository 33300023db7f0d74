"""The management commands: session_ext_create_all, _drop_all, _check."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from sqlalchemy import inspect

from session_ext.django import db


def run(*args: str, **options: object) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def tables(key: str | None) -> set[str]:
    with db.get_engine(key).connect() as conn:
        return set(inspect(conn).get_table_names())


def test_create_all_reports_what_it_created():
    db.drop_all()
    output = run("session_ext_create_all")
    assert "default: 2 table(s) created: item, note; 0 already present" in output
    assert "audit: 2 table(s) created: audit_entry, audit_event" in output
    assert tables("audit") == {"audit_entry", "audit_event"}
    again = run("session_ext_create_all", "--bind", "audit")
    assert again.strip() == "audit: 0 table(s) created; 2 already present"


def test_create_all_unknown_bind_is_an_error():
    with pytest.raises(CommandError, match="No database named 'nope'"):
        run("session_ext_create_all", "--bind", "nope")


def test_drop_all_noinput():
    output = run("session_ext_drop_all", "--bind", "audit", interactive=False)
    assert "audit: 2 table(s) dropped: audit_entry, audit_event" in output
    assert tables("audit") == set()
    assert "item" in tables(None)


def test_drop_all_asks_and_can_be_cancelled(monkeypatch):
    answers = iter(["no"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    output = run("session_ext_drop_all")
    assert "This drops these tables" in output and "Cancelled" in output
    assert "item" in tables(None) and "audit_entry" in tables("audit")


def test_drop_all_proceeds_on_yes(monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    output = run("session_ext_drop_all", "--bind", "default")
    assert "default: 2 table(s) dropped" in output
    assert tables(None) == set()


def test_check_ok():
    output = run("session_ext_check")
    assert output.count("ok   ") == 2
    assert "default: sqlite:///" in output and "2/2 model tables present" in output


def test_check_reports_missing_tables():
    db.drop_all("audit")
    with pytest.raises(CommandError, match="1 database\\(s\\) failed: audit"):
        run("session_ext_check", stderr=StringIO())
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("session_ext_check", stdout=out)
    assert "missing: audit_entry, audit_event" in out.getvalue()
    assert "session_ext_create_all" in out.getvalue()


def test_check_reports_an_unreachable_database(configure, databases, tmp_path):
    configure(create=False, DATABASES={**databases, "audit": f"sqlite:///{tmp_path}"})
    out = StringIO()
    with pytest.raises(CommandError, match="audit"):
        call_command("session_ext_check", "--bind", "audit", stdout=out)
    assert "FAIL audit" in out.getvalue() and "cannot connect" in out.getvalue()


def test_commands_report_broken_settings(settings):
    settings.SESSION_EXT = {"ECHO": "loud"}
    with pytest.raises(CommandError, match="session_ext.E003"):
        run("session_ext_check")
