"""Instrumented column attributes.

On the class, ``User.name`` is the mapped :class:`~sqlalchemy.schema.Column`
itself, so every Core expression works unchanged (``User.name == "x"``,
``User.id.in_([...])``, ``select(User.id)``).  On an instance it reads the
value from ``obj.__dict__`` and records the old value on first change.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from .. import exc
from ..protocols import loaders
from ..state import (
    NO_VALUE,
    STATE_ATTR,
    InstanceState,
    expired_new,
    instance_state,
    refuse_expired_new,
)

if TYPE_CHECKING:
    from sqlalchemy.schema import Column

    from ..protocols import MapperLike as Mapper  # mapper.py imports this module


#: deferred columns (``mapped_column(deferred=True)``, ``deferred()``):
#: column -> (deferred_group or None, raiseload); read by the mapper
DEFERRED_COLUMNS: weakref.WeakKeyDictionary[Any, tuple[str | None, bool]] = (
    weakref.WeakKeyDictionary())


class ColumnAttribute:
    """Descriptor for one column-mapped attribute."""

    is_relationship = False

    __slots__ = ("mapper", "key", "column", "_compare", "_is_pk")

    def __init__(self, mapper: Mapper, key: str, column: Column[Any]) -> None:
        self.mapper = mapper
        self.key = key
        self.column = column
        self._compare = column.type.compare_values
        self._is_pk = bool(column.primary_key)

    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:
            return self.column
        try:
            return obj.__dict__[self.key]
        except KeyError:
            return self._load_missing(obj)

    def __set__(self, obj: object, value: Any) -> None:
        d = obj.__dict__
        state = d.get(STATE_ATTR)
        if state is None or state.key is None:
            # transient or pending: the INSERT will carry whatever is set; no history
            d[self.key] = value
            return
        if self._is_pk and self.key not in d and self.key not in state.committed:
            # an expired primary key is loaded before it changes, as SQLAlchemy
            # does (it keeps the old key's history); raises if the row is gone
            loaders.load_expired_attributes(state, self.key)
        if not state.modified:
            # the first change: the session holds the object strongly and begins
            # its transaction if needed (which may raise: nothing is changed then)
            state.mark_modified()
        key = self.key
        if key not in state.committed:
            state.committed[key] = d.get(key, NO_VALUE)
        d[key] = value

    def __delete__(self, obj: object) -> None:
        d = obj.__dict__
        if self.key not in d:
            raise AttributeError(self.key)
        self.__set__(obj, None)

    def _load_missing(self, obj: object) -> Any:
        state: InstanceState = instance_state(obj)
        if state.key is None:
            if state.expired and state in expired_new and not (
                state.known_none and self.key in state.known_none
            ):  # expired before the rollback (one its INSERT left out is still None)
                refuse_expired_new(state, self.key)
            # transient / pending: a never-set column reads as None, as in SQLAlchemy
            return None
        known_none = state.known_none
        if known_none and self.key in known_none:
            return None  # left out of the INSERT: NULL, and not loaded (no SQL)
        options = state.load_options
        if options and options.get(self.key) == "raise":
            raise exc.InvalidRequestError(
                f"'{self.mapper.class_.__name__}.{self.key}' is not available due to "
                "raiseload=True"
            )
        loaders.load_expired_attributes(state, self.key)
        return obj.__dict__.get(self.key)

    def values_differ(self, old: Any, new: Any) -> bool:
        if old is new:
            return False
        try:
            return not self._compare(old, new)
        except Exception:  # incomparable values: treat as changed
            return True

    # class-level helpers ----------------------------------------------------
    def __repr__(self) -> str:
        return f"<ColumnAttribute {self.mapper.class_.__name__}.{self.key}>"


class ExpressionAttribute:
    """``query_expression()``: an attribute a query fills with
    ``with_expression(attr, expr)``; None on objects loaded without it (or
    its ``default_expr``'s value).  On the class it is this descriptor."""

    is_relationship = False
    is_column_expression = True

    def __init__(self, default_expr: Any = None) -> None:
        self.default_expr = default_expr
        self.key: str = ""
        self.mapper: Any = None

    def _se_declare(self, mapper: Any, key: str) -> None:
        self.mapper = mapper
        self.key = key
        mapper.expressions[key] = self

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = name

    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return obj.__dict__.get(self.key)

    def __repr__(self) -> str:
        owner = self.mapper.class_.__name__ if self.mapper is not None else "?"
        return f"<query_expression {owner}.{self.key}>"


def query_expression(default_expr: Any = None) -> Any:
    """A mapped attribute loaded only by ``with_expression()`` (see
    :class:`ExpressionAttribute`)."""
    return ExpressionAttribute(default_expr)
