"""Declarative mapping of classes to Core tables."""

from .attributes import ColumnAttribute
from .declarative import DeclarativeBase, Registry, declarative_base, declared_attr, is_mapped_class
from .mapper import Mapper, class_mapper

__all__ = [
    "ColumnAttribute",
    "DeclarativeBase",
    "Mapper",
    "Registry",
    "class_mapper",
    "declarative_base",
    "declared_attr",
    "is_mapped_class",
]
