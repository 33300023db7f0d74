"""``Session.merge``: copy an object's state onto the session's own object."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import exc
from .state import instance_state

if TYPE_CHECKING:
    from .session import Session


def merge(session: Session, instance: Any, load: bool, memo: dict[int, Any],
          options: Any = None) -> Any:
    if id(instance) in memo:
        return memo[id(instance)]
    state = instance_state(instance)
    mapper = state.mapper
    cls = mapper.class_
    d = instance.__dict__
    if not load and state.key is None:
        raise exc.InvalidRequestError(
            f"merge(load=False) was given {exc.instance_str(instance)}, which is "
            f"{'pending' if state.session_id is not None else 'transient'} (never flushed); "
            "load=False only merges objects that have a row (persistent or detached). "
            "Flush it first, or use load=True"
        )
    if state.session_id == session.hash_key:
        memo[id(instance)] = instance
        return instance
    key = state.key
    if key is None:
        pk = mapper.primary_key_from_dict(d)
        if None not in pk:
            key = mapper.identity_key_from_values(pk)
    merged = None
    if key is not None:
        merged = session.identity_map.get(key)
        if merged is None and not load:
            if state.committed:  # any attribute set since loaded, as SQLAlchemy counts it
                raise exc.InvalidRequestError(
                    f"merge(load=False) was given {exc.instance_str(instance)}, which has "
                    "attributes changed since it was loaded (dirty); with load=False only "
                    "clean objects (as loaded) can be merged. Flush it first, or use load=True"
                )
            merged = cls.__new__(cls)
            mstate = instance_state(merged)
            md = merged.__dict__
            for k in mapper.column_attr_keys:
                if k in d:
                    md[k] = d[k]
            mstate.key = key
            session._attach_persistent(mstate, merged)
            memo[id(instance)] = merged
            _merge_relationships(session, mapper, instance, merged, load, memo)
            return merged
        if merged is not None and not load:
            # load=False: the given values are taken as the database's
            _copy_as_loaded(mapper, d, merged)
            memo[id(instance)] = merged
            _merge_relationships(session, mapper, instance, merged, load, memo)
            return merged
        if merged is None:
            merged = session.get(cls, key[1], options=options)
    if merged is None:
        merged = cls.__new__(cls)
        instance_state(merged)
        session.add(merged)
    memo[id(instance)] = merged
    md = merged.__dict__
    for k in mapper.column_attr_keys:
        if k in d:
            value = d[k]
            if k not in md or mapper.attrs[k].values_differ(md[k], value):
                setattr(merged, k, value)
    _merge_relationships(session, mapper, instance, merged, load, memo)
    return merged


def _copy_as_loaded(mapper: Any, source: dict[str, Any], target: Any) -> None:
    state = instance_state(target)
    md = target.__dict__
    for k in mapper.column_attr_keys:
        if k in source:
            md[k] = source[k]
            state.committed.pop(k, None)
    if not state.committed and state.modified:
        state.modified = False
        session = state.session
        if session is not None:
            session.identity_map.release(state)


def _merge_relationships(
    session: Session, mapper: Any, source: Any, target: Any, load: bool, memo: dict[int, Any]
) -> None:
    for rel in mapper.relationships.values():
        rel.merge(session, source, target, load, memo)
