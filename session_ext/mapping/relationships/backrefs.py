"""Backrefs: ``back_populates``/``backref`` pair two relationships, and a change
on one side updates the other in Python before any flush (without echoing
back). Attaching an object also applies the ``save-update`` cascade at once,
and detaching a pending one from a ``delete-orphan`` collection expunges it."""

from __future__ import annotations

from typing import Any

from ... import exc
from ...state import NO_VALUE, InstanceState, instance_state


class BackrefEvents:
    """Pairing with the other side, and keeping it in step."""

    def _partner(self) -> Any | None:
        if self.back_populates:
            rel = self.mapper.relationships.get(self.back_populates)
            return rel if getattr(rel, "is_relationship", False) else None
        return None

    def _setup_backref(self) -> None:
        if self.backref:
            name, kw = (self.backref, {}) if isinstance(self.backref, str) else self.backref
            if name in self.mapper.attrs:
                raise exc.ArgumentError(
                    f"backref {name!r} of {self.class_attribute} collides with the existing "
                    f"attribute {self.mapper.class_.__name__}.{name}"
                )
            other_kw = dict(
                back_populates=self.key, backref=None, uselist=None, secondary=self.secondary,
                primaryjoin=self._secondaryjoin if self.secondary is not None else None,
                secondaryjoin=self._primaryjoin if self.secondary is not None else None,
                foreign_keys=self._foreign_cols and list(self._foreign_cols),
                remote_side=None, order_by=None, lazy="select",
                cascade="save-update, merge", passive_deletes=False,
                post_update=False, viewonly=self.viewonly,
            )
            if self.secondary is None and self._primaryjoin is not None:
                other_kw["primaryjoin"] = self._primaryjoin
            if self.parent.table is self.mapper.table and self.secondary is None:  # type: ignore[union-attr]
                # self-referential: the other side's remote columns are this side's local ones
                other_kw["remote_side"] = [c for c, _ in self._sides()[0]]
            other_kw.update(kw)
            other = type(self)(self.parent.class_, **other_kw)  # type: ignore[union-attr]
            other._se_declare(self.mapper, name)
            self.back_populates = name
            other.configure()
        partner = self._partner()
        if self.back_populates and partner is None:
            raise exc.ArgumentError(
                f"back_populates={self.back_populates!r} on {self.class_attribute}: "
                f"{self.mapper.class_.__name__} has no relationship of that name"
            )
        if partner is not None and partner.back_populates is None:
            partner.back_populates = self.key
        self.partner = partner

    def _add_to(self, target: Any, item: Any) -> None:
        """``target.<self.key>`` now includes/points to ``item``."""
        d = target.__dict__
        tstate = instance_state(target)
        if self.uselist:
            coll = d.get(self.key)
            if coll is None:
                if tstate.key is not None:
                    # not loaded: the database will say it on load; the object
                    # counts as modified all the same (session.dirty), as in SQLAlchemy
                    if not tstate.modified:
                        tstate.mark_modified()
                    return
                coll = self.unsaved_empty(tstate)  # goes into __dict__ with the append
            coll._append_quiet(item)  # twice if appended twice on the other side, as in SA
        else:
            old = self._known_value(target)
            if old is item:
                return
            if not tstate.modified:
                tstate.mark_modified()
            if old is not NO_VALUE and old is not None and self.partner is not None:
                self.partner._remove_from(old, target)
            if self.key not in tstate.committed:
                tstate.committed[self.key] = old
            d[self.key] = item

    def _remove_from(self, target: Any, item: Any) -> None:
        d = target.__dict__
        tstate = instance_state(target)
        if self.uselist:
            coll = d.get(self.key)
            if coll is None and tstate.key is None:
                # transient/pending: the empty collection, which the event below
                # makes the object's value, as in SQLAlchemy
                coll = self.unsaved_empty(tstate)
            if coll is not None:
                # the remove event fires even when ``item`` is not a member (SQLAlchemy
                # then ignores the ValueError): the object counts as changed
                coll._before_change()
                coll._remove_quiet(item)
            elif tstate.key is not None and not tstate.modified:
                tstate.mark_modified()  # not loaded: modified all the same, as in SQLAlchemy
            if "delete-orphan" in self.cascade:
                istate = instance_state(item)
                session = tstate.session
                if istate.key is None and session is not None and istate.session is session:
                    session.expunge(item)  # a pending orphan is never inserted
        else:
            current = self._known_value(target)
            # unknown: ``target`` was in ``item``'s collection, so it pointed at ``item``
            if current is item or (current is NO_VALUE and tstate.key is not None):
                if not tstate.modified:
                    tstate.mark_modified()
                if self.key not in tstate.committed:
                    tstate.committed[self.key] = item
                d[self.key] = None

    # called with the objects (never None) added to / removed from a collection
    def _collection_added(self, state: InstanceState, item: Any) -> Any:
        self._check_type(item)
        if self.single_parent:
            self.claim_single_parent(state.obj(), item)
        # the cascade first, as in SQLAlchemy: when it refuses the item (an object
        # of another session), the backref has not run and nothing changed
        self._cascade_on_attach(state, item)
        owner = state.obj()
        if self.partner is not None and owner is not None:
            self.partner._add_to(item, owner)
        return item  # attribute events may put another object in (see mapping/attrevents.py)

    def _collection_removed(self, state: InstanceState, item: Any) -> None:
        owner = state.obj()
        if self.partner is not None and owner is not None:
            self.partner._remove_from(item, owner)
        if "delete-orphan" in self.cascade:
            istate = instance_state(item)
            session = istate.session
            if istate.key is None and session is not None:
                session.expunge(item)  # a pending orphan is simply never inserted

    def _cascade_on_attach(self, state: InstanceState, item: Any) -> None:
        if "save-update" not in self.cascade or self.viewonly:
            return
        session = state.session
        if session is not None:
            istate = instance_state(item)
            if istate.session_id != session.hash_key:
                session.add(item)

