"""``SessionExt``: the Flask extension object (``db``)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

import sqlalchemy
from flask import Flask, abort, current_app, has_app_context
from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Engine

import session_ext

from .. import exc
from ..factory import sessionmaker
from ..pagination import Pagination
from ..scoping import scoped_session
from ..web import not_found, schema
from ..web.client_input import identity_from_client
from ..web.schema import ALL_BINDS
from .cli import make_cli
from .config import create_engines, read_config
from .model import make_model, sync_bind_keys
from .pagination import paginate_select
from .query import Query
from .record_queries import record_queries_on
from .session import NoAppContextError, Session, app_context_scope
from .signals import listen_for_changes
from .state import EXTENSION_KEY, AppState, state_for
from .streaming import auto_commit_wanted, keep_session_for_stream, stream_pending
from .transactions import TestTransaction

_O = TypeVar("_O")

__all__ = ["ALL_BINDS", "SessionExt"]


class SessionExt:
    """Sessions, models and engines for Flask apps::

        db = SessionExt()                  # or SessionExt(app)

        class User(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            name = db.Column(db.String(50))

        def create_app():
            app = Flask(__name__)
            app.config["SESSION_EXT_DATABASE_URI"] = "sqlite:///app.sqlite3"
            db.init_app(app)
            return app

    ``db.session`` is a session per app context (so per request), removed
    when the context ends.  The extension never stores an app: each app's
    engines and settings live in ``app.extensions["session_ext"]``, and one
    ``SessionExt`` may serve several apps.

    :param app: call :meth:`init_app` with it right away.
    :param metadata: the ``MetaData`` of ``db.Model`` (e.g. with a naming convention).
    :param session_options: keyword arguments of every session
        (``autoflush``, ``expire_on_commit``, ``n_plus_one``, ``class_``,
        ``query_cls``...); ``scopefunc`` is the scope of ``db.session``
        instead (default: the app context).
    :param engine_options: ``create_engine()`` arguments of every engine;
        ``SESSION_EXT_ECHO``, per-bind options and ``SESSION_EXT_ENGINE_OPTIONS``
        (default database) take precedence.
    :param query_class: the class of ``Model.query`` and ``db.session.query()``;
        a subclass of :class:`session_ext.flask.Query`.
    :param model_class: a mixin for every model, or your own declarative base.
    :param add_models_to_shell: put ``db`` and every model in ``flask shell``.
    :param disable_autonaming: no default ``__tablename__``: every model names
        its table.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        metadata: MetaData | None = None,
        session_options: Mapping[str, Any] | None = None,
        engine_options: Mapping[str, Any] | None = None,
        query_class: type[Query[Any]] | None = None,
        model_class: type | None = None,
        add_models_to_shell: bool = True,
        disable_autonaming: bool = False,
    ) -> None:
        if query_class is not None and not (
            isinstance(query_class, type) and issubclass(query_class, Query)
        ):
            raise exc.ArgumentError(
                f"query_class must be a subclass of session_ext.flask.Query, not {query_class!r}"
            )
        #: the Query class of ``Model.query`` and ``db.session.query()``
        self.Query: type[Query[Any]] = query_class or Query
        self.session_options = dict(session_options or {})
        self.engine_options = dict(engine_options or {})
        #: a session per app context; see :mod:`session_ext.flask.session`
        self.session: scoped_session[Session] = self._make_scoped_session(self.session_options)
        #: the declarative base of this extension's models
        self.Model: type[Any] = make_model(self, model_class, metadata,
                                           autonaming=not disable_autonaming)
        if getattr(self.Model, "query_class", None) is None:
            self.Model.query_class = self.Query  # as in Flask-SQLAlchemy: db.Model.query_class
        self._add_models_to_shell = add_models_to_shell
        if app is not None:
            self.init_app(app)

    # ------------------------------------------------------------------ set-up
    def _make_scoped_session(self, options: dict[str, Any]) -> scoped_session[Session]:
        options = dict(options)
        scopefunc = options.pop("scopefunc", None) or app_context_scope
        if not callable(scopefunc):
            raise exc.ArgumentError(
                f"session_options['scopefunc'] must be a function returning the current "
                f"scope (a hashable key), not {scopefunc!r}"
            )
        options.setdefault("query_cls", self.Query)
        class_ = options.pop("class_", Session)
        if not (isinstance(class_, type) and issubclass(class_, Session)):
            raise exc.ArgumentError(
                "session_options['class_'] must be a subclass of session_ext.flask.Session "
                f"(it needs the app's engines), not {class_!r}"
            )
        factory = sessionmaker(class_=class_, db=self, **options)
        return scoped_session(factory, scopefunc=scopefunc)

    def init_app(self, app: Flask) -> None:
        """Read the app's ``SESSION_EXT_*`` config, create its engines and
        register the session teardown, the CLI group and the shell context.

        Raises :class:`~session_ext.flask.ConfigError` naming the key when the
        configuration is missing or malformed, and ``RuntimeError`` when the
        app already has a SessionExt.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(
                f"A SessionExt is already registered on app {app.name!r}; init_app() may "
                "be called once per app (create one SessionExt and share it)"
            )
        config = read_config(app, self.engine_options)
        engines = create_engines(config)
        if config.record_queries:
            for engine in engines.values():
                record_queries_on(engine)
        if config.track_modifications:
            listen_for_changes(Session)
        app.extensions[EXTENSION_KEY] = AppState(
            self, app, config, engines, session=self.session, model=self.Model
        )
        app.teardown_appcontext(self._teardown_session)
        app.after_request(functools.partial(keep_session_for_stream, self,
                                            config.commit_on_teardown))
        if self._add_models_to_shell:
            app.shell_context_processor(self._shell_context)
        app.cli.add_command(make_cli(
            engines=lambda: self._current_state().engines,
            tables_of=self._tables_for,
            create_all=lambda keys: self.create_all(bind_key=keys),
            drop_all=lambda keys: self.drop_all(bind_key=keys),
        ))

    def _teardown_session(self, error: BaseException | None) -> None:
        """End of every app context: commit (``SESSION_EXT_COMMIT_ON_TEARDOWN``,
        on success) or roll back, then always ``remove()`` the session, which
        returns its connection to the pool."""
        pending = stream_pending()  # a streamed body still uses the session: it ends it
        try:
            state = self._state_for(current_app)
            commit = state.config.commit_on_teardown and auto_commit_wanted()
            if not pending and commit and self.session.has():
                session = self.session()
                if error is None:
                    session.commit()
                else:
                    session.rollback()
        finally:
            try:
                if not pending:
                    self.session.remove()
            finally:
                if "_async_session" in self.__dict__:  # an async view used db.async_session
                    from .asyncio import teardown

                    teardown(self, error, self._state_for(current_app).config.commit_on_teardown
                             and auto_commit_wanted())

    @property
    def async_session(self) -> Any:
        """The app context's ``AsyncSession`` for ``async def`` views (an
        ``async_scoped_session``; see :mod:`session_ext.flask.asyncio`)."""
        from .asyncio import scoped_for

        return scoped_for(self)

    def _shell_context(self) -> dict[str, Any]:
        context: dict[str, Any] = {"db": self}
        for mapper in self.Model.registry.mappers:
            context[mapper.class_.__name__] = mapper.class_
        return context

    def _state_for(self, app: Any) -> AppState:
        return state_for(app, self)

    def _current_state(self) -> AppState:
        if not has_app_context():
            raise NoAppContextError(
                "db.engine, db.engines, create_all() and the like need the current app: "
                "call them inside `with app.app_context():` (or a request, or a CLI command); "
                "see docs/flask.md#sessions-and-teardown"
            )
        return self._state_for(current_app)

    # ------------------------------------------------------------------ engines & metadata
    @property
    def metadata(self) -> MetaData:
        """The ``MetaData`` of ``db.Model`` (every bind's tables)."""
        return self.Model.metadata  # type: ignore[no-any-return]

    @property
    def engines(self) -> Mapping[str | None, Engine]:
        """The current app's engines by bind key (None: the default database)."""
        return MappingProxyType(self._current_state().engines)

    @property
    def engine(self) -> Engine:
        """The current app's default engine (``SESSION_EXT_DATABASE_URI``)."""
        return self._current_state().engine_for(None)

    def _keys(self, state: AppState, bind_key: Any) -> list[str | None]:
        return schema.select_bind_keys(bind_key, state.engines, state.engine_for,
                                       argument="bind_key", error=exc.ArgumentError)

    def _tables_for(self, key: str | None) -> list[Table]:
        """The tables of ``db.metadata`` that live in bind ``key``, in
        dependency order."""
        sync_bind_keys(self.Model)
        return schema.tables_of_bind(self.metadata, key)

    def create_all(self, bind_key: Any = ALL_BINDS) -> None:
        """Create the missing tables of the models (and ``db.Table`` tables).

        ``bind_key``: ``"__all__"`` (every bind), None (the default
        database), a bind key, or a list of those.  Inside a test
        transaction the DDL runs (and is rolled back) on the test's
        connections.
        """
        state = self._current_state()
        schema.create_all(self.metadata, self._keys(state, bind_key), self._tables_for,
                          state.bind_for)

    def drop_all(self, bind_key: Any = ALL_BINDS) -> None:
        """Drop the tables of the models; ``bind_key`` as in :meth:`create_all`."""
        state = self._current_state()
        schema.drop_all(self.metadata, self._keys(state, bind_key), self._tables_for,
                        state.bind_for)

    def reflect(self, bind_key: Any = ALL_BINDS, **kwargs: Any) -> None:
        """Load the tables that exist in the databases into ``db.metadata``
        (``MetaData.reflect`` keywords such as ``only=[...]``, ``views=True``).

        Reflected tables are tagged with their bind key.  Table names must be
        unique across binds: a name already in the metadata is not reflected
        again.
        """
        state = self._current_state()
        for key in self._keys(state, bind_key):
            before = set(self.metadata.tables)
            self.metadata.reflect(bind=state.bind_for(key), **kwargs)
            if key is not None:
                for name in set(self.metadata.tables) - before:
                    self.metadata.tables[name].info["bind_key"] = key

    def Table(self, name: str, *args: Any, bind_key: str | None = None, **kwargs: Any) -> Table:  # noqa: N802
        """A Core ``Table`` in ``db.metadata`` (``db.Table("tags", db.Column(...))``),
        in bind ``bind_key`` (None: the default database)."""
        if bind_key is not None:
            info = dict(kwargs.pop("info", None) or {})
            info["bind_key"] = bind_key
            kwargs["info"] = info
        return Table(name, self.metadata, *args, **kwargs)

    # ------------------------------------------------------------------ views
    def get_or_404(
        self, entity: type[_O], ident: Any, *, description: str | None = None, **kwargs: Any
    ) -> _O:
        """``session.get(entity, ident, **kwargs)``, or ``abort(404)`` when there
        is no such row.  ``kwargs`` are ``Session.get``'s (``options=[...]``,
        ``populate_existing=True``, ``with_for_update=True``...).  The key is
        taken as the client sent it (see :mod:`session_ext.web.client_input`)."""
        key = identity_from_client(entity, ident)
        obj = None if key is None else self.session().get(entity, key, **kwargs)
        if obj is None:
            abort(404, description=description)
        return obj

    def first_or_404(self, statement: Any, *, description: str | None = None) -> Any:
        """The first column of the first row (the object for ``select(Model)``),
        or ``abort(404)`` when there is no row."""
        try:
            return not_found.first_or_404(self.session(), statement, description)
        except not_found.NotFound as err:
            abort(404, description=err.description)

    def one_or_404(self, statement: Any, *, description: str | None = None) -> Any:
        """The only row's first column, or ``abort(404)`` for none or several rows."""
        try:
            return not_found.one_or_404(self.session(), statement, description)
        except not_found.NotFound as err:
            abort(404, description=err.description)

    def paginate(
        self,
        select: Any,
        *,
        page: int | None = None,
        per_page: int | None = None,
        max_per_page: int | None = None,
        error_out: bool = True,
        count: bool = True,
    ) -> Pagination:
        """A page of a ``select()``; ``page``/``per_page`` default to the
        request's arguments, and invalid values or an empty page other than
        the first give 404 (see :mod:`session_ext.flask.pagination`)."""
        return paginate_select(
            self.session(),
            select,
            page=page,
            per_page=per_page,
            max_per_page=max_per_page,
            error_out=error_out,
            count=count,
        )

    # ------------------------------------------------------------------ testing
    @contextlib.contextmanager
    def test_transaction(self, app: Flask | None = None) -> Iterator[TestTransaction]:
        """Run the block in outer transactions rolled back at the end (for
        test frameworks other than pytest; pytest users have the
        ``session_ext_rollback`` fixture)."""
        state = self._state_for(app) if app is not None else self._current_state()
        with state.test_transaction() as tx:
            yield tx

    # ------------------------------------------------------------------ conveniences
    def __getattr__(self, name: str) -> Any:
        """``db.Column``, ``db.String``, ``db.select``, ``db.relationship`` ...:
        names of ``session_ext`` and ``sqlalchemy``, for code written the
        Flask-SQLAlchemy way."""
        if name.startswith("_"):
            raise AttributeError(name)
        if name in session_ext.__all__ and name not in ("Session", "Query", "Pagination"):
            return getattr(session_ext, name)
        if hasattr(sqlalchemy, name):
            return getattr(sqlalchemy, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        if has_app_context():
            state = current_app.extensions.get(EXTENSION_KEY)
            if state is not None and state.db is self:
                urls = ", ".join(
                    f"{'default' if k is None else k}={e.url.render_as_string()}"
                    for k, e in state.engines.items()
                )
                return f"<SessionExt {urls}>"
        return "<SessionExt>"

