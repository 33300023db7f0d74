"""Running a unit of work again when the database asks for it.

Under ``SERIALIZABLE`` (and ``REPEATABLE READ``) isolation PostgreSQL may
refuse a transaction that raced another one ("could not serialize access",
SQLSTATE ``40001``), and any isolation level may end in a deadlock (``40P01``)
that the server breaks by failing one of the transactions.  Neither is a bug of
the transaction: the whole transaction, reads included, must run again.
:func:`run_in_transaction` does that.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import exc as sa_exc

from . import exc
from .scoping import scoped_session
from .session import Session

_S = TypeVar("_S", bound=Session)
_T = TypeVar("_T")

#: SQLSTATEs that mean "run the whole transaction again": serialization
#: failure and deadlock detected
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def sqlstate_of(error: BaseException) -> str | None:
    """The SQLSTATE of a database error (or of the driver error it wraps, or
    of the error it was raised from); None when there is none.

    Reads ``sqlstate`` (psycopg 3) and ``pgcode`` (psycopg2) of the driver's
    exception, which SQLAlchemy keeps in ``.orig``.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for candidate in (current, getattr(current, "orig", None)):
            code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
            if isinstance(code, str):
                return code
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return None


def is_retryable(error: BaseException) -> bool:
    """True for a serialization failure or a deadlock (:data:`RETRYABLE_SQLSTATES`)."""
    return sqlstate_of(error) in RETRYABLE_SQLSTATES


def _check_retry_arguments(retries: object, backoff: float) -> None:
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise exc.ArgumentError(
            f"run_in_transaction(retries={retries!r}): retries must be an integer >= 0 "
            "(the number of attempts after the first)"
        )
    if backoff < 0:
        raise exc.ArgumentError(
            f"run_in_transaction(backoff={backoff!r}): backoff must be >= 0 seconds"
        )


def run_in_transaction(
    session_factory: Callable[[], _S],
    fn: Callable[[_S], _T],
    *,
    retries: int = 3,
    backoff: float = 0.01,
    retry_on: Callable[[BaseException], bool] = is_retryable,
    on_retry: Callable[[int, BaseException], object] | None = None,
) -> _T:
    """Run ``fn(session)`` in a transaction and commit it; when the database
    fails it with a serialization failure or a deadlock, roll back and run
    it again, at most ``retries`` more times.  Returns what ``fn`` returned.

    ::

        def transfer(session):
            a, b = session.get(Account, 1), session.get(Account, 2)
            a.balance -= 10
            b.balance += 10

        run_in_transaction(Session, transfer)          # Session: a sessionmaker

    :param session_factory: a ``sessionmaker`` (or any callable returning a
        session): every attempt gets a new session, closed afterwards.  With
        a ``scoped_session`` every attempt uses the current scope's session,
        rolled back between attempts and not closed (it belongs to the
        scope); it must not hold uncommitted work of its own.
    :param fn: the unit of work.  It runs once per attempt, so it must do
        everything again from the start (read, then write) and have no side
        effects outside the database (send the e-mail after the commit).
    :param retries: how many times to run ``fn`` again; 0 never retries.
    :param backoff: seconds to wait before the first retry, doubled for each
        further one, with random jitter (x0.5 to x1.5) so that the
        transactions that collided do not collide again; 0 retries at once.
    :param retry_on: which errors start another attempt (default:
        :func:`is_retryable`, SQLSTATE ``40001`` or ``40P01``).
    :param on_retry: called as ``on_retry(attempt, error)`` before each
        retry (logging, metrics); ``attempt`` is 1 for the first failure.
    :raises: the error of the last attempt when retries are used up, and any
        other error (an ``IntegrityError``, an exception of ``fn``) at once,
        after rolling back.

    Objects ``fn`` loaded are detached once its session is closed (and
    expired, unless the factory has ``expire_on_commit=False``): return ids
    or plain values rather than objects.
    """
    _check_retry_arguments(retries, backoff)
    scoped = isinstance(session_factory, scoped_session)
    attempt = 0
    while True:
        session = session_factory()
        try:
            result = fn(session)
            session.commit()
            return result
        except BaseException as error:
            again = (
                attempt < retries
                and isinstance(error, sa_exc.SQLAlchemyError)
                and retry_on(error)
            )
            if not again:
                with contextlib.suppress(Exception):  # the error to report is `error`
                    session.rollback()
                raise
            session.rollback()
            attempt += 1
            if on_retry is not None:
                on_retry(attempt, error)
        finally:
            if not scoped:
                session.close()
        if backoff:
            time.sleep(backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))
