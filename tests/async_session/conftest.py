"""Fixtures for the asyncio tests: an async database URL per backend.

``async_url`` is parametrized over aiosqlite (a file database in the test's
tmp_path) and PostgreSQL through psycopg's async connection (the suite's
private server; the database is emptied after the test).  Tests run their
coroutines with ``asyncio.run`` and create their engines inside it, since an
asyncio pool belongs to one event loop.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

ASYNC_BACKENDS = ("aiosqlite", "postgresql")


def async_pg_url(sync_url: str) -> str:
    """The psycopg async URL of the same database."""
    return make_url(sync_url).set(drivername="postgresql+psycopg_async").render_as_string(
        hide_password=False
    )


@pytest.fixture(params=ASYNC_BACKENDS)
def async_backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def async_url(async_backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    if async_backend == "aiosqlite":
        path = request.getfixturevalue("tmp_path") / "async.sqlite3"
        yield f"sqlite+aiosqlite:///{path}"
        return
    database = request.getfixturevalue("pg_database")
    if database.dirty:
        database.reset()
    database.dirty = True
    try:
        yield async_pg_url(database.url)
    finally:
        database.reset()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("async_backend") == "postgresql":
            item.add_marker(pytest.mark.postgresql)
