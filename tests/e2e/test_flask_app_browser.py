"""The example Flask app, driven in headless Chromium.

The app runs on werkzeug's threaded server on 127.0.0.1 (a free port) with a
temporary SQLite file; Playwright drives Debian's ``chromium`` binary.
Checks: a post created through the HTML form is listed after a reload, and a
bad form input shows the validation message and writes nothing.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import CHROMIUM_ARGS, chromium_path, skip_reason
from sqlalchemy import func, select
from werkzeug.serving import make_server

_reason = skip_reason()
pytestmark = pytest.mark.skipif(_reason is not None, reason=_reason or "")


class LiveApp:
    def __init__(self, app, url: str) -> None:
        self.app = app
        self.url = url

    def post_count(self) -> int:
        from example_apps.flask_app import Post, db

        with self.app.app_context():
            return db.session.scalar(select(func.count(Post.id)))


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    from example_apps.flask_app import create_app

    app = create_app({
        "SESSION_EXT_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
        "SECRET_KEY": "e2e-test",
        "SEED_DEMO_DATA": True,
    })
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveApp(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        for engine in app.extensions["session_ext"].engines.values():
            engine.dispose()


@pytest.fixture
def page(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            yield page
        finally:
            browser.close()


def test_create_a_post_through_the_form_then_see_it_listed(live_app: LiveApp, page) -> None:
    before = live_app.post_count()
    title = f"Written in Chromium {uuid.uuid4().hex[:8]}"

    page.goto(f"{live_app.url}/posts/new")
    page.select_option("#author_id", label="grace")
    page.fill("#title", title)
    page.fill("#body", "This post was typed into a real browser form.")
    with page.expect_navigation():
        page.click("#new-post button[type=submit]")

    assert page.inner_text("#post-title") == title
    assert "published" in page.inner_text(".flash")
    assert live_app.post_count() == before + 1

    page.goto(f"{live_app.url}/posts")
    page.reload()
    titles = page.locator("#posts .post-title").all_inner_texts()
    assert titles[0] == title  # newest first, on page 1
    assert "by grace" in page.locator("#posts li").first.inner_text()
    # the pager links work too
    page.click("nav.pager a[rel=next]")
    assert "page 2 of" in page.inner_text("p.meta")


def test_bad_form_input_shows_a_message_and_writes_nothing(live_app: LiveApp, page) -> None:
    before = live_app.post_count()

    page.goto(f"{live_app.url}/posts/new")
    page.select_option("#author_id", label="ada")
    page.fill("#title", "   ")
    page.fill("#body", "A body without a title.")
    with page.expect_response(lambda r: r.request.method == "POST") as response_info:
        page.click("#new-post button[type=submit]")
    assert response_info.value.status == 400

    errors = page.inner_text("#form-errors")
    assert "Title is required." in errors
    assert page.input_value("#body") == "A body without a title."  # the input is kept
    assert live_app.post_count() == before

    page.goto(f"{live_app.url}/posts")
    assert "A body without a title." not in page.content()
    assert live_app.post_count() == before
