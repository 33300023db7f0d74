"""Sessions scoped to the Flask application context, with bind routing.

``db.session`` is a :class:`~session_ext.scoping.scoped_session` whose scope
is the current :class:`flask.ctx.AppContext` *object*.  Every request pushes
its own app context (threads, greenlets and ``asyncio`` views alike, since
Flask keeps the context in a ``ContextVar``), so two requests never share a
session, and the extension's ``teardown_appcontext`` handler removes it.

:class:`Session` adds what the extension needs to the core session: it finds
the current app's engines when created, and routes models and tables with a
``bind_key`` (``__bind_key__`` on a model, ``info={"bind_key": ...}`` on a
table) to that bind through the core's ``binds=`` (see
:mod:`session_ext.web.binds`).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from flask.ctx import AppContext
from flask.globals import app_ctx

from .. import exc
from ..web.binds import RoutedSession
from .signals import ModelChanges
from .state import state_for


class NoAppContextError(RuntimeError, exc.InvalidRequestError):
    """``db.session`` (or ``Model.query``) was used outside an app context.

    A ``RuntimeError`` like Flask's own "working outside of application
    context", and an ``InvalidRequestError`` so that ``db.session.has()`` and
    ``db.session.remove()`` are quiet no-ops outside a context.
    """

    help_anchor = ""  # the message points at docs/flask.md itself

    def __init__(self, message: str) -> None:
        exc.InvalidRequestError.__init__(self, message)


def app_context_scope() -> AppContext:
    """The scopefunc of ``db.session``: the current app context object.

    The registry is keyed by the object itself (hashable by identity), never
    by ``id()``, whose values are reused once a context is garbage collected.
    """
    if not has_app_context():
        raise NoAppContextError(
            "db.session (or Model.query) was used outside a Flask application context. "
            "Inside a request this is automatic; elsewhere (scripts, threads, tests) wrap "
            "the code in `with app.app_context():` (see docs/flask.md#sessions-and-teardown)"
        )
    return app_ctx._get_current_object()  # type: ignore[attr-defined,no-any-return]


class Session(RoutedSession):
    """The session class behind ``db.session``.

    Created inside an app context: it binds to that app's default engine and
    routes ``bind_key`` models and tables to the app's other engines.  While
    a test transaction is active (see :mod:`session_ext.flask.testing`) it binds to
    the test's connections instead, with ``join_transaction_mode=
    "create_savepoint"`` so that ``commit()`` only releases a SAVEPOINT.

    With ``SESSION_EXT_TRACK_MODIFICATIONS`` on, :attr:`model_changes` notes
    what each flush writes, and :mod:`~session_ext.flask.signals` are sent
    around the commit of the outermost transaction (session events drive it:
    see :func:`~session_ext.flask.signals.listen_for_changes`).
    """

    #: the tracker of the commit signals (None: tracking is off)
    model_changes: ModelChanges | None = None

    def __init__(self, db: Any, **kwargs: Any) -> None:
        state = state_for(current_app._get_current_object(), db)  # type: ignore[attr-defined]
        test_tx = state.active_test_transaction
        if test_tx is not None:
            kwargs["join_transaction_mode"] = "create_savepoint"
        binds = state.binds()
        if kwargs.get("bind") is None and None in binds:
            kwargs["bind"] = binds[None]
        routes = state.bind_routes(binds)
        if routes:
            kwargs["binds"] = {**routes, **(kwargs.get("binds") or {})}
        super().__init__(**kwargs)
        if test_tx is not None:
            test_tx.track(self)
        if state.config.track_modifications:
            self.model_changes = ModelChanges(current_app._get_current_object())  # type: ignore[attr-defined]
