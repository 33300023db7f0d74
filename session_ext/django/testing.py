"""Rollback-per-test for Django projects.

While a test transaction is active, every ``db.session`` made (in the test
itself, in the views Django's test ``Client`` calls, in the middleware's
teardown) is bound to one connection per configured database and joins its
outer transaction through a SAVEPOINT (``join_transaction_mode=
"create_savepoint"``): application code may ``commit()`` and ``rollback()``
freely.  At the end the sessions are closed and the outer transactions rolled
back, so the databases are as they were.

pytest (with or without pytest-django)::

    # conftest.py
    pytest_plugins = ["session_ext.django.testing"]

    def test_signup(client, session_ext_django_rollback):
        client.post("/signup", {"name": "ada"})           # the view commits
        assert db.session.scalar(select(func.count(User.id))) == 1
    # ... and the row is gone after the test

Django's ``TestCase`` (or ``SimpleTestCase``, ``TransactionTestCase``)::

    class SignupTests(SessionExtRollbackMixin, TestCase):
        def test_signup(self):
            self.client.post("/signup", {"name": "ada"})
            self.session_ext_transaction.connection()      # Core statements, same transaction

These are session_ext's connections: Django's own ORM uses its connections
(and pytest-django's ``db`` fixture / ``TestCase`` roll those back), so rows
written through one are not visible to the other during the test.
``db.async_session`` is not bound to the test transaction.

The module imports Django only when a test transaction starts, so naming it
in ``pytest_plugins`` costs nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from ..web.transactions import TestTransaction

__all__ = ["SessionExtRollbackMixin", "TestTransaction", "session_ext_django_rollback",
           "test_transaction"]


@contextlib.contextmanager
def test_transaction(state: Any = None) -> Iterator[TestTransaction]:
    """Run the block inside one outer transaction per configured database,
    rolled back at the end; sessions created meanwhile join it."""
    if state is None:
        from .state import registry as state
    if state.active_test_transaction is not None:
        raise RuntimeError("a session_ext test transaction is already active; they do not nest")
    tx = TestTransaction(state.require())
    tx.begin()
    state.session.remove()  # the thread's session, if any, is bound to the engines
    state.active_test_transaction = tx
    try:
        yield tx
    finally:
        state.active_test_transaction = None
        try:
            tx.end()
        finally:
            state.session.remove()


test_transaction.__test__ = False  # type: ignore[attr-defined]  # not a test


@pytest.fixture
def session_ext_django_rollback() -> Iterator[TestTransaction]:
    """Everything the test writes through ``db.session`` is rolled back at the end."""
    with test_transaction() as tx:
        yield tx


class SessionExtRollbackMixin:
    """Mix into a Django ``TestCase`` (or any ``unittest.TestCase``), before
    the ``TestCase`` class: each test (``setUp``, the test, ``tearDown`` and
    cleanups) runs inside a session_ext test transaction, rolled back after
    it; ``self.session_ext_transaction`` is its :class:`TestTransaction`."""

    session_ext_transaction: TestTransaction | None = None

    def run(self, result: Any = None) -> Any:
        with test_transaction() as tx:
            self.session_ext_transaction = tx
            try:
                return super().run(result)  # type: ignore[misc]
            finally:
                self.session_ext_transaction = None
