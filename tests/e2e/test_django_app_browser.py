"""The example Django app, driven in headless Chromium.

The app runs as ``python -m example_apps.django_app`` (Django's threaded
development server, in a process of its own: Django's settings are process
wide, and the suite's Django tests configure others) on 127.0.0.1, a free
port, with an embedded SQLite file; Playwright drives Debian's ``chromium``.
Checks: a note created through the HTML form is shown, listed first in the
paginated list (whose pager works) and returned by the JSON API; a bad form
input shows the validation message and writes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import CHROMIUM_ARGS, chromium_path, skip_reason
from sqlalchemy import create_engine, text

_reason = skip_reason()
pytestmark = pytest.mark.skipif(_reason is not None, reason=_reason or "")

ROOT = Path(__file__).resolve().parents[2]
READY = " * session_ext Django example: "


class LiveApp:
    def __init__(self, url: str, database: Path) -> None:
        self.url = url
        self.database = database

    def titles(self) -> list[str]:
        """Every note's title, newest first, read from the SQLite file itself."""
        engine = create_engine(f"sqlite:///{self.database}")
        try:
            with engine.connect() as conn:
                return list(conn.scalars(text("SELECT title FROM note ORDER BY id DESC")))
        finally:
            engine.dispose()


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    database = tmp_path / "e2e.sqlite3"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": "0", "PYTHONUNBUFFERED": "1",
           "SESSION_EXT_DATABASE_URL": f"sqlite:///{database}",
           "DJANGO_SETTINGS_MODULE": "example_apps.django_app.settings"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    server = subprocess.Popen([sys.executable, "-m", "example_apps.django_app"], cwd=ROOT,
                              env=env, stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        assert server.stderr is not None
        for line in server.stderr:  # the server says where it listens once it does
            seen.append(line)
            if line.startswith(READY):
                url = line[len(READY):].split()[0].rstrip("/")
                break
        else:
            raise AssertionError("the example app did not start:\n" + "".join(seen))
        yield LiveApp(url, database)
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            yield page
        finally:
            browser.close()


def test_create_a_note_through_the_form_then_see_it_listed_and_in_the_api(live_app, page):
    before = live_app.titles()
    assert len(before) == 25  # the demo notes: three pages of 10
    title = f"Written in Chromium {uuid.uuid4().hex[:8]}"

    page.goto(f"{live_app.url}/")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=body]", "This note was typed into a real browser form.")
    with page.expect_navigation():
        page.click("form button[type=submit]")

    assert page.inner_text("h2") == title  # redirected to the note itself
    assert "typed into a real browser form" in page.content()
    assert live_app.titles() == [title, *before]

    page.goto(f"{live_app.url}/")
    assert page.locator("ul li a").first.inner_text() == title  # newest first, page 1
    assert "26 notes, showing 1–10" in page.inner_text("body")
    page.click("nav.pager >> text=older")
    assert page.locator("nav.pager strong").inner_text() == "2"
    assert page.locator("ul li a").first.inner_text() == before[9]

    page.goto(f"{live_app.url}/api/notes")
    data = json.loads(page.inner_text("body"))
    assert data["total"] == 26 and data["notes"][0]["title"] == title
    note_id = data["notes"][0]["id"]
    page.goto(f"{live_app.url}/api/notes/{note_id}")
    assert json.loads(page.inner_text("body"))["title"] == title


def test_bad_form_input_shows_a_message_and_writes_nothing(live_app, page):
    before = live_app.titles()

    page.goto(f"{live_app.url}/")
    page.fill("input[name=title]", "   ")
    page.fill("textarea[name=body]", "A body without a title.")
    with page.expect_response(lambda r: r.request.method == "POST") as response_info:
        page.click("form button[type=submit]")
    assert response_info.value.status == 400

    assert page.locator(".error").first.inner_text() == "A title is required."
    assert page.input_value("textarea[name=body]") == "A body without a title."  # kept
    assert live_app.titles() == before
