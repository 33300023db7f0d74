"""Exceptions raised by session_ext.

Where SQLAlchemy Core already has the class (``InvalidRequestError``,
``PendingRollbackError``, ``NoResultFound``, ``MultipleResultsFound``,
``UnboundExecutionError``) ours subclasses it, so ``except sqlalchemy.exc.X``
keeps working.  The classes SQLAlchemy keeps in its ORM package are defined
here on top of Core's ``SQLAlchemyError`` hierarchy.

Every message names the object or class, the operation that failed and what
to do about it; the longer explanations live in ``docs/errors.md`` under the
anchor given by each class's ``help_anchor``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exc as sa_exc

DOCS_ERRORS = "docs/errors.md"


class SessionExtError:
    """Mixin of every session_ext error; ``help_anchor`` names its docs section."""

    help_anchor: str = ""


def _with_help(cls: type, message: str) -> str:
    anchor = getattr(cls, "help_anchor", "")
    return f"{message} (see {DOCS_ERRORS}#{anchor})" if anchor else message


class InvalidRequestError(SessionExtError, sa_exc.InvalidRequestError):
    """The session or a mapped object was asked for something it cannot do."""

    help_anchor = "invalidrequesterror"

    def __init__(self, message: str, *args: Any, **kw: Any) -> None:
        super().__init__(_with_help(type(self), message), *args, **kw)


class ArgumentError(SessionExtError, sa_exc.ArgumentError):
    """A mapping or configuration argument is wrong."""

    help_anchor = "argumenterror"

    def __init__(self, message: str, *args: Any, **kw: Any) -> None:
        super().__init__(_with_help(type(self), message), *args, **kw)


class PendingRollbackError(InvalidRequestError, sa_exc.PendingRollbackError):
    """The session's transaction failed (usually during flush) and must be
    rolled back before the session can be used again.

    An :class:`InvalidRequestError`, as in SQLAlchemy.  ``orig`` holds the
    exception that made the transaction fail; it is also the ``__cause__``
    when the session raises this error.
    """

    help_anchor = "pendingrollbackerror"

    def __init__(self, message: str, orig: BaseException | None = None) -> None:
        super().__init__(message)
        self.orig = orig


class UnboundExecutionError(SessionExtError, sa_exc.UnboundExecutionError):
    """No engine or connection could be found to run a statement."""

    help_anchor = "unboundexecutionerror"

    def __init__(self, message: str) -> None:
        super().__init__(_with_help(type(self), message))


# Core's result objects raise these two themselves; the same classes are used
# so that ``except session_ext.exc.NoResultFound`` catches every one of them.
NoResultFound = sa_exc.NoResultFound
MultipleResultsFound = sa_exc.MultipleResultsFound


class DetachedInstanceError(SessionExtError, sa_exc.SQLAlchemyError):
    """An attribute load was needed on an object that belongs to no session."""

    help_anchor = "detachedinstanceerror"

    def __init__(self, message: str) -> None:
        super().__init__(_with_help(type(self), message))


class ObjectDeletedError(InvalidRequestError):
    """An expired object was refreshed but its row no longer exists."""

    help_anchor = "objectdeletederror"


class StaleDataError(SessionExtError, sa_exc.SQLAlchemyError):
    """An UPDATE or DELETE matched a different number of rows than expected:
    the row was changed or removed by someone else."""

    help_anchor = "staledataerror"

    def __init__(self, message: str) -> None:
        super().__init__(_with_help(type(self), message))


class FlushError(SessionExtError, sa_exc.SQLAlchemyError):
    """The unit of work found an inconsistency while planning a flush."""

    help_anchor = "flusherror"

    def __init__(self, message: str) -> None:
        super().__init__(_with_help(type(self), message))


class UnmappedInstanceError(InvalidRequestError):
    """An object that is not an instance of a mapped class was given."""

    help_anchor = "unmappedinstanceerror"


class UnmappedClassError(InvalidRequestError):
    """A class that is not mapped was given where a mapped class is needed."""

    help_anchor = "unmappedclasserror"


class MissingGreenlet(InvalidRequestError, sa_exc.MissingGreenlet):
    """An ``AsyncSession``'s object needed database I/O (a lazy load, an expired
    attribute) outside an awaited call, where asyncio cannot run it."""

    help_anchor = "missinggreenlet"


SAWarning = sa_exc.SAWarning


def instance_str(obj: object) -> str:
    """A short description of a (mapped) object for error messages."""
    return f"<{type(obj).__name__} at 0x{id(obj):x}>"


def state_str(state: Any) -> str:
    obj = state.obj()
    if obj is None:
        return f"<{state.class_.__name__} (garbage collected)>"
    return instance_str(obj)


__all__ = [
    "ArgumentError",
    "DetachedInstanceError",
    "FlushError",
    "InvalidRequestError",
    "MissingGreenlet",
    "MultipleResultsFound",
    "NoResultFound",
    "ObjectDeletedError",
    "PendingRollbackError",
    "SAWarning",
    "StaleDataError",
    "UnboundExecutionError",
    "UnmappedClassError",
    "UnmappedInstanceError",
]
