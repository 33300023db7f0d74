"""Async views: ``db.async_session``, a request-scoped ``AsyncSession``.

Under ASGI, :class:`~session_ext.django.middleware.SessionExtMiddleware`
runs each request in a ``session_ext.scope()`` block; ``db.async_session``
(an :class:`~session_ext.asyncio.async_scoped_session`) gives the request's
``AsyncSession`` there, and the middleware removes it when the request ends,
on every path (a response, an exception, a client disconnect or any other
cancellation), awaiting the close on the event loop: nothing blocks it.
Sync views keep ``db.session``.

The async engines are made on first use from the configured databases
through their asyncio drivers (``sqlite`` -> ``sqlite+aiosqlite``,
``postgresql+psycopg`` -> ``postgresql+psycopg_async``) with the same engine
options, one set per event loop (an asyncio pool belongs to the loop it was
made in).  The awaitable helpers (``aget_object_or_404``, ``afirst_or_404``,
``aone_or_404``, ``apaginate``) run the sync helpers' code inside the
session's greenlet.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest
from sqlalchemy.engine import Engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from .. import exc
from ..asyncio import AsyncSession, async_scoped_session
from ..asyncio._engine import async_url, engine_name
from ..pagination import Pagination
from ..pagination import paginate as paginate_select
from ..scoping import current_scope_or_none
from ..web import get_from_client
from .pagination import page_args
from .state import Registry, registry


def request_or_task_scope() -> Any:
    """``db.async_session``'s scopefunc: the request's scope (the middleware's
    ``scope()`` block), else the running task."""
    scope = current_scope_or_none()
    return scope if scope is not None else asyncio.current_task()


class AsyncEngines:
    """The asyncio twin of each configured engine, per event loop."""

    def __init__(self, state: Registry) -> None:
        self.state = state
        self._per_loop: weakref.WeakKeyDictionary[Any, dict[Engine, Any]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def for_engine(self, engine: Engine) -> Any:
        loop = asyncio.get_running_loop()
        with self._lock:
            engines = self._per_loop.setdefault(loop, {})
            twin = engines.get(engine)
            if twin is None:
                twin = engines[engine] = self._create(engine)
        return twin

    def _create(self, engine: Engine) -> Any:
        options: dict[str, Any] = {}
        settings = self.state.settings
        if settings is not None:
            for bind in settings.binds.values():
                if self.state.engines.get(bind.key) is engine:
                    options = dict(bind.options)
        try:
            url = async_url(engine.url)
        except exc.ArgumentError as err:
            raise ImproperlyConfigured(f"db.async_session: {err}") from None
        if url.get_backend_name() == "sqlite" and "pool" not in options:
            # one pool class on every admitted SQLAlchemy: 2.1's default for an
            # aiosqlite file (2.0 chose NullPool, which counts no checkouts)
            options.setdefault("poolclass", AsyncAdaptedQueuePool)
        create_async_engine = engine_name("create_async_engine")
        return create_async_engine(url, **options)

    def all(self) -> list[Any]:
        """Every async engine made so far (all loops)."""
        with self._lock:
            return [e for engines in list(self._per_loop.values()) for e in engines.values()]

    def checked_out(self) -> int:
        return sum(e.sync_engine.pool.checkedout() for e in self.all())


class DjangoAsyncSession(AsyncSession):
    """An ``AsyncSession`` on the async twins of the configured databases
    (models with a ``__bind_key__`` go to their bind's)."""

    def __init__(self, **kw: Any) -> None:
        engines = registry.require()
        twins = async_engines.for_engine
        if kw.get("bind") is None and None in engines:
            kw["bind"] = twins(engines[None])
        routes = registry.bind_routes(engines)
        if routes:
            # a route to a database that is not configured (MissingBind) is left
            # out: AsyncSession takes only engines, and one such model (or a mapped
            # Django model whose alias has no database) must not break every view
            kw["binds"] = {
                target: twins(bind) for target, bind in routes.items() if isinstance(bind, Engine)
            } | (kw.get("binds") or {})
        options = dict(registry.settings.session_options) if registry.settings else {}
        options.pop("class_", None)
        options.pop("query_cls", None)
        super().__init__(**{**options, **kw})


async_engines = AsyncEngines(registry)
#: ``db.async_session``
session: async_scoped_session[DjangoAsyncSession] = async_scoped_session(
    DjangoAsyncSession, request_or_task_scope
)


async def end_request(ok: bool) -> None:
    """Commit the request's async session (``COMMIT_ON_TEARDOWN`` and ``ok``),
    then remove it; the close runs to its end even if the request is cancelled."""
    if not session.has():
        return
    current = session()
    try:
        if ok and registry.commit_on_teardown:
            await current.commit()
    finally:
        await session.remove()


# -- awaitable view helpers ------------------------------------------------------


def _session(given: AsyncSession | None) -> AsyncSession:
    return given if given is not None else session()


async def aget_object_or_404(
    model: type, pk: Any, *, session: AsyncSession | None = None, message: str | None = None
) -> Any:
    """``await session.get(model, pk)``, or ``Http404`` when there is no such row."""
    obj = await _session(session).run_sync(get_from_client, model, pk)
    if obj is None:
        raise Http404(message or f"No {model.__name__} with primary key {pk!r}.")
    return obj


async def afirst_or_404(
    statement: Any, *, session: AsyncSession | None = None, message: str | None = None
) -> Any:
    value = (await _session(session).execute(statement)).scalar()
    if value is None:
        raise Http404(message or "No row matches the query.")
    return value


async def aone_or_404(
    statement: Any, *, session: AsyncSession | None = None, message: str | None = None
) -> Any:
    try:
        return (await _session(session).execute(statement)).scalar_one()
    except (exc.NoResultFound, exc.MultipleResultsFound):
        raise Http404(message or "No single row matches the query.") from None


async def apaginate(
    request: HttpRequest | None,
    statement: Any,
    *,
    page: int | None = None,
    per_page: int | None = None,
    max_per_page: int | None = None,
    error_out: bool = True,
    count: bool = True,
    session: AsyncSession | None = None,
) -> Pagination:
    """``db.paginate`` for async views: a page of a ``select()`` (or of a legacy
    ``Query``'s statement) on the request's async session."""
    page, per_page = page_args(request, page, per_page, max_per_page, error_out)
    statement = getattr(statement, "statement", statement)  # a legacy Query
    result = await _session(session).run_sync(
        paginate_select, statement, page=page, per_page=per_page, count=count
    )
    if error_out and result.page > 1 and not result.items:
        raise Http404(f"Page {result.page} is past the last page.")
    return result
