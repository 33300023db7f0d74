"""The session's transaction state machine.

A :class:`SessionTransaction` is the root transaction of a session (one
database transaction per bind, begun lazily when a connection is first
needed) or a nested one (a SAVEPOINT on each connection it touches).

States: ``ACTIVE`` -> (``PREPARED``) -> ``COMMITTED`` / ``ROLLED_BACK`` -> ``CLOSED``;
``DEACTIVE`` after a failed flush: the database work was already rolled back
and the transaction refuses further work with ``PendingRollbackError`` until
it (or the whole session) is rolled back.

The legal state changes are the table :data:`TRANSITIONS`; every change goes
through :meth:`SessionTransaction._become`, which refuses any other.

Each transaction records which objects it inserted, deleted, updated or
re-keyed, so that rolling it back can put the session's objects back in step
with the database (:meth:`session_ext.lifecycle.ObjectBookkeeping.restore_after_rollback`).

:class:`TransactionStack` (``session.transactions``) owns the session's
current-transaction pointer and the open ``with session.begin():`` block:
transactions begin through it and report their end to it, and it calls the
session back through the :class:`TransactionHooks` it was given (flush before
commit, after commit, after rollback) -- plain functions of the session, so
this module needs nothing of the ``Session`` class.
"""

from __future__ import annotations

import enum
import logging
import warnings
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy.engine import Connection, Engine

from . import exc, listening
from .engines import transaction_aborted

if TYPE_CHECKING:
    from .protocols import SessionLike as Session
    from .state import InstanceState

log = logging.getLogger("session_ext.transaction")

JOIN_MODES = ("conditional_savepoint", "create_savepoint", "control_fully", "rollback_only")


class TxState(enum.Enum):
    ACTIVE = "active"
    DEACTIVE = "deactive"
    PREPARED = "prepared"
    COMMITTED = "committed"
    ROLLED_BACK = "rolled back"
    CLOSED = "closed"

    # members are singletons compared by identity: hash them in C, not with
    # Enum's Python-level __hash__ (two calls per state change otherwise)
    __hash__ = object.__hash__


#: the legal state changes of a transaction (see SessionTransaction._become)
TRANSITIONS: dict[TxState, frozenset[TxState]] = {
    # a flush fails / prepare() / commit / rollback / close
    TxState.ACTIVE: frozenset({TxState.DEACTIVE, TxState.PREPARED, TxState.COMMITTED,
                               TxState.ROLLED_BACK, TxState.CLOSED}),
    # after a failed flush: only ending it
    TxState.DEACTIVE: frozenset({TxState.ROLLED_BACK, TxState.CLOSED}),
    TxState.PREPARED: frozenset({TxState.COMMITTED, TxState.ROLLED_BACK, TxState.CLOSED}),
    # an ended transaction can still be closed (session.close() walks the stack),
    # and rolling back a rolled-back one again changes nothing
    TxState.COMMITTED: frozenset({TxState.CLOSED}),
    TxState.ROLLED_BACK: frozenset({TxState.ROLLED_BACK, TxState.CLOSED}),
    TxState.CLOSED: frozenset({TxState.CLOSED, TxState.ROLLED_BACK}),
}


class TransactionHooks(NamedTuple):
    """What the stack asks of its session, as functions taking the session."""

    #: ``(session, tx)``: flush what is pending before ``tx`` commits or prepares
    flush_for_commit: Callable[[Any, SessionTransaction], None]
    #: ``(session, tx)``: the root transaction committed
    after_commit: Callable[[Any, SessionTransaction], None]
    #: ``(session, tx, dirty_only)``: ``tx`` rolled back; put objects back in step
    after_rollback: Callable[[Any, SessionTransaction, bool], None]
    #: ``(session)``: nothing pending, deleted or changed
    is_clean: Callable[[Any], bool]


class TransactionStack:
    """A session's transactions: the innermost one (``current``; its parents
    are the rest of the stack), the innermost open ``with begin():`` block
    (``ctx``), and whether the session may begin again at all.

    Only this class and the transactions it made move ``current``: a new
    transaction becomes current when it begins, and when it ends its parent
    does (None for the root).  It holds its session weakly (the session
    holds it)."""

    __slots__ = ("current", "ctx", "closed_for_good", "hooks", "_session")

    def __init__(self, session: Session, hooks: TransactionHooks) -> None:
        self._session = weakref.ref(session)
        self.hooks = hooks
        #: the innermost transaction, None when none is begun
        self.current: SessionTransaction | None = None
        #: the transaction of the innermost open ``with session.begin():`` block
        self.ctx: SessionTransaction | None = None
        #: why this session may not begin again (None: it may)
        self.closed_for_good: str | None = None

    @property
    def session(self) -> Session:
        return self._session()  # type: ignore[return-value]

    # -- beginning ---------------------------------------------------------------------
    def autobegin(self, operation: str = "this operation") -> SessionTransaction:
        """The current transaction, begun now if there is none.

        Only bookkeeping: the connection is acquired (and the database
        transaction begun) when the first statement needs it."""
        tx = self.current
        if tx is not None:
            return tx
        self.check_can_begin()
        session = self.session
        if not session.autobegin:
            raise exc.InvalidRequestError(
                f"Autobegin is disabled on this Session; call session.begin() before {operation}"
            )
        tx = self.current = SessionTransaction(session)
        return tx

    def begin(self) -> SessionTransaction:
        """Begin the root transaction explicitly (``session.begin()``)."""
        self.check_can_begin()
        if self.current is not None:
            raise exc.InvalidRequestError(
                "A transaction is already begun on this Session; commit or roll it back "
                "first, or use begin_nested() for a SAVEPOINT"
            )
        tx = self.current = SessionTransaction(self.session, origin="begin")
        return tx

    def begin_nested(self, parent: SessionTransaction) -> SessionTransaction:
        """Begin a SAVEPOINT inside ``parent``, the current transaction."""
        assert parent is self.current
        tx = SessionTransaction(self.session, parent=parent, nested=True, origin="begin_nested")
        self.current = tx
        return tx

    def check_can_begin(self) -> None:
        """Raise if no new transaction may start now (see check_ctx)."""
        if self.ctx is not None:
            self.check_ctx()
        if self.closed_for_good is not None:
            raise exc.InvalidRequestError(self.closed_for_good)

    def check_ctx(self) -> None:
        """Inside ``with session.begin():`` whose transaction already ended
        (committed, rolled back or closed inside the block, or its flush
        failed), no new transaction or connection may be used."""
        ctx = self.ctx
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

    def connection_for_bind(
        self, bind: Any, execution_options: dict[str, Any] | None = None
    ) -> Connection:
        """The current transaction's connection to ``bind`` (autobeginning)."""
        if self.ctx is not None:
            self.check_ctx()
        tx = self.current or self.autobegin("acquiring a connection")
        return tx.connection_for_bind(bind, execution_options)

    # -- ending ------------------------------------------------------------------------
    def ended(self, tx: SessionTransaction) -> None:
        """``tx`` committed or rolled back: its parent is current again."""
        self.current = tx.parent if tx.nested else None

    def close_all(self) -> None:
        """Close every transaction of the stack, innermost first."""
        tx = self.current
        if tx is not None:
            while tx is not None:
                tx.close()
                tx = tx.parent
            self.current = None

    def entered(self, tx: SessionTransaction) -> SessionTransaction | None:
        """``with tx:`` began: it is the innermost block; returns the outer one."""
        outer = self.ctx
        self.ctx = tx
        return outer

    def exited(self, tx: SessionTransaction, outer: SessionTransaction | None) -> None:
        if self.ctx is tx:
            self.ctx = outer


class _ConnectionHandle:
    """One connection the transaction uses and what it may do with it."""

    __slots__ = ("connection", "transaction", "close_connection", "commit_allowed")

    def __init__(
        self,
        connection: Connection,
        transaction: Any,
        close_connection: bool,
        commit_allowed: bool = True,
    ) -> None:
        self.connection = connection
        self.transaction = transaction
        self.close_connection = close_connection
        #: False in "rollback_only" join mode: commit leaves the outer transaction alone
        self.commit_allowed = commit_allowed


class SessionTransaction:
    """A session-level transaction: the root one or a SAVEPOINT."""

    def __init__(
        self,
        session: Session,
        parent: SessionTransaction | None = None,
        nested: bool = False,
        origin: str = "autobegin",
    ) -> None:
        self.session = session
        self._stack: TransactionStack = session.transactions
        self.parent = parent
        self.nested = nested
        self.origin = origin
        self._connections: dict[Any, _ConnectionHandle] = {}
        self._state = TxState.ACTIVE
        self._failure: BaseException | None = None
        # what this transaction flushed, written by the object bookkeeping
        # (session_ext.lifecycle) and read back by it when rolling back:
        #: states whose INSERT was flushed in this transaction
        self.flushed_new: dict[InstanceState, None] = {}
        #: states whose DELETE was flushed in this transaction (-> object, held strongly)
        self.flushed_deleted: dict[InstanceState, object] = {}
        #: states whose UPDATE was flushed in this transaction
        self.flushed_dirty: set[InstanceState] = set()
        #: states whose identity key changed in this transaction (-> old key)
        self.key_switches: dict[InstanceState, tuple[Any, ...]] = {}
        #: the ``with`` block this one was entered inside of (see __enter__)
        self._outer_ctx: SessionTransaction | None = None
        #: the SQL of the last database error inside this (root) transaction
        self.failed_statement: str | None = None
        if listening.session:
            session.dispatch.after_transaction_create(session, self)  # type: ignore[attr-defined]

    # -- inspection -----------------------------------------------------------
    @property
    def is_active(self) -> bool:
        return self._state is TxState.ACTIVE

    @property
    def root(self) -> SessionTransaction:
        tx = self
        while tx.parent is not None:
            tx = tx.parent
        return tx

    def __repr__(self) -> str:
        kind = "nested" if self.nested else "root"
        return f"<SessionTransaction {kind} {self._state.value} origin={self.origin}>"

    def _become(self, state: TxState) -> None:
        """Change state, as :data:`TRANSITIONS` allows."""
        if state not in TRANSITIONS[self._state]:
            raise exc.InvalidRequestError(
                f"A {self._state.value} transaction cannot become {state.value}"
            )
        self._state = state

    # -- connections ----------------------------------------------------------
    def check_active(self, operation: str) -> None:
        if self._state is TxState.ACTIVE:
            return
        if self._state is TxState.DEACTIVE:
            failure = self._failure
            raise exc.PendingRollbackError(
                f"This session's {'nested ' if self.nested else ''}transaction was "
                f"rolled back because a flush failed, so {operation} cannot proceed. Call "
                "session.rollback() (or roll back the nested transaction) before using the "
                f"session again. The flush failed with {type(failure).__name__}: {failure}",
                orig=failure,
            ) from failure
        if self._state is TxState.PREPARED and operation != "commit":
            raise exc.InvalidRequestError(
                f"This session's transaction is prepared for two-phase commit; {operation} "
                "is not possible until it is committed or rolled back"
            )
        if self._state not in (TxState.ACTIVE, TxState.PREPARED):
            raise exc.InvalidRequestError(
                f"This transaction is {self._state.value}; {operation} needs an active "
                "transaction. Start a new one with session.begin() or let autobegin do it"
            )

    def connection_for_bind(
        self, bind: Any, execution_options: dict[str, Any] | None = None
    ) -> Connection:
        if self._state is not TxState.ACTIVE:
            self.check_active("acquiring a connection")
        handle = self._connections.get(bind)
        if handle is not None:
            if execution_options:
                warnings.warn(
                    "Connection is already established for the given bind; "
                    "execution_options ignored: pass them to the first "
                    "session.connection() call of the transaction",
                    exc.SAWarning,
                    stacklevel=3,
                )
            return handle.connection
        if self.parent is not None:
            conn = self.parent.connection_for_bind(bind, execution_options)
            trans = conn.begin_nested() if self.nested else None
            self._connections[bind] = _ConnectionHandle(conn, trans, False)
        else:
            self._connections[bind] = handle = self._begin_root(bind, execution_options)
            log.debug("session %s: began a transaction on %r", self.session.hash_key, bind)
            conn = handle.connection
        if listening.session:
            self.session.dispatch.after_begin(self.session, self, conn)  # type: ignore[attr-defined]
        return conn

    def _begin_root(self, bind: Any, execution_options: dict[str, Any] | None) -> _ConnectionHandle:
        session = self.session
        options = session.execution_options
        if execution_options:
            options = {**options, **execution_options}
        if isinstance(bind, Engine):
            conn = bind.connect()
            try:
                if options:  # before BEGIN: isolation_level only applies there
                    conn.execution_options(**options)
                trans = conn.begin_twophase() if session.twophase else conn.begin()
            except BaseException:
                conn.close()  # never back to the pool inside a transaction
                raise
            return _ConnectionHandle(conn, trans, True)
        if isinstance(bind, Connection):
            if options:
                bind.execution_options(**options)
            if session.twophase:
                return _ConnectionHandle(bind, bind.begin_twophase(), False)
            if not bind.in_transaction():
                return _ConnectionHandle(bind, bind.begin(), False)
            mode = session.join_transaction_mode
            if mode == "conditional_savepoint":
                mode = "create_savepoint" if bind.in_nested_transaction() else "rollback_only"
            if mode == "create_savepoint":
                return _ConnectionHandle(bind, bind.begin_nested(), False)
            # the innermost transaction of the connection: its SAVEPOINT if it is in one
            outer = bind.get_nested_transaction() or bind.get_transaction()
            if mode == "control_fully":
                return _ConnectionHandle(bind, outer, False)
            return _ConnectionHandle(bind, outer, False, commit_allowed=False)
        raise exc.ArgumentError(
            f"A session bind must be an Engine or a Connection, not {type(bind).__name__}"
        )

    def connections(self) -> list[Connection]:
        return [h.connection for h in self._connections.values()]

    # -- outcomes -------------------------------------------------------------
    def prepare(self) -> None:
        if self.parent is not None or not self.session.twophase:
            raise exc.InvalidRequestError(
                "prepare() is only for the root transaction of a session created with "
                "twophase=True"
            )
        self.check_active("prepare")
        self._stack.hooks.flush_for_commit(self.session, self)
        for handle in self._connections.values():
            if handle.transaction is not None and hasattr(handle.transaction, "prepare"):
                handle.transaction.prepare()
        self._become(TxState.PREPARED)

    def commit(self) -> None:
        session = self.session
        stack = self._stack
        if self._state is not TxState.PREPARED:
            self.check_active("commit")
            if listening.session:
                session.dispatch.before_commit(session)  # type: ignore[attr-defined]
            stack.hooks.flush_for_commit(session, self)
        if self.nested:
            for handle in self._connections.values():
                if handle.transaction is not None and handle.transaction.is_active:
                    handle.transaction.commit()
            parent = self.parent
            assert parent is not None
            parent.flushed_new.update(self.flushed_new)
            parent.flushed_deleted.update(self.flushed_deleted)
            parent.flushed_dirty |= self.flushed_dirty
            for state, key in self.key_switches.items():
                parent.key_switches.setdefault(state, key)
            self._become(TxState.COMMITTED)
            if listening.session:  # a released SAVEPOINT counts, as in SQLAlchemy
                session.dispatch.after_commit(session)  # type: ignore[attr-defined]
            stack.ended(self)
            if listening.session:
                self._fire_end()
            return
        self._refuse_if_aborted()
        if session.twophase and self._state is not TxState.PREPARED:
            for handle in self._connections.values():
                if handle.transaction is not None and hasattr(handle.transaction, "prepare"):
                    handle.transaction.prepare()
        try:
            for handle in self._connections.values():
                if handle.commit_allowed and handle.transaction is not None:
                    if handle.transaction.is_active or self._state is TxState.PREPARED:
                        handle.transaction.commit()
        except BaseException:
            self._end_failed_commit()
            self._rollback_connections()
            self._become(TxState.ROLLED_BACK)
            self._close_connections()
            stack.ended(self)
            stack.hooks.after_rollback(session, self, False)
            if listening.session:
                self._fire_end()
            raise
        self._become(TxState.COMMITTED)
        self._close_connections()
        stack.ended(self)
        log.debug("session %s: committed", session.hash_key)
        if listening.session:
            session.dispatch.after_commit(session)  # type: ignore[attr-defined]
        stack.hooks.after_commit(session, self)
        if listening.session:
            self._fire_end()

    def _fire_end(self) -> None:  # callers check listening.session (no call without listeners)
        self.session.dispatch.after_transaction_end(self.session, self)  # type: ignore[attr-defined]

    def rollback(self) -> None:
        """Roll back this transaction (and any nested ones inside it)."""
        session = self.session
        # roll back inner transactions first
        current = self._stack.current
        while current is not None and current is not self:
            current._rollback_connections()
            current._end_rolled_back()
            current = current.parent
        self._rollback_connections()
        log.debug("session %s: rolled back %s transaction", session.hash_key,
                  "a nested" if self.nested else "the")
        if not self.nested:
            self._close_connections()
        self._stack.ended(self)
        self._end_rolled_back()
        if listening.session:
            session.dispatch.after_soft_rollback(session, self)  # type: ignore[attr-defined]

    def _end_rolled_back(self) -> None:
        """Mark this transaction rolled back and put the session's objects back
        in step.  After a failed flush that was done already: only changes
        made since then are discarded (with SQLAlchemy's warning)."""
        failed = self._state is TxState.DEACTIVE
        self._become(TxState.ROLLED_BACK)
        session = self.session
        hooks = self._stack.hooks
        if not failed and listening.session:
            session.dispatch.after_rollback(session)  # type: ignore[attr-defined]
        if failed:
            if hooks.is_clean(session):
                if listening.session:
                    self._fire_end()
                return
            warnings.warn(
                "Session's state has been changed on a non-active transaction - this "
                "state will be discarded.",
                exc.SAWarning,
                stacklevel=5,
            )
        hooks.after_rollback(session, self, self.nested)
        if listening.session:
            self._fire_end()

    def close(self) -> None:
        """End without restoring objects (the session is expunging them anyway).

        A transaction the session may not commit ("rollback_only" join mode) is
        left to its owner.  A connection the session checked out itself is
        just closed: closing rolls its transaction back and tells the pool the
        connection is already reset, so the pool does not roll back again."""
        if self.parent is not None or self._state is TxState.PREPARED:
            self._rollback_connections(include_external=False)
        else:
            self._rollback_connections(include_external=False, skip_owned=True)
        self._close_connections()
        self._become(TxState.CLOSED)
        if listening.session:
            self._fire_end()

    def fail(self, error: BaseException) -> None:
        """A flush failed: undo its database work now, put the session's objects
        back in step at once (as SQLAlchemy does) and refuse work until rollback."""
        self._rollback_connections()
        self._become(TxState.DEACTIVE)
        self._failure = error
        if listening.session:
            self.session.dispatch.after_rollback(self.session)  # type: ignore[attr-defined]
        self._stack.hooks.after_rollback(self.session, self, self.nested)
        # restored: what this transaction wrote is forgotten
        self.flushed_new = {}
        self.flushed_deleted = {}
        self.flushed_dirty = set()
        self.key_switches = {}

    def _rollback_connections(self, include_external: bool = True,
                              skip_owned: bool = False) -> None:
        """Roll back each connection's transaction; ``skip_owned`` leaves out the
        connections the session checked out itself (closing them rolls back)."""
        for handle in self._connections.values():
            trans = handle.transaction
            if trans is None or (not include_external and not handle.commit_allowed):
                continue
            if skip_owned and handle.close_connection:
                continue
            try:
                if trans.is_active or self._state is TxState.PREPARED:
                    trans.rollback()
            except Exception:  # the connection may already be broken; closing follows
                if handle.close_connection:
                    handle.connection.invalidate()

    def note_failed_statement(self, error: Any) -> None:
        """Remember the statement of a database error raised inside this
        transaction, for :meth:`_refuse_if_aborted`'s message."""
        self.root.failed_statement = getattr(error, "statement", None)

    def _refuse_if_aborted(self) -> None:
        """PostgreSQL answers COMMIT in an aborted transaction with a silent
        ROLLBACK: refuse instead, so nothing is reported saved that was not."""
        for handle in self._connections.values():
            if handle.commit_allowed and transaction_aborted(handle.connection):
                failed = self.root.failed_statement
                what = f"the statement {failed[:200]!r} failed" if failed else (
                    "a statement failed")
                raise exc.PendingRollbackError(
                    f"Cannot commit: {what} earlier in this transaction and the "
                    "database aborted it, so nothing written since BEGIN can be saved. "
                    "Call session.rollback() and run the whole transaction again "
                    "(or put the statement that may fail in a begin_nested() block)"
                )

    def _end_failed_commit(self) -> None:
        """After a failed COMMIT, Core has let go of the transaction but the
        database may still hold it open (SQLite keeps it, and its write lock,
        when COMMIT fails with "database is locked").  Roll back each owned
        connection on the driver before the pool sees it again, or invalidate
        it, so that its next user neither waits on the lock nor commits the
        failed transaction's rows along with its own."""
        for handle in self._connections.values():
            if not handle.close_connection:
                continue  # an outside connection: its owner decides
            conn = handle.connection
            if conn.closed or conn.invalidated:
                continue
            try:
                conn.connection.dbapi_connection.rollback()
            except Exception:
                conn.invalidate()

    def _close_connections(self) -> None:
        if self.parent is not None:
            self._connections.clear()
            return
        for handle in self._connections.values():
            if handle.close_connection:
                conn = handle.connection
                try:
                    conn.close()
                except Exception:  # the rollback failed: a broken connection
                    if not conn.closed:
                        conn.invalidate()  # the pool must not hand it out again
        self._connections.clear()

    # -- context manager --------------------------------------------------------
    # While a ``with session.begin():`` (or ``begin_nested()``) block is open,
    # the session remembers its transaction; once that transaction has ended
    # inside the block (an inner commit(), rollback() or close(), or a failed
    # flush), starting another one or acquiring a connection raises until the
    # block is left (TransactionStack.check_ctx), so work meant for the block's
    # transaction never silently lands in a new one.
    def __enter__(self) -> SessionTransaction:
        self._outer_ctx = self._stack.entered(self)
        return self

    def __exit__(self, type_: Any, value: Any, traceback: Any) -> None:
        try:
            state = self._state
            if state in (TxState.COMMITTED, TxState.ROLLED_BACK, TxState.CLOSED):
                return
            if type_ is None and state is not TxState.DEACTIVE:
                try:
                    self.commit()
                except BaseException:
                    if self._state in (TxState.ACTIVE, TxState.DEACTIVE, TxState.PREPARED):
                        self.rollback()
                    raise
            else:
                # an exception, or a failed flush the block caught: nothing is committed
                self.rollback()
        finally:
            self._stack.exited(self, self._outer_ctx)
            self._outer_ctx = None
