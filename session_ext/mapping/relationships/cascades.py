"""Cascades: which related objects an operation on an object carries over to.

A relationship only *names* the objects (``cascade_add()``,
``delete_targets()``, ...); the session decides what to do with each, so the
mapping layer never calls into the session."""

from __future__ import annotations

import weakref
from typing import Any

from ... import exc
from ...state import NO_VALUE, InstanceState
from ..collections import not_in
from .directions import ONETOMANY

_ALL_CASCADES = {"save-update", "merge", "refresh-expire", "expunge", "delete"}
_VALID_CASCADES = _ALL_CASCADES | {"delete-orphan", "all", "none"}


class CascadeOptions(frozenset):  # type: ignore[type-arg]
    """The cascades of a relationship: a frozenset of names, with SQLAlchemy's
    boolean attributes (``save_update``, ``delete``, ``delete_orphan``, ...)."""

    __slots__ = ()

    save_update = property(lambda self: "save-update" in self)
    delete = property(lambda self: "delete" in self)
    delete_orphan = property(lambda self: "delete-orphan" in self)
    merge = property(lambda self: "merge" in self)
    expunge = property(lambda self: "expunge" in self)
    refresh_expire = property(lambda self: "refresh-expire" in self)

    def __repr__(self) -> str:
        return f"CascadeOptions({','.join(sorted(self))!r})"


def parse_cascade(text: str) -> CascadeOptions:
    parts = {p.strip() for p in text.split(",") if p.strip()}
    bad = parts - _VALID_CASCADES
    if bad:
        raise exc.ArgumentError(
            f"Invalid cascade option(s) {sorted(bad)}; valid options are "
            f"{sorted(_VALID_CASCADES)}"
        )
    if "all" in parts:
        parts |= _ALL_CASCADES
    parts -= {"all", "none"}
    return CascadeOptions(parts)



#: target object -> {relationship: weak reference to its single parent}
_single_parents: weakref.WeakKeyDictionary[Any, dict[Any, Any]] = weakref.WeakKeyDictionary()


class RelationshipCascades:
    """The objects each cascade of a relationship reaches from one object."""

    def _check_single_parent(self) -> None:
        if self.direction is ONETOMANY:
            return  # one-to-many: each target has one parent anyway
        if self.cascade.delete_orphan and not self.single_parent:
            raise exc.ArgumentError(
                f"delete-orphan cascade on {self.class_attribute} ({self.direction.name}) "
                "needs single_parent=True: a target object may have several parents "
                "through it otherwise, so none of them can orphan it. Put delete-orphan "
                "on the one-to-many side, or set single_parent=True"
            )

    def claim_single_parent(self, parent: Any, item: Any) -> None:
        """``single_parent=True``: ``item`` now belongs to ``parent`` through this
        relationship; InvalidRequestError if another parent in memory has it."""
        if self.has_other_parent(item, parent):
            other = _single_parents[item][self]()
            raise exc.InvalidRequestError(
                f"{exc.instance_str(item)} already belongs to {exc.instance_str(other)} "
                f"through {self.class_attribute}, which allows a single parent "
                "(single_parent=True); detach it there first"
            )
        _single_parents.setdefault(item, {})[self] = weakref.ref(parent)

    def has_other_parent(self, item: Any, parent: Any) -> bool:
        """Whether an object other than ``parent`` holds ``item`` through this
        relationship (as far as ``single_parent=True`` has tracked it)."""
        claims = _single_parents.get(item)
        ref = claims.get(self) if claims else None
        other = ref() if ref is not None else None
        return other is not None and other is not parent and self._still_refers(other, item)

    def _still_refers(self, parent: Any, item: Any) -> bool:
        value = parent.__dict__.get(self.key)
        if self.uselist:
            return value is not None and any(x is item for x in value)
        return value is item

    def cascade_add(self, state: InstanceState, obj: Any) -> list[Any]:
        """The objects ``add(obj)`` takes along through this relationship (``save-update``)."""
        if "save-update" not in self.cascade or self.viewonly:
            return []
        d = obj.__dict__
        items = self.related_objects(d)
        if self.key in state.committed:
            # removed while outside this session: the flush must still clear (or, with
            # delete-orphan, delete) them, so they come along too
            items = [*items, *self._removed_items(state, d)]
        return items

    def _removed_items(self, state: InstanceState, d: dict[str, Any]) -> list[Any]:
        """Objects this relationship referred to at the last flush/load and no longer does."""
        return not_in(self._objects_in(state.committed[self.key]),
                      self._objects_in(d.get(self.key, NO_VALUE)))

    def delete_targets(self, obj: Any) -> list[Any]:
        """Objects ``session.delete(obj)`` deletes too (``delete``); loads them."""
        if "delete" not in self.cascade:
            return []
        if self.passive_deletes and self.key not in obj.__dict__:
            return []
        return self._objects_in(self.value_for_flush(obj))

    def expunge_targets(self, obj: Any) -> list[Any]:
        """Loaded objects ``session.expunge(obj)`` expunges too (``expunge``)."""
        if "expunge" not in self.cascade:
            return []
        return self.related_objects(obj.__dict__)

    def expire_targets(self, obj: Any) -> list[Any]:
        """Loaded objects ``session.expire(obj)`` expires too (``refresh-expire``)."""
        if "refresh-expire" not in self.cascade:
            return []
        return self.related_objects(obj.__dict__)
