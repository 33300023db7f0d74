"""What one flush will do (:class:`FlushPlan`) and how to take back what it
wrote onto objects if it fails (:class:`UndoLog`).

Built by :mod:`session_ext.unitofwork`, filled in by :mod:`session_ext.dependency`
and :mod:`session_ext.persistence`, settled by the object bookkeeping
(:meth:`session_ext.lifecycle.ObjectBookkeeping.settle_flush`).  A module of its
own so that those modules need not import the unit of work to name it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.schema import Table

from .state import NO_VALUE, STATE_ATTR, InstanceState

if TYPE_CHECKING:
    from .mapping.mapper import Mapper
    from .protocols import SessionLike as Session
    from .transaction import SessionTransaction


_BATCH = object()


class UndoLog:
    """Attribute writes made during a flush, to put back if it fails."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: list[tuple[dict[str, Any], str, Any]] = []

    def set(self, d: dict[str, Any], key: str, value: Any) -> None:
        self.entries.append((d, key, d.get(key, NO_VALUE)))
        d[key] = value

    def unset(self, d: dict[str, Any], key: str) -> None:
        if key in d:
            self.entries.append((d, key, d.pop(key)))

    def set_new(self, dicts: list[dict[str, Any]], key: str, values: Any) -> None:
        """``d[key] = value`` for many objects that had no value for ``key`` (new
        rows' generated keys): one log entry for the whole batch."""
        for d, value in zip(dicts, values):
            d[key] = value
        self.entries.append((dicts, key, _BATCH))  # type: ignore[arg-type]

    def undo(self, inserted: set[InstanceState]) -> None:
        """Put back what the flush wrote, except on the new objects in
        ``inserted`` (their table's INSERTs all ran): as in SQLAlchemy, they keep
        their generated keys and defaults when the failed flush's rollback makes
        them transient."""
        for d, key, old in reversed(self.entries):
            if old is _BATCH:
                for each in d:  # type: ignore[attr-defined]
                    if each.get(STATE_ATTR) not in inserted:
                        each.pop(key, None)
                continue
            if inserted and d.get(STATE_ATTR) in inserted:
                continue
            if old is NO_VALUE:
                d.pop(key, None)
            else:
                d[key] = old
        self.entries.clear()


class FlushPlan:
    """Everything one flush will do, grouped per mapper."""

    def __init__(self, session: Session, tx: SessionTransaction,
                 whole_session: bool = True) -> None:
        self.session = session
        self.tx = tx
        self.undo = UndoLog()
        self.inserts: dict[Mapper, list[tuple[InstanceState, object]]] = {}
        self.updates: dict[Mapper, list[tuple[InstanceState, object]]] = {}
        self.deletes: dict[Mapper, list[tuple[InstanceState, object]]] = {}
        #: post-update rows (relationship cycles): (state, obj, {column key: value})
        self.post_updates: list[tuple[InstanceState, object, dict[str, Any]]] = []
        self.unchanged: list[InstanceState] = []
        self.inserted: list[tuple[InstanceState, object]] = []
        self.updated: list[tuple[InstanceState, object]] = []
        self.deleted: list[tuple[InstanceState, object]] = []
        #: association-table rows to write: (table, insert rows, delete rows) per table
        self.secondary_inserts: dict[Table, list[dict[str, Any]]] = {}
        self.secondary_deletes: dict[Table, list[dict[str, Any]]] = {}
        self.key_switches: list[tuple[InstanceState, tuple[Any, ...]]] = []
        #: key syncs per dependent state: [(relationship, source object or None)]
        self.syncs: dict[InstanceState, list[tuple[Any, Any]]] = {}
        #: syncs of post_update relationships: (state, obj, relationship, source)
        self.post_syncs: list[tuple[InstanceState, object, Any, Any]] = []
        #: many-to-many changes: (relationship, parent, child, adding)
        self.m2m: list[tuple[Any, Any, Any, bool]] = []
        #: one-to-many children outside the session, per parent mapper: (child, rel, parent or None)
        self.outside_syncs: dict[Mapper, list[tuple[Any, Any, Any]]] = {}
        #: new objects that replace a deleted row with the same key (written as UPDATE)
        self.replacing: dict[InstanceState, InstanceState] = {}
        #: True when the flush covers every object (no ``objects=`` subset)
        self.whole_session = whole_session
        #: persistent objects holding the key of a new row being INSERTed
        self.conflicts: list[InstanceState] = []
        #: the mapper whose INSERTs and UPDATEs are being emitted (see _kept_on_failure)
        self.emitting: Mapper | None = None

    def add_sync(self, state: InstanceState, obj: object, rel: Any, source: Any) -> None:
        if rel.post_update:
            self.post_syncs.append((state, obj, rel, source))
        else:
            self.syncs.setdefault(state, []).append((rel, source))

    def connection(self, mapper: Mapper | None, table: Table | None = None) -> Any:
        session = self.session
        if mapper is not None:
            bind = session.get_bind(mapper)
        else:
            bind = session.get_bind(None, clause=table)
        return self.tx.connection_for_bind(bind)
