"""Object bookkeeping: which objects a session holds, and every lifecycle transition.

One :class:`ObjectBookkeeping` per session (``session.objects``) keeps the
pending objects (``new``), those marked for deletion (``deleted``) and the
identity map, and is the one place where an object changes state::

    transient --add()--> pending --flush--> persistent --delete()--> marked
        --flush--> deleted --commit--> detached
    pending --expunge()--> transient        persistent --expunge()/close()--> detached
    rollback: INSERTed in the transaction -> transient (values kept), deleted ->
              persistent again, re-keyed -> back to the old key; then expired

Whatever sets ``state.key``, ``state.session_id`` or ``state.was_deleted`` of an
object in a session does it here; the only other writers are
:class:`~session_ext.state.InstanceState`'s constructor and the generated row
loaders of :mod:`session_ext.loading`, which inline that constructor for speed
(a loaded row becomes a persistent object in one step).

The layers above (execution, loading, merging, the unit of work, the
``Session`` façade) call these methods; none of them touches the collections'
bookkeeping by hand.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import exc, listening
from .identity import IdentityMap
from .state import (
    STATE_ATTR,
    InstanceState,
    _dead,
    _sessions,
    expired_new,
    instance_state,
    sweep_dead,
)

if TYPE_CHECKING:
    from .protocols import FlushResult, SessionLike, TransactionLike


class ObjectBookkeeping:
    """The objects of one session and their lifecycle transitions."""

    __slots__ = (
        "hash_key", "identity_map", "new", "deleted", "cascading_delete",
        "flushing", "autoflush_blocks", "loader_cache", "implicit_io_guard",
    )

    def __init__(self, hash_key: int) -> None:
        self.hash_key = hash_key
        self.identity_map = IdentityMap()
        #: pending objects, in the order they were added
        self.new: dict[InstanceState, object] = {}
        #: persistent objects marked for deletion, not yet flushed
        self.deleted: dict[InstanceState, object] = {}
        #: objects a running delete() cascades to, marked deleted when it ends
        self.cascading_delete: dict[InstanceState, object] = {}
        #: the thread running flush() (0: none)
        self.flushing = 0
        #: open ``no_autoflush`` blocks
        self.autoflush_blocks = 0
        #: row loaders for get() by (mapper, populate_existing); they hold no objects
        self.loader_cache: dict[Any, Any] = {}
        #: called as ``guard(state, key)`` right before an attribute access runs
        #: SQL (a lazy load, an expired attribute); an AsyncSession installs its
        #: refusal of implicit I/O here (None: allowed)
        self.implicit_io_guard: Any = None

    @contextlib.contextmanager
    def no_autoflush(self, session: Any) -> Iterator[Any]:
        """``with session.no_autoflush:`` - suspend autoflush inside the block."""
        self.autoflush_blocks += 1
        try:
            yield session
        finally:
            self.autoflush_blocks -= 1

    # -- questions ----------------------------------------------------------------------
    def flushable(self) -> bool:
        """Anything to flush: pending, deleted or changed objects."""
        return bool(self.new or self.deleted or self.identity_map.modified)

    def holds(self, state: InstanceState) -> bool:
        """Pending here, or in the identity map (not an object whose DELETE was flushed)."""
        if state.session_id != self.hash_key:
            return False
        return state.key is None or self.identity_map.by_key.get(state.key) is state

    # -- transient / detached -> pending / persistent ----------------------------------
    def save_or_update(self, state: InstanceState, obj: object) -> None:
        """``add()`` of one object: transient -> pending, detached -> persistent."""
        sid = state.session_id
        if sid == self.hash_key:
            if state.deleted:
                raise exc.InvalidRequestError(
                    f"Instance {exc.state_str(state)} has been deleted in this transaction; "
                    "use make_transient() on it to insert it again as a new row"
                )
            if self.deleted:
                self.deleted.pop(state, None)  # add() after delete(): not deleted after all
            return
        if state.was_deleted:
            raise exc.InvalidRequestError(
                f"Instance {exc.state_str(state)} has been deleted (its DELETE was "
                "flushed, in this or another session); use make_transient() on it to "
                "insert it again as a new row"
            )
        if sid is not None and _sessions.get(sid) is not None:
            raise self.attached_elsewhere(state, sid)
        if state.key is None:
            state.session_id = self.hash_key
            self.new[state] = obj
            if listening.session:
                _fire(self, "after_attach", obj)
                _fire(self, "transient_to_pending", obj)
        else:
            self.attach_persistent(state, obj)

    def add_new(self, instances: Any, new_state: Any, cascade: Any) -> None:
        """``add_all()``'s loop: new objects without relationships become pending
        right here; any other object goes through ``cascade(obj, set())``."""
        if listening.session and _listens(self, "after_attach", "transient_to_pending"):
            # each object through add(), firing its events
            for obj in instances:
                cascade(obj, set())
            return
        hash_key = self.hash_key
        new = self.new
        last_cls: Any = None
        mapper: Any = None
        for obj in instances:
            try:
                state = obj.__dict__.get(STATE_ATTR)
            except AttributeError:
                state = None
            if state is None:
                cls = type(obj)
                if cls is not last_cls:
                    last_cls = cls
                    mapper = cls.__dict__.get("__mapper__")
                if mapper is None:
                    last_cls = None
                    state = instance_state(obj)  # raises the unmapped-object error
                else:
                    state = new_state(obj, mapper)
                    if not mapper.relationships:  # a new object, no cascades: pending now
                        state.session_id = hash_key
                        new[state] = obj
                        continue
            if state.session_id is None and state.key is None and not state.mapper.relationships:
                state.session_id = hash_key  # the common case: a new object, no cascades
                new[state] = obj
            else:
                cascade(obj, set())

    def attached_elsewhere(self, state: InstanceState, sid: int) -> exc.InvalidRequestError:
        return exc.InvalidRequestError(
            f"Object {exc.state_str(state)} is already attached to session {sid} "
            f"(this is {self.hash_key}); expunge it from that session first, or use "
            "merge() to copy its state into this one"
        )

    def attach_persistent(self, state: InstanceState, obj: object,
                          key: tuple[Any, ...] | None = None) -> None:
        """Attach an object with a key (``key``: give it that one first, for
        ``merge(load=False)``).  One whose DELETE was flushed (in a session since
        closed) stays deleted, as in SQLAlchemy: only the end of a transaction
        that deleted it, or make_transient(), clears that."""
        if key is not None:
            state.key = key
        existing = self.identity_map.get_state(state.key)  # type: ignore[arg-type]
        if existing is not None and existing is not state and existing.obj() is not None:
            raise exc.InvalidRequestError(
                f"Can't attach instance {exc.state_str(state)}: another instance with key "
                f"{state.key[1]!r} is already present in this session; use merge() instead"  # type: ignore[index]
            )
        attaching = listening.session and state.session_id != self.hash_key
        state.session_id = self.hash_key
        self.identity_map.add_state(state)  # holds it strongly if it has changes
        if attaching:
            _fire(self, "after_attach", obj)
            _fire(self, "detached_to_persistent", obj)

    def attach_for_delete(self, state: InstanceState, obj: object) -> None:
        """``delete()`` of an object not (or no longer) in the identity map:
        attach it first (raising if another live session holds it)."""
        sid = state.session_id
        if sid != self.hash_key:
            if sid is not None and _sessions.get(sid) is not None:
                raise self.attached_elsewhere(state, sid)
            self.attach_persistent(state, obj)
        elif state.was_deleted:
            # its DELETE was flushed: marked again, as SQLAlchemy does (the next
            # flush's DELETE matches no row: a warning)
            self.attach_persistent(state, obj)

    # -- persistent -> deleted -> detached ----------------------------------------------
    def mark_deleted(self, session: SessionLike, state: InstanceState, instance: object) -> None:
        """``delete()``: mark a persistent object, and what its relationships'
        ``delete`` cascades reach, for deletion at the next flush."""
        self.attach_for_delete(state, instance)
        cascading = self.cascading_delete
        if state in self.deleted or state in cascading:
            return
        rels = state.mapper.relationships
        if not rels:
            if cascading:  # reached by the cascade of an object being deleted
                cascading[state] = instance
            else:
                self.deleted[state] = instance
            return
        state.mapper.registry.configure()
        head = not cascading
        cascading[state] = instance
        # load what the cascade needs (autoflushing, as any load does) before
        # the object or anything it cascades to counts as deleted: the whole
        # deletion is marked at once at the end, so no autoflush flushes half
        # of it, and a failed load marks nothing
        try:
            for rel in rels.values():
                for item in rel.delete_targets(instance):
                    self._delete_cascaded(session, item)
        except BaseException:
            if head:
                cascading.clear()
            raise
        if head:
            self.deleted.update(cascading)
            cascading.clear()

    def _delete_cascaded(self, session: SessionLike, item: object) -> None:
        """An object the delete cascade reaches: deleted too (a pending one is expunged)."""
        istate = instance_state(item)
        if istate.key is None:
            if istate.session_id == self.hash_key:
                self.expunge_state(istate)
        elif istate not in self.deleted and not istate.deleted:
            session.delete(item)

    def row_deleted(self, state: InstanceState, obj: object,
                    tx: TransactionLike | None) -> None:
        """The object's row was deleted in transaction ``tx`` (by a flush, a bulk
        DELETE, or found gone when reloading): out of the identity map, deleted,
        and restored by a rollback of ``tx``."""
        self.deleted.pop(state, None)
        self.identity_map.remove_state(state)
        state.was_deleted = True
        if tx is not None:
            tx.flushed_deleted[state] = obj

    def after_commit(self, tx: TransactionLike) -> None:
        """Objects whose rows the committed transaction deleted are detached."""
        for state in tx.flushed_deleted:
            state.session_id = None
        if listening.session:
            for obj in list(tx.flushed_deleted.values()):
                _fire(self, "deleted_to_detached", obj)

    # -- pending / persistent -> transient / detached -------------------------------------
    def expunge_state(self, state: InstanceState) -> None:
        event = (_leaving_event(state) if listening.session and state.session_id == self.hash_key
                 else None)
        obj = state.obj() if event is not None else None  # held while it is fired
        self.new.pop(state, None)
        self.deleted.pop(state, None)
        self.identity_map.remove_state(state)
        state.session_id = None
        if event is not None:
            _fire(self, event, obj)

    def expunge_all(self) -> None:
        leaving = None
        if listening.session:
            leaving = [(_leaving_event(s), s.obj()) for s in
                       [*self.identity_map.all_states(), *self.new, *self.deleted]]
        # every entry goes: no need to sweep out those of collected objects first
        for state in list(self.identity_map.by_key.values()):
            state.session_id = None
            state._strong = None
        for state in list(self.new):
            state.session_id = None
        for state in list(self.deleted):
            state.session_id = None
        # objects whose DELETE was flushed stay with the session (deleted) until
        # the transaction ends, as in SQLAlchemy: a rollback restores them
        self.identity_map.clear()
        self.new.clear()
        self.deleted.clear()
        if _dead:
            sweep_dead()  # mostly states of sessions already closed: dropped at once
        for event, obj in leaving or ():
            _fire(self, event, obj)

    def discard_pending(self) -> None:
        """Pending objects become transient and nothing is marked deleted."""
        for state in list(self.new):
            self.expunge_state(state)
        self.deleted.clear()

    # -- the flush succeeded ---------------------------------------------------------------
    def settle_flush(self, tx: TransactionLike, plan: FlushResult) -> None:
        """Every statement of a flush succeeded: pending -> persistent, marked ->
        deleted, keys follow primary key changes, changes become committed."""
        imap = self.identity_map
        if plan.deleted:
            deleting = self.deleted
            remove = imap.remove_state
            tx_deleted = tx.flushed_deleted
            for state, obj in plan.deleted:  # row_deleted(), inlined: one call per row less
                deleting.pop(state, None)
                remove(state)
                state.was_deleted = True
                tx_deleted[state] = obj
        replaced = [(s, s.obj()) for s in plan.replacing]
        settled = plan.inserted + replaced
        self._settle_inserted(settled, plan.whole_session)
        imap_dict = imap.by_key
        for state in plan.conflicts:
            # the INSERT succeeded after all (the row was gone): the new object owns the key
            if imap_dict.get(state.key) is not state:  # type: ignore[arg-type]
                imap.remove_state(state)
                state.session_id = None
        tx.flushed_new.update(dict.fromkeys([state for state, _obj in settled]))
        if listening.session and _listens(self, "persistent_to_deleted", "pending_to_persistent"):
            for _state, obj in plan.deleted:
                _fire(self, "persistent_to_deleted", obj)
            for _state, obj in settled:
                _fire(self, "pending_to_persistent", obj)
        for state, old_key in plan.key_switches:
            # the identity key follows a flushed primary key change
            imap.remove_state(state)
            state.key = state.mapper.identity_key_from_values(
                state.mapper.primary_key_from_dict(state.obj().__dict__)  # type: ignore[union-attr]
            )
            imap.add_state(state)
            tx.key_switches.setdefault(state, old_key)
        for state in plan.unchanged:
            # no column changed, but relationships may have: a SAVEPOINT rolled back
            # later must expire this object too, so its collections reload
            tx.flushed_dirty.add(state)
            state.reset_changes()
            imap.release(state)
        for state, _obj in plan.updated:
            if state not in plan.replacing:
                tx.flushed_dirty.add(state)
            state.reset_changes()
            imap.release(state)

    def _settle_inserted(self, settled: list[tuple[InstanceState, Any]],
                         whole_session: bool) -> None:
        new = self.new
        imap_dict = self.identity_map.by_key
        last_mapper = None
        cls: Any = None
        pk_keys: tuple[str, ...] = ()
        pk0 = ""
        # a whole-session flush settles every pending object: clear ``new`` at once
        whole = whole_session and len(settled) == len(new)
        for state, obj in settled:
            d = obj.__dict__
            mapper = state.mapper
            if mapper is not last_mapper:
                last_mapper = mapper
                cls = mapper.class_
                pk_keys = mapper.pk_keys
                pk0 = pk_keys[0] if len(pk_keys) == 1 else ""
            if pk0:
                key = (cls, (d.get(pk0),), None)
            else:
                key = (cls, tuple([d.get(k) for k in pk_keys]), None)
            state.key = key
            if not whole:
                del new[state]
            if state.modified or state.committed:
                state.reset_changes()
            imap_dict[key] = state
        if whole:
            new.clear()

    # -- the transaction rolled back ---------------------------------------------------------
    def restore_after_rollback(self, tx: TransactionLike, dirty_only: bool) -> list[InstanceState]:
        """Put objects back in step with the database after ``tx`` rolled back
        (as SQLAlchemy does): objects INSERTed in it become transient, keeping
        their values; pending ones are expunged; deletions are undone, the
        restored objects keeping what they had loaded.  Returns the objects to
        expire: every persistent one, or with ``dirty_only`` (a SAVEPOINT) those
        the SAVEPOINT changed and those with unflushed changes."""
        imap = self.identity_map
        hash_key = self.hash_key
        # keys changed by flushed primary key updates go back to the old key
        for state, old_key in tx.key_switches.items():
            imap.remove_state(state)
            state.key = old_key
            if state.session_id == hash_key:
                imap.add_state(state)
        inserted = tx.flushed_new
        # rows inserted in the transaction are gone: their objects are transient
        # again, and what they hold counts as unchanged, as right after the flush
        for state in inserted:
            obj = None
            if state.session_id == hash_key:
                obj = state.obj()
                imap.remove_state(state)
                state.session_id = None
            state.key = None
            state.was_deleted = False
            _mark_flushed(state)
            if state.expired:
                expired_new.add(state)  # it stays expired, as in SQLAlchemy
            if obj is not None and listening.session:
                _fire(self, "persistent_to_transient", obj)  # the object is transient now
        # pending objects are discarded, as the work they were part of is gone
        self.discard_pending()
        # rows deleted in the transaction exist again
        for state in tx.flushed_deleted:
            if state in inserted:
                continue  # inserted and deleted in the transaction: transient (above)
            if state.session_id != hash_key:
                continue  # expunged since: it stays detached (and deleted), as in SQLAlchemy
            state.was_deleted = False
            existing = imap.get_state(state.key)  # type: ignore[arg-type]
            if existing is None or existing.obj() is None:
                imap.add_state(state)
            if listening.session:
                _fire(self, "deleted_to_persistent", state.obj())
        if dirty_only:
            return [s for s in set(tx.flushed_dirty) | set(imap.modified)
                    if s.session_id == hash_key and s.key is not None]
        return imap.all_states()


def _mark_flushed(state: InstanceState) -> None:
    """A transient object whose INSERT was rolled back: its current values
    become its committed ones (SQLAlchemy's history of such an object shows
    them unchanged; ``is_modified()`` is False until something is set)."""
    obj = state()
    if obj is None:
        return
    d = obj.__dict__
    mapper = state.mapper
    committed = {k: d[k] for k in mapper.column_attr_keys if k in d}
    for key, rel in mapper.relationships.items():
        if key in d:
            committed[key] = tuple(d[key]) if rel.uselist else d[key]
    state.committed = committed
    state.modified = False
    state._strong = None


def make_transient(state: InstanceState) -> None:
    """Detach the object from its session and forget its identity."""
    session = state.session
    if session is not None:
        session.objects.expunge_state(state)
    state.session_id = None
    state.key = None
    state.was_deleted = False
    state.expired = False
    expired_new.discard(state)
    state._strong = None


def make_transient_to_detached(state: InstanceState) -> None:
    """Give a transient object the identity its primary key attributes name."""
    if state.session_id is not None or state.key is not None:
        raise exc.InvalidRequestError(
            f"Instance {exc.state_str(state)} is not transient; make_transient_to_detached "
            "only applies to transient objects"
        )
    d = state.obj().__dict__  # type: ignore[union-attr]
    pk = state.mapper.primary_key_from_dict(d)
    if any(v is None for v in pk):
        raise exc.InvalidRequestError(
            f"Instance {exc.state_str(state)} has no complete primary key {pk!r}; set it first"
        )
    state.key = state.mapper.identity_key_from_values(pk)
    state.reset_changes()


def autoflush(session: SessionLike) -> None:
    """Flush before a query or load, unless autoflush is off, suspended
    (``no_autoflush``), already flushing, or there is nothing to flush."""
    objects = session.objects
    if (
        session.autoflush
        and not objects.autoflush_blocks
        and not objects.flushing
        # objects.flushable(), inlined: every query and get() passes here
        and (objects.new or objects.deleted or objects.identity_map.modified)
    ):
        try:
            session.flush()
        except Exception as err:
            if hasattr(err, "add_detail"):
                err.add_detail(
                    "raised as a result of Query-invoked autoflush; consider using a "
                    "session.no_autoflush block if this flush is occurring prematurely"
                )
            raise


def _leaving_event(state: InstanceState) -> str:
    """The Session event of ``state`` leaving its session."""
    if state.key is None:
        return "pending_to_transient"
    return "deleted_to_detached" if state.was_deleted else "persistent_to_detached"


def _listens(book: ObjectBookkeeping, *names: str) -> bool:
    """The session of ``book`` has a listener for one of the events ``names``."""
    session = listening.session_for(book.hash_key)
    if session is None:
        return False
    dispatch = session.dispatch  # type: ignore[attr-defined]
    return any(getattr(dispatch, name) for name in names)


def _fire(book: ObjectBookkeeping, name: str, obj: object) -> None:
    """Fire the Session event ``name`` for ``obj`` (callers test
    ``listening.session`` first: no cost without listeners)."""
    session = listening.session_for(book.hash_key)
    if session is not None and obj is not None:
        getattr(session.dispatch, name)(session, obj)  # type: ignore[attr-defined]
