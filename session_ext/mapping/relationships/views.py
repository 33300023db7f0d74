"""Relationships read through a view instead of a loaded collection:
``lazy="dynamic"`` (a query of the related objects that can also append and
remove) and ``lazy="write_only"`` (add/remove, and statements to read or change
the rows). The views themselves are built by the loader strategy registered
for the name (:mod:`session_ext.dynamic`).

Changes made through a view are kept as a relationship's changes always are:
``obj.__dict__[key]`` lists the objects added since the last flush and
``state.committed[key]`` those removed, so the flush treats them like the
changes of a loaded collection. After a flush (no ``committed`` entry), what
``__dict__`` still holds is stale and is ignored.
"""

from __future__ import annotations

from typing import Any

from ... import exc
from ...state import STATE_ATTR, InstanceState, instance_state
from ..collections import InstrumentedList, members
from .loaders import LOADER_STRATEGIES


class CollectionViews:
    """The descriptor part of a ``dynamic``/``write_only`` relationship."""

    is_view = True

    def value_for_flush(self, obj: Any) -> Any:
        return self.__get__(obj)

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return LOADER_STRATEGIES[self.lazy].on_access(self, instance_state(obj), obj)

    def __set__(self, obj: Any, value: Any) -> None:
        state = instance_state(obj)
        if state.key is None:  # transient/pending: the whole collection is new
            super()._set_collection(obj, obj.__dict__, state, value)  # type: ignore[misc]
            return
        if self.lazy == "write_only":
            raise exc.InvalidRequestError(
                f"Collection {self.class_attribute} is write-only: it can't be assigned "
                "once the object is persistent; use .add()/.add_all()/.remove()"
            )
        view = self.__get__(obj)
        new = members(list(value))
        old = view._view_members()
        for item in old:
            if not any(item is n for n in new):
                self.view_remove(obj, item)
        for item in new:
            if not any(item is o for o in old):
                self.view_append(obj, item)

    def pending_added(self, state: InstanceState, d: dict[str, Any]) -> list[Any]:
        """The objects added through the view since the last flush."""
        if state.key is not None and self.key not in state.committed:
            return []
        coll = d.get(self.key)
        if coll is None and state.empty_collections:
            coll = state.empty_collections.get(self.key)
        return list(coll) if coll else []

    def _pending_list(self, state: InstanceState, d: dict[str, Any]) -> InstrumentedList:
        if not state.modified:
            state.mark_modified()
        coll = d.get(self.key)
        if self.key not in state.committed:
            if state.key is None and coll is None and state.empty_collections:
                coll = state.empty_collections.pop(self.key, None)
            state.committed[self.key] = ()
            if state.key is not None:
                coll = None  # what is left is from before the last flush
        if coll is None:
            coll = d[self.key] = InstrumentedList((), state, self)
        return coll

    def view_append(self, obj: Any, item: Any) -> None:
        self._check_type(item)  # type: ignore[attr-defined]
        state = instance_state(obj)
        coll = self._pending_list(state, obj.__dict__)
        removed = state.committed[self.key]
        if any(item is r for r in removed):
            state.committed[self.key] = tuple(r for r in removed if r is not item)
        else:
            list.append(coll, item)
        self._collection_added(state, item)  # type: ignore[attr-defined]

    def view_remove(self, obj: Any, item: Any) -> None:
        state = instance_state(obj)
        coll = self._pending_list(state, obj.__dict__)
        for i, x in enumerate(coll):
            if x is item:
                list.__delitem__(coll, i)
                break
        else:
            state.committed[self.key] = (*state.committed[self.key], item)
        self._collection_removed(state, item)  # type: ignore[attr-defined]

    def related_objects(self, d: dict[str, Any]) -> list[Any]:
        state = d.get(STATE_ATTR)
        if state is None:
            return []
        return self.pending_added(state, d)

    def _objects_in(self, value: Any) -> list[Any]:
        if hasattr(value, "_view_members"):  # a view: every related object, from the database
            if self.lazy == "write_only":
                raise exc.InvalidRequestError(
                    f"The write-only collection {self.class_attribute} is never loaded "
                    "whole, so deleting its parent can't update its rows; give the "
                    "relationship passive_deletes=True (and ON DELETE in the database)"
                )
            return value._view_members()
        return super()._objects_in(value)  # type: ignore[misc]

    def load_now(self, state: Any, obj: Any) -> None:
        """Nothing to load: a view reads the database each time."""
