"""Per-application state, kept in ``app.extensions["session_ext"]``.

The extension object never stores an app; everything that belongs to one app
(its engines and settings) lives here, so one :class:`SessionExt` can serve
several apps at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy.engine import Connection, Engine

from .config import KEY_BINDS, KEY_URI, AppConfig, ConfigError

if TYPE_CHECKING:
    from .extension import SessionExt
    from .transactions import TestTransaction

EXTENSION_KEY = "session_ext"


class AppState:
    """What :meth:`SessionExt.init_app` set up for one app."""

    def __init__(
        self,
        db: SessionExt,
        app: Flask,
        config: AppConfig,
        engines: dict[str | None, Engine],
    ) -> None:
        self.db = db
        self.app_name = app.name
        self.config = config
        self.engines = engines
        #: the test transaction the app's sessions join (session_ext.testing)
        self.active_test_transaction: TestTransaction | None = None

    def engine_for(self, key: str | None) -> Engine:
        """The engine of bind ``key`` (None: the default database)."""
        try:
            return self.engines[key]
        except KeyError:
            raise self._unknown_bind(key) from None

    def bind_for(self, key: str | None) -> Engine | Connection:
        """What sessions of this app use for bind ``key``: its engine, or the
        test transaction's connection while one is active."""
        tx = self.active_test_transaction
        if tx is not None:
            try:
                return tx.connections[key]
            except KeyError:
                raise self._unknown_bind(key) from None
        return self.engine_for(key)

    def _unknown_bind(self, key: str | None) -> ConfigError:
        known = [k for k in self.engines if k is not None]
        if key is None:
            return ConfigError(
                f"App {self.app_name!r} has no default database: {KEY_URI} is not set "
                f"(only {KEY_BINDS} {known}). Set it, or give the model a __bind_key__"
            )
        return ConfigError(
            f"Bind key {key!r} is not configured for app {self.app_name!r}: add it to "
            f"{KEY_BINDS} (configured bind keys: {known})"
        )

    @contextlib.contextmanager
    def test_transaction(self) -> Iterator[TestTransaction]:
        """Run the block inside one outer transaction per bind, rolled back
        at the end; sessions created meanwhile join it through SAVEPOINTs."""
        from .transactions import TestTransaction

        if self.active_test_transaction is not None:
            raise RuntimeError(
                f"A test transaction is already active for app {self.app_name!r}; "
                "they do not nest (request the fixture once per test)"
            )
        tx = TestTransaction(self)
        tx.begin()
        self.db._remove_current_session()  # one made before would use the engine
        self.active_test_transaction = tx
        try:
            yield tx
        finally:
            self.active_test_transaction = None
            try:
                tx.end()
            finally:
                self.db._remove_current_session()

    def __repr__(self) -> str:
        binds = ", ".join(
            f"{'default' if k is None else k}={e.url!r}" for k, e in self.engines.items()
        )
        return f"<session_ext AppState {self.app_name!r} {binds}>"


def extension_state(app: Any) -> AppState | None:
    """The state of the app, or None if no SessionExt is registered on it."""
    extensions = getattr(app, "extensions", None)
    if not isinstance(extensions, dict):
        return None
    state = extensions.get(EXTENSION_KEY)
    return state if isinstance(state, AppState) else None

