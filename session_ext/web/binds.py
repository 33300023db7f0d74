"""``__bind_key__`` models and tables routed through the core's ``binds=``.

A model with ``__bind_key__ = "audit"`` (or a table with
``info={"bind_key": "audit"}``) lives in the database the application
configured under that name.  The adapters do not route statements
themselves: when a session is made they give the core ``Session`` a
``binds={class or table: engine}`` mapping built by :class:`BindRoutes`, and
the core's :meth:`~session_ext.Session.get_bind` does the rest.

A bind key that names no configured database does not break sessions for
the other models: its route is a :class:`MissingBind`, which
:class:`RoutedSession` refuses (raising the adapter's configuration error)
only when a statement needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NoReturn

from sqlalchemy import Table

from ..session import Session

#: ``lookup(binds, key)``: the bind of ``key`` in ``binds``, or the adapter's
#: configuration error for a key that is not configured
Lookup = Callable[[Mapping[Any, Any], Any], Any]


class MissingBind:
    """The route of a model or table whose bind key is not configured; using
    it raises the error the adapter's lookup gave."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error

    def refuse(self) -> NoReturn:
        raise self.error.with_traceback(None)

    def __repr__(self) -> str:
        return f"<MissingBind: {self.error}>"


class RoutedSession(Session):
    """A core session whose ``binds=`` came from :class:`BindRoutes`: a
    :class:`MissingBind` is refused when a statement needs it."""

    def get_bind(self, mapper: Any = None, clause: Any = None, **kw: Any) -> Any:
        bind = super().get_bind(mapper, clause, **kw)
        if type(bind) is MissingBind:
            bind.refuse()
        return bind


def bind_key_of(cls: Any) -> Any:
    """The bind key of a mapped class: its ``__bind_key__`` (inherited ones
    too), else the ``bind_key`` in its table's ``info``."""
    key = getattr(cls, "__bind_key__", None)
    if key is not None:
        return key
    mapper = cls.__dict__.get("__mapper__") if isinstance(cls, type) else None
    return mapper.table.info.get("bind_key") if mapper is not None else None


def copy_bind_keys(mappers: Iterable[Any]) -> None:
    """Store each model's ``__bind_key__`` in its table's ``info``, where
    Core statements and the per-bind schema helpers find it."""
    for mapper in mappers:
        key = getattr(mapper.class_, "__bind_key__", None)
        if key is not None:
            mapper.table.info["bind_key"] = key


def _route(lookup: Lookup, binds: Mapping[Any, Any], key: Any) -> Any:
    try:
        return lookup(binds, key)
    except Exception as err:  # the adapter's "not configured": raised when used
        return MissingBind(err)


def bind_routes(
    binds: Mapping[Any, Any],
    lookup: Lookup,
    mappers: Iterable[Any],
    tables: Iterable[Table],
) -> dict[Any, Any]:
    """``binds=`` for a core session: every mapped class with a bind key, and
    its table, to that bind; every table with a ``bind_key`` in its ``info``
    to its bind (a table's own ``info`` wins over its class's key)."""
    routes: dict[Any, Any] = {}
    for mapper in mappers:
        key = bind_key_of(mapper.class_)
        if key is not None:
            routes[mapper.class_] = routes[mapper.table] = _route(lookup, binds, key)
    for table in tables:
        key = table.info.get("bind_key")
        if key is not None:
            routes[table] = _route(lookup, binds, key)
    return routes


class BindRoutes:
    """:func:`bind_routes` of one application, kept until its binds, models
    or tables change (the routes are read when a session is made, so a model
    declared later is routed from the next session on)."""

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup
        self._cached: tuple[tuple[Any, ...], dict[Any, Any]] | None = None

    def for_session(
        self, binds: Mapping[Any, Any], mappers: Sequence[Any], tables: Mapping[str, Table]
    ) -> dict[Any, Any]:
        """The routes for these binds (bind key -> engine or connection), the
        models of ``mappers`` and the tables of ``tables`` (``metadata.tables``)."""
        key = (tuple(binds.items()), len(mappers), mappers[-1] if mappers else None, len(tables))
        cached = self._cached  # one read: its key and routes always match
        if cached is not None and cached[0] == key:
            return cached[1]
        routes = bind_routes(binds, self.lookup, mappers, tables.values())
        self._cached = (key, routes)
        return routes

    def clear(self) -> None:
        self._cached = None
