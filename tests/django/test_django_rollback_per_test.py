"""Rollback-per-test for Django: the pytest fixture, the ``TestCase`` mixin and
the ``test_transaction()`` block they share, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, SimpleTestCase, TestCase
from django_support import AuditEntry, Item
from sqlalchemy import func, insert, select

from session_ext.django import db, registry
from session_ext.django.testing import (
    SessionExtRollbackMixin,
    session_ext_django_rollback,  # noqa: F401 - the fixture (or pytest_plugins in a root conftest)
    test_transaction,
)


@pytest.fixture(params=["sqlite_file", "postgresql"])
def backend(request: pytest.FixtureRequest, configure: Any,
            databases: dict[str, str]) -> dict[str, str]:
    """The databases of the test (the default one on SQLite or PostgreSQL)."""
    urls = dict(databases)
    if request.param == "postgresql":
        urls["default"] = request.getfixturevalue("pg_engine").url.render_as_string(
            hide_password=False)
    configure(DATABASES=urls)
    return urls


def committed(model: Any = Item) -> int:
    """Rows visible from a fresh connection (outside any test transaction)."""
    with db.get_engine(getattr(model, "__bind_key__", None)).connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def test_views_commit_into_the_test_transaction_and_it_is_rolled_back(backend):
    with test_transaction() as tx:
        client = Client()
        assert client.get("/items/commit?name=a").json() == {"count": 1}
        assert client.get("/items/commit?name=b").json() == {"count": 2}  # sees a
        assert client.get("/audit/create?message=m").status_code == 200  # the other bind
        assert db.session.scalar(select(func.count(Item.id))) == 2  # the test sees them
        assert tx.connection().scalar(select(func.count(Item.id))) == 2
        assert db.session.scalar(select(func.count(AuditEntry.id))) == 1
        assert committed() == 0  # nothing reached the database for real
        db.session.add(Item(name="from the test"))
        db.session.commit()
    assert committed() == 0 and committed(AuditEntry) == 0
    assert len(db.session.registry) == 0
    assert all(e.pool.checkedout() == 0 for e in db.engines.values())


def test_a_failing_view_rolls_back_only_its_savepoint(backend, configure):
    configure(COMMIT_ON_TEARDOWN=True, DATABASES=backend)
    with test_transaction():
        client = Client(raise_request_exception=False)
        assert client.get("/items/create?name=kept").status_code == 200  # teardown commit
        assert client.get("/items/create?name=lost&raise=1").status_code == 500
        assert client.get("/items/create?name=lost400&status=400").status_code == 400
        names = db.session.scalars(select(Item.name)).all()
        assert names == ["kept"]
    assert committed() == 0


def test_core_statements_on_the_tests_connection_are_rolled_back(backend):
    with test_transaction() as tx:
        tx.connection().execute(insert(Item).values(name="core"))
        assert db.session.scalar(select(Item.name)) == "core"
    assert committed() == 0


def test_test_transactions_do_not_nest(backend):
    with test_transaction(), pytest.raises(RuntimeError, match="do not nest"):
        with test_transaction():
            pass
    assert registry.active_test_transaction is None


def test_the_pytest_fixture(backend, session_ext_django_rollback):  # noqa: F811
    assert Client().get("/items/commit?name=fixture").json() == {"count": 1}
    assert db.session.scalar(select(func.count(Item.id))) == 1
    assert session_ext_django_rollback.connection() is not None
    assert committed() == 0


@pytest.mark.django_db
def test_the_fixture_next_to_pytest_djangos_db(backend, session_ext_django_rollback):  # noqa: F811
    from django.db import connection  # Django's database works too, in its own transaction

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert Client().get("/items/commit?name=both").json() == {"count": 1}
    assert committed() == 0


# -- Django's TestCase --------------------------------------------------------------


class _Checks:
    """Two tests in order: the first writes, the second sees nothing of it."""

    client: Client

    def test_1_writes_through_a_view(self) -> None:
        response = self.client.get("/items/commit?name=testcase")
        assert response.json() == {"count": 1}
        assert db.session.scalar(select(func.count(Item.id))) == 1
        assert self.session_ext_transaction is not None  # type: ignore[attr-defined]
        assert committed() == 0

    def test_2_sees_nothing_of_the_first(self) -> None:
        assert db.session.scalar(select(func.count(Item.id))) == 0
        assert self.client.get("/items/commit?name=again").json() == {"count": 1}


class RollbackTestCase(SessionExtRollbackMixin, _Checks, TestCase):
    pass


class RollbackSimpleTestCase(SessionExtRollbackMixin, _Checks, SimpleTestCase):
    pass


class RollbackTestCaseOnPostgreSQL(SessionExtRollbackMixin, _Checks, TestCase):
    @pytest.fixture(autouse=True)
    def _on_postgresql(self, configure: Any, databases: dict[str, str],
                       request: pytest.FixtureRequest) -> Iterator[None]:
        pg = request.getfixturevalue("pg_engine")
        configure(DATABASES={**databases, "default": pg.url.render_as_string(hide_password=False)})
        yield
