"""``Session``: the unit of work and identity map, on SQLAlchemy Core.

The public face of the package.  It keeps the object collections (new,
deleted, identity map), owns the transaction stack and delegates the real
work: flushing to :mod:`session_ext.unitofwork` / :mod:`session_ext.persistence`,
loading rows to :mod:`session_ext.loading`, statement execution to
:mod:`session_ext.execution`.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection, Engine, Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

from . import _gc, exc
from .compat import EXECUTION_OPTIONS, find_tables, unannotated
from .identity import IdentityMap
from .loading import get_by_identity, lock_arguments
from .mapping.mapper import Mapper, class_mapper, entity_of, mapper_for_table
from .state import (
    STATE_ATTR,
    InstanceState,
    _dead,
    _sessions,
    expired_new,
    instance_state,
    new_state,
    sweep_dead,
)
from .transaction import JOIN_MODES, SessionTransaction

_T = TypeVar("_T")
_O = TypeVar("_O", bound=object)
_next_hash_key = itertools.count(1)


class Session:
    """Manages persistence operations for mapped objects.

    Mirrors SQLAlchemy 2.x's ``Session``: objects are added, changed and
    deleted in Python and written in dependency order by :meth:`flush`, which
    runs automatically before queries (``autoflush``) and on :meth:`commit`.
    ``with Session(engine) as session:`` closes the session at the end of the
    block; it never commits by itself.
    """

    _is_session_ext = True

    def __init__(
        self,
        bind: Engine | Connection | None = None,
        *,
        binds: dict[Any, Engine | Connection] | None = None,
        autoflush: bool = True,
        expire_on_commit: bool = True,
        autobegin: bool = True,
        twophase: bool = False,
        info: dict[Any, Any] | None = None,
        query_cls: type | None = None,
        join_transaction_mode: str = "conditional_savepoint",
        execution_options: dict[str, Any] | None = None,
        close_resets_only: bool = True,
        future: bool = True,
        n_plus_one: str | None = None,
        n_plus_one_threshold: int = 3,
    ) -> None:
        if future is not True:
            raise exc.ArgumentError(
                "Session(future=...) may only be True (the 2.x behaviour, which is the only "
                "one session_ext has); leave the argument out"
            )
        if n_plus_one not in (None, "warn", "raise"):
            raise exc.ArgumentError(
                f"n_plus_one={n_plus_one!r}: use None (off), 'warn' or 'raise'"
            )
        #: N+1 detection: warn or raise when one relationship lazy-loads for
        #: ``n_plus_one_threshold`` objects loaded by the same statement
        self.n_plus_one = n_plus_one
        self.n_plus_one_threshold = n_plus_one_threshold
        if join_transaction_mode not in JOIN_MODES:
            raise exc.ArgumentError(
                f"join_transaction_mode={join_transaction_mode!r} is not one of {JOIN_MODES}"
            )
        self.bind = bind
        self.autoflush = autoflush
        self.expire_on_commit = expire_on_commit
        self.autobegin = autobegin
        self.twophase = twophase
        self.join_transaction_mode = join_transaction_mode
        #: options applied to the connection when the session acquires it, and to
        #: every statement the session executes (statement and call options win)
        self.execution_options: dict[str, Any] = dict(execution_options or {})
        #: False: close() is final and the session refuses new transactions afterwards
        self.close_resets_only = close_resets_only
        #: why this session may not begin again (None: it may)
        self._closed_for_good: str | None = None
        #: the transaction of the innermost open ``with session.begin():`` block
        self._trans_ctx: SessionTransaction | None = None
        self.info: dict[Any, Any] = dict(info) if info else {}
        self._query_cls = query_cls
        self._binds: dict[Any, Engine | Connection] = {}
        if binds:
            for key, value in binds.items():
                self._add_bind(key, value)
        self.identity_map = IdentityMap()
        self._identity_dict = self.identity_map._dict  # get()'s fast path
        #: pending objects, in the order they were added
        self._new: dict[InstanceState, object] = {}
        #: persistent objects marked for deletion, not yet flushed
        self._deleted: dict[InstanceState, object] = {}
        self._transaction: SessionTransaction | None = None
        #: the thread running flush() (0: none)
        self._flushing = 0
        self._autoflush_blocks = 0
        #: objects a running delete() cascades to, marked deleted when it ends
        self._cascading_delete: dict[InstanceState, object] = {}
        #: row loaders for get() by (mapper, populate_existing); they hold no objects
        self._loader_cache: dict[Any, Any] = {}
        self.hash_key = next(_next_hash_key)
        _sessions[self.hash_key] = self

    # ------------------------------------------------------------------ context
    def __enter__(self: _T) -> _T:
        return self

    def __exit__(self, type_: Any, value: Any, traceback: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<session_ext.Session {self.hash_key} bind={self.bind!r}>"

    # ------------------------------------------------------------------ binds
    def _add_bind(self, key: Any, bind: Engine | Connection) -> None:
        if isinstance(key, Table):
            self._binds[key] = bind
        elif isinstance(key, type):
            self._binds[key] = bind
        elif isinstance(key, Mapper):
            self._binds[key.class_] = bind
        else:
            raise exc.ArgumentError(
                f"binds keys must be mapped classes, base classes or Table objects, "
                f"not {key!r}"
            )

    def bind_mapper(self, mapper: Any, bind: Engine | Connection) -> None:
        """Route a mapped class (or every class of a base) to ``bind``."""
        self._add_bind(mapper, bind)

    def bind_table(self, table: Table, bind: Engine | Connection) -> None:
        """Route statements on ``table`` to ``bind``."""
        self._add_bind(table, bind)

    def get_bind(
        self,
        mapper: Any = None,
        clause: ClauseElement | None = None,
        **kw: Any,
    ) -> Engine | Connection:
        """The engine or connection to use, looked up in this order: the mapped
        class and its bases, the mapper's table, the tables in ``clause``,
        then the session's own ``bind``."""
        if self._binds:
            if mapper is not None:
                cls = mapper.class_ if isinstance(mapper, Mapper) else mapper
                if isinstance(cls, type):
                    for klass in cls.__mro__:
                        bind = self._binds.get(klass)
                        if bind is not None:
                            return bind
                    m = cls.__dict__.get("__mapper__")
                    if m is not None and m.table in self._binds:
                        return self._binds[m.table]
            if clause is not None:
                for table in find_tables(clause, include_crud=True):
                    bind = self._binds.get(table)
                    if bind is not None:
                        return bind
                    m = entity_of(table) or mapper_for_table(table)
                    if m is None:
                        base = unannotated(table)
                        bind = self._binds.get(base) if base is not table else None
                        if bind is not None:
                            return bind
                        continue
                    for klass in m.class_.__mro__:
                        bind = self._binds.get(klass)
                        if bind is not None:
                            return bind
        if self.bind is not None:
            return self.bind
        what = []
        if mapper is not None:
            what.append(f"mapper {getattr(mapper, '__name__', mapper)!r}")
        if clause is not None:
            what.append(f"SQL expression {str(clause)[:60]!r}")
        raise exc.UnboundExecutionError(
            f"Could not locate a bind configured on {' or '.join(what) or 'this Session'}: "
            "pass bind=engine to Session()/sessionmaker(), or map the class or table in "
            "binds={...}"
        )

    # ------------------------------------------------------------------ transactions
    def _autobegin(self, operation: str = "this operation") -> SessionTransaction:
        """The current transaction, begun now if there is none.

        Only bookkeeping: the connection is acquired (and the database
        transaction begun) when the first statement needs it."""
        tx = self._transaction
        if tx is not None:
            return tx
        self._check_can_begin()
        if not self.autobegin:
            raise exc.InvalidRequestError(
                f"Autobegin is disabled on this Session; call session.begin() before {operation}"
            )
        tx = self._transaction = SessionTransaction(self)
        return tx

    def _check_can_begin(self) -> None:
        """Raise if no new transaction may start now (see _check_trans_ctx)."""
        if self._trans_ctx is not None:
            self._check_trans_ctx()
        if self._closed_for_good is not None:
            raise exc.InvalidRequestError(self._closed_for_good)

    def _check_trans_ctx(self) -> None:
        """Inside ``with session.begin():`` whose transaction already ended
        (committed, rolled back or closed inside the block, or its flush
        failed), no new transaction or connection may be used."""
        ctx = self._trans_ctx
        if ctx is None or ctx.is_active:
            return
        failure = ctx._failure
        why = (
            f"it was rolled back because a flush failed ({type(failure).__name__}: {failure})"
            if failure is not None
            else f"it is already {ctx._state.value} (by a commit(), rollback() or close() "
            "inside the block)"
        )
        block = "session.begin_nested()" if ctx.nested else "session.begin()"
        raise exc.InvalidRequestError(
            f"Can't use the session inside this 'with {block}:' block: {why}. "
            "Leave the block first; a new transaction can begin after it"
        ) from failure

    def begin(self) -> SessionTransaction:
        """Begin the root transaction explicitly; use as ``with session.begin():``."""
        self._check_can_begin()
        if self._transaction is not None:
            raise exc.InvalidRequestError(
                "A transaction is already begun on this Session; commit or roll it back "
                "first, or use begin_nested() for a SAVEPOINT"
            )
        self._transaction = SessionTransaction(self, origin="begin")
        return self._transaction

    def begin_nested(self) -> SessionTransaction:
        """Begin a SAVEPOINT; use as ``with session.begin_nested():``."""
        self._check_can_begin()
        parent = self._autobegin("begin_nested()")
        parent.check_active("begin_nested()")
        if self._flushable():
            self.flush()
        tx = SessionTransaction(self, parent=self._transaction, nested=True, origin="begin_nested")
        self._transaction = tx
        return tx

    def commit(self) -> None:
        """Flush, then commit the outermost transaction (releasing SAVEPOINTs)."""
        tx = self._transaction
        if tx is None:
            if not self.autobegin:
                raise exc.InvalidRequestError(
                    "No transaction is begun on this Session (autobegin is disabled)"
                )
            tx = self._autobegin("commit()")
        while tx.nested:
            tx.commit()
            tx = self._transaction  # type: ignore[assignment]
        tx.commit()

    def rollback(self) -> None:
        """Roll back the outermost transaction: pending objects become transient,
        deleted ones are restored and every persistent object is expired."""
        tx = self._transaction
        if tx is None:
            self._discard_pending()
            return
        tx.root.rollback()

    def prepare(self) -> None:
        """Prepare the root transaction for two-phase commit (``twophase=True``)."""
        tx = self._autobegin("prepare()")
        tx.root.prepare()

    def close(self) -> None:
        """Release connections and expunge every object; the session stays usable
        (unless it was created with ``close_resets_only=False``)."""
        self._close()
        if not self.close_resets_only:
            self._closed_for_good = (
                "This Session was closed and created with close_resets_only=False, so it "
                "cannot begin another transaction; create a new Session (or call "
                "session.reset() instead of close() to keep using one)"
            )

    def close_for_good(self, reason: str) -> None:
        """Close the session and refuse any later transaction with ``reason``
        (what :meth:`scoped_session.remove` does to the session it forgets)."""
        self._close()
        self._closed_for_good = reason

    def reset(self) -> None:
        """Like :meth:`close`, for reuse of a session object."""
        self._close()

    def _close(self) -> None:
        tx = self._transaction
        if tx is not None:
            while tx is not None:
                tx.close()
                tx = tx.parent
            self._transaction = None
        self.expunge_all()

    def in_transaction(self) -> bool:
        return self._transaction is not None

    def in_nested_transaction(self) -> bool:
        return self._transaction is not None and self._transaction.nested

    def get_transaction(self) -> SessionTransaction | None:
        return self._transaction.root if self._transaction is not None else None

    def get_nested_transaction(self) -> SessionTransaction | None:
        tx = self._transaction
        return tx if tx is not None and tx.nested else None

    @property
    def is_active(self) -> bool:
        tx = self._transaction
        return tx is None or tx.is_active

    def connection(
        self,
        bind_arguments: dict[str, Any] | None = None,
        execution_options: dict[str, Any] | None = None,
    ) -> Connection:
        """The connection of the current transaction for the session's bind
        (or the bind chosen by ``bind_arguments``: ``mapper``, ``clause``, ``bind``).

        ``execution_options`` (``isolation_level`` say) are applied to the
        connection when this call acquires it, before its transaction begins;
        once the transaction has a connection they are ignored with a warning."""
        bind_arguments = bind_arguments or {}
        bind = bind_arguments.get("bind") or self.get_bind(
            bind_arguments.get("mapper"), bind_arguments.get("clause")
        )
        return self._connection_for_bind(bind, execution_options)

    def _connection_for_bind(
        self, bind: Any, execution_options: dict[str, Any] | None = None
    ) -> Connection:
        if self._trans_ctx is not None:
            self._check_trans_ctx()
        tx = self._transaction or self._autobegin("acquiring a connection")
        return tx.connection_for_bind(bind, execution_options)

    # ------------------------------------------------------------------ object collections
    @property
    def new(self) -> list[object]:
        """Objects added and not yet flushed."""
        return list(self._new.values())

    @property
    def deleted(self) -> list[object]:
        """Objects marked for deletion and not yet flushed."""
        return list(self._deleted.values())

    @property
    def dirty(self) -> list[object]:
        """Persistent objects with changed attributes (use :meth:`is_modified`
        for whether the change is a net one)."""
        out = []
        for state in list(self.identity_map._modified):
            if state in self._deleted:
                continue
            obj = state.obj()
            if obj is not None:
                out.append(obj)
        return out

    def __contains__(self, obj: object) -> bool:
        state = instance_state(obj)
        if state.session_id != self.hash_key:
            return False
        # pending, or in the identity map (not an object whose DELETE was flushed)
        return state.key is None or self._identity_dict.get(state.key) is state

    def __iter__(self) -> Iterator[object]:
        return iter(list(self._new.values()) + self.identity_map.values())

    def add(self, instance: object, _warn: bool = True) -> None:
        """Place an object in the session: transient -> pending, detached -> persistent.

        Related objects follow along relationships with the save-update cascade."""
        if self._transaction is None:
            instance_state(instance)  # an unmapped object raises before anything begins
            self._autobegin("add()")
        self._add_with_cascade(instance, set())

    def _add_with_cascade(self, instance: object, visited: set[int]) -> None:
        if id(instance) in visited:
            return
        visited.add(id(instance))
        state = instance_state(instance)
        self._save_or_update_state(state, instance)
        rels = state.mapper.relationships
        if rels:
            state.mapper.registry.configure()
            for rel in rels.values():
                rel.cascade_add(self, state, instance, visited)

    def _save_or_update_state(self, state: InstanceState, obj: object) -> None:
        sid = state.session_id
        if sid == self.hash_key:
            if state.deleted:
                raise exc.InvalidRequestError(
                    f"Instance {exc.state_str(state)} has been deleted in this transaction; "
                    "use make_transient() on it to insert it again as a new row"
                )
            if self._deleted:
                self._deleted.pop(state, None)  # add() after delete(): not deleted after all
            return
        if state.was_deleted:
            raise exc.InvalidRequestError(
                f"Instance {exc.state_str(state)} has been deleted (its DELETE was "
                "flushed, in this or another session); use make_transient() on it to "
                "insert it again as a new row"
            )
        if sid is not None and _sessions.get(sid) is not None:
            raise self._attached_elsewhere(state, sid)
        if state.key is None:
            state.session_id = self.hash_key
            self._new[state] = obj
        else:
            self._attach_persistent(state, obj)

    def _attached_elsewhere(self, state: InstanceState, sid: int) -> exc.InvalidRequestError:
        return exc.InvalidRequestError(
            f"Object {exc.state_str(state)} is already attached to session {sid} "
            f"(this is {self.hash_key}); expunge it from that session first, or use "
            "merge() to copy its state into this one"
        )

    def _attach_persistent(self, state: InstanceState, obj: object) -> None:
        """Attach an object with a key.  One whose DELETE was flushed (in a session
        since closed) stays deleted, as in SQLAlchemy: only the end of a
        transaction that deleted it, or make_transient(), clears that."""
        existing = self.identity_map.get_state(state.key)  # type: ignore[arg-type]
        if existing is not None and existing is not state and existing.obj() is not None:
            raise exc.InvalidRequestError(
                f"Can't attach instance {exc.state_str(state)}: another instance with key "
                f"{state.key[1]!r} is already present in this session; use merge() instead"  # type: ignore[index]
            )
        state.session_id = self.hash_key
        self.identity_map.add_state(state)  # holds it strongly if it has changes

    def add_all(self, instances: Iterable[object]) -> None:
        """Add each object (see :meth:`add`); when one of them is not a mapped
        object, none is added."""
        if self._transaction is None:
            self._autobegin("add_all()")
        hash_key = self.hash_key
        new = self._new
        if not isinstance(instances, (list, tuple)):
            instances = list(instances)
        _check_all_mapped(instances)  # all or nothing: refuse before adding any
        with _gc.paused(len(instances)):
            self._add_all(instances, hash_key, new)

    def _add_all(self, instances: Any, hash_key: int, new: dict[InstanceState, object]) -> None:
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
                self._add_with_cascade(obj, set())

    def delete(self, instance: object) -> None:
        """Mark a persistent object for deletion at the next flush."""
        state = instance_state(instance)
        if state.key is None:
            raise exc.InvalidRequestError(
                f"Instance {exc.state_str(state)} is not persisted (it is "
                f"{'pending' if state.session_id else 'transient'}); to cancel a pending "
                "add use session.expunge(obj)"
            )
        if self._transaction is None:
            self._autobegin("delete()")
        sid = state.session_id
        if sid != self.hash_key:
            if sid is not None and _sessions.get(sid) is not None:
                raise self._attached_elsewhere(state, sid)
            self._attach_persistent(state, instance)
        elif state.was_deleted:
            # its DELETE was flushed: marked again, as SQLAlchemy does (the next
            # flush's DELETE matches no row: a warning)
            self._attach_persistent(state, instance)
        cascading = self._cascading_delete
        if state in self._deleted or state in cascading:
            return
        rels = state.mapper.relationships
        if not rels:
            if cascading:  # reached by the cascade of an object being deleted
                cascading[state] = instance
            else:
                self._deleted[state] = instance
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
                rel.cascade_delete(self, state, instance)
        except BaseException:
            if head:
                cascading.clear()
            raise
        if head:
            self._deleted.update(cascading)
            cascading.clear()

    def expunge(self, instance: object) -> None:
        """Remove one object from the session (pending -> transient, persistent -> detached)."""
        state = instance_state(instance)
        if state.session_id != self.hash_key:
            raise exc.InvalidRequestError(
                f"Instance {exc.state_str(state)} is not present in this Session; nothing "
                "to expunge"
            )
        self._expunge_state(state)
        for rel in state.mapper.relationships.values():
            rel.cascade_expunge(self, state, instance)

    def _expunge_state(self, state: InstanceState) -> None:
        self._new.pop(state, None)
        self._deleted.pop(state, None)
        self.identity_map.remove_state(state)
        state.session_id = None

    def expunge_all(self) -> None:
        """Remove every object from the session."""
        # every entry goes: no need to sweep out those of collected objects first
        for state in list(self.identity_map._dict.values()):
            state.session_id = None
            state._strong = None
        for state in list(self._new):
            state.session_id = None
        for state in list(self._deleted):
            state.session_id = None
        # objects whose DELETE was flushed stay with the session (deleted) until
        # the transaction ends, as in SQLAlchemy: a rollback restores them
        self.identity_map.clear()
        self._new.clear()
        self._deleted.clear()
        if _dead:
            sweep_dead()  # mostly states of sessions already closed: dropped at once

    def _discard_pending(self) -> None:
        for state in list(self._new):
            self._expunge_state(state)
        self._deleted.clear()

    # ------------------------------------------------------------------ expiry & refresh
    def expire(self, instance: object, attribute_names: Iterable[str] | None = None) -> None:
        """Mark attributes (all by default) to be reloaded on next access;
        unflushed changes to them are discarded."""
        state = self._state_in_session(instance, "expire")
        from .loading import expire_state

        related = self._refresh_expire_cascade(instance) if attribute_names is None else []
        expire_state(self, state, None if attribute_names is None else list(attribute_names))
        for obj in related:
            expire_state(self, instance_state(obj), None)

    def _refresh_expire_cascade(self, instance: object) -> list[object]:
        """Related objects reached through ``refresh-expire`` cascades (loaded ones)."""
        out: list[object] = []
        seen = {id(instance)}
        todo = [instance]
        while todo:
            obj = todo.pop()
            for rel in instance_state(obj).mapper.relationships.values():
                for item in rel.cascade_expire(self, obj, False):
                    if id(item) not in seen:
                        seen.add(id(item))
                        out.append(item)
                        todo.append(item)
        return out

    def expire_all(self) -> None:
        """Expire every persistent object in the session."""
        from .loading import expire_all_states

        expire_all_states(self, self.identity_map.all_states())

    def refresh(
        self,
        instance: object,
        attribute_names: Iterable[str] | None = None,
        with_for_update: Any = None,
    ) -> None:
        """Reload attributes (all by default) from the database now."""
        state = self._state_in_session(instance, "refresh")
        from .loading import expire_state, refresh_state

        names = None if attribute_names is None else list(attribute_names)
        related = self._refresh_expire_cascade(instance) if names is None else []
        # unflushed changes to what is refreshed are discarded, not flushed
        expire_state(self, state, names)
        for obj in related:
            expire_state(self, instance_state(obj), None)
        self._autoflush()
        if not refresh_state(self, state, names, with_for_update=lock_arguments(with_for_update)):
            raise exc.InvalidRequestError(
                f"Could not refresh instance {exc.state_str(state)}: its row with primary key "
                f"{state.key[1]!r} no longer exists"
            )
        for obj in related:
            rstate = instance_state(obj)
            if rstate.key is not None:
                refresh_state(self, rstate, None)

    def _state_in_session(self, instance: object, operation: str) -> InstanceState:
        """The state of a persistent object of this session (in its identity map),
        else InvalidRequestError as SQLAlchemy raises it."""
        state = instance_state(instance)
        key = state.key
        if (
            state.session_id == self.hash_key
            and key is not None
            and self._identity_dict.get(key) is state
        ):
            return state
        if state.session_id != self.hash_key:
            why = "it is not in this Session; add() or merge() it first"
        elif key is None:
            why = "it is pending; flush the session first"
        else:
            why = "its DELETE was flushed"
        raise exc.InvalidRequestError(
            f"Instance {exc.state_str(state)} is not persistent within this Session, so "
            f"{operation}() cannot proceed: {why}"
        )

    def is_modified(self, instance: object, include_collections: bool = True) -> bool:
        """True if the object has a net change to flush (a pending object: any
        attribute set)."""
        state = instance_state(instance)
        if state.key is None:
            d = instance.__dict__
            committed = state.committed
            if not committed or state.mapper.pk_keys[0] not in committed:
                return any(k in d for k in state.mapper.attrs)
            # transient again after its INSERT was rolled back (_mark_flushed):
            # what changed since that flush
            return state.has_net_changes() or any(
                k in d and k not in committed for k in state.mapper.attrs
            )
        if not state.committed:
            return False
        return state.has_net_changes()

    # ------------------------------------------------------------------ flush
    @property
    def no_autoflush(self) -> contextlib.AbstractContextManager[Session]:
        """``with session.no_autoflush:`` - suspend autoflush inside the block."""
        return self._no_autoflush()

    @contextlib.contextmanager
    def _no_autoflush(self) -> Iterator[Session]:
        self._autoflush_blocks += 1
        try:
            yield self
        finally:
            self._autoflush_blocks -= 1

    def _flushable(self) -> bool:
        return bool(self._new or self._deleted or self.identity_map._modified)

    def _autoflush(self) -> None:
        if (
            self.autoflush
            and not self._autoflush_blocks
            and not self._flushing
            and self._flushable()
        ):
            try:
                self.flush()
            except Exception as err:
                if hasattr(err, "add_detail"):
                    err.add_detail(
                        "raised as a result of Query-invoked autoflush; consider using a "
                        "session.no_autoflush block if this flush is occurring prematurely"
                    )
                raise

    def flush(self, objects: Iterable[object] | None = None) -> None:
        """Write every pending change to the database in the current transaction.

        On failure the transaction is rolled back (the SAVEPOINT, inside
        begin_nested()), nothing stays half-written, and the session raises
        ``PendingRollbackError`` until ``rollback()`` is called.
        """
        if self._flushing:
            if self._flushing != threading.get_ident():
                raise exc.InvalidRequestError(
                    "Session is being flushed by another thread. A Session is not "
                    "thread-safe: give each thread its own (a scoped_session, or a "
                    "sessionmaker() call per thread or request)"
                )
            raise exc.InvalidRequestError(
                "Session is already flushing; flush() was called from inside a flush "
                "(an event handler or a default function running SQL through this session?)"
            )
        if not self._flushable():
            if self._transaction is not None:
                self._transaction.check_active("flush")
            return
        from .unitofwork import flush_session

        if self._trans_ctx is not None:
            self._check_trans_ctx()
        tx = self._autobegin("flush()")
        tx.check_active("flush")
        self._flushing = threading.get_ident()
        try:
            flush_session(self, tx, None if objects is None else list(objects))
        finally:
            self._flushing = 0

    def _flush_for_commit(self, tx: SessionTransaction) -> None:
        if self._flushable():
            self.flush()

    # ------------------------------------------------------------------ after commit / rollback
    def _after_commit(self, tx: SessionTransaction) -> None:
        for state in tx._deleted:
            state.session_id = None
        if self.expire_on_commit:
            from .loading import expire_all_states

            expire_all_states(self, self.identity_map.all_states())

    def _restore_after_rollback(self, tx: SessionTransaction, dirty_only: bool) -> None:
        """Put objects back in step with the database after ``tx`` rolled back
        (as SQLAlchemy does): objects INSERTed in it become transient, keeping
        their values; pending ones are expunged; deletions are undone, the
        restored objects keeping what they had loaded; then every persistent
        object is expired, or with ``dirty_only`` (a SAVEPOINT) those the
        SAVEPOINT changed and those with unflushed changes."""
        from .loading import expire_all_states

        imap = self.identity_map
        hash_key = self.hash_key
        # keys changed by flushed primary key updates go back to the old key
        for state, old_key in tx._key_switches.items():
            imap.remove_state(state)
            state.key = old_key
            if state.session_id == hash_key:
                imap.add_state(state)
        # rows inserted in the transaction are gone: their objects are transient
        # again, and what they hold counts as unchanged, as right after the flush
        for state in tx._new:
            if state.session_id == hash_key:
                imap.remove_state(state)
                state.session_id = None
            state.key = None
            state.was_deleted = False
            _mark_flushed(state)
            if state.expired:
                expired_new.add(state)  # it stays expired, as in SQLAlchemy
        # pending objects are discarded, as the work they were part of is gone
        for state in list(self._new):
            self._expunge_state(state)
        self._deleted.clear()
        # rows deleted in the transaction exist again
        for state in tx._deleted:
            if state in tx._new:
                continue  # inserted and deleted in the transaction: transient (above)
            if state.session_id != hash_key:
                continue  # expunged since: it stays detached (and deleted), as in SQLAlchemy
            state.was_deleted = False
            existing = imap.get_state(state.key)  # type: ignore[arg-type]
            if existing is None or existing.obj() is None:
                imap.add_state(state)
        if dirty_only:
            targets = [s for s in set(tx._dirty) | set(imap._modified)
                       if s.session_id == hash_key and s.key is not None]
        else:
            targets = imap.all_states()
        expire_all_states(self, targets)

    def _is_clean(self) -> bool:
        """No pending, deleted or changed objects."""
        return not (self._new or self._deleted or self.identity_map._modified)

    # ------------------------------------------------------------------ execution
    def execute(
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: dict[str, Any] | None = None,
        bind_arguments: dict[str, Any] | None = None,
    ) -> Result[Any]:
        """Execute a statement in the session's transaction.

        ``select(Model)`` rows contain the session's objects; a plain string is
        run as ``text()``; any other Core construct runs as it would on a
        ``Connection``.
        """
        from .execution import execute

        if isinstance(statement, str):
            statement = text(statement)
        if self.execution_options:
            # the session's options, unless the statement or the call sets them
            own = getattr(statement, EXECUTION_OPTIONS, {})
            merged = {k: v for k, v in self.execution_options.items() if k not in own}
            if execution_options:
                merged.update(execution_options)
            execution_options = merged
        try:
            return execute(self, statement, params, execution_options or {}, bind_arguments)
        except DBAPIError as err:
            if self._transaction is not None:
                self._transaction.note_failed_statement(err)
            raise

    def scalars(
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: dict[str, Any] | None = None,
        bind_arguments: dict[str, Any] | None = None,
    ) -> Any:
        """Execute and return the first column of each row (``ScalarResult``)."""
        return self.execute(
            statement, params, execution_options=execution_options, bind_arguments=bind_arguments
        ).scalars()

    def scalar(
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: dict[str, Any] | None = None,
        bind_arguments: dict[str, Any] | None = None,
    ) -> Any:
        """Execute and return the first column of the first row, or None."""
        return self.execute(
            statement, params, execution_options=execution_options, bind_arguments=bind_arguments
        ).scalar()

    # ------------------------------------------------------------------ get / merge
    def get(
        self,
        entity: type[_O],
        ident: Any,
        *,
        options: Any = None,
        populate_existing: bool | None = None,
        with_for_update: Any = None,
        identity_token: Any = None,
        execution_options: dict[str, Any] | None = None,
        bind_arguments: dict[str, Any] | None = None,
    ) -> _O | None:
        """The object with this primary key, or None.

        ``ident`` is a scalar, a tuple in primary key order or a dict of
        attribute names. An object already in the identity map (and not
        expired) is returned without SQL, whatever ``options`` say; otherwise
        ``options`` (``joinedload()``, ``raiseload()``, ...), ``execution_options``
        and ``bind_arguments`` apply to the SELECT, as in SQLAlchemy.
        ``populate_existing`` (here or in ``execution_options``; the argument
        wins) and ``with_for_update`` always SELECT and overwrite the object.
        """
        if populate_existing is None and execution_options:
            populate_existing = bool(execution_options.get("populate_existing"))
        if not (populate_existing or identity_token is not None
                or (with_for_update is not None and with_for_update is not False)):
            # fast path: an identity-map hit on a single-column key costs no call chain
            try:
                state = self._identity_dict.get((entity, (ident,), None))
            except TypeError:  # a dict or list ident is unhashable: the long way
                state = None
            if state is not None and not state.expired:
                obj = state()  # the state is the weak reference: state() is state.obj()
                if obj is not None:
                    return obj  # type: ignore[return-value]
        if identity_token is not None:
            raise exc.ArgumentError(
                f"get(..., identity_token={identity_token!r}): identity tokens belong to "
                "SQLAlchemy's horizontal sharding, which session_ext does not have; every "
                "identity key here has the token None. Leave identity_token out"
            )
        mapper = getattr(entity, "__dict__", {}).get("__mapper__")
        if mapper is None:
            mapper = class_mapper(entity)  # raises UnmappedClassError
        if len(mapper.pk_keys) == 1 and type(ident) not in (tuple, list, dict):
            pk = (ident,)
        else:
            pk = mapper.normalize_ident(ident)
        return get_by_identity(  # type: ignore[return-value]
            self,
            mapper,
            pk,
            populate_existing=bool(populate_existing),
            with_for_update=lock_arguments(with_for_update),
            options=options,
            execution_options=execution_options,
            bind_arguments=bind_arguments,
        )

    def get_one(self, entity: type[_O], ident: Any, **kw: Any) -> _O:
        """Like :meth:`get`, but raise ``NoResultFound`` when there is no such row."""
        obj = self.get(entity, ident, **kw)
        if obj is None:
            raise exc.NoResultFound(
                f"No row was found for {entity.__name__} with primary key {ident!r}"
            )
        return obj

    def merge(self, instance: _O, *, load: bool = True, options: Any = None) -> _O:
        """Copy the state of ``instance`` onto the session's object with the same
        primary key (loaded or created as needed) and return that object; the
        argument itself is never added. ``options`` apply to the SELECT that
        loads the session's object, as for :meth:`get`."""
        from .merging import merge

        if load:
            self._autoflush()  # as SQLAlchemy: flush first, then no autoflush while merging
        with self.no_autoflush:
            return merge(self, instance, load, {}, options)  # type: ignore[return-value]

    # ------------------------------------------------------------------ legacy query
    def query(self, *entities: Any, **kw: Any) -> Any:
        """Legacy ``Query`` over entities or columns (see :mod:`session_ext.query`)."""
        from .query import Query

        cls = self._query_cls or Query
        return cls(entities, self, **kw)


def _check_all_mapped(instances: Any) -> None:
    """Raise the unmapped-object error for the first object of ``instances``
    that no session can hold, before any of them is added."""
    last_cls: Any = None
    for obj in instances:
        cls = type(obj)
        if cls is last_cls:
            continue
        if cls.__dict__.get("__mapper__") is None:
            instance_state(obj)  # raises unless the object has a state of its own
            continue  # a state but no mapper of its own class: check each such object
        last_cls = cls


def object_session(instance: object) -> Session | None:
    """The session the object belongs to, or None."""
    state = instance_state(instance)
    return state.session


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


def make_transient(instance: object) -> None:
    """Detach the object from its session and forget its identity: it becomes
    transient and will be INSERTed if added again. Unloaded attributes stay
    unloaded."""
    state = instance_state(instance)
    session = state.session
    if session is not None:
        session._expunge_state(state)
    state.session_id = None
    state.key = None
    state.was_deleted = False
    state.expired = False
    expired_new.discard(state)
    state._strong = None


def make_transient_to_detached(instance: object) -> None:
    """Give a transient object the identity its primary key attributes name,
    making it detached (as if loaded and then expunged)."""
    state = instance_state(instance)
    if state.session_id is not None or state.key is not None:
        raise exc.InvalidRequestError(
            f"Instance {exc.state_str(state)} is not transient; make_transient_to_detached "
            "only applies to transient objects"
        )
    d = instance.__dict__
    pk = state.mapper.primary_key_from_dict(d)
    if any(v is None for v in pk):
        raise exc.InvalidRequestError(
            f"Instance {exc.state_str(state)} has no complete primary key {pk!r}; set it first"
        )
    state.key = state.mapper.identity_key_from_values(pk)
    state.reset_changes()


def close_all_sessions() -> None:
    """Close every session in this process (for test teardown)."""
    for session in list(_sessions.values()):
        session.close()

