"""What the layers of the core need from the ones above them, stated at the bottom.

The core's modules import only downward (``docs/architecture.md``; the
import-linter contract in ``pyproject.toml`` checks it, type-only imports
included).  Where a lower layer handles an object made above it (the instance
state and the mapping layer hold a session, the transaction stack and the
flush hold a session and its transaction), it names the object by one of these
Protocols instead of importing its class:

* :class:`SessionLike` -- the package-internal face of a ``Session``: its public
  methods plus ``objects`` (the object bookkeeping, :mod:`session_ext.lifecycle`)
  and ``transactions`` (the transaction stack, :mod:`session_ext.transaction`).
* :class:`TransactionLike` -- a ``SessionTransaction`` as the bookkeeping sees it:
  what it flushed (so that a rollback can undo it).
* :class:`FlushResult` -- what a flush did, as the bookkeeping settles it.
* :class:`MapperLike` -- a mapper as the instance state sees it.

:data:`loaders` is the other direction's answer: the mapping layer's column
descriptors must load unloaded columns, which is the loading layer's job.
:mod:`session_ext.loading` registers its function here when imported
(importing ``session_ext`` imports it), and the descriptors call it through it.
(Relationship descriptors do the same through the loader strategy registry of
:mod:`session_ext.mapping.relationships.loaders`.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine, Result

# This module is the bottom layer: it names the package's own classes only in
# comments, never by import (not even a type-only one).
InstanceState = Any  # session_ext.state.InstanceState


class MapperLike(Protocol):
    class_: type
    pk_keys: tuple[str, ...]
    column_attr_keys: tuple[str, ...]
    relationships: dict[str, Any]
    attrs: Any

    def identity_key_from_values(self, values: Any) -> tuple[Any, ...]: ...
    def primary_key_from_dict(self, d: dict[str, Any]) -> tuple[Any, ...]: ...


class TransactionLike(Protocol):
    nested: bool
    flushed_new: dict[InstanceState, None]
    flushed_deleted: dict[InstanceState, object]
    flushed_dirty: set[InstanceState]
    key_switches: dict[InstanceState, tuple[Any, ...]]

    def connection_for_bind(self, bind: Any,
                            execution_options: dict[str, Any] | None = None) -> Connection: ...
    def check_active(self, operation: str) -> None: ...


class FlushResult(Protocol):
    whole_session: bool
    inserted: list[tuple[InstanceState, object]]
    updated: list[tuple[InstanceState, object]]
    deleted: list[tuple[InstanceState, object]]
    unchanged: Iterable[InstanceState]
    conflicts: list[InstanceState]
    replacing: dict[InstanceState, InstanceState]
    key_switches: list[tuple[InstanceState, tuple[Any, ...]]]


class SessionLike(Protocol):
    hash_key: int
    autoflush: bool
    expire_on_commit: bool
    autobegin: bool
    twophase: bool
    join_transaction_mode: str
    execution_options: dict[str, Any]
    n_plus_one: str | None
    n_plus_one_threshold: int
    info: dict[Any, Any]
    identity_map: Any  # session_ext.identity.IdentityMap
    objects: Any  # session_ext.lifecycle.ObjectBookkeeping
    transactions: Any  # session_ext.transaction.TransactionStack

    def get_bind(self, mapper: Any = None, clause: Any = None,
                 **kw: Any) -> Engine | Connection: ...
    def execute(self, statement: Any, params: Any = None, **kw: Any) -> Result[Any]: ...
    def scalars(self, statement: Any, params: Any = None, **kw: Any) -> Any: ...
    def flush(self, objects: Iterable[object] | None = None) -> None: ...
    def add(self, instance: object, _warn: bool = True) -> None: ...
    def delete(self, instance: object) -> None: ...
    def get(self, entity: Any, ident: Any, **kw: Any) -> Any: ...
    def expunge(self, instance: object) -> None: ...


class _Loaders:
    """The loading layer's functions the mapping layer calls (filled at import)."""

    #: ``(state, key)``: reload the unloaded columns of a persistent object
    load_expired_attributes: Callable[[Any, str | None], None]


loaders = _Loaders()
