"""pytest plugin for Flask apps: run each test in a transaction that is rolled back.

Installed with session_ext (entry point ``pytest11``), so the fixtures are
available without any import (``session_ext.testing``, its former home, still
loads it).  For a Flask app::

    # conftest.py
    @pytest.fixture
    def app():
        app = create_app({"SESSION_EXT_DATABASE_URI": "postgresql+psycopg:///test"})
        with app.app_context():
            db.create_all()            # committed: the schema outlives the tests
        return app

    # test_users.py
    def test_signup(client, session_ext_rollback):
        client.post("/signup", data={"name": "ada"})   # the view commits
        assert db.session.scalar(select(func.count(User.id))) == 1
    # ... and the row is gone after the test

Fixtures
--------
``session_ext_app``       the app under test; defaults to your ``app`` fixture
                          (override it to use another one).
``session_ext_rollback``  opens one connection per bind and begins a
                          transaction on it; every ``db.session`` created
                          during the test (in the test itself and in the views
                          the test client calls) joins it through a SAVEPOINT
                          (``join_transaction_mode="create_savepoint"``), so
                          ``commit()`` in application code is fine.  At the
                          end the sessions are closed and everything is
                          rolled back.  Yields a
                          :class:`session_ext.flask.TestTransaction`
                          (``.connection(bind_key)`` for Core statements).
``session_ext_db``        the app's ``SessionExt``.

To roll back every test of a directory, add to its ``conftest.py``::

    @pytest.fixture(autouse=True)
    def _rollback(session_ext_rollback):
        yield

This module imports neither Flask nor the rest of the adapter: it finds the
extension's state through ``app.extensions["session_ext"]``, so loading the
plugin costs nothing in projects that do not use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

EXTENSION_KEY = "session_ext"


def _state_of(app: Any) -> Any:
    extensions = getattr(app, "extensions", None)
    state = extensions.get(EXTENSION_KEY) if isinstance(extensions, dict) else None
    if state is None or not hasattr(state, "test_transaction"):
        raise pytest.UsageError(
            f"session_ext_rollback: {app!r} has no SessionExt (app.extensions"
            f"[{EXTENSION_KEY!r}] is missing). Call db.init_app(app) in the fixture that "
            "builds the app, or override the `session_ext_app` fixture to return that app"
        )
    return state


@pytest.fixture
def session_ext_app(app: Any) -> Any:
    """The Flask app whose database the rollback fixtures isolate (your
    ``app`` fixture unless you override this one)."""
    return app


@pytest.fixture
def session_ext_db(session_ext_app: Any) -> Any:
    """The ``SessionExt`` registered on the app under test."""
    return _state_of(session_ext_app).db


@pytest.fixture
def session_ext_rollback(session_ext_app: Any) -> Iterator[Any]:
    """Everything the test writes through ``db.session`` is rolled back at the end."""
    state = _state_of(session_ext_app)
    with state.test_transaction() as transaction:
        yield transaction
