"""The todo app (Flask-SQLAlchemy 3.1's example, imports changed only): its
pages, flashes and the done checkboxes, on the SQLite file it configures."""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import datetime
from pathlib import Path

import flask
import pytest


@pytest.fixture
def todo(tmp_path, monkeypatch):
    """``app.py`` imported afresh (it creates its app, engine and tables at
    import), with its instance folder under tmp_path."""
    monkeypatch.setattr(flask.Flask, "auto_find_instance_path",
                        lambda self: str(tmp_path / "instance"))
    spec = importlib.util.spec_from_file_location("todo_app", Path(__file__).with_name("app.py"))
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "todo_app", module)
    spec.loader.exec_module(module)
    yield module
    with module.app.app_context():
        module.db.engine.dispose()


def _rows(html: str) -> list[str]:
    return re.findall(r"<td>(\d+)</td>\s*<td>([^<]*)</td>", html)


def test_the_database_is_the_configured_file_in_the_instance_folder(todo, tmp_path):
    path = tmp_path / "instance" / "todo.sqlite"
    assert path.exists()
    with todo.app.app_context():
        assert todo.db.engine.url.database == str(path)
    page = todo.app.test_client().get("/")
    assert page.status_code == 200 and "All Items" in page.text and _rows(page.text) == []


@pytest.mark.parametrize(
    ("form", "message"),
    [({"title": "", "text": "x"}, "Error: Title is required"),
     ({"title": "x", "text": ""}, "Error: Text is required")],
)
def test_new_item_needs_a_title_and_a_text(todo, form, message):
    client = todo.app.test_client()
    response = client.post("/new", data=form)
    assert response.status_code == 200 and message in response.text
    assert f'value="{form["title"]}"' in response.text  # the form keeps what was typed
    with todo.app.app_context():
        assert todo.db.session.scalars(todo.db.select(todo.Todo)).all() == []


def test_new_item_is_saved_and_listed(todo):
    client = todo.app.test_client()
    assert client.get("/new").status_code == 200
    response = client.post("/new", data={"title": "milk", "text": "two litres"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").text
    assert "Todo item was successfully created" in page
    assert _rows(page) == [("1", "milk")]
    assert "two litres" in page
    with todo.app.app_context():
        item = todo.db.session.get(todo.Todo, 1)
        assert item.done is False and isinstance(item.pub_date, datetime)


def test_items_are_listed_newest_first(todo):
    Todo = todo.Todo
    with todo.app.app_context():
        todo.db.session.add_all([
            Todo(title="old", text="a", pub_date=datetime(2020, 1, 1)),
            Todo(title="new", text="b", pub_date=datetime(2024, 1, 1)),
            Todo(title="mid", text="c", pub_date=datetime(2022, 1, 1)),
        ])
        todo.db.session.commit()
    page = todo.app.test_client().get("/").text
    assert [title for _, title in _rows(page)] == ["new", "mid", "old"]
    assert "2024-01-01 00:00" in page


def test_update_sets_done_from_the_checkboxes(todo):
    client = todo.app.test_client()
    for title in ("a", "b", "c"):
        client.post("/new", data={"title": title, "text": title})
    response = client.post("/update", data={"done.1": "on", "done.3": "on"})
    assert response.headers["Location"] == "/"
    page = client.get("/").text
    assert "Updated status" in page
    assert page.count(" checked") == 2
    with todo.app.app_context():
        done = todo.db.session.execute(
            todo.db.select(todo.Todo.id, todo.Todo.done).order_by(todo.Todo.id)).all()
    assert [tuple(row) for row in done] == [(1, True), (2, False), (3, True)]
    client.post("/update", data={})
    with todo.app.app_context():
        assert not any(todo.db.session.scalars(todo.db.select(todo.Todo.done)))
