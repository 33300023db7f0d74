"""example_apps/django_app driven through the test client, plus a real start
of ``python -m example_apps.django_app`` on a free port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from example_apps.django_app import settings as example_settings
from example_apps.django_app.models import Note
from session_ext.django import db

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def client(settings) -> Client:
    """The example's URLs, middleware and templates on this test's database."""
    settings.ROOT_URLCONF = example_settings.ROOT_URLCONF
    settings.MIDDLEWARE = example_settings.MIDDLEWARE
    settings.TEMPLATES = example_settings.TEMPLATES
    settings.NOTES_PER_PAGE = 3
    return Client()


def notes() -> list[str]:
    with db.engine.connect() as conn:
        return [r[0] for r in conn.execute(Note.__table__.select().order_by(Note.id))]


def test_create_list_and_show_a_note(client):
    response = client.post("/", {"title": "  Buy milk ", "body": "two litres"})
    assert response.status_code == 302
    assert response["Location"] == "/notes/1"
    assert len(notes()) == 1
    page = client.get("/notes/1")
    assert page.status_code == 200
    assert b"Buy milk" in page.content and b"two litres" in page.content
    assert b"Buy milk" in client.get("/").content


def test_invalid_form_is_400_and_writes_nothing(client):
    response = client.post("/", {"title": "", "body": "x"})
    assert response.status_code == 400
    assert b"A title is required." in response.content
    assert notes() == []


def test_pagination_of_the_list(client):
    for i in range(1, 8):
        client.post("/", {"title": f"note {i}"})
    first = client.get("/").content.decode()
    assert "note 7" in first and "note 5" in first and "note 4" not in first
    assert "7 notes, showing 1–3." in first
    last = client.get("/?page=3").content.decode()
    assert "note 1" in last and "note 2" not in last
    assert client.get("/?page=4").status_code == 404
    assert client.get("/?page=zero").status_code == 404


def test_delete_and_missing_note(client):
    client.post("/", {"title": "short-lived"})
    assert client.post("/notes/1/delete").status_code == 302
    assert notes() == []
    assert client.get("/notes/1").status_code == 404
    assert client.post("/notes/1/delete").status_code == 404


def test_json_api(client):
    created = client.post("/api/notes", json.dumps({"title": "api", "body": "b"}),
                          content_type="application/json")
    assert created.status_code == 201 and created.json()["id"] == 1
    assert client.get("/api/notes/1").json()["title"] == "api"
    listing = client.get("/api/notes?per_page=1").json()
    assert listing["total"] == 1 and listing["notes"][0]["title"] == "api"
    bad = client.post("/api/notes", b"not json", content_type="application/json")
    assert bad.status_code == 400
    assert client.post("/api/notes", "{}", content_type="application/json").json() == {
        "errors": {"title": "A title is required."}}
    assert client.get("/api/notes/99").status_code == 404
    assert len(db.session.registry) == 0


def test_json_api_accepts_posts_from_real_clients(client):
    """A JSON client has no CSRF cookie: the API must not answer 403 (the
    HTML form, which has a token, stays protected)."""
    strict = Client(enforce_csrf_checks=True)
    created = strict.post("/api/notes", json.dumps({"title": "from curl"}),
                          content_type="application/json")
    assert created.status_code == 201, created.content
    assert strict.post("/", {"title": "no token"}).status_code == 403
    assert client.get("/api/notes").json()["total"] == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_module_serves_requests(tmp_path):
    """``python -m example_apps.django_app`` checks, creates, seeds and serves."""
    port = _free_port()
    env = {**os.environ, "PORT": str(port),
           "SESSION_EXT_DATABASE_URL": f"sqlite:///{tmp_path / 'example.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen([sys.executable, "-m", "example_apps.django_app"], cwd=ROOT,
                            env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        banner = ""
        for line in proc.stderr:  # the banner is printed once the socket is bound
            banner = line
            if "session_ext Django example" in line:
                break
        assert f"http://127.0.0.1:{port}/" in banner, banner
        assert "25 demo notes added" in banner
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/notes", timeout=10) as r:
            data = json.load(r)
        assert data["total"] == 25
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            assert "25 notes" in r.read().decode()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_module_runs_management_commands(tmp_path):
    env = {**os.environ, "SESSION_EXT_DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-m", "example_apps.django_app", "check"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
