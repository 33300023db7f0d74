"""Sessions scoped to the Flask application context, with bind routing.

``db.session`` is a :class:`~session_ext.scoping.scoped_session` whose scope
is the current :class:`flask.ctx.AppContext` *object*.  Every request pushes
its own app context (threads, greenlets and ``asyncio`` views alike, since
Flask keeps the context in a ``ContextVar``), so two requests never share a
session, and the extension's ``teardown_appcontext`` handler removes it.

:class:`Session` adds what the extension needs to the core session: it finds
the current app's engines when created, and routes models and tables with a
``bind_key`` (``__bind_key__`` on a model, ``info={"bind_key": ...}`` on a
table) to that bind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import current_app, has_app_context
from flask.ctx import AppContext
from flask.globals import app_ctx
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import ClauseElement

from .. import exc
from ..compat import find_tables, unannotated
from ..mapping.mapper import Mapper, entity_of, mapper_for_table
from ..session import Session as _CoreSession

if TYPE_CHECKING:
    from .extension import SessionExt
    from .state import AppState


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


def _base_table(table: Any) -> Any:
    # select(Model) carries an annotated copy of the table; its ``info`` may
    # be a separate dict, so always look at the real Table.
    return unannotated(table)


def bind_key_of_class(cls: Any) -> str | None:
    """The bind key of a mapped class: ``__bind_key__``, else its table's info."""
    key = getattr(cls, "__bind_key__", None)
    if key is not None:
        return key  # type: ignore[no-any-return]
    mapper = cls.__dict__.get("__mapper__") if isinstance(cls, type) else None
    if mapper is not None:
        return mapper.table.info.get("bind_key")  # type: ignore[no-any-return]
    return None


def bind_key_of_table(table: Any) -> str | None:
    table = _base_table(table)
    info = getattr(table, "info", None)
    if info and info.get("bind_key") is not None:
        return info["bind_key"]  # type: ignore[no-any-return]
    mapper = mapper_for_table(table)
    if mapper is not None:
        return bind_key_of_class(mapper.class_)
    return None


class Session(_CoreSession):
    """The session class behind ``db.session``.

    Created inside an app context: it binds to that app's default engine and
    routes ``bind_key`` models and tables to the app's other engines.  While
    a test transaction is active (see :mod:`session_ext.testing`) it binds to
    the test's connections instead, with ``join_transaction_mode=
    "create_savepoint"`` so that ``commit()`` only releases a SAVEPOINT.
    """

    def __init__(self, db: SessionExt, **kwargs: Any) -> None:
        state = db._state_for(current_app._get_current_object())  # type: ignore[attr-defined]
        self._se_state: AppState = state
        test_tx = state.active_test_transaction
        if test_tx is not None:
            kwargs["join_transaction_mode"] = "create_savepoint"
        if kwargs.get("bind") is None and None in state.engines:
            kwargs["bind"] = state.bind_for(None)
        super().__init__(**kwargs)
        if test_tx is not None:
            test_tx.track(self)

    def get_bind(
        self,
        mapper: Any = None,
        clause: ClauseElement | None = None,
        **kw: Any,
    ) -> Engine | Connection:
        """The bind named by the model's or table's bind key, else the core
        lookup (explicit ``binds``, then the app's default database)."""
        key = None
        if mapper is not None:
            cls = mapper.class_ if isinstance(mapper, Mapper) else mapper
            key = bind_key_of_class(cls)
        if key is None and clause is not None:
            for table in find_tables(clause, include_crud=True):
                key = bind_key_of_table(table)
                if key is None:
                    entity = entity_of(table)
                    if entity is not None:
                        key = bind_key_of_class(entity.class_)
                if key is not None:
                    break
        if key is not None:
            return self._se_state.bind_for(key)
        return super().get_bind(mapper, clause, **kw)
