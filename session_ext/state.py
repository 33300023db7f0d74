"""Per-instance state: lifecycle, committed values and attribute history.

Every mapped object carries one :class:`InstanceState` in its ``__dict__``
under :data:`STATE_ATTR`.  The object's current attribute values live in the
object's own ``__dict__`` (so reads are a plain dict lookup); the state keeps
only what is needed to know what changed since the last load or flush.

Lifecycle (the same five states as SQLAlchemy's ORM)::

    transient --add()--> pending --flush--> persistent --delete()+flush--> deleted
        ^                  |                    |                           |
        +-- rollback() ----+                close()/expunge()        commit(): detached
        +-- make_transient() / rollback() of a flushed insert       rollback(): persistent

* transient: no identity key, no session.
* pending: no identity key, in a session's ``new`` collection.
* persistent: identity key, in a session's identity map.
* deleted: identity key, its DELETE flushed, transaction not yet ended.
* detached: identity key, no session.

The session modules make these transitions; this module only describes them.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, NamedTuple

from . import exc

if TYPE_CHECKING:
    from .protocols import MapperLike as Mapper
    from .protocols import SessionLike as Session

STATE_ATTR = "_se_state"


class _NoValue:
    """Marker for "no value loaded/known" (distinct from None)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __bool__(self) -> bool:
        return False


NO_VALUE: Any = _NoValue()

#: All live sessions by ``hash_key``; states refer to their session by key so that
#: an object never keeps a session (and its connections) alive.
_sessions: weakref.WeakValueDictionary[int, Session] = weakref.WeakValueDictionary()


class History(NamedTuple):
    """Changes of one attribute since it was loaded: SQLAlchemy's shape."""

    added: tuple[Any, ...]
    unchanged: tuple[Any, ...]
    deleted: tuple[Any, ...]

    def has_changes(self) -> bool:
        return bool(self.added or self.deleted)

    def empty(self) -> bool:
        return not (self.added or self.unchanged or self.deleted)


class AttributeState:
    """The view ``inspect(obj).attrs.name`` gives of one attribute."""

    __slots__ = ("_state", "key")

    def __init__(self, state: InstanceState, key: str) -> None:
        self._state = state
        self.key = key

    @property
    def value(self) -> Any:
        obj = self._state.obj()
        return getattr(obj, self.key)

    @property
    def loaded_value(self) -> Any:
        obj = self._state.obj()
        return obj.__dict__.get(self.key, NO_VALUE) if obj is not None else NO_VALUE

    @property
    def history(self) -> History:
        return self._state.history(self.key)


class _AttrsView:
    __slots__ = ("_state",)

    def __init__(self, state: InstanceState) -> None:
        self._state = state

    def __getattr__(self, key: str) -> AttributeState:
        if key not in self._state.mapper.attrs:
            raise AttributeError(
                f"{self._state.class_.__name__} has no mapped attribute {key!r}"
            )
        return AttributeState(self._state, key)

    def __getitem__(self, key: str) -> AttributeState:
        return self.__getattr__(key)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return (AttributeState(self._state, k) for k in self._state.mapper.attrs)

    def keys(self) -> list[str]:
        return list(self._state.mapper.attrs)


class InstanceState(weakref.ref):  # type: ignore[type-arg]
    """What session_ext knows about one mapped object.

    The state *is* a weak reference to its object (``state.obj()`` returns the
    object, or None once it was garbage collected): one allocation per object
    instead of a state, a weakref and a bound callback, which is most of what
    loading a row costs.  States compare and hash by identity, whatever the
    mapped class defines.
    """

    __slots__ = (
        "mapper",
        "key",
        "session_id",
        "committed",
        "modified",
        "expired",
        "was_deleted",
        "_strong",
        "load_options",
        "load_context",
        "empty_collections",
        "known_none",
        "__weakref__",
    )

    #: the object, or None once it was garbage collected
    obj = weakref.ref.__call__

    # identity semantics (weakref.ref would compare and hash by the referent)
    __hash__ = object.__hash__
    __eq__ = object.__eq__
    __ne__ = object.__ne__

    def __new__(
        cls,
        obj: object,
        mapper: Mapper,
        key: tuple[Any, ...] | None = None,
        session_id: int | None = None,
    ) -> InstanceState:
        self = _new_ref(cls, obj, _object_gone)
        self.mapper = mapper
        #: identity key ``(class, primary key tuple, None)`` once persistent
        self.key = key
        self.session_id = session_id
        #: value each changed attribute had when last loaded/flushed (NO_VALUE: unknown)
        self.committed = {}
        self.modified = False
        #: True when some loaded attributes were expired (are to be reloaded)
        self.expired = False
        #: True once the object's DELETE has been flushed
        self.was_deleted = False
        #: strong reference to the object while it has unflushed changes
        self._strong = None
        #: per-object loader strategy overrides from query options {attr: "raise"|...}
        self.load_options = None
        #: the query that loaded the object (only kept for N+1 detection)
        self.load_context = None
        #: {key: empty collection} read on a transient/pending object and not yet
        #: changed; kept out of ``__dict__`` (not a loaded value) until its first change
        self.empty_collections = None
        #: column keys left out of the object's INSERT (no default of any kind):
        #: not loaded, but known to be NULL, so reading one gives None without
        #: SQL; expiring it, or a row loaded for the object, forgets it (None:
        #: no such key)
        self.known_none = None
        return self

    def __init__(self, obj: object, mapper: Mapper, key: Any = None,
                 session_id: int | None = None) -> None:
        obj.__dict__[STATE_ATTR] = self

    # The row loaders in loading.py inline ``__new__`` (keep the two in step;
    # tests/test_state_internals.py checks that both set every slot) and build
    # the object's ``__dict__`` in one go, state included.

    # -- lifecycle ----------------------------------------------------------
    @property
    def class_(self) -> type:
        return self.mapper.class_

    @property
    def session(self) -> Session | None:
        """The session the object belongs to, or None."""
        if self.session_id is None:
            return None
        return _sessions.get(self.session_id)

    @property
    def transient(self) -> bool:
        return self.key is None and self.session is None

    @property
    def pending(self) -> bool:
        return self.key is None and self.session is not None

    @property
    def persistent(self) -> bool:
        return self.key is not None and not self.was_deleted and self.session is not None

    @property
    def deleted(self) -> bool:
        """The object's DELETE was flushed and its transaction has not ended."""
        return self.was_deleted and self.session is not None

    @property
    def detached(self) -> bool:
        return self.key is not None and self.session is None

    @property
    def identity(self) -> tuple[Any, ...] | None:
        """The primary key tuple of a persistent or detached object."""
        return self.key[1] if self.key is not None else None

    @property
    def identity_key(self) -> tuple[Any, ...] | None:
        return self.key

    @property
    def object(self) -> object | None:
        return self.obj()

    @property
    def dict(self) -> dict[str, Any]:
        obj = self.obj()
        return obj.__dict__ if obj is not None else {}

    @property
    def attrs(self) -> _AttrsView:
        return _AttrsView(self)

    @property
    def unloaded(self) -> set[str]:
        """Names of attributes (columns and relationships) with no loaded value."""
        d = self.dict
        mapper = self.mapper
        out = {k for k in mapper.column_attr_keys if k not in d}
        out.update(k for k in mapper.relationships if k not in d)
        return out

    @property
    def unloaded_columns(self) -> set[str]:
        """Names of column attributes with no loaded value."""
        d = self.dict
        return {k for k in self.mapper.column_attr_keys if k not in d}

    @property
    def expired_attributes(self) -> set[str]:
        """Names of column attributes to load from the row (expired ones)."""
        if self.key is None:
            return set()
        unloaded = self.unloaded_columns
        return unloaded - self.known_none if self.known_none else unloaded

    def forget_known_none(self, keys: Any = None) -> None:
        """``keys`` (all when None) are no longer known to be NULL: expired."""
        known = self.known_none
        if known:
            self.known_none = None if keys is None else (known.difference(keys) or None)

    @property
    def modified_keys(self) -> set[str]:
        return {k for k in self.committed if self.history(k).has_changes()}

    # -- change tracking ----------------------------------------------------
    def mark_modified(self) -> None:
        """First change since load/flush: the session must now hold the object,
        and the change belongs to the session's transaction (begun now if there
        is none, so that rollback() undoes it).  Raises before anything is marked
        when no transaction may begin (autobegin=False)."""
        sid = self.session_id
        if sid is not None and self.key is not None and not self.was_deleted:
            session = _sessions.get(sid)
            if session is not None:
                if session.transactions.current is None:
                    session.transactions.autobegin("changing an attribute of a persistent object")
                self.modified = True
                session.identity_map.hold(self)
                return
        self.modified = True

    def reset_changes(self) -> None:
        """The current values are now the committed ones (after load or flush)."""
        if self.committed:
            self.committed = {}
        self.modified = False
        self._strong = None

    def history(self, key: str) -> History:
        obj = self.obj()
        if obj is None:
            return History((), (), ())
        d = obj.__dict__
        rel = self.mapper.relationships.get(key)
        if rel is not None:
            return rel.history(self, d)
        current = d.get(key, NO_VALUE)
        if key in self.committed:
            old = self.committed[key]
            if current is NO_VALUE:
                return History((), (), (() if old is NO_VALUE else (old,)))
            if old is NO_VALUE:
                return History((current,), (), ())
            if not self.mapper.attrs[key].values_differ(old, current):
                return History((), (current,), ())
            return History((current,), (), (old,))
        if current is NO_VALUE:
            return History((), (), ())
        if self.key is None:
            return History((current,), (), ())
        return History((), (current,), ())

    def has_net_changes(self) -> bool:
        """True if some column attribute differs from its committed value."""
        d = self.obj().__dict__  # type: ignore[union-attr]
        attrs = self.mapper.attrs
        for key, old in self.committed.items():
            attr = attrs[key]
            if attr.is_relationship:
                if attr.has_changes(self, d):
                    return True
                continue
            new = d.get(key, NO_VALUE)
            if new is NO_VALUE:
                continue
            if old is NO_VALUE or attr.values_differ(old, new):
                return True
        return False

    def __repr__(self) -> str:
        status = (
            "transient"
            if self.transient
            else "pending"
            if self.pending
            else "deleted"
            if self.deleted
            else "persistent"
            if self.persistent
            else "detached"
        )
        return f"<InstanceState {self.class_.__name__} {status} key={self.key!r}>"


_new_ref = weakref.ref.__new__

#: objects made transient by a rollback while some of their attributes were
#: expired (see :func:`refuse_expired_new`): SQLAlchemy keeps them expired, so
#: reading such an attribute, or flushing the object again, cannot load it
expired_new: weakref.WeakSet[InstanceState] = weakref.WeakSet()


def refuse_expired_new(state: InstanceState, key: str | None) -> None:
    """Raise as SQLAlchemy does for an expired attribute of an object without
    an identity (its INSERT was rolled back while the attribute was expired)."""
    what = f"attribute {key!r}" if key else "its expired attributes"
    if state.session is None:
        raise exc.DetachedInstanceError(
            f"Instance {exc.state_str(state)} is not bound to a Session; {what} expired "
            "before its INSERT was rolled back and cannot be loaded. Set the attribute, "
            "or use make_transient() to forget what was expired"
        )
    raise exc.InvalidRequestError(
        f"Instance {exc.state_str(state)} cannot be refreshed - it's not persistent and "
        f"does not contain a full primary key: {what} expired before its INSERT was "
        "rolled back. Set them, or use make_transient() to forget what was expired"
    )


#: states whose object was garbage collected, waiting to leave their identity
#: map.  The weakref callback is this list's ``append``: it runs in C, so an
#: object dying costs no Python call; :func:`sweep_dead` does the bookkeeping
#: for many at once (before a query, a flush, or a look at the whole map).
_dead: list[InstanceState] = []
_object_gone = _dead.append


def sweep_dead() -> None:
    """Drop the states of garbage-collected objects from their identity maps."""
    # each pop is atomic, so a concurrent or re-entered sweep (a finalizer run by
    # the collector in the middle of this one) takes other states, never the same
    batch = []
    take = batch.append
    pop = _dead.pop
    try:
        for _ in range(len(_dead)):
            take(pop())
    except IndexError:  # another sweep took the last ones
        pass
    # most are states of closed sessions (session_id None): dropped in one pass
    batch = [st for st in batch if st.session_id is not None and st.key is not None]
    get_session = _sessions.get
    last_sid = None
    imap: dict[Any, InstanceState] | None = None
    for state in batch:
        sid = state.session_id
        if sid != last_sid:
            last_sid = sid
            session = get_session(sid)
            imap = session.identity_map.by_key if session is not None else None
        # an object that died can't have been held as modified: only the map entry
        key = state.key
        if imap is not None and imap.get(key) is state:
            # the map may belong to a session another thread is closing right now:
            # the entry can be gone by the time we remove it
            imap.pop(key, None)


def instance_state(obj: object) -> InstanceState:
    """The state of a mapped object, created on first use; raises for unmapped objects."""
    try:
        state = obj.__dict__.get(STATE_ATTR)
    except AttributeError:
        state = None
    if state is not None:
        return state
    if not hasattr(obj, "__dict__"):
        raise exc.UnmappedInstanceError(
            f"{obj!r} is not an instance of a mapped class: pass an instance of a class "
            "declared on a session_ext declarative base"
        )
    mapper = getattr(type(obj), "__mapper__", None)
    if mapper is None:
        raise exc.UnmappedInstanceError(
            f"Class {type(obj).__module__}.{type(obj).__qualname__} is not mapped: "
            "pass an instance of a class declared on a session_ext declarative base"
        )
    return new_state(obj, mapper)


def new_state(obj: object, mapper: Mapper) -> InstanceState:
    """Give a mapped object that has none its (transient) state."""
    state = _new_state(InstanceState, obj, mapper)
    obj.__dict__[STATE_ATTR] = state
    return state


_new_state = InstanceState.__new__

