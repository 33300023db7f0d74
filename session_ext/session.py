"""``Session``: the unit of work and identity map, on SQLAlchemy Core.

The public face of the package: configuration, the context manager, and
public methods that delegate.  A session's state lives in its session core,
which the layers below use instead of this class: ``session.objects``
(:class:`~session_ext.lifecycle.ObjectBookkeeping`: the objects and every
lifecycle transition) and ``session.transactions``
(:class:`~session_ext.transaction.TransactionStack`: the current transaction).
The work is done below: flushing in :mod:`session_ext.unitofwork` /
:mod:`session_ext.persistence`, loading rows in :mod:`session_ext.loading`,
statement execution in :mod:`session_ext.execution`.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, overload

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection, Engine, Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

from . import _gc, bulk, exc, lifecycle, refreshing
from .binds import BindRouter, unbound_error
from .compat import EXECUTION_OPTIONS
from .lifecycle import ObjectBookkeeping, autoflush
from .loading import expire_all_states, get_by_identity, lock_arguments
from .mapping.mapper import class_mapper
from .state import _sessions, instance_state, new_state
from .transaction import JOIN_MODES, SessionTransaction, TransactionHooks, TransactionStack

if TYPE_CHECKING:
    from sqlalchemy.engine import ScalarResult

    from .compat import TypedReturnsRows

_T = TypeVar("_T")
_O = TypeVar("_O", bound=object)
_next_hash_key = itertools.count(1)


class _TransactionControl:
    """The transaction and connection half of the ``Session`` façade: begin,
    commit, roll back, close, what is begun, and which bind a statement uses.
    The methods delegate to the session's
    :class:`~session_ext.transaction.TransactionStack` (``self.transactions``)
    and :class:`~session_ext.binds.BindRouter`."""

    transactions: TransactionStack
    objects: ObjectBookkeeping
    autobegin: bool
    close_resets_only: bool

    bind: Engine | Connection | None
    _router: BindRouter

    def begin(self) -> SessionTransaction:
        """Begin the root transaction explicitly; use as ``with session.begin():``."""
        return self.transactions.begin()

    def begin_nested(self) -> SessionTransaction:
        """Begin a SAVEPOINT; use as ``with session.begin_nested():``."""
        stack = self.transactions
        stack.check_can_begin()
        parent = stack.autobegin("begin_nested()")
        parent.check_active("begin_nested()")
        if self.objects.flushable():
            self.flush()
        return stack.begin_nested(stack.current)  # type: ignore[arg-type]

    def commit(self) -> None:
        """Flush, then commit the outermost transaction (releasing SAVEPOINTs)."""
        stack = self.transactions
        tx = stack.current
        if tx is None:
            if not self.autobegin:
                raise exc.InvalidRequestError(
                    "No transaction is begun on this Session (autobegin is disabled)"
                )
            tx = stack.autobegin("commit()")
        while tx.nested:
            tx.commit()
            tx = stack.current  # type: ignore[assignment]
        tx.commit()

    def rollback(self) -> None:
        """Roll back the outermost transaction: pending objects become transient,
        deleted ones are restored and every persistent object is expired."""
        tx = self.transactions.current
        if tx is None:
            self.objects.discard_pending()
            return
        tx.root.rollback()

    def prepare(self) -> None:
        """Prepare the root transaction for two-phase commit (``twophase=True``)."""
        tx = self.transactions.autobegin("prepare()")
        tx.root.prepare()

    def close(self) -> None:
        """Release connections and expunge every object; the session stays usable
        (unless it was created with ``close_resets_only=False``)."""
        self._close()
        if not self.close_resets_only:
            self.transactions.closed_for_good = (
                "This Session was closed and created with close_resets_only=False, so it "
                "cannot begin another transaction; create a new Session (or call "
                "session.reset() instead of close() to keep using one)"
            )

    def close_for_good(self, reason: str) -> None:
        """Close the session and refuse any later transaction with ``reason``
        (what :meth:`scoped_session.remove` does to the session it forgets)."""
        self._close()
        self.transactions.closed_for_good = reason

    def reset(self) -> None:
        """Like :meth:`close`, for reuse of a session object."""
        self._close()

    def _close(self) -> None:
        self.expunge_all()  # objects first, then the transactions, as SQLAlchemy orders them
        self.transactions.close_all()

    def in_transaction(self) -> bool:
        return self.transactions.current is not None

    def in_nested_transaction(self) -> bool:
        tx = self.transactions.current
        return tx is not None and tx.nested

    def get_transaction(self) -> SessionTransaction | None:
        tx = self.transactions.current
        return tx.root if tx is not None else None

    def get_nested_transaction(self) -> SessionTransaction | None:
        tx = self.transactions.current
        return tx if tx is not None and tx.nested else None

    @property
    def is_active(self) -> bool:
        tx = self.transactions.current
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
        return self.transactions.connection_for_bind(bind, execution_options)

    # ------------------------------------------------------------------ binds
    def bind_mapper(self, mapper: Any, bind: Engine | Connection) -> None:
        """Route a mapped class (or every class of a base) to ``bind``."""
        self._router.add(mapper, bind)

    def bind_table(self, table: Table, bind: Engine | Connection) -> None:
        """Route statements on ``table`` to ``bind``."""
        self._router.add(table, bind)

    def get_bind(
        self,
        mapper: Any = None,
        clause: ClauseElement | None = None,
        **kw: Any,
    ) -> Engine | Connection:
        """The engine or connection to use, looked up in this order: the mapped
        class and its bases, the mapper's table, the tables in ``clause``,
        then the session's own ``bind``."""
        if self._router.binds:  # (the dict: Binds.__bool__ would be a Python call)
            bind = self._router.route(mapper, clause)
            if bind is not None:
                return bind
        if self.bind is not None:
            return self.bind
        raise unbound_error(mapper, clause)

    @property
    def _flushing(self) -> bool:
        """True during a flush or a legacy bulk operation (what SQLAlchemy's
        ``get_bind()`` overrides read to route writes)."""
        return bool(self.objects.flushing)

    @classmethod
    def object_session(cls, instance: object) -> Session | None:
        """The session ``instance`` belongs to, or None (the module's :func:`object_session`)."""
        return object_session(instance)


class _LegacyBulk:
    """SQLAlchemy's legacy bulk methods (bodies in :mod:`session_ext.bulk`):
    rows written without adding the objects to the session."""

    def bulk_save_objects(self, objects: Iterable[object], return_defaults: bool = False,
                          update_changed_only: bool = True, preserve_order: bool = True) -> None:
        bulk.bulk_save_objects(self, objects, return_defaults,  # type: ignore[arg-type]
                               update_changed_only, preserve_order)

    def bulk_insert_mappings(self, mapper: Any, mappings: Iterable[dict[str, Any]],
                             return_defaults: bool = False, render_nulls: bool = False) -> None:
        bulk.bulk_insert_mappings(self, mapper, mappings,  # type: ignore[arg-type]
                                  return_defaults, render_nulls)

    def bulk_update_mappings(self, mapper: Any, mappings: Iterable[dict[str, Any]]) -> None:
        bulk.bulk_update_mappings(self, mapper, mappings)  # type: ignore[arg-type]


class Session(_TransactionControl, _LegacyBulk):
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
        if (future, n_plus_one, join_transaction_mode) != _DEFAULT_ARGUMENTS:
            _check_arguments(future, n_plus_one, join_transaction_mode)
        #: N+1 detection: warn or raise when one relationship lazy-loads for
        #: ``n_plus_one_threshold`` objects loaded by the same statement
        self.n_plus_one = n_plus_one
        self.n_plus_one_threshold = n_plus_one_threshold
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
        self.info: dict[Any, Any] = dict(info) if info else {}
        self._query_cls = query_cls
        self._router = BindRouter()
        if binds:
            for key, value in binds.items():
                self._router.add(key, value)
        self.hash_key = next(_next_hash_key)
        # the session core the layers below use (see session_ext.protocols.SessionLike)
        #: the object bookkeeping (pending, deleted, identity map; lifecycle transitions)
        self.objects = ObjectBookkeeping(self.hash_key)
        #: the transaction stack (the current transaction, ``with begin():`` blocks)
        self.transactions = TransactionStack(self, _HOOKS)
        self.identity_map = self.objects.identity_map
        self._identity_dict = self.identity_map.by_key  # get()'s fast path
        _sessions[self.hash_key] = self

    # ------------------------------------------------------------------ context
    def __enter__(self: _T) -> _T:
        return self

    def __exit__(self, type_: Any, value: Any, traceback: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<session_ext.Session {self.hash_key} bind={self.bind!r}>"

    # ------------------------------------------------------------------ object collections
    @property
    def new(self) -> list[object]:
        """Objects added and not yet flushed."""
        return list(self.objects.new.values())

    @property
    def deleted(self) -> list[object]:
        """Objects marked for deletion and not yet flushed."""
        return list(self.objects.deleted.values())

    @property
    def dirty(self) -> list[object]:
        """Persistent objects with changed attributes (use :meth:`is_modified`
        for whether the change is a net one)."""
        deleted = self.objects.deleted
        return [obj for obj in (s.obj() for s in list(self.identity_map.modified)
                                if s not in deleted) if obj is not None]

    def __contains__(self, obj: object) -> bool:
        return self.objects.holds(instance_state(obj))

    def __iter__(self) -> Iterator[object]:
        return iter(list(self.objects.new.values()) + self.identity_map.values())

    def add(self, instance: object, _warn: bool = True) -> None:
        """Place an object in the session: transient -> pending, detached -> persistent.

        Related objects follow along relationships with the save-update cascade."""
        if self.transactions.current is None:
            instance_state(instance)  # an unmapped object raises before anything begins
            self.transactions.autobegin("add()")
        self._add_with_cascade(instance, set())

    def _add_with_cascade(self, instance: object, visited: set[int]) -> None:
        if id(instance) in visited:
            return
        visited.add(id(instance))
        state = instance_state(instance)
        self.objects.save_or_update(state, instance)
        rels = state.mapper.relationships
        if rels:
            state.mapper.registry.configure()
            for rel in rels.values():
                for item in rel.cascade_add(state, instance):
                    self._add_with_cascade(item, visited)

    def add_all(self, instances: Iterable[object]) -> None:
        """Add each object (see :meth:`add`); when one of them is not a mapped
        object, none is added."""
        if self.transactions.current is None:
            self.transactions.autobegin("add_all()")
        if not isinstance(instances, (list, tuple)):
            instances = list(instances)
        _check_all_mapped(instances)  # all or nothing: refuse before adding any
        with _gc.paused(len(instances)):
            self.objects.add_new(instances, new_state, self._add_with_cascade)

    def delete(self, instance: object) -> None:
        """Mark a persistent object for deletion at the next flush."""
        state = instance_state(instance)
        if state.key is None:
            raise exc.InvalidRequestError(
                f"Instance {exc.state_str(state)} is not persisted (it is "
                f"{'pending' if state.session_id else 'transient'}); to cancel a pending "
                "add use session.expunge(obj)"
            )
        if self.transactions.current is None:
            self.transactions.autobegin("delete()")
        self.objects.mark_deleted(self, state, instance)

    def expunge(self, instance: object) -> None:
        """Remove one object from the session (pending -> transient, persistent -> detached)."""
        state = instance_state(instance)
        if state.session_id != self.hash_key:
            raise exc.InvalidRequestError(
                f"Instance {exc.state_str(state)} is not present in this Session; nothing "
                "to expunge"
            )
        self.objects.expunge_state(state)
        for rel in state.mapper.relationships.values():
            for item in rel.expunge_targets(instance):
                if instance_state(item).session_id == self.hash_key:
                    self.expunge(item)

    def expunge_all(self) -> None:
        """Remove every object from the session."""
        self.objects.expunge_all()

    # ------------------------------------------------------------------ expiry & refresh
    def expire(self, instance: object, attribute_names: Iterable[str] | None = None) -> None:
        """Mark attributes (all by default) to be reloaded on next access;
        unflushed changes to them are discarded."""
        refreshing.expire(self, instance, attribute_names)

    def expire_all(self) -> None:
        """Expire every persistent object in the session."""
        expire_all_states(self, self.identity_map.all_states())

    def refresh(
        self,
        instance: object,
        attribute_names: Iterable[str] | None = None,
        with_for_update: Any = None,
    ) -> None:
        """Reload attributes (all by default) from the database now."""
        refreshing.refresh(self, instance, attribute_names, with_for_update)

    def is_modified(self, instance: object, include_collections: bool = True) -> bool:
        """True if the object has a net change to flush (a pending object: any
        attribute set)."""
        return refreshing.is_modified(instance_state(instance))

    # ------------------------------------------------------------------ flush
    @property
    def no_autoflush(self) -> contextlib.AbstractContextManager[Session]:
        """``with session.no_autoflush:`` - suspend autoflush inside the block."""
        return self.objects.no_autoflush(self)

    def flush(self, objects: Iterable[object] | None = None) -> None:
        """Write every pending change to the database in the current transaction.

        On failure the transaction is rolled back (the SAVEPOINT, inside
        begin_nested()), nothing stays half-written, and the session raises
        ``PendingRollbackError`` until ``rollback()`` is called.
        """
        book = self.objects
        if book.flushing:
            if book.flushing != threading.get_ident():
                raise exc.InvalidRequestError(
                    "Session is being flushed by another thread. A Session is not "
                    "thread-safe: give each thread its own (a scoped_session, or a "
                    "sessionmaker() call per thread or request)"
                )
            raise exc.InvalidRequestError(
                "Session is already flushing; flush() was called from inside a flush "
                "(an event handler or a default function running SQL through this session?)"
            )
        stack = self.transactions
        if not book.flushable():
            return  # nothing to write: no check of the transaction, as SQLAlchemy
        from .unitofwork import flush_session

        if stack.ctx is not None:
            stack.check_ctx()
        tx = stack.autobegin("flush()")
        tx.check_active("flush")
        book.flushing = threading.get_ident()
        try:
            flush_session(self, tx, None if objects is None else list(objects))
        finally:
            book.flushing = 0

    # ------------------------------------------------------------------ the stack's hooks
    def _flush_for_commit(self, tx: SessionTransaction) -> None:
        if self.objects.flushable():
            self.flush()

    def _after_commit(self, tx: SessionTransaction) -> None:
        self.objects.after_commit(tx)
        if self.expire_on_commit:
            expire_all_states(self, self.identity_map.all_states())

    def _after_rollback(self, tx: SessionTransaction, dirty_only: bool) -> None:
        expire_all_states(self, self.objects.restore_after_rollback(tx, dirty_only))

    def _is_clean(self) -> bool:
        """No pending, deleted or changed objects."""
        return not self.objects.flushable()

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
            tx = self.transactions.current
            if tx is not None:
                tx.note_failed_statement(err)
            raise

    @overload  # SQLAlchemy 2.0 types select(User) as a Select[tuple[User]]
    def scalars(self, statement: TypedReturnsRows[tuple[_T]], params: Any = None, *,
                execution_options: dict[str, Any] | None = None,
                bind_arguments: dict[str, Any] | None = None) -> ScalarResult[_T]: ...

    @overload  # 2.1 as a Select[User]
    def scalars(self, statement: TypedReturnsRows[_T], params: Any = None, *,
                execution_options: dict[str, Any] | None = None,
                bind_arguments: dict[str, Any] | None = None) -> ScalarResult[_T]: ...

    @overload
    def scalars(self, statement: Any, params: Any = None, *,
                execution_options: dict[str, Any] | None = None,
                bind_arguments: dict[str, Any] | None = None) -> Any: ...

    def scalars(self, statement: Any, params: Any = None, *,  # overloads: ScalarResult[User]
                execution_options: dict[str, Any] | None = None,
                bind_arguments: dict[str, Any] | None = None) -> Any:
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
            autoflush(self)  # as SQLAlchemy: flush first, then no autoflush while merging
        with self.no_autoflush:
            return merge(self, instance, load, {}, options)  # type: ignore[return-value]

    # ------------------------------------------------------------------ legacy query
    def query(self, *entities: Any, **kw: Any) -> Any:
        """Legacy ``Query`` over entities or columns (see :mod:`session_ext.query`)."""
        from .query import Query

        cls = self._query_cls or Query
        return cls(entities, self, **kw)


#: Session(future=, n_plus_one=, join_transaction_mode=) as most sessions are made
_DEFAULT_ARGUMENTS = (True, None, "conditional_savepoint")


def _check_arguments(future: bool, n_plus_one: str | None, join_transaction_mode: str) -> None:
    if future is not True:
        raise exc.ArgumentError(
            "Session(future=...) may only be True (the 2.x behaviour, which is the only "
            "one session_ext has); leave the argument out"
        )
    if n_plus_one not in (None, "warn", "raise"):
        raise exc.ArgumentError(
            f"n_plus_one={n_plus_one!r}: use None (off), 'warn' or 'raise'"
        )
    if join_transaction_mode not in JOIN_MODES:
        raise exc.ArgumentError(
            f"join_transaction_mode={join_transaction_mode!r} is not one of {JOIN_MODES}"
        )


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


def make_transient(instance: object) -> None:
    """Detach the object from its session and forget its identity: it becomes
    transient and will be INSERTed if added again. Unloaded attributes stay
    unloaded."""
    lifecycle.make_transient(instance_state(instance))


def make_transient_to_detached(instance: object) -> None:
    """Give a transient object the identity its primary key attributes name,
    making it detached (as if loaded and then expunged)."""
    lifecycle.make_transient_to_detached(instance_state(instance))


def close_all_sessions() -> None:
    """Close every session in this process (for test teardown)."""
    for session in list(_sessions.values()):
        session.close()



#: what the transaction stack calls back (plain functions: the stack holds no session)
_HOOKS = TransactionHooks(
    flush_for_commit=Session._flush_for_commit,
    after_commit=Session._after_commit,
    after_rollback=Session._after_rollback,
    is_clean=Session._is_clean,
)
