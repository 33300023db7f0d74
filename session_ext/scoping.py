"""``scoped_session``: one session per scope (thread, task, request, job).

A scope is whatever ``scopefunc()`` returns; the registry keeps one session
per scope and :meth:`scoped_session.remove` closes and forgets the current
one.  Three scopes come ready-made:

* threads (the default: a ``threading.local``);
* :func:`scope` / :func:`current_scope`: an explicit ``with scope():`` block
  (also ``async with``), backed by a ``ContextVar`` holding a fresh
  :class:`Scope` object per block.  asyncio tasks copy the context they start
  in, so a task that opens its own ``with scope():`` gets its own session and
  never sees its siblings'.  Leaving the block removes every session created
  in it, so a keyed registry never grows;
* any object you choose (the Flask adapter uses the app context).

Registries key sessions by the scope *object*, never by ``id()``, whose values
Python reuses.
"""

from __future__ import annotations

import contextvars
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from . import exc
from .mapping.declarative import Registry
from .session import Session

_S = TypeVar("_S", bound=Session)


# --------------------------------------------------------------------------- scopes
class Scope:
    """One unit of work's lifetime: a request, a task, a job, a CLI command.

    Hashable by identity.  Callbacks registered with :meth:`on_exit` run when
    the ``with scope():`` block ends (sessions created in it are closed).
    """

    __slots__ = ("name", "_on_exit", "_owners", "__weakref__")

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self._on_exit: list[Callable[[], Any]] = []
        self._owners: set[object] = set()  # held only while the block lasts

    def on_exit(self, callback: Callable[[], Any], owner: object = None) -> None:
        """Run ``callback`` when the block ends; with ``owner``, once per owner."""
        if owner is not None:
            if owner in self._owners:
                return
            self._owners.add(owner)
        self._on_exit.append(callback)

    def close(self) -> None:
        """Run the exit callbacks (each once), last registered first."""
        errors = []
        self._owners.clear()
        while self._on_exit:
            callback = self._on_exit.pop()
            try:
                callback()
            except Exception as err:  # keep closing the others
                errors.append(err)
        if errors:
            raise errors[0]

    def __repr__(self) -> str:
        return f"<Scope {self.name or hex(id(self))}>"


_current: contextvars.ContextVar[Scope | None] = contextvars.ContextVar(
    "session_ext_scope", default=None
)


class scope:  # noqa: N801 - used like a function: ``with scope():``
    """Open a fresh scope for the block (sync or async)::

        with scope():
            Session.add(obj); Session.commit()      # a scoped_session with current_scope
        # the block's sessions are closed and forgotten here
    """

    def __init__(self, name: str | None = None) -> None:
        self.scope = Scope(name)
        self._token: contextvars.Token[Scope | None] | None = None

    def __enter__(self) -> Scope:
        self._token = _current.set(self.scope)
        return self.scope

    def __exit__(self, *exc_info: Any) -> None:
        try:
            self.scope.close()
        finally:
            if self._token is not None:
                _current.reset(self._token)
                self._token = None

    async def __aenter__(self) -> Scope:
        return self.__enter__()

    async def __aexit__(self, *exc_info: Any) -> None:
        self.__exit__(*exc_info)


class entered:  # noqa: N801 - used like a function: ``with entered(s):``
    """Make an existing :class:`Scope` current for the block, without closing
    it at the end (a streaming response's body runs in its request's scope
    after the view returned)."""

    __slots__ = ("scope", "_token")

    def __init__(self, existing: Scope) -> None:
        self.scope = existing
        self._token: contextvars.Token[Scope | None] | None = None

    def __enter__(self) -> Scope:
        self._token = _current.set(self.scope)
        return self.scope

    def __exit__(self, *exc_info: Any) -> None:
        if self._token is not None:
            _current.reset(self._token)
            self._token = None


def current_scope() -> Scope:
    """The scopefunc for ``with scope():`` blocks; raises outside one."""
    s = _current.get()
    if s is None:
        raise exc.InvalidRequestError(
            "No session_ext scope is active in this context: wrap the work in "
            "`with session_ext.scope():` (or `async with`), or use a scoped_session "
            "with the default thread scope"
        )
    return s


def current_scope_or_none() -> Scope | None:
    return _current.get()


# --------------------------------------------------------------------------- registries
class ThreadLocalRegistry:
    """One value per thread."""

    def __init__(self, createfunc: Callable[[], Any]) -> None:
        self.createfunc = createfunc
        self.registry = threading.local()

    def __call__(self) -> Any:
        try:
            return self.registry.value
        except AttributeError:
            value = self.registry.value = self.createfunc()
            return value

    def has(self) -> bool:
        return hasattr(self.registry, "value")

    def set(self, value: Any) -> None:
        self.registry.value = value

    def clear(self) -> None:
        try:
            del self.registry.value
        except AttributeError:
            pass

    def __len__(self) -> int:
        return int(self.has())


_NO_SCOPE = object()


class ScopedRegistry:
    """One value per ``scopefunc()`` key; a :class:`Scope` key removes its own
    entry when the scope ends."""

    def __init__(self, createfunc: Callable[[], Any], scopefunc: Callable[[], Any]) -> None:
        self.createfunc = createfunc
        self.scopefunc = scopefunc
        self.registry: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        key = self.scopefunc()
        try:
            return self.registry[key]
        except KeyError:
            # made under the lock: two threads sharing a key (a custom scopefunc)
            # must not both build a session and leave one unclosed
            with self._lock:
                value = self.registry.get(key, _NO_SCOPE)
                if value is _NO_SCOPE:
                    value = self.registry[key] = self.createfunc()
            return value

    def _key_or_none(self) -> Any:
        try:
            return self.scopefunc()
        except exc.InvalidRequestError:  # no scope active: nothing can be registered
            return _NO_SCOPE

    def has(self) -> bool:
        return self._key_or_none() in self.registry

    def set(self, value: Any) -> None:
        self.registry[self.scopefunc()] = value

    def clear(self) -> None:
        self.registry.pop(self._key_or_none(), None)

    def pop_key(self, key: Any) -> Any:
        return self.registry.pop(key, None)

    def __len__(self) -> int:
        return len(self.registry)


# --------------------------------------------------------------------------- scoped_session
def proxy_method(name: str, of: str = "Session") -> Any:
    """A method calling ``name`` on ``self.registry()`` (the current scope's
    session); shared by ``scoped_session`` and ``async_scoped_session``."""
    def method(self: Any, *args: Any, **kw: Any) -> Any:
        return getattr(self.registry(), name)(*args, **kw)

    method.__name__ = name
    method.__doc__ = f"Proxy for ``{of}.{name}`` on the current scope's session."
    return method


def proxy_property(name: str, writable: bool = False, of: str = "Session") -> Any:
    """A property reading (and, if ``writable``, setting) ``name`` on the
    current scope's session."""
    def fget(self: Any) -> Any:
        return getattr(self.registry(), name)

    def fset(self: Any, value: Any) -> None:
        setattr(self.registry(), name, value)

    return property(fget, fset if writable else None,
                    doc=f"Proxy for ``{of}.{name}`` on the current scope's session.")


class scoped_session(Generic[_S]):  # noqa: N801 - SQLAlchemy's name
    """A registry of sessions, one per scope, that also proxies the current
    scope's session::

        Session = scoped_session(sessionmaker(engine))
        Session.add(obj)          # the current thread's session
        Session.commit()
        Session.remove()          # close it and forget it (end of request/job)
    """

    def __init__(
        self,
        session_factory: Callable[..., _S],
        scopefunc: Callable[[], Any] | None = None,
    ) -> None:
        self.session_factory = session_factory
        if scopefunc is None:
            self.registry: Any = ThreadLocalRegistry(session_factory)
        else:
            self.registry = ScopedRegistry(self._create_for_scope, scopefunc)

    def _create_for_scope(self) -> _S:
        session = self.session_factory()
        key = self.registry.scopefunc()
        if isinstance(key, Scope):
            key.on_exit(lambda: self._remove_key(key), owner=self)
        return session

    def _remove_key(self, key: Any) -> None:
        session = self.registry.pop_key(key)
        if session is not None:
            session.close()

    def __call__(self, **kw: Any) -> _S:
        """The current scope's session, created (with ``kw``) if there is none."""
        if kw:
            if self.registry.has():
                raise exc.InvalidRequestError(
                    "A scoped session is already present in this scope; keyword arguments "
                    "can only be given when it is created. Call remove() first"
                )
            factory = self.session_factory
            session = factory(**kw)
            if isinstance(self.registry, ScopedRegistry):
                key = self.registry.scopefunc()
                if isinstance(key, Scope):
                    key.on_exit(lambda: self._remove_key(key), owner=self)
            self.registry.set(session)
            return session
        return self.registry()

    def has(self) -> bool:
        """True if the current scope has a session."""
        return self.registry.has()

    def remove(self) -> None:
        """Close the current scope's session and forget it (no-op without one)."""
        if self.registry.has():
            session = self.registry()
            self.registry.clear()  # forgotten even if closing it fails
            close_for_good = getattr(session, "close_for_good", None)
            if close_for_good is None:  # a factory making something else
                session.close()
            else:
                close_for_good(_REMOVED)
        else:
            self.registry.clear()

    def configure(self, **kwargs: Any) -> None:
        """Reconfigure the factory (warns if the current scope has a session,
        which is not affected)."""
        if self.registry.has():
            warnings.warn(
                "At least one scoped session is already present; configure() does not "
                "affect sessions that already exist. Call remove() first if that matters",
                exc.SAWarning,
                stacklevel=2,
            )
        configure = getattr(self.session_factory, "configure", None)
        if configure is None:
            raise exc.InvalidRequestError(
                "This scoped_session's factory has no configure(); use a sessionmaker"
            )
        configure(**kwargs)

    def query_property(self, query_cls: type | None = None) -> Any:
        """A class attribute giving ``Model.query``: a ``Query`` for the class on
        the current scope's session, resolved at access time."""
        return QueryProperty(self, query_cls)

    # proxied methods ------------------------------------------------------------
    add = proxy_method("add")
    add_all = proxy_method("add_all")
    begin = proxy_method("begin")
    begin_nested = proxy_method("begin_nested")
    bulk_insert_mappings = proxy_method("bulk_insert_mappings")
    bulk_save_objects = proxy_method("bulk_save_objects")
    bulk_update_mappings = proxy_method("bulk_update_mappings")
    close = proxy_method("close")
    commit = proxy_method("commit")
    connection = proxy_method("connection")
    delete = proxy_method("delete")
    execute = proxy_method("execute")
    expire = proxy_method("expire")
    expire_all = proxy_method("expire_all")
    expunge = proxy_method("expunge")
    expunge_all = proxy_method("expunge_all")
    flush = proxy_method("flush")
    get = proxy_method("get")
    get_one = proxy_method("get_one")
    get_bind = proxy_method("get_bind")
    in_transaction = proxy_method("in_transaction")
    in_nested_transaction = proxy_method("in_nested_transaction")
    is_modified = proxy_method("is_modified")
    merge = proxy_method("merge")
    query = proxy_method("query")
    refresh = proxy_method("refresh")
    rollback = proxy_method("rollback")
    scalar = proxy_method("scalar")
    scalars = proxy_method("scalars")

    def __contains__(self, instance: object) -> bool:
        return instance in self.registry()

    def __iter__(self) -> Iterator[object]:
        return iter(self.registry())

    bind = proxy_property("bind", writable=True)
    dirty = proxy_property("dirty")
    deleted = proxy_property("deleted")
    new = proxy_property("new")
    identity_map = proxy_property("identity_map")
    is_active = proxy_property("is_active")
    autoflush = proxy_property("autoflush", writable=True)
    no_autoflush = proxy_property("no_autoflush")
    info = proxy_property("info")

    def __repr__(self) -> str:
        return f"<scoped_session {self.session_factory!r}>"


_REMOVED = (
    "This Session was removed from its scoped_session (remove(), as at the end of a "
    "request), so it cannot begin another transaction: a reference to it was kept. "
    "Use the scoped_session itself (e.g. db.session) for the current scope's session"
)


class QueryProperty:
    """``Model.query`` for a :class:`scoped_session` (see ``query_property``)."""

    def __init__(self, registry: scoped_session[Any], query_cls: type | None) -> None:
        self.scoped = registry
        self.query_cls = query_cls

    def __get__(self, instance: Any, owner: type) -> Any:
        if "__mapper__" not in vars(owner):
            if isinstance(getattr(owner, "registry", None), Registry):
                # a declarative base or an __abstract__ class: nothing to query,
                # but introspection (help(), hasattr) sees the descriptor
                return self
            raise exc.UnmappedClassError(
                f"{owner.__name__}.query: class {owner.__name__} is not mapped, so there is "
                "nothing to query. Give query_property() to a mapped class (a subclass of a "
                "declarative base with a __tablename__), or use session.execute(select(...))"
            )
        session = self.scoped.registry()
        if self.query_cls is not None:
            return self.query_cls(owner, session=session)
        return session.query(owner)  # the session's query_cls, or Query
