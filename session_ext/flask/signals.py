"""``models_committed`` and ``before_models_committed``: Blinker signals about
the objects a commit writes.

With ``SESSION_EXT_TRACK_MODIFICATIONS = True`` (or Flask-SQLAlchemy's
``SQLALCHEMY_TRACK_MODIFICATIONS``) every ``db.session`` of the app keeps a
:class:`ModelChanges` (``session.model_changes``): before each flush, and
when a commit starts, it notes the session's new, changed and deleted
objects.  Session events (``before_flush``, ``before_commit``,
``after_commit``, ``after_rollback``, ``after_transaction_end``, listened on
:class:`session_ext.flask.Session` once an app turns tracking on) drive it;
sessions without a tracker ignore them.  When the outermost
transaction commits, the receivers get ``changes``, a list of
``(obj, operation)`` tuples with ``operation`` one of ``"insert"``,
``"update"`` and ``"delete"``; the sender is the Flask app::

    from session_ext.flask.signals import models_committed

    @models_committed.connect_via(app)
    def reindex(sender, changes):
        for obj, operation in changes:
            ...

``before_models_committed`` is sent just before the commit (receivers may
still change objects: their changes are flushed by that commit),
``models_committed`` right after it.  Neither is sent when nothing changed.
A rollback forgets what was noted.  An object written in several flushes of
one transaction appears once per identity: once as ``"insert"`` (noted while
it had no primary key) and once more if it was then changed or deleted, as
Flask-SQLAlchemy reports it.

Tracking costs a pass over the session's new, changed and deleted objects
per flush, so it is off by default; until an app turns it on no listener is
registered.
"""

from __future__ import annotations

from typing import Any

from blinker import Namespace
from sqlalchemy import event

from ..state import instance_state

__all__ = ["ModelChanges", "before_models_committed", "listen_for_changes", "models_committed"]

_signals = Namespace()

#: sent after a commit with ``changes=[(obj, "insert" | "update" | "delete"), ...]``
models_committed = _signals.signal("models-committed")

#: sent before a commit, with the same ``changes`` as :data:`models_committed`
before_models_committed = _signals.signal("before-models-committed")

_OPERATIONS = (("new", "insert"), ("dirty", "update"), ("deleted", "delete"))


class ModelChanges:
    """What one session inserted, updated and deleted since its last commit
    or rollback, for the app ``app`` (the signals' sender)."""

    __slots__ = ("app", "changes", "committing")

    def __init__(self, app: Any) -> None:
        self.app = app
        #: identity key (or ``id(obj)`` while it has none) -> (obj, operation)
        self.changes: dict[Any, tuple[object, str]] = {}
        #: the outermost transaction's commit started (``after_commit`` also
        #: follows a SAVEPOINT's release, which sends nothing)
        self.committing = False

    def note(self, session: Any) -> None:
        """Note the session's unflushed changes (before a flush or a commit)."""
        changes = self.changes
        for attribute, operation in _OPERATIONS:
            for obj in getattr(session, attribute):
                key = instance_state(obj).key
                changes[key if key is not None else id(obj)] = (obj, operation)

    def before_commit(self, session: Any) -> None:
        self.note(session)
        self.committing = True
        if self.changes:
            before_models_committed.send(self.app, changes=list(self.changes.values()))

    def after_commit(self) -> None:
        if not self.committing:
            return  # a SAVEPOINT was released: its changes are sent with the outer commit
        self.committing = False
        if self.changes:
            changes = list(self.changes.values())
            self.changes.clear()
            models_committed.send(self.app, changes=changes)

    def clear(self) -> None:
        self.changes.clear()
        self.committing = False


# --------------------------------------------------------------------------- the listeners
def _tracker(session: Any) -> ModelChanges | None:
    return getattr(session, "model_changes", None)


def _before_flush(session: Any, flush_context: Any, instances: Any) -> None:
    changes = _tracker(session)
    if changes is not None:
        changes.note(session)


def _before_commit(session: Any) -> None:
    changes = _tracker(session)
    if changes is not None and not session.in_nested_transaction():
        changes.before_commit(session)  # the outermost commit, not a SAVEPOINT's release


def _after_commit(session: Any) -> None:
    changes = _tracker(session)
    if changes is not None:
        changes.after_commit()


def _after_rollback(session: Any) -> None:
    changes = _tracker(session)
    if changes is not None:
        changes.clear()


def _after_transaction_end(session: Any, transaction: Any) -> None:
    # the outermost transaction ended without a commit (a failed commit, close()):
    # what it noted was not committed and must not reach a later commit's signals
    changes = _tracker(session)
    if changes is not None and transaction.parent is None:
        changes.clear()


_LISTENERS = (
    ("before_flush", _before_flush),
    ("before_commit", _before_commit),
    ("after_commit", _after_commit),
    ("after_rollback", _after_rollback),
    ("after_transaction_end", _after_transaction_end),
)


def listen_for_changes(session_class: type) -> None:
    """Register the listeners on ``session_class`` (and so its subclasses);
    idempotent."""
    for name, listener in _LISTENERS:
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener)
