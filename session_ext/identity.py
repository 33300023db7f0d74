"""The identity map: one Python object per database row per session.

Entries map an identity key ``(class, primary key tuple, None)`` to the
object's :class:`~session_ext.state.InstanceState`.  The state refers to its
object weakly, so an unmodified object that the application no longer uses is
garbage collected and drops out of the map (in batches: before the next query,
flush, ``get()`` miss, close, or look at the whole map; until then a lookup of
its key finds nothing, as the entry refers to no object); an object with
unflushed changes is held strongly (``state._strong``) until it is flushed, so
changes are never silently lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .state import InstanceState, _dead, sweep_dead


class IdentityMap:
    """Dict-like view ``identity key -> object`` over the session's states."""

    def __init__(self) -> None:
        #: identity key -> state (the package's loaders read and fill it directly)
        self.by_key: dict[tuple[Any, ...], InstanceState] = {}
        self._dict = self.by_key  # the older name, same dict
        #: states with unflushed attribute changes (held strongly)
        self.modified: set[InstanceState] = set()

    # mapping protocol (values are objects) -------------------------------------
    def __getitem__(self, key: tuple[Any, ...]) -> object:
        state = self.by_key[key]
        obj = state.obj()
        if obj is None:
            raise KeyError(key)
        return obj

    def get(self, key: tuple[Any, ...], default: Any = None) -> Any:
        state = self.by_key.get(key)
        if state is None:
            return default
        obj = state()  # state.obj(), without the method lookup
        return default if obj is None else obj

    def __contains__(self, key: object) -> bool:
        state = self.by_key.get(key)  # type: ignore[arg-type]
        return state is not None and state.obj() is not None

    def __len__(self) -> int:
        if _dead:
            sweep_dead()
        return len(self.by_key)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.keys())

    def keys(self) -> list[tuple[Any, ...]]:
        if _dead:
            sweep_dead()
        return list(self.by_key)

    def values(self) -> list[object]:
        return [o for o in (s.obj() for s in self.all_states()) if o is not None]

    def items(self) -> list[tuple[tuple[Any, ...], object]]:
        if _dead:
            sweep_dead()
        out = []
        for key, state in list(self.by_key.items()):
            obj = state.obj()
            if obj is not None:
                out.append((key, obj))
        return out

    def all_states(self) -> list[InstanceState]:
        if _dead:
            sweep_dead()
        return list(self.by_key.values())

    # state management (the session's bookkeeping and the loaders) -------------
    def get_state(self, key: tuple[Any, ...]) -> InstanceState | None:
        return self.by_key.get(key)

    def add_state(self, state: InstanceState) -> None:
        self.by_key[state.key] = state  # type: ignore[index]
        if state.modified:
            self.hold(state)

    def hold(self, state: InstanceState) -> None:
        obj = state.obj()
        if obj is not None:
            state._strong = obj
            self.modified.add(state)

    def release(self, state: InstanceState) -> None:
        """The object's changes are flushed: hold it weakly again."""
        state._strong = None
        self.modified.discard(state)

    def remove_state(self, state: InstanceState) -> None:
        if state.key is not None and self.by_key.get(state.key) is state:
            del self.by_key[state.key]
        self.modified.discard(state)
        state._strong = None

    def clear(self) -> None:
        for state in self.modified:
            state._strong = None
        self.by_key.clear()
        self.modified.clear()

    def __repr__(self) -> str:
        return f"<IdentityMap {len(self.by_key)} object(s), {len(self.modified)} modified>"
