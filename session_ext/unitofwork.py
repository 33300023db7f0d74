"""The flush: decide what to write, in which order, and settle the outcome.

1. *Collect* the session's pending, changed and deleted objects (relationship
   processors first copy keys and decide orphans).
2. *Order* tables by the foreign key graph of their ``Table`` objects, so rows
   of a referenced table are inserted before rows that point at them (whether
   or not a relationship() is declared), and deleted after them.
3. *Emit*: per table, INSERTs then UPDATEs; then DELETEs in reverse table order
   (:mod:`session_ext.persistence` batches the rows).
4. *Settle*: only once every statement succeeded do objects change state
   (pending -> persistent, deleted -> deleted).  Values written onto objects
   during the flush (generated keys, defaults) are logged and put back if any
   statement fails, the transaction is rolled back, and the session raises
   ``PendingRollbackError`` until ``rollback()``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from sqlalchemy.schema import Table, sort_tables_and_constraints

from . import exc, persistence
from .state import NO_VALUE, InstanceState

if TYPE_CHECKING:
    from .mapping.mapper import Mapper
    from .session import Session
    from .transaction import SessionTransaction


@functools.lru_cache(maxsize=512)
def table_order(tables: frozenset[Table]) -> tuple[Table, ...]:
    """Tables sorted so that referenced tables come first (cycles broken arbitrarily)."""
    ordered = [t for t, _fkcs in sort_tables_and_constraints(tables) if t is not None]
    return tuple(t for t in ordered if t in tables)


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

    def undo(self) -> None:
        for d, key, old in reversed(self.entries):
            if old is NO_VALUE:
                d.pop(key, None)
            else:
                d[key] = old
        self.entries.clear()


class FlushPlan:
    """Everything one flush will do, grouped per mapper."""

    def __init__(self, session: Session, tx: SessionTransaction) -> None:
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

    def connection(self, mapper: Mapper | None, table: Table | None = None) -> Any:
        session = self.session
        if mapper is not None:
            bind = session.get_bind(mapper)
        else:
            bind = session.get_bind(None, clause=table)
        return self.tx.connection_for_bind(bind)


def _collect(session: Session, plan: FlushPlan, only: set[InstanceState] | None) -> None:
    for state, obj in list(session._new.items()):
        if only is not None and state not in only:
            continue
        plan.inserts.setdefault(state.mapper, []).append((state, obj))
    for state, obj in list(session._deleted.items()):
        if only is not None and state not in only:
            continue
        plan.deletes.setdefault(state.mapper, []).append((state, obj))
    deleting = session._deleted
    for state in list(session.identity_map._modified):
        if state in deleting or (only is not None and state not in only):
            continue
        obj = state.obj()
        if obj is None:
            continue
        plan.updates.setdefault(state.mapper, []).append((state, obj))


def _check_identity_conflicts(session: Session, plan: FlushPlan) -> None:
    imap = session.identity_map
    for mapper, items in plan.inserts.items():
        pk_keys = mapper.pk_keys
        for state, obj in items:
            d = obj.__dict__
            pk = tuple(d.get(k) for k in pk_keys)
            if None in pk:
                continue
            existing = imap.get_state(mapper.identity_key_from_values(pk))
            if existing is not None and existing is not state and existing.obj() is not None:
                if existing in session._deleted:
                    continue  # replacing a deleted row: DELETE runs first for this key
                raise exc.FlushError(
                    f"New instance {exc.instance_str(obj)} with identity key {pk!r} conflicts "
                    f"with persistent instance {exc.state_str(existing)} of "
                    f"{mapper.class_.__name__}; the primary key is already taken in this "
                    "session. Use merge() to update the existing row, or choose another key"
                )


def flush_session(session: Session, tx: SessionTransaction, objects: list[object] | None) -> None:
    from .state import instance_state

    only = None if objects is None else {instance_state(o) for o in objects}
    plan = FlushPlan(session, tx)
    try:
        _run_relationship_preprocess(session, plan)
        _collect(session, plan, only)
        _check_identity_conflicts(session, plan)
        _emit(plan)
    except BaseException as error:
        plan.undo.undo()
        tx.fail(error)
        raise
    _settle(session, tx, plan)


def _run_relationship_preprocess(session: Session, plan: FlushPlan) -> None:
    """Let relationships cascade pending objects and decide orphans before planning."""
    mappers = {s.mapper for s in session._new} | {s.mapper for s in session._deleted}
    mappers |= {s.mapper for s in session.identity_map._modified}
    for mapper in mappers:
        for rel in mapper.relationships.values():
            rel.presort(session, plan)


def _emit(plan: FlushPlan) -> None:
    mappers = set(plan.inserts) | set(plan.updates) | set(plan.deletes)
    for rel_mapper in list(mappers):
        for rel in rel_mapper.relationships.values():
            if rel.secondary is not None:
                mappers.add(rel.mapper)
    tables = frozenset(m.table for m in mappers)
    by_table: dict[Table, list[Mapper]] = {}
    for m in mappers:
        by_table.setdefault(m.table, []).append(m)
    order = table_order(tables)
    for table in order:
        for mapper in by_table.get(table, ()):
            items = plan.inserts.get(mapper)
            if items:
                _sync_before_insert(plan, mapper, items)
                persistence.insert_rows(plan, mapper, items)
                plan.inserted.extend(items)
            items = plan.updates.get(mapper)
            if items:
                _sync_before_update(plan, mapper, items)
                persistence.update_rows(plan, mapper, items)
    for rel_mapper in mappers:
        for rel in rel_mapper.relationships.values():
            rel.process_after_save(plan)
    persistence.write_post_updates(plan)
    persistence.write_secondary(plan, deletes=True)
    persistence.write_secondary(plan, deletes=False)
    for table in reversed(order):
        for mapper in by_table.get(table, ()):
            items = plan.deletes.get(mapper)
            if items:
                persistence.delete_rows(plan, mapper, items)
                plan.deleted.extend(items)


def _sync_before_insert(plan: FlushPlan, mapper: Mapper, items: list[Any]) -> None:
    for rel in mapper.relationships.values():
        rel.sync_before_save(plan, items)


def _sync_before_update(plan: FlushPlan, mapper: Mapper, items: list[Any]) -> None:
    for rel in mapper.relationships.values():
        rel.sync_before_save(plan, items)


def _settle(session: Session, tx: SessionTransaction, plan: FlushPlan) -> None:
    imap = session.identity_map
    new = session._new
    for state, obj in plan.inserted:
        d = obj.__dict__
        state.key = state.mapper.identity_key_from_values(state.mapper.primary_key_from_dict(d))
        new.pop(state, None)
        state.reset_changes()
        imap.add_state(state)
        tx._new[state] = None
    for state, old_key in plan.key_switches:
        # the identity key follows a flushed primary key change
        imap.remove_state(state)
        state.key = state.mapper.identity_key_from_values(
            state.mapper.primary_key_from_dict(state.obj().__dict__)  # type: ignore[union-attr]
        )
        imap.add_state(state)
        tx._key_switches.setdefault(state, old_key)
    for state, _obj in plan.updated:
        tx._dirty.add(state)
    for state in plan.unchanged:
        state.reset_changes()
        imap.release(state)
    for state, _obj in plan.updated:
        state.reset_changes()
        imap.release(state)
    deleting = session._deleted
    for state, obj in plan.deleted:
        deleting.pop(state, None)
        imap.remove_state(state)
        state.was_deleted = True
        tx._deleted[state] = obj
    for mapper in {s.mapper for s, _ in plan.inserted} | {s.mapper for s, _ in plan.updated}:
        for rel in mapper.relationships.values():
            rel.after_flush(plan)
