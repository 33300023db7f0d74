"""Flush-time work of relationships.

Before the flush plan is built (:func:`presort`):

* save-update cascade: related objects not yet in the session are added;
* what changed in each relationship becomes *key syncs*: "copy the primary
  key of object P into the foreign key columns of object C" (or clear them);
* removed one-to-many children are orphans: deleted with ``delete-orphan``,
  else their foreign key is cleared;
* deleted parents clear their loaded children's keys (unless
  ``passive_deletes="all"`` or a ``delete`` cascade already deletes them; with
  ``passive_deletes=True`` an unloaded collection is left to the database) and
  their association rows;
* many-to-many changes become association rows to insert or delete.

During the flush, syncs are applied right before a table's rows are written
(:func:`apply_syncs`), when the referenced rows have their keys; rows of a
self-referencing table are inserted in levels, parents first
(:func:`insert_levels`); ``post_update`` syncs become separate UPDATEs after
the INSERTs, which breaks row-level cycles.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from . import exc
from .mapping.collections import holds_none
from .mapping.relationships import MANYTOMANY, MANYTOONE, ONETOMANY, Relationship
from .state import NO_VALUE, InstanceState, instance_state

if TYPE_CHECKING:
    from .flushplan import FlushPlan
    from .mapping.mapper import Mapper
    from .protocols import SessionLike as Session


def _rels(mapper: Mapper) -> list[Relationship]:
    return [r for r in mapper.relationships.values() if not r.viewonly]


class _RelsOf(dict):  # type: ignore[type-arg]
    """``rels_of[mapper]``: :func:`_rels` memoised for one pass over many states."""

    def __missing__(self, mapper: Mapper) -> list[Relationship]:
        rels = self[mapper] = _rels(mapper)
        return rels


def presort(session: Session, plan: FlushPlan) -> None:
    mappers = {s.mapper for s in session.objects.new}
    mappers |= {s.mapper for s in session.objects.deleted}
    mappers |= {s.mapper for s in session.identity_map.modified}
    for registry in {m.registry for m in mappers}:
        registry.configure()
    # only the relationships of the objects being flushed do flush-time work;
    # a cascade can only reach further through one of them
    if not any(_rels(m) for m in mappers):
        return
    _changes(session, plan)
    _deletions(session, plan)


def _live(session: Session) -> list[tuple[InstanceState, Any]]:
    out = list(session.objects.new.items())
    for state in list(session.identity_map.modified):
        obj = state.obj()
        if obj is not None and state not in session.objects.deleted:
            out.append((state, obj))
    return out


def _cascade_save_update(session: Session) -> None:
    seen: set[InstanceState] = set()
    rels_of = _RelsOf()
    while True:
        todo = [(s, o) for s, o in _live(session) if s not in seen]
        if not todo:
            return
        for state, obj in todo:
            seen.add(state)
            for rel in rels_of[state.mapper]:
                if "save-update" not in rel.cascade:
                    continue
                for item in rel.related_objects(obj.__dict__):
                    if instance_state(item).session_id != session.hash_key:
                        session.add(item)


def _changes(session: Session, plan: FlushPlan) -> None:
    rels_of = _RelsOf()
    for state, obj in _live(session):
        rels = rels_of[state.mapper]
        if not rels:
            continue
        d = obj.__dict__
        for rel in rels:
            if rel.key in state.committed:
                _FLUSH[rel.direction].changed(session, plan, rel, state, obj, d)


class _DirectionFlush:
    """The flush-time work of one relationship direction."""

    def changed(self, session: Session, plan: FlushPlan, rel: Relationship,
                state: InstanceState, obj: Any, d: dict[str, Any]) -> None:
        """``obj.<rel>`` changed since the last flush: plan the key syncs / rows."""
        hist = rel.history(state, d)
        if not hist.has_changes():
            return
        if rel.uselist and holds_none(d.get(rel.key, ())):
            raise exc.FlushError(
                f"Can't flush None in the collection {rel.class_attribute} of "
                f"{exc.instance_str(obj)}: a collection holds "
                f"{rel.mapper.class_.__name__} objects only; remove the None"
            )
        self.collection_changed(session, plan, rel, state, obj, hist)

    def collection_changed(self, session: Session, plan: FlushPlan, rel: Relationship,
                           state: InstanceState, obj: Any, hist: Any) -> None:
        raise NotImplementedError

    def deleted(self, session: Session, plan: FlushPlan, rel: Relationship,
                state: InstanceState, obj: Any, d: dict[str, Any]) -> None:
        """``obj`` is being deleted: what happens to the objects ``rel`` relates it to."""
        if rel.passive_deletes and rel.key not in d:
            return
        original = state.committed.get(rel.key, NO_VALUE)
        if original is NO_VALUE or rel.is_view:
            original = rel.value_for_flush(obj)
        for child in rel._objects_in(original):
            self.child_of_deleted(session, plan, rel, obj, child)

    def child_of_deleted(self, session: Session, plan: FlushPlan, rel: Relationship,
                         obj: Any, child: Any) -> None:
        raise NotImplementedError


class _ManyToOneFlush(_DirectionFlush):
    """This object holds the foreign key: a change syncs the new target's key into it."""

    def changed(self, session: Session, plan: FlushPlan, rel: Relationship,
                state: InstanceState, obj: Any, d: dict[str, Any]) -> None:
        # an unknown old value (never loaded) set to None still clears the key
        current = d.get(rel.key, NO_VALUE)
        old = state.committed[rel.key]
        if current is NO_VALUE:
            if old is NO_VALUE and state.key is None:
                return  # set and deleted again before the INSERT: no change
            current = None
        if old is not current:
            if old is not NO_VALUE and old is not None:
                _single_parent_orphan(session, rel, old, obj)
            if current is not None and not _in_flush(session, rel, current, obj):
                return
            plan.add_sync(state, obj, rel, current)

    def deleted(self, session: Session, plan: FlushPlan, rel: Relationship,
                state: InstanceState, obj: Any, d: dict[str, Any]) -> None:
        # getattr: the keys of an expired object are loaded, not taken as NULL
        if rel.post_update and any(getattr(obj, k) is not None for k in rel.parent_keys):
            plan.post_updates.append(
                (state, obj, {rel.parent.column_attrs[k].column.key: None  # type: ignore[union-attr]
                              for k in rel.parent_keys})
            )


class _OneToManyFlush(_DirectionFlush):
    """The children hold the foreign key: added ones get the parent's key, removed
    ones are orphans; a deleted parent's children have their key cleared."""

    def collection_changed(self, session: Session, plan: FlushPlan, rel: Relationship,
                           state: InstanceState, obj: Any, hist: Any) -> None:
        for child in hist.added:
            _sync_child(session, plan, rel, child, obj)
        for child in hist.deleted:
            _orphan(session, plan, rel, child, obj)

    def child_of_deleted(self, session: Session, plan: FlushPlan, rel: Relationship,
                         obj: Any, child: Any) -> None:
        if "delete" in rel.cascade or rel.passive_deletes == "all":
            return  # passive_deletes=True: loaded children still get their key cleared
        cstate = instance_state(child)
        if cstate in session.objects.deleted or cstate.key is None:
            return
        if cstate.session_id == session.hash_key:
            plan.add_sync(cstate, child, rel, None)
            if not cstate.modified:
                cstate.mark_modified()


class _ManyToManyFlush(_DirectionFlush):
    """Changes are association rows to insert or delete."""

    def collection_changed(self, session: Session, plan: FlushPlan, rel: Relationship,
                           state: InstanceState, obj: Any, hist: Any) -> None:
        for child in hist.added:
            if _in_flush(session, rel, child, obj):
                plan.m2m.append((rel, obj, child, True))
        for child in hist.deleted:
            if instance_state(child).key is not None and state.key is not None:
                plan.m2m.append((rel, obj, child, False))
            _single_parent_orphan(session, rel, child, obj)

    def child_of_deleted(self, session: Session, plan: FlushPlan, rel: Relationship,
                         obj: Any, child: Any) -> None:
        if instance_state(child).key is not None:
            plan.m2m.append((rel, obj, child, False))


#: the flush-time work of each relationship direction
_FLUSH: dict[str, _DirectionFlush] = {
    MANYTOONE: _ManyToOneFlush(),
    ONETOMANY: _OneToManyFlush(),
    MANYTOMANY: _ManyToManyFlush(),
}


def _in_flush(session: Session, rel: Relationship, item: Any, owner: Any) -> bool:
    """Whether ``item``, which ``owner.<rel>`` now refers to, is in the session;
    if not, SQLAlchemy's warning: the change along ``rel`` is not written (an
    object attached through a backref event is not cascaded into the session)."""
    if instance_state(item).session_id == session.hash_key:
        return True
    warnings.warn(
        f"Object {exc.instance_str(item)} is not in the session: the change along "
        f"{rel.class_attribute} of {exc.instance_str(owner)} is not flushed. add() it "
        "(objects attached through a backref are not cascaded into the session)",
        exc.SAWarning,
        stacklevel=6,
    )
    return False


def _sync_child(session: Session, plan: FlushPlan, rel: Relationship, child: Any,
                parent: Any) -> None:
    cstate = instance_state(child)
    if not _in_flush(session, rel, child, parent):
        # not saved, but SQLAlchemy still copies the parent's key into it once
        # the parent's row is written
        plan.outside_syncs.setdefault(instance_state(parent).mapper, []).append(
            (child, rel, parent))
        return
    plan.add_sync(cstate, child, rel, parent)
    if cstate.key is not None and not cstate.modified:
        cstate.mark_modified()


def _orphan(session: Session, plan: FlushPlan, rel: Relationship, child: Any,
            parent: Any) -> None:
    cstate = instance_state(child)
    partner = rel.partner
    moved = False
    if partner is not None:
        now = child.__dict__.get(partner.key)
        # moved to another parent, which syncs its key: not an orphan
        moved = now is not None and now is not parent
    if cstate.session_id != session.hash_key:
        warnings.warn(
            f"Object {exc.instance_str(child)} is not in the session: its removal from "
            f"{rel.class_attribute} of {exc.instance_str(parent)} is not flushed",
            exc.SAWarning,
            stacklevel=6,
        )
        if not moved and "delete-orphan" not in rel.cascade:
            # not written, but SQLAlchemy still clears its key
            plan.outside_syncs.setdefault(instance_state(parent).mapper, []).append(
                (child, rel, None))
        return
    if moved:
        return
    if "delete-orphan" in rel.cascade:
        if cstate.key is None:
            session.objects.expunge_state(cstate)
        elif cstate not in session.objects.deleted:
            session.delete(child)
        return
    if cstate.key is not None:
        plan.add_sync(cstate, child, rel, None)
        if not cstate.modified:
            cstate.mark_modified()


def _single_parent_orphan(session: Session, rel: Relationship, item: Any, parent: Any) -> None:
    """Many-to-one / many-to-many ``delete-orphan`` (``single_parent=True``):
    ``item``, released by ``parent`` and taken by no other, is deleted."""
    if not rel.cascade.delete_orphan or rel.has_other_parent(item, parent):
        return
    istate = instance_state(item)
    if istate.session_id != session.hash_key:
        return
    if istate.key is None:
        session.objects.expunge_state(istate)
    elif istate not in session.objects.deleted:
        session.delete(item)


def _deletions(session: Session, plan: FlushPlan) -> None:
    for state, obj in list(session.objects.deleted.items()):
        d = obj.__dict__
        for rel in _rels(state.mapper):
            _FLUSH[rel.direction].deleted(session, plan, rel, state, obj, d)


# --------------------------------------------------------------------------- during the flush
def _source_values(rel: Relationship, source: Any) -> list[Any]:
    keys = rel.sync_source_keys
    sd = source.__dict__
    values = []
    for k in keys:
        v = sd.get(k, NO_VALUE)
        if v is NO_VALUE:
            v = getattr(source, k)
        values.append(v)
    return values


def dest_keys(rel: Relationship) -> list[str]:
    """The foreign key attributes a sync along ``rel`` writes."""
    return rel.sync_dest_keys


def known_source_values(rel: Relationship, source: Any) -> list[Any]:
    """The key values a sync from ``source`` will copy, as far as ``source``
    holds them now (None where not: not loaded, or not generated yet); no SQL."""
    sd = source.__dict__
    return [sd.get(k) for k in rel.sync_source_keys]


def _set_tracked(plan: FlushPlan, state: InstanceState, d: dict[str, Any], key: str,
                 value: Any) -> None:
    if key in d and d[key] == value and type(d[key]) is type(value):
        return
    if key not in state.committed:
        plan.undo.set(state.committed, key, d.get(key, NO_VALUE))
    if state.key is None:
        d[key] = value  # a new object keeps it even if the flush fails, as in SQLAlchemy
    else:
        plan.undo.set(d, key, value)


def apply_syncs(plan: FlushPlan, items: list[tuple[InstanceState, Any]]) -> None:
    """Copy referenced keys into the foreign key columns of ``items``."""
    syncs = plan.syncs
    if not syncs:
        return
    for state, obj in items:
        entries = syncs.get(state)
        if not entries:
            continue
        d = obj.__dict__
        for rel, source in sorted(entries, key=lambda e: e[1] is not None):
            dest = rel.sync_dest_keys
            if source is None:
                values = [None] * len(dest)
            else:
                values = _source_values(rel, source)
                if any(v is None for v in values):
                    raise exc.FlushError(
                        f"Can't copy the key of {exc.instance_str(source)} into "
                        f"{exc.instance_str(obj)} along {rel.class_attribute}: the related "
                        "object has no primary key yet. Add it to the session (or enable "
                        "the save-update cascade), or use post_update=True to break a cycle"
                    )
            for k, v in zip(dest, values):
                _set_tracked(plan, state, d, k, v)


def insert_levels(plan: FlushPlan, mapper: Mapper,
                  items: list[tuple[InstanceState, Any]]) -> list[list[tuple[InstanceState, Any]]]:
    """Split new rows of a self-referencing class into levels, parents first."""
    if not plan.syncs or not any(r.mapper is mapper for r in mapper.relationships.values()):
        return [items]
    position = {state: i for i, (state, _obj) in enumerate(items)}
    deps: dict[InstanceState, list[InstanceState]] = {}
    for state, _obj in items:
        for rel, source in plan.syncs.get(state, ()):
            if source is None or rel.post_update:
                continue
            sstate = instance_state(source)
            if sstate in position and sstate is not state:
                deps.setdefault(state, []).append(sstate)
    if not deps:
        return [items]
    level: dict[InstanceState, int] = {}

    def depth(state: InstanceState, trail: set[InstanceState]) -> int:
        if state in level:
            return level[state]
        if state in trail:
            raise exc.FlushError(
                f"Circular dependency between new {mapper.class_.__name__} objects: each "
                "row needs the other's key first. Mark one relationship post_update=True"
            )
        trail.add(state)
        value = 1 + max((depth(s, trail) for s in deps.get(state, ())), default=-1)
        trail.discard(state)
        level[state] = value
        return value

    for state, _obj in items:
        depth(state, set())
    out: dict[int, list[tuple[InstanceState, Any]]] = {}
    for item in items:
        out.setdefault(level[item[0]], []).append(item)
    return [out[k] for k in sorted(out)]


def apply_outside_syncs(plan: FlushPlan, mapper: Mapper | None) -> None:
    """Copy the key of each parent of ``mapper`` (None: all that are left) into
    its one-to-many children that are not in the session (or clear theirs, for
    removed ones). They are not flushed, yet SQLAlchemy sets their foreign key
    as a user-visible change, which no rollback undoes."""
    if mapper is None:
        todo = [s for syncs in plan.outside_syncs.values() for s in syncs]
        plan.outside_syncs.clear()
    else:
        todo = plan.outside_syncs.pop(mapper, ())
    deleted = plan.session.objects.deleted
    for child, rel, parent in todo:
        if instance_state(child) in deleted:
            continue
        dest = rel.sync_dest_keys
        values = [None] * len(dest) if parent is None else _source_values(rel, parent)
        for k, v in zip(dest, values):
            setattr(child, k, v)


def post_update_values(plan: FlushPlan) -> None:
    """Turn post_update syncs into UPDATEs now that every row has its key."""
    for state, obj, rel, source in plan.post_syncs:
        dest = rel.sync_dest_keys
        values = [None] * len(dest) if source is None else _source_values(rel, source)
        d = obj.__dict__
        for k, v in zip(dest, values):
            plan.undo.set(d, k, v)
        table_mapper = state.mapper
        plan.post_updates.append(
            (state, obj, {table_mapper.column_attrs[k].column.key: v for k, v in zip(dest, values)})
        )


def secondary_rows(plan: FlushPlan) -> None:
    """Association rows of many-to-many changes, de-duplicated across both sides."""
    seen: set[tuple[Any, ...]] = set()
    for rel, parent, child, adding in plan.m2m:
        pm, tm = rel.parent, rel.mapper
        row = {}
        for pc, sc in rel.secondary_parent_pairs:
            row[sc.key] = getattr(parent, pm.col_to_key[pc])  # type: ignore[union-attr]
        for tc, sc in rel.secondary_target_pairs:
            row[sc.key] = getattr(child, tm.col_to_key[tc])
        table = rel.secondary
        key = (table, adding, tuple(sorted(row.items())))
        if key in seen:
            continue
        seen.add(key)
        target = plan.secondary_inserts if adding else plan.secondary_deletes
        target.setdefault(table, []).append(row)  # type: ignore[arg-type]


def has_self_dependencies(mapper: Mapper) -> bool:
    return any(r.mapper is mapper and r.kind.copies_keys for r in _rels(mapper))
