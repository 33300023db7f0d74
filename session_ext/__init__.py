"""session_ext: an ORM-style Session on SQLAlchemy Core.

Unit of work, identity map, ``sessionmaker``, ``scoped_session`` and
``Model.query`` with the names of SQLAlchemy's ORM, built on
``sqlalchemy.engine``/``sql``/``schema`` only.
"""

from __future__ import annotations

from typing import Any

from . import events, exc, inspection  # noqa: F401  (register event and inspection targets)
from .aliasing import AliasedClass, aliased, with_polymorphic
from .deferral import defer, deferred, load_only, undefer, undefer_group, with_expression
from .dynamic import AppenderQuery, WriteOnlyCollection
from .execution import eager_statement
from .factory import create_session, sessionmaker
from .loader_criteria import with_loader_criteria
from .mapping import (
    DeclarativeBase,
    DeclarativeBaseNoMeta,
    DynamicMapped,
    InstrumentedAttribute,
    Mapped,
    MappedAsDataclass,
    MappedColumn,
    Mapper,
    Registry,
    WriteOnlyMapped,
    declarative_base,
    declared_attr,
    mapped_column,
)
from .mapping.attrevents import NO_VALUE, validates
from .mapping.attributes import query_expression
from .mapping.bundle import Bundle, DictBundle
from .mapping.mapper import class_mapper
from .mapping.relationships import (
    MANYTOMANY,
    MANYTOONE,
    ONETOMANY,
    CascadeOptions,
    InstrumentedList,
    Relationship,
    RelationshipDirection,
    backref,
    relationship,
)
from .mapping.relationships.sqljoin import with_parent
from .pagination import Pagination, paginate
from .query import Query
from .retry import run_in_transaction
from .scoping import Scope, current_scope, scope, scoped_session
from .session import (
    Session,
    close_all_sessions,
    make_transient,
    make_transient_to_detached,
    object_session,
)
from .state import History, InstanceState, instance_state
from .strategies import (
    Load,
    NPlusOneError,
    NPlusOneWarning,
    contains_eager,
    defaultload,
    immediateload,
    joinedload,
    lazyload,
    noload,
    raiseload,
    selectin_polymorphic,
    selectinload,
    subqueryload,
)

__version__ = "0.1.0"


def inspect(subject: Any) -> Any:
    """The :class:`InstanceState` of a mapped object, or the :class:`Mapper` of a
    mapped class (SQLAlchemy's attribute names: ``.transient``, ``.pending``,
    ``.persistent``, ``.deleted``, ``.detached``, ``.key``, ``.session``,
    ``.attrs.<name>.history``)."""
    if isinstance(subject, type):
        return class_mapper(subject)
    return instance_state(subject)


__all__ = [
    "NO_VALUE",
    "validates",
    "AliasedClass",
    "aliased",
    "with_polymorphic", "with_loader_criteria",
    "selectin_polymorphic",
    "AppenderQuery",
    "Bundle",
    "DictBundle",
    "Load",
    "defaultload",
    "immediateload",
    "subqueryload",
    "WriteOnlyCollection",
    "with_parent",
    "MANYTOMANY",
    "MANYTOONE",
    "ONETOMANY",
    "CascadeOptions",
    "DeclarativeBase",
    "DeclarativeBaseNoMeta",
    "DynamicMapped",
    "InstrumentedAttribute",
    "Mapped",
    "MappedAsDataclass",
    "MappedColumn",
    "Registry",
    "WriteOnlyMapped",
    "mapped_column",
    "History",
    "InstrumentedList",
    "NPlusOneError",
    "NPlusOneWarning",
    "InstanceState",
    "Mapper",
    "Pagination",
    "Query",
    "Relationship",
    "RelationshipDirection",
    "Scope",
    "Session",
    "class_mapper",
    "close_all_sessions",
    "backref",
    "create_session",
    "current_scope",
    "declarative_base",
    "declared_attr",
    "eager_statement",
    "exc",
    "inspect",
    "contains_eager",
    "defer",
    "deferred",
    "joinedload",
    "load_only",
    "query_expression",
    "undefer",
    "undefer_group",
    "with_expression",
    "lazyload",
    "noload",
    "make_transient",
    "make_transient_to_detached",
    "object_session",
    "paginate",
    "raiseload",
    "relationship",
    "run_in_transaction",
    "scope",
    "scoped_session",
    "selectinload",
    "sessionmaker",
]
