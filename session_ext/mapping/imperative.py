"""Imperative mapping: ``registry.map_imperatively(cls, table, properties={...})``.

Maps a plain class (no declarative base) to an existing Core ``Table``, as
SQLAlchemy's ``registry.map_imperatively`` does: each column of the table
becomes an attribute named by its key, ``properties`` add relationships
(``relationship(...)``) or rename columns (``{"name": table.c.user_name}``).
The class keeps its own ``__init__``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Table

from .. import exc
from .mapper import Mapper


def map_imperatively(registry: Any, cls: type, table: Table,
                     properties: dict[str, Any] | None = None) -> Mapper:
    """Map ``cls`` to ``table`` in ``registry``; returns the new Mapper."""
    if not isinstance(table, Table):
        raise exc.ArgumentError(
            f"map_imperatively() needs a sqlalchemy Table, not {type(table).__name__}"
        )
    if "__mapper__" in vars(cls):
        raise exc.ArgumentError(f"Class {cls.__name__} is already mapped")
    mapper = Mapper(cls, table, registry)
    cls.__mapper__ = mapper  # type: ignore[attr-defined]
    cls.__table__ = table  # type: ignore[attr-defined]
    if "__clause_element__" not in vars(cls):
        cls.__clause_element__ = classmethod(_clause_element)  # type: ignore[attr-defined]
    others: dict[str, Any] = {}
    for key, prop in (properties or {}).items():
        if isinstance(prop, Column):
            if prop.table is not table:
                raise exc.ArgumentError(
                    f"Property {key!r} of {cls.__name__} names column {prop!r}, which is "
                    f"not a column of table {table.name!r}"
                )
            setattr(cls, key, mapper.add_column_attribute(key, prop))
        else:
            others[key] = prop
    mapper.configure_columns()
    for key, prop in others.items():
        declare = getattr(prop, "_se_declare", None)
        if declare is None:
            raise exc.ArgumentError(
                f"Property {key!r} of {cls.__name__}: expected a relationship() or a "
                f"Column of the table, got {type(prop).__name__}"
            )
        declare(mapper, key)
    registry.add(cls)
    return mapper


def _clause_element(cls: type) -> Any:
    return cls.__mapper__._selectable  # type: ignore[attr-defined]
