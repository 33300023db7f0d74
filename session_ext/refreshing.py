"""Expiring and refreshing objects: ``Session.expire``, ``refresh`` and ``is_modified``.

Both follow ``refresh-expire`` cascades (all attributes only) and act on
persistent objects of the session only, raising as SQLAlchemy does otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import exc
from .lifecycle import autoflush
from .loading import expire_state, lock_arguments, refresh_state
from .state import InstanceState, instance_state

if TYPE_CHECKING:
    from .protocols import SessionLike as Session


def expire(session: Session, instance: object, attribute_names: Iterable[str] | None) -> None:
    state = state_in_session(session, instance, "expire")
    related = refresh_expire_cascade(session, instance) if attribute_names is None else []
    expire_state(session, state, None if attribute_names is None else list(attribute_names))
    for obj in related:
        expire_state(session, instance_state(obj), None)


def refresh_expire_cascade(session: Session, instance: object) -> list[object]:
    """Related objects reached through ``refresh-expire`` cascades (loaded ones)."""
    out: list[object] = []
    seen = {id(instance)}
    todo = [instance]
    while todo:
        obj = todo.pop()
        for rel in instance_state(obj).mapper.relationships.values():
            for item in rel.expire_targets(obj):
                if id(item) not in seen and instance_state(item).session_id == session.hash_key:
                    seen.add(id(item))
                    out.append(item)
                    todo.append(item)
    return out


def refresh(session: Session, instance: object, attribute_names: Iterable[str] | None,
            with_for_update: Any) -> None:
    state = state_in_session(session, instance, "refresh")
    names = None if attribute_names is None else list(attribute_names)
    related = refresh_expire_cascade(session, instance) if names is None else []
    # unflushed changes to what is refreshed are discarded, not flushed
    expire_state(session, state, names)
    for obj in related:
        expire_state(session, instance_state(obj), None)
    autoflush(session)
    if not refresh_state(session, state, names, with_for_update=lock_arguments(with_for_update)):
        raise exc.InvalidRequestError(
            f"Could not refresh instance {exc.state_str(state)}: its row with primary key "
            f"{state.key[1]!r} no longer exists"  # type: ignore[index]
        )


def state_in_session(session: Session, instance: object, operation: str) -> InstanceState:
    """The state of a persistent object of this session (in its identity map),
    else InvalidRequestError as SQLAlchemy raises it."""
    state = instance_state(instance)
    key = state.key
    hash_key = session.hash_key
    if (
        state.session_id == hash_key
        and key is not None
        and session.identity_map.by_key.get(key) is state
    ):
        return state
    if state.session_id != hash_key:
        why = "it is not in this Session; add() or merge() it first"
    elif key is None:
        why = "it is pending; flush the session first"
    else:
        why = "its DELETE was flushed"
    raise exc.InvalidRequestError(
        f"Instance {exc.state_str(state)} is not persistent within this Session, so "
        f"{operation}() cannot proceed: {why}"
    )


def is_modified(state: InstanceState) -> bool:
    obj = state.obj()
    if state.key is None:
        d = obj.__dict__  # type: ignore[union-attr]
        committed = state.committed
        if not committed or state.mapper.pk_keys[0] not in committed:
            return any(k in d for k in state.mapper.attrs)
        # transient again after its INSERT was rolled back (lifecycle._mark_flushed):
        # what changed since that flush
        return state.has_net_changes() or any(
            k in d and k not in committed for k in state.mapper.attrs
        )
    if not state.committed:
        return False
    return state.has_net_changes()
