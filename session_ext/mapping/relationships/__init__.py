"""Relationships between mapped classes; see :mod:`.relationship`.

The package holds one module per job: :mod:`.config` (arguments, declaration,
introspection), :mod:`.joins` (join analysis, keys, lazy-load SELECT),
:mod:`.directions` (one-to-many, many-to-one, many-to-many as objects),
:mod:`.comparator` (SQL operators), :mod:`.attribute` (the descriptor),
:mod:`.backrefs`, :mod:`.history`, :mod:`.cascades` and :mod:`.loaders`
(the registry of loader strategies).
"""

from ..collections import InstrumentedList, members, not_in
from .cascades import CascadeOptions, parse_cascade
from .directions import (
    DIRECTIONS,
    MANYTOMANY,
    MANYTOONE,
    ONETOMANY,
    Direction,
    RelationshipDirection,
    register_direction,
)
from .loaders import LOADER_STRATEGIES, LoaderStrategy, register_loader
from .relationship import (
    Relationship,
    _UnconfiguredRelationship,
    backref,
    configure_registry,
    relationship,
)

__all__ = [
    "DIRECTIONS",
    "LOADER_STRATEGIES",
    "MANYTOMANY",
    "MANYTOONE",
    "ONETOMANY",
    "CascadeOptions",
    "Direction",
    "InstrumentedList",
    "LoaderStrategy",
    "Relationship",
    "RelationshipDirection",
    "_UnconfiguredRelationship",
    "backref",
    "configure_registry",
    "members",
    "not_in",
    "parse_cascade",
    "register_direction",
    "register_loader",
    "relationship",
]
