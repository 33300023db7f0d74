"""``Session.merge``: copy an object's state onto the session's own object.

As in SQLAlchemy's ORM:

* the session's object is the one of the identity map with the same primary
  key, else (``load=True``) the one ``get()`` loads, else a new pending one;
  an object without a primary key, or a pending one (which is not in the
  identity map), is always copied onto a new pending object;
* with ``load=True`` every attribute present on the given object is *set* on
  the session's object (a set counts as a change for ``session.dirty`` even
  when the value is the same; the flush writes only net changes), and the
  relationships with the merge cascade are merged in turn and set the same way
  (backrefs follow; the backref of a relationship being merged is not merged
  back);
* with ``load=False`` the values are stamped onto the session's object as the
  database's, without events, and the object is left with no changes: also
  when it is the session's own object (its unflushed changes are dropped);
* the transaction begins when an object is attached or loaded, or an attribute
  is set: merging the session's own object, or with ``load=False`` onto an
  object already in the identity map, begins none.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from . import exc
from .mapping.collections import InstrumentedList
from .state import expired_new, instance_state, refuse_expired_new

if TYPE_CHECKING:
    from .mapping.relationships import Relationship
    from .protocols import SessionLike as Session


def merge(session: Session, instance: Any, load: bool, memo: dict[Any, Any],
          options: Any = None) -> Any:
    """Merge ``instance`` into ``session``; ``memo`` maps what this call has merged
    already (by ``id()`` of the given object, and by identity key)."""
    if id(instance) in memo:
        return memo[id(instance)]
    state = instance_state(instance)
    mapper = state.mapper
    cls = mapper.class_
    d = instance.__dict__
    key = state.key
    if key is None:
        key = _key_of_new(session, state, mapper, d, instance, load)
    merged = None
    if key is not None:
        merged = session.identity_map.get(key)
        if merged is None:
            merged = memo.get(("key", key))  # an object of this merge with the same key
    if merged is None and key is not None:
        if not load:
            if state.modified:  # any attribute set since loaded, as SQLAlchemy counts it
                raise exc.InvalidRequestError(
                    f"merge(load=False) was given {exc.instance_str(instance)}, which has "
                    "attributes changed since it was loaded (dirty); with load=False only "
                    "clean objects (as loaded) can be merged. Flush it first, or use load=True"
                )
            session.transactions.autobegin("merge()")
            merged = cls.__new__(cls)
            session.objects.attach_persistent(instance_state(merged), merged, key)
        else:
            merged = session.get(cls, key[1], options=options)
    if merged is None:
        merged = cls.__new__(cls)
        instance_state(merged)
        session.add(merged)
    memo[id(instance)] = merged
    if key is not None:
        memo[("key", key)] = merged
    if merged is not instance:
        mstate = instance_state(merged)
        if mstate.known_none:
            # what the given object does not have is expired on the session's
            # object rather than still known to be NULL
            unknown = [k for k in mstate.known_none if k not in d]
            if unknown:
                mstate.forget_known_none(unknown)
                mstate.expired = True
        if load:
            for k in mapper.column_attr_keys:
                if k in d:
                    setattr(merged, k, d[k])
        else:
            md = merged.__dict__
            for k in mapper.column_attr_keys:
                if k in d:
                    md[k] = d[k]
        for rel in mapper.relationships.values():
            _merge_relationship(session, rel, instance, merged, load, memo)
    if not load:
        _forget_changes(merged)
    return merged


def _forget_changes(obj: Any) -> None:
    """``load=False``: what the object holds now is taken as the database's."""
    state = instance_state(obj)
    if state.committed:
        state.committed = {}
    if state.modified:
        state.modified = False
        session = state.session
        if session is not None:
            session.identity_map.release(state)


def _key_of_new(session: Session, state: Any, mapper: Any, d: dict[str, Any],
                instance: Any, load: bool) -> Any:
    """The identity key merge() uses for an object with no key of its own (a
    transient or pending one): from its primary key values, or None."""
    if state.session_id == session.hash_key:
        warnings.warn(
            f"Instance {exc.instance_str(instance)} is already pending in this Session "
            "and is being merged again: merge() copies it onto a new pending object "
            "(both will be INSERTed); add() it instead, or merge() it only once",
            exc.SAWarning,
            stacklevel=4,
        )
    if not load:
        raise exc.InvalidRequestError(
            f"merge(load=False) was given {exc.instance_str(instance)}, which is "
            f"{'pending' if state.session_id is not None else 'transient'} (never "
            "flushed); load=False only merges objects that have a row (persistent or "
            "detached). Flush it first, or use load=True"
        )
    pk = mapper.primary_key_from_dict(d)
    if state.expired and None in pk and state in expired_new:
        # its key expired before its INSERT was rolled back: SQLAlchemy's
        # merge() reads it and cannot load it
        for k in mapper.pk_keys:
            if k not in d:
                refuse_expired_new(state, k)
    if None not in pk:
        return mapper.identity_key_from_values(pk)
    return None


def _merge_relationship(session: Session, rel: Relationship, source: Any, target: Any,
                        load: bool, memo: dict[Any, Any]) -> None:
    if "merge" not in rel.cascade:
        return
    d = source.__dict__
    if rel.key not in d:
        return  # never loaded or set: the session's object keeps what it has
    partner = rel.partner
    if load and partner is not None and ("via", id(source), partner) in memo:
        return  # ``source`` is being merged as a member of this backref's other side
    value = d[rel.key]
    td = target.__dict__
    if rel.uselist:
        if load:
            getattr(target, rel.key)  # loaded first, so the members merge onto its objects
        merged_items = []
        for item in value or ():
            if item is None:
                merged_items.append(None)
                continue
            memo[("via", id(item), rel)] = True
            merged_items.append(merge(session, item, load, memo))
        if load:
            setattr(target, rel.key, merged_items)
        else:
            td[rel.key] = InstrumentedList(merged_items, instance_state(target), rel)
    else:
        if value is None:
            merged_value = None
        else:
            memo[("via", id(value), rel)] = True
            merged_value = merge(session, value, load, memo)
        if load:
            setattr(target, rel.key, merged_value)
        else:
            td[rel.key] = merged_value
