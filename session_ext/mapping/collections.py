"""``InstrumentedList``: the list type of relationship collections.

Every mutation first records the collection's original contents in the
owner's state (once per flush cycle), then tells the relationship which
items were added or removed, so backrefs and cascades follow in Python and
the flush can compute what to write.  A refused change (the session may not
begin a transaction) raises before the list or any other object changes.

None may be put in a collection (as in SQLAlchemy); it is not a related
object, and the flush refuses it.  This module is where None is told apart:
the list's add/remove hooks skip it, :func:`members` gives the objects of a
collection, :func:`holds_none` tells whether the flush must refuse it.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, SupportsIndex

if TYPE_CHECKING:
    from ..state import InstanceState
    from .relationships import Relationship


class InstrumentedList(list):  # type: ignore[type-arg]
    """A list that tells its owner's state about every change."""

    __slots__ = ("_state", "_rel", "_none")

    def __init__(
        self, iterable: Iterable[Any] = (), state: InstanceState | None = None,
        rel: Relationship | None = None,
    ) -> None:
        super().__init__(iterable)
        self._state = state
        self._rel = rel
        #: None was put in this list (and may still be in it); loaded lists never hold it
        self._none = False

    # change bookkeeping ---------------------------------------------------------
    def _before_change(self) -> None:
        state = self._state
        if state is None:
            return
        if not state.modified:
            state.mark_modified()  # may refuse (no transaction may begin): nothing changed yet
        key = self._rel.key  # type: ignore[union-attr]
        if key not in state.committed:
            state.committed[key] = tuple(self)
            if state.empty_collections is not None:
                self._adopt(state, key)

    def _adopt(self, state: InstanceState, key: str) -> None:
        """First change of a collection read on a transient object: from now on
        it is the object's value (see ``Relationship.unsaved_empty``)."""
        empties = state.empty_collections
        if empties.get(key) is self:  # type: ignore[union-attr]
            del empties[key]  # type: ignore[union-attr]
            obj = state.obj()
            if obj is not None and key not in obj.__dict__:
                obj.__dict__[key] = self

    def _added(self, item: Any) -> Any:
        """Before ``item`` goes in: type check, backref, cascade (each may raise);
        returns what goes in (an attribute event may replace it)."""
        if item is None:
            self._none = True
        elif self._state is not None:
            return self._rel._collection_added(self._state, item)  # type: ignore[union-attr]
        return item

    def _removed(self, item: Any) -> None:
        if item is not None and self._state is not None:
            self._rel._collection_removed(self._state, item)  # type: ignore[union-attr]

    def _before_add(self, item: Any) -> Any:
        """``_before_change()`` then ``_added(item)``; when the events refuse the
        item (the cascade: an object of another session), the owner is left as
        unchanged as SQLAlchemy leaves it: not modified for this."""
        state = self._state
        if state is None:
            return self._added(item)
        was_modified = state.modified
        key = self._rel.key  # type: ignore[union-attr]
        had_key = key in state.committed
        self._before_change()
        try:
            return self._added(item)
        except BaseException:
            if not had_key:
                state.committed.pop(key, None)
            if not was_modified and not state.committed and state.modified:
                state.modified = False
                session = state.session
                if session is not None:
                    session.identity_map.release(state)
            raise

    # list API -------------------------------------------------------------------
    def append(self, item: Any) -> None:
        super().append(self._before_add(item))

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
        super().insert(index, self._before_add(item))

    def remove(self, item: Any) -> None:
        try:
            i = self.index(item)
        except ValueError:
            # as in SQLAlchemy: removing a non-member still counts as a change and
            # runs the backref before ValueError
            self._before_change()
            self._removed(item)
            raise
        self._before_change()
        found = self[i]
        self._removed(found)
        self._delete_found(i, found)

    def pop(self, index: SupportsIndex = -1) -> Any:
        if not self:
            # as in SQLAlchemy: the object counts as modified, but a collection read
            # on a transient object does not become its value
            state = self._state
            if state is not None and not state.modified:
                state.mark_modified()
            raise IndexError("pop from empty list")
        found = self[index]  # IndexError when out of range, before anything changes
        self._before_change()
        self._removed(found)
        self._delete_found(index, found)
        return found

    def _delete_found(self, index: SupportsIndex, found: Any) -> None:
        """Delete ``found``, at ``index`` unless the events moved it."""
        i = operator.index(index)
        if not (-len(self) <= i < len(self) and self[i] is found):
            i = next(j for j, x in enumerate(self) if x is found)
        super().__delitem__(i)

    def clear(self) -> None:
        self._before_change()
        for item in list(self):
            self._removed(item)
        super().clear()

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            old = self[index]
            new = list(value)
            list(self)[index] = new  # a bad extended slice raises here, before any change
        else:
            old = [self[index]]
            new = [value]
        added = not_in(new, old)
        if self._rel is not None:
            for item in added:
                if item is not None:
                    self._rel._check_type(item)  # before the removed ones' backrefs
        self._before_change()
        for item in not_in(old, new):
            self._removed(item)
        replaced = {}
        for item in added:
            put = self._added(item)
            if put is not item:
                replaced[id(item)] = put
        if replaced:  # attribute events put other objects in
            new = [replaced.get(id(x), x) for x in new]
            value = new[0]
        super().__setitem__(index, new if isinstance(index, slice) else value)

    def __delitem__(self, index: Any) -> None:
        old = self[index] if isinstance(index, slice) else [self[index]]
        self._before_change()
        for item in old:
            self._removed(item)
        super().__delitem__(index)

    def sort(self, *args: Any, **kw: Any) -> None:
        self._before_change()
        super().sort(*args, **kw)

    def reverse(self) -> None:
        self._before_change()
        super().reverse()

    def __reduce__(self) -> Any:
        return (list, (list(self),))


def not_in(items: Iterable[Any], others: Iterable[Any]) -> list[Any]:
    """The items not in ``others``, by identity, in linear time (a loaded
    collection may be large; ``==`` may be the user's)."""
    ids = {id(x) for x in others}
    return [x for x in items if id(x) not in ids]


def members(items: Iterable[Any]) -> list[Any]:
    """The objects of a collection (a list, or its recorded original tuple),
    as a new list without None."""
    if type(items) is InstrumentedList and not items._none:
        return list(items)  # the usual case, at the speed of a copy
    return [x for x in items if x is not None]


def holds_none(items: Iterable[Any]) -> bool:
    """The collection holds None: the flush refuses it."""
    if type(items) is InstrumentedList and not items._none:
        return False
    return any(x is None for x in items)
