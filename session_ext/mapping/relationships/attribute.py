"""The relationship as an instance attribute: reading (loading on first
access through the registered loader strategy), setting and deleting, with the
first change recording the original value in the object's state."""

from __future__ import annotations

from typing import Any

from ... import exc
from ...state import NO_VALUE, STATE_ATTR, InstanceState, instance_state
from ..collections import InstrumentedList, members, not_in
from .loaders import LOADER_STRATEGIES


class RelationshipAttribute:
    """The descriptor protocol of a relationship."""

    #: read through a view (``lazy="dynamic"``/``"write_only"``), never loaded whole
    is_view = False

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        try:
            return obj.__dict__[self.key]
        except KeyError:
            d = obj.__dict__
            state = d.get(STATE_ATTR)
            if self._deleted(state, d):
                # empty until flushed, not reloaded
                if self.uselist:
                    value = d[self.key] = InstrumentedList((), state, self)
                    return value
                return None
            return self.load(obj)

    def load(self, obj: Any) -> Any:
        """The value of the unloaded relationship on ``obj``, by its loader strategy
        (the relationship's ``lazy=``, or a query's loader option for this object)."""
        self.parent.registry.configure()  # type: ignore[union-attr]
        state = instance_state(obj)
        if state.key is None:
            # never loaded: empty, but not a value to flush or merge until changed
            return self.unsaved_empty(state) if self.uselist else None
        strategy = self.lazy
        options = state.load_options
        if options and self.key in options:
            strategy = options[self.key]
        return LOADER_STRATEGIES[strategy].on_access(self, state, obj)

    def value_for_flush(self, obj: Any) -> Any:
        """The value the flush needs (a deleted parent's children): loaded even
        where reading the attribute would raise (``lazy="raise"``/``"raise_on_sql"``,
        ``raiseload()``), as SQLAlchemy's unit of work does."""
        value = obj.__dict__.get(self.key, NO_VALUE)
        if value is not NO_VALUE:
            return value
        state = instance_state(obj)
        strategy = (state.load_options or {}).get(self.key, self.lazy)
        if strategy in ("raise", "raise_on_sql") and state.key is not None:
            return LOADER_STRATEGIES["select"].on_access(self, state, obj)
        return getattr(obj, self.key)

    def _deleted(self, state: InstanceState | None, d: dict[str, Any]) -> bool:
        """Deleted with ``del obj.rel``: the original is recorded but there is no value."""
        return state is not None and self.key in state.committed and self.key not in d

    def empty_value(self, state: InstanceState) -> Any:
        return InstrumentedList((), state, self) if self.uselist else None

    def unsaved_empty(self, state: InstanceState) -> InstrumentedList:
        """The empty collection a transient/pending object shows for this
        relationship: the same list on every read, kept out of ``__dict__``
        (so merge() and the flush do not take it for a value) until its first
        change puts it there."""
        empties = state.empty_collections
        if empties is None:
            empties = state.empty_collections = {}
        coll = empties.get(self.key)
        if coll is None:
            coll = empties[self.key] = InstrumentedList((), state, self)
        return coll

    def __set__(self, obj: Any, value: Any) -> None:
        """Checks, then the owner's first-change bookkeeping (which may refuse: no
        transaction may begin), then backrefs and cascades, then the value itself:
        a refused change leaves everything as it was."""
        self.parent.registry.configure()  # type: ignore[union-attr]
        d = obj.__dict__
        state = d.get(STATE_ATTR) or instance_state(obj)
        if self.uselist:
            self._set_collection(obj, d, state, value)
        else:
            self._set_scalar(obj, d, state, value)

    def _set_collection(self, obj: Any, d: dict[str, Any], state: InstanceState,
                        value: Any) -> None:
        key = self.key
        if value is None or isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise TypeError(
                f"{self.class_attribute} is a collection: assign a list of "
                f"{self.mapper.class_.__name__} objects, not {type(value).__name__}"
            )
        new_items = list(value)
        old = d.get(key, NO_VALUE)
        if old is NO_VALUE and state.key is not None:
            # load so that removed members are known (detached: DetachedInstanceError)
            old = getattr(obj, key)
        old_items = () if old is NO_VALUE or old is None else old
        old_members = members(old_items)
        new_members = members(new_items)
        added = not_in(new_members, old_members)
        for item in added:
            self._check_type(item)
        if not state.modified:
            state.mark_modified()
        for item in not_in(old_members, new_members):
            self._collection_removed(state, item)
        for item in added:
            self._collection_added(state, item)
        if key not in state.committed:
            state.committed[key] = tuple(old_items) if old is not NO_VALUE else NO_VALUE
        coll = d[key] = InstrumentedList(new_items, state, self)
        coll._none = len(new_members) != len(new_items)

    def _set_scalar(self, obj: Any, d: dict[str, Any], state: InstanceState,
                    value: Any) -> None:
        key = self.key
        self._check_type(value)
        if self.single_parent and value is not None:
            self.claim_single_parent(obj, value)
        old = self._known_value(obj)
        if old is NO_VALUE and (self.kind.set_loads_old or self.cascade.delete_orphan) \
                and state.key is not None and state.session is not None:
            # one-to-one: the replaced child's key must be cleared; delete-orphan: the
            # replaced object may be an orphan
            old = getattr(obj, key)
        if not state.modified:
            state.mark_modified()
        if old is value:
            # no change, but a set all the same: the value is known from now on
            # and the object counts as modified (session.dirty), as in SQLAlchemy
            d[key] = value
            return
        partner = self.partner
        if partner is not None:
            if old is not NO_VALUE and old is not None:
                partner._remove_from(old, obj)
            if value is not None:
                partner._add_to(value, obj)
        if key not in state.committed:
            state.committed[key] = old
        d[key] = value
        if value is not None:
            self._cascade_on_attach(state, value)

    def __delete__(self, obj: Any) -> None:
        """``del obj.rel``: the value is removed (the flush clears the foreign key);
        reading it again gives None / an empty list. An unloaded collection of a
        persistent object is left alone; a scalar with no value raises
        AttributeError."""
        self.parent.registry.configure()  # type: ignore[union-attr]
        d = obj.__dict__
        state = d.get(STATE_ATTR) or instance_state(obj)
        key = self.key
        if self.uselist:
            if key in d:
                self.__set__(obj, [])
                d.pop(key)
            return
        if key not in d:
            if state.key is None:
                raise AttributeError(
                    f"{self} of {exc.instance_str(obj)} has no value to delete: it was never "
                    "set (or is already deleted)"
                )
            if self._deleted(state, d):
                return
        self.__set__(obj, None)
        d.pop(key, None)

    def _check_type(self, value: Any) -> None:
        if value is not None and not isinstance(value, self.mapper.class_):
            raise TypeError(
                f"{self.class_attribute} takes a {self.mapper.class_.__name__} object, "
                f"not {type(value).__name__}"
            )

    def _known_value(self, target: Any) -> Any:
        """The loaded value of this scalar on ``target``; for an unloaded
        many-to-one, the object its foreign key names if the identity map has
        it (no SQL); else NO_VALUE."""
        d = target.__dict__
        value = d.get(self.key, NO_VALUE)
        if value is not NO_VALUE or not self.identity_lookup:
            return value
        tstate = d.get(STATE_ATTR)
        if self._deleted(tstate, d):
            return None
        session = tstate.session if tstate is not None else None
        if session is None or tstate.key is None:
            return NO_VALUE
        values = tuple(d.get(k, NO_VALUE) for k in self.parent_keys)
        if NO_VALUE in values:
            return NO_VALUE
        if None in values:
            return None
        found = session.identity_map.by_key.get((self.mapper.identity_class, values, None))
        obj = found.obj() if found is not None else None
        return obj if obj is not None else NO_VALUE

    # backref plumbing: change the other side without echoing back; each marks its
    # object changed before changing it (which may refuse, see __set__)
