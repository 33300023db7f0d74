"""``sqlalchemy.inspect()`` of session_ext objects and classes.

Registers with Core's inspection registry, so that ``sqlalchemy.inspect(obj)``
returns the object's :class:`~session_ext.InstanceState` and
``sqlalchemy.inspect(Model)`` its :class:`~session_ext.Mapper`, as they do for
SQLAlchemy ORM classes.  Core offers no public registration call:
:func:`session_ext.compat.register_inspection` wraps its private one.

Covered: instances and classes of declarative bases.  Classes mapped with
``registry.map_imperatively`` are plain classes (their metaclass is ``type``,
which the ORM itself registers): use ``session_ext.inspect()`` for them.
"""

from __future__ import annotations

from typing import Any

from .compat import register_inspection
from .mapping.declarative import DeclarativeBase, _MappedClassMeta
from .mapping.mapper import class_mapper
from .state import instance_state


def _inspect_instance(obj: Any) -> Any:
    return instance_state(obj)


def _inspect_class(cls: Any) -> Any:
    if "__mapper__" not in vars(cls):
        return None  # a declarative base or an abstract class: not mapped
    return class_mapper(cls)


def register() -> None:
    """Register session_ext's inspection targets with Core (once)."""
    register_inspection(DeclarativeBase, _inspect_instance)
    register_inspection(_MappedClassMeta, _inspect_class)


register()
