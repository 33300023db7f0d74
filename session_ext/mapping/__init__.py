"""Declarative mapping of classes to Core tables."""

from .attributes import ColumnAttribute
from .dataclass_models import MappedAsDataclass
from .declarative import (
    DeclarativeBase,
    DeclarativeBaseNoMeta,
    Registry,
    declarative_base,
    declared_attr,
    is_mapped_class,
)
from .mapper import Mapper, class_mapper
from .typed import (
    DynamicMapped,
    InstrumentedAttribute,
    Mapped,
    MappedColumn,
    WriteOnlyMapped,
    mapped_column,
)

__all__ = [
    "ColumnAttribute",
    "DeclarativeBase",
    "DeclarativeBaseNoMeta",
    "DynamicMapped",
    "InstrumentedAttribute",
    "Mapped",
    "MappedAsDataclass",
    "MappedColumn",
    "WriteOnlyMapped",
    "mapped_column",
    "Mapper",
    "Registry",
    "class_mapper",
    "declarative_base",
    "declared_attr",
    "is_mapped_class",
]
