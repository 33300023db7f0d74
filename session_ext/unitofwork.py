"""The flush: decide what to write, in which order, and settle the outcome.

1. *Collect* the session's pending, changed and deleted objects (relationship
   processors first copy keys and decide orphans).
2. *Order* tables by the foreign key graph of their ``Table`` objects, so rows
   of a referenced table are inserted before rows that point at them (whether
   or not a relationship() is declared), and deleted after them.
3. *Emit*: per table, UPDATEs then INSERTs (INSERTs first for a self-referential
   table); then DELETEs in reverse table order
   (:mod:`session_ext.persistence` batches the rows).
4. *Settle*: only once every statement succeeded do objects change state
   (pending -> persistent, deleted -> deleted).  If any statement fails, the
   transaction (or SAVEPOINT) is rolled back and the session's objects are put
   back in step at once, as SQLAlchemy does: pending objects become transient
   (those of tables whose INSERTs all ran keep the generated keys and defaults
   the flush gave them, and new objects keep synced foreign keys), objects
   marked for deletion are not, persistent objects are expired (inside a
   SAVEPOINT: the changed ones); values the flush wrote onto persistent
   objects are put back first.  The session raises ``PendingRollbackError``
   until ``rollback()``.
"""

from __future__ import annotations

import functools
import logging
import warnings
from typing import TYPE_CHECKING, Any

from sqlalchemy.schema import Table, sort_tables_and_constraints

from . import _gc, dependency, exc, listening, persistence
from .flushplan import FlushPlan, UndoLog  # noqa: F401  (UndoLog: the older import path)
from .loading import row_is_gone
from .state import (
    NO_VALUE,
    InstanceState,
    _dead,
    expired_new,
    refuse_expired_new,
    sweep_dead,
)

if TYPE_CHECKING:
    from .mapping.mapper import Mapper
    from .protocols import SessionLike as Session
    from .transaction import SessionTransaction


log = logging.getLogger("session_ext.flush")


@functools.lru_cache(maxsize=512)
def table_order(tables: tuple[Table, ...], skip: frozenset[Any] = frozenset()) -> tuple[Table, ...]:
    """Tables sorted so that referenced tables come first, else in the given order.

    ``skip``: foreign key constraints written by post_update (they do not order
    tables); remaining cycles are broken arbitrarily.
    """

    def filter_fn(constraint: Any) -> bool | None:
        return True if constraint in skip else None

    pairs = sort_tables_and_constraints(tables, filter_fn=filter_fn)
    ordered = [t for t, _ in pairs if t is not None]
    return tuple(t for t in ordered if t in tables)


def _collect(session: Session, plan: FlushPlan, only: set[InstanceState] | None) -> None:
    inserts = plan.inserts
    last_mapper = None
    bucket: list[tuple[InstanceState, object]] = []
    for item in session.objects.new.items():
        state = item[0]
        if only is not None and state not in only:
            continue
        mapper = state.mapper
        if mapper is not last_mapper:
            last_mapper = mapper
            bucket = inserts.setdefault(mapper, [])
        bucket.append(item)
    for state, obj in list(session.objects.deleted.items()):
        if only is not None and state not in only:
            continue
        plan.deletes.setdefault(state.mapper, []).append((state, obj))
    deleting = session.objects.deleted
    for state in list(session.identity_map.modified):
        if state in deleting or (only is not None and state not in only):
            continue
        obj = state.obj()
        if obj is None:
            continue
        plan.updates.setdefault(state.mapper, []).append((state, obj))


def _check_identity_conflicts(session: Session, plan: FlushPlan) -> None:
    """New objects whose key an object in the session already has.

    As SQLAlchemy does: an expired holder of the key is reloaded first, and if
    its row is gone it counts as deleted (the new row takes the key); a live
    holder gets a warning and the INSERT goes ahead, so the database reports
    the duplicate key as the ``IntegrityError`` applications catch.
    """
    imap = session.identity_map
    if not imap.by_key:
        return
    for mapper, items in plan.inserts.items():
        pk_keys = mapper.pk_keys
        for state, obj in items:
            d = obj.__dict__
            pk = tuple(d.get(k) for k in pk_keys)
            try:
                if None in pk:
                    continue
            except TypeError:  # a SQL expression for the key: its INSERT makes it
                continue
            existing = imap.get_state(mapper.identity_key_from_values(pk))
            if existing is None or existing is state:
                continue
            holder = existing.obj()
            if holder is None:
                continue
            if existing in session.objects.deleted:
                continue  # replacing a deleted row: DELETE runs first for this key
            if existing.expired and row_is_gone(session, existing, holder):
                continue
            plan.conflicts.append(existing)
            warnings.warn(
                f"New instance {exc.instance_str(obj)} with identity key {pk!r} conflicts "
                f"with persistent instance {exc.state_str(existing)} of "
                f"{mapper.class_.__name__}; the INSERT will fail on the duplicate key. "
                "Use merge() to update the existing row, or delete it first",
                exc.SAWarning,
                stacklevel=4,
            )


def flush_session(session: Session, tx: SessionTransaction, objects: list[object] | None) -> None:
    from .state import instance_state

    if _dead:
        sweep_dead()
    only = None if objects is None else {instance_state(o) for o in objects}
    plan = FlushPlan(session, tx, whole_session=only is None)
    dispatch = session.dispatch if listening.session else None  # type: ignore[attr-defined]
    if dispatch is not None and dispatch.before_flush:
        dispatch.before_flush(session, plan, objects)
    debug = log.isEnabledFor(logging.DEBUG)
    objects = session.objects
    size = len(objects.new) + len(objects.deleted) + len(session.identity_map.modified)
    with _gc.paused(size):
        try:
            if expired_new:
                _check_expired_new(session)
            dependency.presort(session, plan)
            _collect(session, plan, only)
            _convert_replacements(session, plan)
            _check_identity_conflicts(session, plan)
            if plan.deletes:
                persistence.load_expired_deletes(plan)
            _emit(plan)
            if dispatch is not None:
                dispatch.after_flush(session, plan)
        except BaseException as error:
            plan.undo.undo(_kept_on_failure(plan))
            tx.fail(error)
            log.debug("flush failed and was rolled back: %r", error)
            raise
        session.objects.settle_flush(tx, plan)
    if dispatch is not None:
        dispatch.after_flush_postexec(session, plan)
    if debug:
        log.debug(
            "flush: %d inserted, %d updated, %d deleted (%s)",
            len(plan.inserted), len(plan.updated), len(plan.deleted),
            ", ".join(sorted({m.class_.__name__ for m in
                              set(plan.inserts) | set(plan.updates) | set(plan.deletes)})),
        )


def _check_expired_new(session: Session) -> None:
    """New objects whose INSERT was rolled back while their primary key was
    expired: SQLAlchemy cannot flush them until the key is set again."""
    for state in list(session.objects.new):
        if state in expired_new and state.expired:
            d = state.obj().__dict__  # type: ignore[union-attr]
            if all(k in d for k in state.mapper.pk_keys):
                # its key is known (set again, or never expired): SQLAlchemy INSERTs
                # it, other expired columns as not given
                state.expired = False
                expired_new.discard(state)
            else:
                refuse_expired_new(state, None)


def _kept_on_failure(plan: FlushPlan) -> set[InstanceState]:
    """The new objects that keep what the failed flush wrote onto them: those
    of tables done before the failure.  SQLAlchemy emits a table's UPDATEs and
    then its INSERTs, all rows of a table in one statement (mostly): if anything
    of the table failed, none of its new rows got keys or defaults."""
    failing = plan.emitting
    return {state for state, _obj in plan.inserted if state.mapper is not failing}


def _convert_replacements(session: Session, plan: FlushPlan) -> None:
    """A new object whose key is that of an object deleted in this flush takes
    over the row: one UPDATE instead of a DELETE and an INSERT."""
    if not plan.deletes or not plan.inserts:
        return
    for mapper, items in list(plan.inserts.items()):
        deleted = plan.deletes.get(mapper)
        if not deleted:
            continue
        by_key = {state.key: (state, obj) for state, obj in deleted}
        keep = []
        pk_keys = mapper.pk_keys
        for state, obj in items:
            d = obj.__dict__
            pk = tuple(d.get(k) for k in pk_keys)
            if plan.syncs and state in plan.syncs:
                pk = _synced_pk(plan, state, d, pk_keys, pk)
            old = by_key.get(mapper.identity_key_from_values(pk)) if None not in pk else None
            if old is None:
                keep.append((state, obj))
                continue
            old_state, old_obj = old
            deleted.remove(old)
            plan.deleted.append(old)
            for k, v in zip(pk_keys, pk):
                if d.get(k, NO_VALUE) is NO_VALUE:
                    plan.undo.set(d, k, v)  # the key the syncs will copy in: not a change
            for k in mapper.column_attr_keys:
                if k in d and k not in mapper.pk_keys:
                    plan.undo.set(state.committed, k, NO_VALUE)
            plan.updates.setdefault(mapper, []).append((state, obj))
            plan.replacing[state] = old_state
        plan.inserts[mapper] = keep


def _synced_pk(plan: FlushPlan, state: InstanceState, d: dict[str, Any],
               pk_keys: tuple[str, ...], pk: tuple[Any, ...]) -> tuple[Any, ...]:
    """The primary key a new object will have once its key syncs are applied
    (a child re-added to its parent's collection gets the parent's key), as
    far as the related objects already have keys."""
    values = dict(zip(pk_keys, pk))
    for rel, source in sorted(plan.syncs[state], key=lambda e: e[1] is not None):
        dest = dependency.dest_keys(rel)
        if source is None:
            for k in dest:
                values[k] = None
            continue
        src = dependency.known_source_values(rel, source)
        for k, v in zip(dest, src):
            values[k] = v
    return tuple(values[k] for k in pk_keys)


def _emit(plan: FlushPlan) -> None:
    # in the order of "module.ClassName" where dependencies leave a choice (also
    # between tables), as SQLAlchemy: which rows a failing flush wrote shows
    mappers = sorted(set(plan.inserts) | set(plan.updates) | set(plan.deletes),
                     key=lambda m: f"{m.class_.__module__}.{m.class_.__name__}")
    tables = tuple(dict.fromkeys(t for m in mappers for t in _tables_of(m)))
    skip = frozenset(
        fk.constraint
        for m in mappers
        for rel in m.relationships.values()
        if rel.post_update and rel._configured and rel.kind.copies_keys
        for _ref, col in rel.sync_pairs
        for fk in col.foreign_keys
    )
    by_table: dict[Table, list[Mapper]] = {}
    for m in mappers:
        by_table.setdefault(_tables_of(m)[0], []).append(m)
    order = table_order(tables, skip)
    for table in order:
        here = by_table.get(table, ())
        if len(here) > 1 or (here and here[0].table_parts):  # classes of one hierarchy
            _emit_shared_table(plan, here, order)
            continue
        for mapper in here:
            plan.emitting = mapper
            # UPDATEs first, as SQLAlchemy does (a row renamed away frees a unique
            # value for a new row), unless they may point at the table's new rows
            updates_first = not mapper.has_self_reference
            if updates_first:
                _emit_updates(plan, mapper)
            items = plan.inserts.get(mapper)
            if items:
                _insert(plan, mapper, items)
            if not updates_first:
                _emit_updates(plan, mapper)
            if plan.outside_syncs:
                dependency.apply_outside_syncs(plan, mapper)
    plan.emitting = None
    if plan.outside_syncs:
        dependency.apply_outside_syncs(plan, None)
    dependency.post_update_values(plan)
    persistence.write_post_updates(plan)
    if plan.m2m:
        dependency.secondary_rows(plan)
        persistence.write_secondary(plan, deletes=True)
        persistence.write_secondary(plan, deletes=False)
    _emit_deletes(plan, mappers, order)


def _tables_of(mapper: Mapper) -> list[Table]:
    """The tables a flush writes for ``mapper``'s objects, root first."""
    parts = mapper.table_parts
    return [p.local_table for p in parts] if parts else [mapper.local_table]


def _emit_deletes(plan: FlushPlan, mappers: list[Mapper], order: tuple[Table, ...]) -> None:
    """DELETEs, dependent tables first (joined-table inheritance: each table's
    rows at that table's place, the subclass's before the base's)."""
    for table in reversed(order):
        for mapper in mappers:
            items = plan.deletes.get(mapper)
            if items and not mapper.table_parts and mapper.local_table is table:
                if listening.mapper:
                    _fire(plan, mapper, "before_delete", items)
                persistence.delete_rows(plan, mapper, items)
                if listening.mapper:
                    _fire(plan, mapper, "after_delete", items)
                plan.deleted.extend(items)
        # the classes of a joined hierarchy: one DELETE per table for all of them
        first = None
        rows: list[Any] = []
        finished: list[tuple[Mapper, list[Any]]] = []
        for mapper in mappers:
            items = plan.deletes.get(mapper)
            for part in mapper.table_parts if items else ():
                if part.local_table is table:
                    first = first or part
                    rows.extend(items)
                    if listening.mapper and part is mapper.table_parts[-1]:
                        _fire(plan, mapper, "before_delete", items)  # its first DELETE
                    if part is mapper.table_parts[0]:
                        plan.deleted.extend(items)
                        finished.append((mapper, items))
        if first is not None:
            persistence.delete_rows(plan, first, rows)
        if listening.mapper:
            for mapper, items in finished:
                _fire(plan, mapper, "after_delete", items)


def _emit_shared_table(plan: FlushPlan, mappers: list[Mapper],
                       order: tuple[Table, ...] = ()) -> None:
    """The rows of several classes sharing one table: UPDATEs, then the new rows
    in the order they were added (as SQLAlchemy does), each run of one class
    in one go."""
    for mapper in mappers:
        plan.emitting = mapper
        _emit_updates(plan, mapper)
    pending = {m: plan.inserts[m] for m in mappers if plan.inserts.get(m)}
    if not pending:
        return
    states = {state for items in pending.values() for state, _obj in items}
    run: list[Any] = []
    run_mapper: Any = None
    runs: list[tuple[Mapper, list[Any]]] = []
    for state, obj in plan.session.objects.new.items():
        if state not in states:
            continue
        if state.mapper is not run_mapper:
            run_mapper, run = state.mapper, []
            runs.append((run_mapper, run))
        run.append((state, obj))
    if any(m.table_parts for m in mappers):
        _insert_joined_runs(plan, runs, order)
        return
    for mapper, items in runs:
        plan.emitting = mapper
        _insert(plan, mapper, items)


def _insert(plan: FlushPlan, mapper: Mapper, items: list[Any]) -> None:
    """The INSERTs of ``mapper``'s new objects, level by level (self-references)."""
    for level in dependency.insert_levels(plan, mapper, items):
        dependency.apply_syncs(plan, level)
        if listening.mapper:
            _fire(plan, mapper, "before_insert", level)
        persistence.insert_rows(plan, mapper, level)
        if listening.mapper:
            _fire(plan, mapper, "after_insert", level)
    plan.inserted.extend(items)


def _insert_joined_runs(plan: FlushPlan, runs: list[tuple[Mapper, list[Any]]],
                        order: tuple[Table, ...]) -> None:
    """Joined-table inheritance, as SQLAlchemy: a table at a time, the rows of
    each table in the order the objects were added (a self-referencing
    class's levels go one after the other, each through all its tables)."""
    deferred = []
    for mapper, items in runs:
        plan.emitting = mapper
        levels = dependency.insert_levels(plan, mapper, items)
        if len(levels) > 1:
            for level in levels:
                dependency.apply_syncs(plan, level)
                if listening.mapper:
                    _fire(plan, mapper, "before_insert", level)
                persistence.insert_rows(plan, mapper, level)
                if listening.mapper:
                    _fire(plan, mapper, "after_insert", level)
        else:
            dependency.apply_syncs(plan, items)
            if listening.mapper:
                _fire(plan, mapper, "before_insert", items)
            deferred.append((mapper, items))
        plan.inserted.extend(items)
    for table in order:
        for mapper, items in deferred:
            for part in mapper.table_parts or (mapper,):
                if part.local_table is table:
                    plan.emitting = mapper
                    persistence.insert_rows(plan, part, items)
    if listening.mapper:
        for mapper, items in deferred:
            _fire(plan, mapper, "after_insert", items)


def _emit_updates(plan: FlushPlan, mapper: Mapper) -> None:
    items = plan.updates.get(mapper)
    if items:
        dependency.apply_syncs(plan, items)
        if listening.mapper:
            _fire(plan, mapper, "before_update", items)
        persistence.update_rows(plan, mapper, items)
        if listening.mapper:
            _fire(plan, mapper, "after_update", items)


def _fire(plan: FlushPlan, mapper: Mapper, name: str, items: list[Any]) -> None:
    """Fire the mapper event ``name`` for each object: the mapper's own
    listeners, then those of its mapped base classes registered with
    ``propagate=True`` (only called when mapper listeners exist)."""
    calls = []
    own = getattr(mapper.dispatch, name)  # type: ignore[attr-defined]
    if own:
        calls.append(list(own))
    for base in mapper.class_.__mro__[1:]:
        base_mapper = base.__dict__.get("__mapper__")
        if base_mapper is not None and base_mapper is not mapper:
            coll = getattr(base_mapper.dispatch, name)
            if coll:
                calls.append([fn for fn in coll if fn in getattr(coll, "propagate", ())])
    fns = [fn for group in calls for fn in group]
    if not fns:
        return
    conn = plan.connection(mapper)
    for _state, obj in items:
        for fn in fns:
            fn(mapper, conn, obj)
