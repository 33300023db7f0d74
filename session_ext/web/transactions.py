"""Run a test inside outer transactions that are rolled back at the end.

One connection per bind begins a transaction; every ``db.session`` created
while it is active (in the test body and in the views the test client calls)
is bound to those connections with ``join_transaction_mode=
"create_savepoint"``.  Application code may ``commit()`` and ``rollback()``
freely: those only release or roll back SAVEPOINTs.  At the end the sessions
are closed and the outer transactions rolled back, leaving the database as
it was.  Used by both adapters' rollback-per-test helpers
(:mod:`session_ext.flask.testing` and :meth:`SessionExt.test_transaction`;
:mod:`session_ext.django.testing`).

Framework-free: it is given the engines and told about the sessions to close.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection, Engine, RootTransaction

from ..engines import begin_now

if TYPE_CHECKING:
    from ..session import Session


class TestTransaction:
    """The outer transactions of one test, one per bind."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, engines: Mapping[str | None, Engine]) -> None:
        #: bind key (None: the default database) -> its engine
        self.engines = engines
        #: bind key (None: the default database) -> the test's connection
        self.connections: dict[str | None, Connection] = {}
        self._transactions: list[RootTransaction] = []
        self._sessions: weakref.WeakSet[Session] = weakref.WeakSet()

    def begin(self) -> None:
        try:
            for key, engine in self.engines.items():
                conn = engine.connect()
                self.connections[key] = conn
                self._transactions.append(conn.begin())
                begin_now(conn)  # SQLite: DDL of the test is rolled back too
        except BaseException:
            self.end()
            raise

    def connection(self, bind_key: str | None = None) -> Connection:
        """The test's connection for a bind, for Core statements that must see
        (and be rolled back with) the test's data."""
        return self.connections[bind_key]

    def track(self, session: Session) -> None:
        self._sessions.add(session)

    def end(self) -> None:
        """Close the sessions that joined, roll back and release connections."""
        errors: list[BaseException] = []
        for session in list(self._sessions):
            try:
                session.close()
            except Exception as err:  # keep cleaning up
                errors.append(err)
        self._sessions = weakref.WeakSet()
        for trans in self._transactions:
            try:
                if trans.is_active:
                    trans.rollback()
            except Exception as err:
                errors.append(err)
        self._transactions.clear()
        for conn in self.connections.values():
            try:
                conn.close()
            except Exception as err:
                errors.append(err)
        self.connections.clear()
        if errors:
            raise errors[0]

    def __repr__(self) -> str:
        keys = ["default" if k is None else k for k in self.connections]
        return f"<TestTransaction binds={keys}>"
