"""``InstrumentedList``: the list type of relationship collections.

Every mutation first records the collection's original contents in the
owner's state (once per flush cycle), then tells the relationship which
items were added or removed, so backrefs and cascades follow in Python and
the flush can compute what to write.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, SupportsIndex

if TYPE_CHECKING:
    from ..state import InstanceState
    from .relationships import Relationship


class InstrumentedList(list):  # type: ignore[type-arg]
    """A list that tells its owner's state about every change."""

    __slots__ = ("_state", "_rel")

    def __init__(
        self, iterable: Iterable[Any] = (), state: InstanceState | None = None,
        rel: Relationship | None = None,
    ) -> None:
        super().__init__(iterable)
        self._state = state
        self._rel = rel

    # change bookkeeping ---------------------------------------------------------
    def _before_change(self) -> None:
        state = self._state
        if state is None:
            return
        key = self._rel.key  # type: ignore[union-attr]
        if key not in state.committed:
            state.committed[key] = tuple(self)
            if state.empty_collections is not None:
                self._adopt(state, key)
        if not state.modified:
            state.mark_modified()

    def _adopt(self, state: InstanceState, key: str) -> None:
        """First change of a collection read on a transient object: from now on
        it is the object's value (see ``Relationship.unsaved_empty``)."""
        empties = state.empty_collections
        if empties.get(key) is self:  # type: ignore[union-attr]
            del empties[key]  # type: ignore[union-attr]
            obj = state.obj()
            if obj is not None and key not in obj.__dict__:
                obj.__dict__[key] = self

    def _added(self, item: Any) -> None:
        if self._state is not None:
            self._rel._collection_added(self._state, item)  # type: ignore[union-attr]

    def _removed(self, item: Any) -> None:
        if self._state is not None:
            self._rel._collection_removed(self._state, item)  # type: ignore[union-attr]

    # list API -------------------------------------------------------------------
    def append(self, item: Any) -> None:
        self._before_change()
        super().append(item)
        self._added(item)

    def _append_quiet(self, item: Any) -> None:
        """Append from the other side of a backref (no further backref events)."""
        self._before_change()
        super().append(item)

    def _remove_quiet(self, item: Any) -> None:
        for i, x in enumerate(self):
            if x is item:
                self._before_change()
                super().__delitem__(i)
                return

    def extend(self, items: Iterable[Any]) -> None:
        for item in list(items):
            self.append(item)

    def __iadd__(self, items: Iterable[Any]) -> InstrumentedList:  # type: ignore[override]
        self.extend(items)
        return self

    def insert(self, index: SupportsIndex, item: Any) -> None:
        self._before_change()
        super().insert(index, item)
        self._added(item)

    def remove(self, item: Any) -> None:
        self._before_change()
        # the remove event first, as in SQLAlchemy: removing a non-member still
        # runs the backref before list.remove() raises ValueError
        self._removed(item)
        super().remove(item)

    def pop(self, index: SupportsIndex = -1) -> Any:
        if not self:
            # as in SQLAlchemy: the object counts as modified, but a collection read
            # on a transient object does not become its value
            state = self._state
            if state is not None and not state.modified:
                state.mark_modified()
            raise IndexError("pop from empty list")
        self._before_change()
        item = super().pop(index)
        self._removed(item)
        return item

    def clear(self) -> None:
        self._before_change()
        old = list(self)
        super().clear()
        for item in old:
            self._removed(item)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._before_change()
        if isinstance(index, slice):
            old = self[index]
            new = list(value)
            super().__setitem__(index, new)
        else:
            old = [self[index]]
            new = [value]
            super().__setitem__(index, value)
        for item in old:
            if not any(item is n for n in new):
                self._removed(item)
        for item in new:
            if not any(item is o for o in old):
                self._added(item)

    def __delitem__(self, index: Any) -> None:
        self._before_change()
        old = self[index] if isinstance(index, slice) else [self[index]]
        super().__delitem__(index)
        for item in old:
            self._removed(item)

    def sort(self, *args: Any, **kw: Any) -> None:
        self._before_change()
        super().sort(*args, **kw)

    def reverse(self) -> None:
        self._before_change()
        super().reverse()

    def __reduce__(self) -> Any:
        return (list, (list(self),))
