"""``AsyncSession``: the sync :class:`~session_ext.Session` driven from asyncio.

There is one unit of work.  An ``AsyncSession`` owns a sync session bound to
``async_engine.sync_engine`` and runs each of its I/O methods inside
``greenlet_spawn()``: the sync code runs in a greenlet, and whenever the
asyncio driver (aiosqlite, psycopg's async connection) has to wait, Core's
``await_()`` switches back to the event loop, which awaits the driver's
coroutine and resumes the greenlet with the result.  The event loop is never
blocked, and flush, loading and the identity map are the sync session's own.

Methods that touch no database (``add()``, ``expunge()``, ``expire()``...)
stay synchronous.  Reading an unloaded attribute outside an awaited call
would need SQL that cannot run there: it raises
:class:`session_ext.exc.MissingGreenlet` naming the attribute and the fixes.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from .. import exc
from ..compat import EXECUTION_OPTIONS, greenlet_spawn, in_greenlet
from ..session import Session
from ..state import InstanceState, instance_state
from ._engine import async_connection_for, async_result, sync_bind

_T = TypeVar("_T")
_O = TypeVar("_O")

#: execution options that leave rows on a server-side cursor (stream() only)
_STREAMING = ("stream_results", "yield_per")


def refuse_implicit_io(state: InstanceState, key: str | None) -> None:
    """The sync session's ``objects.implicit_io_guard``: SQL an attribute access needs
    runs only inside an awaited call (a greenlet); anywhere else the asyncio
    driver cannot run it, so say what to do instead of failing deep in Core."""
    if in_greenlet():
        return
    cls = state.class_.__name__
    obj = exc.state_str(state)
    if key is None:
        what = f"The expired attributes of {obj}"
        fixes = f"`await session.refresh(obj)` or `await session.get({cls}, ...)` again"
    else:
        what = f"Attribute '{cls}.{key}' of {obj}"
        eager = (
            f"eager-load it with the query (.options(selectinload({cls}.{key})))"
            if key in state.mapper.relationships
            else "load it with the query (select the object again after the commit)"
        )
        fixes = (
            f"{eager}, `await session.refresh(obj, [{key!r}])`, or "
            f"`await obj.awaitable_attrs.{key}` (add AsyncAttrs to the model's bases)"
        )
    raise exc.MissingGreenlet(
        f"{what} is not loaded, and loading it needs SQL, which an asyncio session cannot "
        f"run inside a plain attribute access (there is no await). Fixes: {fixes}. Objects "
        "expire at commit(): AsyncSession(expire_on_commit=False) keeps their values readable"
    )


def _check_not_streaming(execution_options: Any, statement: Any) -> None:
    for options in (execution_options, getattr(statement, EXECUTION_OPTIONS, None)):
        if options and any(options.get(k) for k in _STREAMING):
            raise exc.InvalidRequestError(
                "execute() buffers every row, so it cannot run with stream_results or "
                "yield_per (a server-side cursor read later, outside an await): use "
                "`await session.stream(...)` / `stream_scalars(...)` and iterate with "
                "`async for`"
            )


class AsyncSessionTransaction:
    """``async with session.begin():`` / ``begin_nested()``: commits at the end of
    the block, rolls back if it raises (a cancellation too)."""

    __slots__ = ("session", "nested", "sync_transaction")

    def __init__(self, session: AsyncSession, nested: bool = False) -> None:
        self.session = session
        self.nested = nested
        self.sync_transaction: Any = None

    @property
    def is_active(self) -> bool:
        tx = self.sync_transaction
        return tx is not None and tx.is_active

    def _begin_sync(self, enter: bool) -> Any:
        sync = self.session.sync_session
        tx = sync.begin_nested() if self.nested else sync.begin()
        if enter:
            tx.__enter__()  # the block's bookkeeping, as ``with session.begin():``
        return tx

    async def start(self, _enter: bool = False) -> AsyncSessionTransaction:
        self.sync_transaction = await greenlet_spawn(self._begin_sync, _enter)
        return self

    def __await__(self) -> Any:
        return self.start().__await__()

    async def commit(self) -> None:
        await greenlet_spawn(self._require().commit)

    async def rollback(self) -> None:
        await greenlet_spawn(self._require().rollback)

    def _require(self) -> Any:
        if self.sync_transaction is None:
            raise exc.InvalidRequestError(
                "This transaction has not begun: `await session.begin()` or "
                "`async with session.begin():` first"
            )
        return self.sync_transaction

    async def __aenter__(self) -> AsyncSessionTransaction:
        return await self.start(_enter=True)

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        tx = self._require()
        if type_ is None:
            await greenlet_spawn(tx.__exit__, None, None, None)
        else:
            # rolled back even if the task is cancelled again while it runs
            await asyncio.shield(greenlet_spawn(tx.__exit__, type_, value, traceback))


class AsyncSession:
    """Asyncio face of :class:`session_ext.Session` (SQLAlchemy's
    ``AsyncSession`` API)::

        engine = create_async_engine("postgresql+psycopg_async://...")
        async with AsyncSession(engine, expire_on_commit=False) as session:
            async with session.begin():
                session.add(User(name="x"))
            users = (await session.scalars(select(User))).all()

    ``bind``/``binds`` take ``AsyncEngine`` or ``AsyncConnection`` objects; every
    other keyword is a :class:`~session_ext.Session` option.
    """

    #: the class of :attr:`sync_session` (a Session subclass; per instance too)
    sync_session_class: type[Session] = Session
    _is_asyncio = True

    def __init__(
        self,
        bind: Any = None,
        *,
        binds: dict[Any, Any] | None = None,
        sync_session_class: type[Session] | None = None,
        **kw: Any,
    ) -> None:
        self.bind = bind
        self.binds = binds
        if sync_session_class is not None:
            self.sync_session_class = sync_session_class
        if bind is not None:
            kw["bind"] = sync_bind(bind)
        if binds:
            kw["binds"] = {key: sync_bind(value) for key, value in binds.items()}
        #: the sync session that does the work (use it inside run_sync())
        self.sync_session: Session = self.sync_session_class(**kw)
        self.sync_session.objects.implicit_io_guard = refuse_implicit_io
        self.sync_session._async_session = weakref.ref(self)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ context
    async def __aenter__(self: _T) -> _T:
        return self

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        # closed (its connection back in the pool) even if the task is cancelled again
        await asyncio.shield(self.close())

    def __repr__(self) -> str:
        return f"<session_ext.asyncio.AsyncSession {self.sync_session.hash_key} bind={self.bind!r}>"

    # ------------------------------------------------------------------ running sync code
    async def run_sync(self, fn: Callable[..., _T], *args: Any, **kw: Any) -> _T:
        """``await session.run_sync(fn, *args)``: ``fn(sync_session, *args)`` in a
        greenlet, where lazy loads and other implicit SQL work."""
        return await greenlet_spawn(fn, self.sync_session, *args, **kw)

    # ------------------------------------------------------------------ statements
    async def execute(
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: dict[str, Any] | None = None,
        bind_arguments: dict[str, Any] | None = None,
    ) -> Any:
        """Execute and return a buffered ``Result`` (see :meth:`stream` for a cursor)."""
        if execution_options or getattr(statement, EXECUTION_OPTIONS, None):
            _check_not_streaming(execution_options, statement)
        return await greenlet_spawn(
            self.sync_session.execute, statement, params,
            execution_options=execution_options, bind_arguments=bind_arguments,
        )

    async def scalars(
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: dict[str, Any] | None = None,
        bind_arguments: dict[str, Any] | None = None,
    ) -> Any:
        result = await self.execute(
            statement, params, execution_options=execution_options, bind_arguments=bind_arguments
        )
        return result.scalars()

    async def scalar(
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: dict[str, Any] | None = None,
        bind_arguments: dict[str, Any] | None = None,
    ) -> Any:
        result = await self.execute(
            statement, params, execution_options=execution_options, bind_arguments=bind_arguments
        )
        return result.scalar()

    async def stream(
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: dict[str, Any] | None = None,
        bind_arguments: dict[str, Any] | None = None,
    ) -> Any:
        """Execute on a server-side cursor (where the driver has one) and return an
        ``AsyncResult`` to read with ``async for``.  Objects are built batch by
        batch with ``execution_options={"yield_per": n}``, else all at once."""
        options = {**(execution_options or {}), "stream_results": True}
        result = await greenlet_spawn(
            self.sync_session.execute, statement, params,
            execution_options=options, bind_arguments=bind_arguments,
        )
        return async_result(result)

    async def stream_scalars(
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: dict[str, Any] | None = None,
        bind_arguments: dict[str, Any] | None = None,
    ) -> Any:
        result = await self.stream(
            statement, params, execution_options=execution_options, bind_arguments=bind_arguments
        )
        return result.scalars()

    async def get(self, entity: type[_O], ident: Any, **kw: Any) -> _O | None:
        """The object with this primary key, or None (no SQL on an identity-map hit)."""
        if not kw:
            try:
                state = self.sync_session.identity_map.by_key.get((entity, (ident,), None))
            except TypeError:  # an unhashable ident: the session's long way
                state = None
            if state is not None and not state.expired:
                obj = state()
                if obj is not None:
                    return obj  # type: ignore[no-any-return]
        return await greenlet_spawn(self.sync_session.get, entity, ident, **kw)

    async def get_one(self, entity: type[_O], ident: Any, **kw: Any) -> _O:
        return await greenlet_spawn(self.sync_session.get_one, entity, ident, **kw)

    async def refresh(
        self,
        instance: object,
        attribute_names: Iterable[str] | None = None,
        with_for_update: Any = None,
    ) -> None:
        """Reload attributes (relationships too) from the database."""
        await greenlet_spawn(
            self.sync_session.refresh, instance, attribute_names, with_for_update=with_for_update
        )

    async def merge(self, instance: _O, *, load: bool = True, options: Any = None) -> _O:
        return await greenlet_spawn(self.sync_session.merge, instance, load=load, options=options)

    async def delete(self, instance: object) -> None:
        """Mark for deletion (cascades may load related objects, hence awaitable)."""
        await greenlet_spawn(self.sync_session.delete, instance)

    # ------------------------------------------------------------------ transactions
    async def flush(self, objects: Sequence[object] | None = None) -> None:
        await greenlet_spawn(self.sync_session.flush, objects)

    async def commit(self) -> None:
        await greenlet_spawn(self.sync_session.commit)

    async def rollback(self) -> None:
        await greenlet_spawn(self.sync_session.rollback)

    async def close(self) -> None:
        """Roll back, return connections to the pool and expunge every object."""
        await greenlet_spawn(self.sync_session.close)

    async def reset(self) -> None:
        await greenlet_spawn(self.sync_session.reset)

    async def invalidate(self) -> None:
        """Invalidate the session's connections (they are not reused), then close."""
        def invalidate(session: Session) -> None:
            tx = session._transaction
            if tx is not None:
                for conn in tx.root.connections():
                    conn.invalidate()
            session.close()

        await greenlet_spawn(invalidate, self.sync_session)

    def begin(self) -> AsyncSessionTransaction:
        """``async with session.begin():`` (or ``await session.begin()``)."""
        return AsyncSessionTransaction(self)

    def begin_nested(self) -> AsyncSessionTransaction:
        """``async with session.begin_nested():`` a SAVEPOINT."""
        return AsyncSessionTransaction(self, nested=True)

    async def connection(
        self,
        bind_arguments: dict[str, Any] | None = None,
        execution_options: dict[str, Any] | None = None,
    ) -> Any:
        """The ``AsyncConnection`` of the session's transaction."""
        sync_conn = await greenlet_spawn(
            self.sync_session.connection,
            bind_arguments=bind_arguments, execution_options=execution_options,
        )
        return async_connection_for(sync_conn)

    def in_transaction(self) -> bool:
        return self.sync_session.in_transaction()

    def in_nested_transaction(self) -> bool:
        return self.sync_session.in_nested_transaction()

    def get_transaction(self) -> Any:
        return self.sync_session.get_transaction()

    def get_nested_transaction(self) -> Any:
        return self.sync_session.get_nested_transaction()

    def get_bind(self, mapper: Any = None, clause: Any = None, **kw: Any) -> Any:
        """The sync Engine or Connection the sync session would use."""
        return self.sync_session.get_bind(mapper, clause, **kw)

    @classmethod
    async def close_all(cls) -> None:
        await close_all_sessions()

    # ------------------------------------------------------------------ no I/O: synchronous
    def add(self, instance: object, _warn: bool = True) -> None:
        self.sync_session.add(instance, _warn)

    def add_all(self, instances: Iterable[object]) -> None:
        self.sync_session.add_all(instances)

    def expunge(self, instance: object) -> None:
        self.sync_session.expunge(instance)

    def expunge_all(self) -> None:
        self.sync_session.expunge_all()

    def expire(self, instance: object, attribute_names: Iterable[str] | None = None) -> None:
        self.sync_session.expire(instance, attribute_names)

    def expire_all(self) -> None:
        self.sync_session.expire_all()

    def is_modified(self, instance: object, include_collections: bool = True) -> bool:
        return self.sync_session.is_modified(instance, include_collections)

    def __contains__(self, instance: object) -> bool:
        return instance in self.sync_session

    def __iter__(self) -> Iterator[object]:
        return iter(self.sync_session)

    @property
    def new(self) -> list[object]:
        return self.sync_session.new

    @property
    def dirty(self) -> list[object]:
        return self.sync_session.dirty

    @property
    def deleted(self) -> list[object]:
        return self.sync_session.deleted

    @property
    def identity_map(self) -> Any:
        return self.sync_session.identity_map

    @property
    def is_active(self) -> bool:
        return self.sync_session.is_active

    @property
    def info(self) -> dict[Any, Any]:
        return self.sync_session.info

    @property
    def no_autoflush(self) -> Any:
        return self.sync_session.no_autoflush

    @property
    def autoflush(self) -> bool:
        return self.sync_session.autoflush

    @autoflush.setter
    def autoflush(self, value: bool) -> None:
        self.sync_session.autoflush = value


def async_object_session(instance: object) -> AsyncSession | None:
    """The ``AsyncSession`` an object belongs to, or None."""
    session = instance_state(instance).session
    return async_session(session) if session is not None else None


def async_session(session: Session) -> AsyncSession | None:
    """The ``AsyncSession`` driving the sync ``session``, or None."""
    ref = getattr(session, "_async_session", None)
    return ref() if ref is not None else None


async def close_all_sessions() -> None:
    """Close every session of this process that an ``AsyncSession`` drives."""
    from ..state import _sessions

    for session in list(_sessions.values()):
        owner = async_session(session)
        if owner is not None:
            await owner.close()


class _AwaitableAttrs:
    __slots__ = ("_instance",)

    def __init__(self, instance: object) -> None:
        self._instance = instance

    def __getattr__(self, name: str) -> Any:
        return greenlet_spawn(getattr, self._instance, name)


class AsyncAttrs:
    """Mixin for mapped classes: ``await obj.awaitable_attrs.<name>`` loads an
    unloaded relationship or expired column inside an awaited call."""

    __slots__ = ()

    @property
    def awaitable_attrs(self) -> Any:
        return _AwaitableAttrs(self)
