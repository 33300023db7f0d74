"""Bind routing: which engine or connection a mapped class, table or statement uses.

:class:`BindRouter` holds a session's ``binds={...}`` (mapped classes, base
classes and tables) and answers ``Session.get_bind``: the class and its bases
first, then the mapper's table, then the tables a statement touches.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Engine

from . import exc
from .compat import find_tables, unannotated
from .mapping.mapper import Mapper, entity_of, mapper_for_table


class BindRouter:
    """A session's ``binds``: class / base class / table -> engine or connection."""

    __slots__ = ("binds",)

    def __init__(self) -> None:
        self.binds: dict[Any, Engine | Connection] = {}

    def __bool__(self) -> bool:
        return bool(self.binds)

    def add(self, key: Any, bind: Engine | Connection) -> None:
        if isinstance(key, (Table, type)):
            self.binds[key] = bind
        elif isinstance(key, Mapper):
            self.binds[key.class_] = bind
        else:
            raise exc.ArgumentError(
                f"binds keys must be mapped classes, base classes or Table objects, "
                f"not {key!r}"
            )

    def route(self, mapper: Any, clause: Any) -> Engine | Connection | None:
        """The bind configured for ``mapper`` or the tables of ``clause``, or None."""
        binds = self.binds
        if mapper is not None:
            cls = mapper.class_ if isinstance(mapper, Mapper) else mapper
            if isinstance(cls, type):
                for klass in cls.__mro__:
                    bind = binds.get(klass)
                    if bind is not None:
                        return bind
                m = cls.__dict__.get("__mapper__")
                if m is not None and m.table in binds:
                    return binds[m.table]
        if clause is not None:
            for table in find_tables(clause, include_crud=True):
                bind = self._for_table(table)
                if bind is not None:
                    return bind
        return None

    def _for_table(self, table: Any) -> Engine | Connection | None:
        binds = self.binds
        bind = binds.get(table)
        if bind is not None:
            return bind
        m = entity_of(table) or mapper_for_table(table)
        if m is None:
            base = unannotated(table)
            return binds.get(base) if base is not table else None
        for klass in m.class_.__mro__:
            bind = binds.get(klass)
            if bind is not None:
                return bind
        return None


def unbound_error(mapper: Any, clause: Any) -> exc.UnboundExecutionError:
    what = []
    if mapper is not None:
        what.append(f"mapper {getattr(mapper, '__name__', mapper)!r}")
    if clause is not None:
        what.append(f"SQL expression {str(clause)[:60]!r}")
    return exc.UnboundExecutionError(
        f"Could not locate a bind configured on {' or '.join(what) or 'this Session'}: "
        "pass bind=engine to Session()/sessionmaker(), or map the class or table in "
        "binds={...}"
    )
