"""What changed in a relationship since it was loaded or flushed, and the
objects it refers to."""

from __future__ import annotations

from typing import Any

from ...state import NO_VALUE, History, InstanceState
from ..collections import InstrumentedList, members, not_in


class RelationshipHistory:
    """Added/unchanged/deleted objects of a relationship on one instance."""

    def history(self, state: InstanceState, d: dict[str, Any]) -> History:
        current = d.get(self.key, NO_VALUE)
        if self.uselist:
            cur = list(current) if current is not NO_VALUE else []
            if self.key in state.committed:
                orig = state.committed[self.key]
                orig = list(orig) if orig is not NO_VALUE and orig is not None else []
            elif state.key is None:
                orig = []
            else:
                return History((), tuple(cur), ())
            # by identity, in linear time (a loaded collection may be large)
            orig_ids = {id(o) for o in orig}
            added = tuple(x for x in cur if id(x) not in orig_ids)
            unchanged = tuple(x for x in cur if id(x) in orig_ids)
            return History(added, unchanged, tuple(not_in(orig, cur)))
        if self.key in state.committed:
            old = state.committed[self.key]
            if old is current:
                return History((), (() if current in (NO_VALUE, None) else (current,)), ())
            return History(
                () if current in (NO_VALUE, None) else (current,),
                (),
                () if old is NO_VALUE or old is None else (old,),
            )
        if current is NO_VALUE or current is None:
            return History((), (), ())
        if state.key is None:
            return History((current,), (), ())
        return History((), (current,), ())

    def has_changes(self, state: InstanceState, d: dict[str, Any]) -> bool:
        if not self.uselist and self.key in state.committed:
            return state.committed[self.key] is not d.get(self.key, NO_VALUE)
        return self.history(state, d).has_changes()

    def related_objects(self, d: dict[str, Any]) -> list[Any]:
        """The objects ``d`` (an instance's ``__dict__``) relates to, loaded ones only."""
        # _objects_in(d.get(key)) with members()'s usual case, written out: this runs
        # for every new or changed object and relationship on every flush
        value = d.get(self.key, NO_VALUE)
        if value is NO_VALUE or value is None:
            return []
        if not self.uselist:
            return [value]
        if type(value) is InstrumentedList and not value._none:
            return list(value)
        return members(value)

    def _objects_in(self, value: Any) -> list[Any]:
        """The objects a value of this relationship refers to (a collection, its
        recorded original, or one object), as a new list without None."""
        if value is NO_VALUE or value is None:
            return []
        if self.uselist:
            return members(value)
        return [value]
