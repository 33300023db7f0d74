"""Per-application state, kept in ``app.extensions["session_ext"]``.

The extension object never stores an app; everything that belongs to one app
(its engines, settings, bind routes and test transaction) lives here, so one
:class:`~session_ext.flask.SessionExt` can serve several apps at once.  This
module is given what it needs (the extension's scoped session and models) and
imports nothing above it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Flask, has_app_context
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, Engine

from ..scoping import scoped_session
from ..web.binds import BindRoutes
from .config import KEY_BINDS, KEY_URI, AppConfig, ConfigError
from .transactions import TestTransaction

EXTENSION_KEY = "session_ext"


class AppState:
    """What :meth:`SessionExt.init_app` set up for one app.

    :param db: the ``SessionExt`` it belongs to (compared by identity only).
    :param session: that extension's ``db.session``, removed when a test
        transaction starts or ends.
    :param model: ``db.Model``, whose models and tables are routed to their binds.
    """

    def __init__(
        self,
        db: Any,
        app: Flask,
        config: AppConfig,
        engines: dict[str | None, Engine],
        *,
        session: scoped_session[Any],
        model: Any,
    ) -> None:
        self.db = db
        self.app_name = app.name
        self.config = config
        self.engines = engines
        #: the test transaction the app's sessions join (session_ext.flask.testing)
        self.active_test_transaction: TestTransaction | None = None
        self._session = session
        self._model = model
        self._routes = BindRoutes(self._lookup)

    @property
    def metadata(self) -> MetaData:
        return self._model.metadata  # type: ignore[no-any-return]

    def engine_for(self, key: str | None) -> Engine:
        """The engine of bind ``key`` (None: the default database)."""
        try:
            return self.engines[key]
        except (KeyError, TypeError):  # TypeError: an unhashable bind key
            raise self._unknown_bind(key) from None

    def bind_for(self, key: str | None) -> Engine | Connection:
        """What sessions of this app use for bind ``key``: its engine, or the
        test transaction's connection while one is active."""
        tx = self.active_test_transaction
        if tx is not None:
            try:
                return tx.connections[key]
            except (KeyError, TypeError):
                raise self._unknown_bind(key) from None
        return self.engine_for(key)

    def binds(self) -> dict[str | None, Engine | Connection]:
        """:meth:`bind_for` of every configured bind."""
        return {key: self.bind_for(key) for key in self.engines}

    def bind_routes(self, binds: Mapping[str | None, Engine | Connection]) -> dict[Any, Any]:
        """``binds=`` for a new session: every model and table with a bind
        key to its bind in ``binds`` (a :class:`~session_ext.web.binds.MissingBind`
        for a key that is not configured)."""
        return self._routes.for_session(binds, self._model.registry.mappers,
                                        self.metadata.tables)

    def _lookup(self, binds: Mapping[str | None, Any], key: Any) -> Any:
        try:
            return binds[key]
        except (KeyError, TypeError):
            raise self._unknown_bind(key) from None

    def _unknown_bind(self, key: Any) -> ConfigError:
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

    def _remove_current_session(self) -> None:
        if has_app_context():
            self._session.remove()

    @contextlib.contextmanager
    def test_transaction(self) -> Iterator[TestTransaction]:
        """Run the block inside one outer transaction per bind, rolled back
        at the end; sessions created meanwhile join it through SAVEPOINTs."""
        if self.active_test_transaction is not None:
            raise RuntimeError(
                f"A test transaction is already active for app {self.app_name!r}; "
                "they do not nest (request the fixture once per test)"
            )
        tx = TestTransaction(self.engines)
        tx.begin()
        self._remove_current_session()  # one made before would use the engine
        self.active_test_transaction = tx
        try:
            yield tx
        finally:
            self.active_test_transaction = None
            try:
                tx.end()
            finally:
                self._remove_current_session()

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


def state_for(app: Any, db: Any) -> AppState:
    """The state ``db`` (a SessionExt) keeps for ``app``; ``RuntimeError``
    when ``db.init_app(app)`` was not called."""
    state = extension_state(app)
    if state is None or state.db is not db:
        raise RuntimeError(
            f"The app {getattr(app, 'name', app)!r} is not registered with this SessionExt: "
            "call db.init_app(app) in your app factory"
        )
    return state
