"""The differences the differential test tolerates.

``TOLERANCES``: differences session_ext keeps on purpose, each documented
under its heading in docs/differences.md (a test checks the headings exist).
How the harness tolerates each:

* ``plain-sql-strings``: programs pass plain SQL strings to ``execute()``;
  SQLAlchemy is given the ``text()`` it requires (``Step.sa_code``) and the
  outcomes are compared as usual.
* ``flush-order-without-relationships`` and ``batched-inserts``: the harness
  never compares the order or the number of statements, only their effects.

``KNOWN_PENDING``: differences being fixed on other branches right now.  Each
entry recognizes its difference from what differs after a step; the example
then ends without failing (Hypothesis ``event``).  Remove an entry once its
fix is merged: the test then fails if the difference is still there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .compare import UNLOADED, Difference, Judge
from .models import COLUMNS
from .program import Raised

#: kept difference -> its heading in docs/differences.md
TOLERANCES: dict[str, str] = {
    "plain-sql-strings": "Plain SQL strings in `execute()` run as `text()`",
    "flush-order-without-relationships":
        "Flush orders INSERTs by foreign keys, also without relationships",
    "batched-inserts": "INSERTs of several rows are batched",
}


@dataclass(frozen=True)
class Pending:
    """A difference whose fix is under way elsewhere (a temporary tolerance).

    ``mask(diff)``: the differing keys this entry accounts for, when the two
    sessions are still in step otherwise (the program goes on);
    ``explains(diff)``: True when the difference is this one and the sessions
    have gone apart (the example ends, counted as tolerated).
    """

    key: str
    description: str
    mask: Callable[[Difference], set[str]] = lambda diff: set()
    explains: Callable[[Difference], bool] = lambda diff: False







TX = "session.in_transaction()"
OUTCOME = "outcome of the step"


def _raised(value: Any, name: str | None = None) -> bool:
    return isinstance(value, Raised) and (name is None or value.name == name)












KNOWN_PENDING: list[Pending] = []  # every fix it listed has been merged






FLUSH_ERRORS = ("IntegrityError", "FlushError", "StaleDataError", "OperationalError")


def _failed_flush_restore(diff: Difference) -> bool:
    return diff.raised in FLUSH_ERRORS



def _all_unloaded_in_se(diff: Difference) -> bool:
    return all(
        "." in key and " " not in key and not key.startswith("session.") and pair[1] == UNLOADED
        for key, pair in diff.diffs.items()
    )


ROLLBACK_STEPS = ("rollback", "get_nested_transaction_rollback", "new_session_keep_old")


def _rollback_expires_restored(diff: Difference) -> bool:
    return diff.step.kind in ROLLBACK_STEPS and _all_unloaded_in_se(diff)


def _expired_pending_after_insert(diff: Difference) -> bool:
    expired = any(s.kind == "expire" and s.info.get("attr") for s in diff.steps)
    return expired and _all_unloaded_in_se(diff)


def _merge_of_expired_detached(diff: Difference) -> bool:
    sa, se = diff.diffs.get(OUTCOME, (None, None))
    return (diff.step.kind in ("merge", "merge_noload")
            and _raised(sa, "DetachedInstanceError") and not _raised(se))


def _is_modified_after_rollback(diff: Difference) -> bool:
    return diff.step.kind == "is_modified" and diff.diffs.get(OUTCOME) == (False, True)



def _omitted_columns_mask(diff: Difference) -> set[str]:
    # a column the INSERT left out: SQLAlchemy knows it is None (and a row
    # fills it in); session_ext loads it on access
    return {key for key, pair in diff.diffs.items()
            if _is_column_key(key) and set(pair) == {None, UNLOADED}}


def _is_column_key(key: str) -> bool:
    if " " in key or "." not in key or key.startswith("session."):
        return False
    name, attr = key.split(".", 1)
    return any(attr in cols for cols in COLUMNS.values())


def _merge_of_pending(diff: Difference) -> bool:
    if diff.step.kind not in ("merge", "merge_noload") or OUTCOME not in diff.diffs:
        return False
    sa, se = diff.diffs[OUTCOME]
    return isinstance(sa, str) and sa.startswith("new ") and not _raised(se)


def _dirty_set_events_mask(diff: Difference) -> set[str]:
    pair = diff.diffs.get("session.dirty")
    return {"session.dirty"} if pair is not None and set(pair[0]) > set(pair[1]) else set()


def _delete_of_flushed_deleted(diff: Difference) -> bool:
    if diff.step.kind == "add":  # SQLAlchemy still calls it deleted
        sa, se = diff.diffs.get(OUTCOME, (None, None))
        return _raised(sa, "InvalidRequestError") and "deleted" in str(sa.error) and se is None
    return diff.step.kind == "delete" and all(
        (key.startswith("state of ") and pair == ("deleted", "persistent"))
        or (key == "session.deleted" and set(pair[0]) > set(pair[1]))
        for key, pair in diff.diffs.items()
    )




def _delete_matching_no_row(diff: Difference) -> bool:
    sa, se = diff.diffs.get(OUTCOME, (None, None))
    return _raised(se, "StaleDataError") and "DELETE statement" in str(se.error) and not _raised(sa)



def _merge_copies_read_collection(diff: Difference) -> bool:
    merged = any(step.kind in ("merge", "merge_noload") for step in diff.steps)
    return merged and any(
        pair[0] == UNLOADED and isinstance(pair[1], list) for pair in diff.diffs.values()
    )


def _merge_noload_in_session(diff: Difference) -> bool:
    return diff.step.kind == "merge_noload" and set(diff.diffs) == {"session.dirty"}


def _rollback_of_inserted_and_deleted(diff: Difference) -> bool:
    # an object INSERTed and DELETEd in the rolled-back transaction is left
    # pending, or transient with its attributes expired
    sa, se = diff.diffs.get(OUTCOME, (None, None))
    if _raised(sa, "InvalidRequestError") and "cannot be refreshed" in str(sa.error):
        return True  # SQLAlchemy: flushing it again needs its (expired) attributes
    if _merge_of_expired_detached(diff):
        return True  # merging such an object: SQLAlchemy needs its attributes
    states = [pair for key, pair in diff.diffs.items() if key.startswith("state of ")]
    if states:
        return all(pair == ("transient", "pending") for pair in states) and all(
            key.startswith(("state of ", "session of ", "session.new")) or _is_column_key(key)
            for key in diff.diffs
        )
    return all(
        _is_column_key(key) and pair[1] == UNLOADED
        and diff.observed.get(f"state of {_handle_of(key)}") == "transient"
        for key, pair in diff.diffs.items()
    )


def _remove_of_non_member(diff: Difference) -> bool:
    return diff.step.kind == "collection_remove" and diff.raised == "ValueError"



def _read_of_omitted_column(diff: Difference) -> bool:
    if diff.step.kind != "read_attr":
        return False
    sa, se = diff.diffs.get(OUTCOME, (None, None))
    if OUTCOME in diff.diffs:  # detached: session_ext cannot load it
        return sa is None and _raised(se, "DetachedInstanceError")
    # the SELECT that loads it begins a transaction
    return set(diff.diffs) <= {TX, "connections checked out"} and diff.diffs[TX] == (False, True)


def _handle_of(key: str) -> str:
    return key.split(" of ")[-1] if " of " in key else key.split(".")[0]



def _add_undeletes(diff: Difference) -> bool:
    return diff.step.kind == "add" and set(diff.diffs) == {"session.deleted"}


def _backref_cascade(diff: Difference) -> bool:
    # session_ext adds an object to the session through a backref event
    # (SQLAlchemy 2.x does not): more rows, or a row where SQLAlchemy has none
    appended = any(s.kind in ("collection_append", "collection_replace", "scalar_set")
                   for s in diff.steps)
    if not appended:
        return False
    sa, se = diff.diffs.get(OUTCOME, (None, None))
    if diff.step.kind in ("execute_sql", "dml_update", "dml_delete") and OUTCOME in diff.diffs:
        return isinstance(sa, int) and isinstance(se, int)
    return any(key.startswith(("rows of ", "session.new", "state of ")) for key in diff.diffs)


def _merge_copies_none(diff: Difference) -> bool:
    return diff.step.kind in ("merge", "merge_noload") and all(
        key == "session.dirty" or pair == (None, UNLOADED) for key, pair in diff.diffs.items()
    )


def _duplicate_new_keys(diff: Difference) -> bool:
    sa, se = diff.diffs.get(OUTCOME, (None, None))
    return (_raised(se, "FlushError") and "conflicts with persistent" in str(se.error)
            and not _raised(sa, "FlushError"))


def _backref_duplicates(diff: Difference) -> bool:
    return diff.step.kind == "collection_append" and all(
        isinstance(sa, list) and isinstance(se, list) and set(sa) == set(se)
        for sa, se in diff.diffs.values()
    )


def _set_none_unloaded(diff: Difference) -> bool:
    return diff.step.kind == "scalar_set" and diff.step.info.get("to_none") and all(
        key == "session.dirty" or pair == (None, UNLOADED) for key, pair in diff.diffs.items()
    )


#: differences the differential test found that are not fixed yet (FINDINGS.md)
UNFIXED_FINDINGS: list[Pending] = [
    Pending(
        "failed-flush-restores-at-rollback",
        "FINDINGS.md #1: after a failed flush session_ext keeps the session's objects as "
        "they were until rollback(); SQLAlchemy restores them at once",
        explains=_failed_flush_restore,
    ),
    Pending(
        "is-modified-after-rollback",
        "FINDINGS.md #4: is_modified() of an object whose INSERT was rolled back",
        explains=_is_modified_after_rollback,
    ),
    Pending(
        "insert-omitted-columns",
        "FINDINGS.md #5: columns an INSERT left out are loaded with a SELECT on access",
        mask=_omitted_columns_mask,
    ),
    Pending(
        "merge-of-pending",
        "FINDINGS.md #6: merge() of a pending object returns it (SQLAlchemy: a new copy)",
        explains=_merge_of_pending,
    ),
    Pending(
        "dirty-set-events",
        "FINDINGS.md #7: session.dirty leaves out objects with a set event but no recorded "
        "change (after merge(), a backref append, ...)",
        mask=_dirty_set_events_mask,
    ),
    Pending(
        "delete-of-flushed-deleted",
        "FINDINGS.md #8: delete() of a detached object whose DELETE was flushed in a closed "
        "session",
        explains=_delete_of_flushed_deleted,
    ),
    Pending(
        "delete-matching-no-row",
        "FINDINGS.md #9: a flushed DELETE that matches no row raises StaleDataError "
        "(SQLAlchemy warns)",
        explains=_delete_matching_no_row,
    ),
    Pending(
        "merge-copies-read-collection",
        "FINDINGS.md #11: reading a collection of a transient object stores an empty list, "
        "which merge() copies onto the persistent object (emptying its collection)",
        explains=_merge_copies_read_collection,
    ),
    Pending(
        "merge-noload-in-session",
        "FINDINGS.md #12: merge(obj, load=False) of an object already in the session keeps "
        "its unflushed changes (SQLAlchemy commits its state)",
        explains=_merge_noload_in_session,
    ),
    Pending(
        "rollback-of-inserted-and-deleted",
        "FINDINGS.md #13: rollback() leaves an object INSERTed and then DELETEd in the "
        "transaction pending in the session (SQLAlchemy: transient)",
        explains=_rollback_of_inserted_and_deleted,
    ),
    Pending(
        "remove-of-non-member",
        "FINDINGS.md #14: collection.remove(x) of a non-member: SQLAlchemy runs the "
        "backref before raising ValueError",
        explains=_remove_of_non_member,
    ),
    Pending(
        "insert-omitted-columns-read",
        "FINDINGS.md #5: (the same) reading such a column runs a SELECT (on a detached "
        "object: DetachedInstanceError)",
        explains=_read_of_omitted_column,
    ),
    Pending(
        "add-does-not-undelete",
        "FINDINGS.md #16: add() of an object marked for deletion does not cancel the deletion",
        explains=_add_undeletes,
    ),
    Pending(
        "backref-cascade",
        "FINDINGS.md #17: an object attached through a backref event is saved with the "
        "session's objects (SQLAlchemy 2.x: it is not)",
        explains=_backref_cascade,
    ),
    Pending(
        "merge-copies-none",
        "FINDINGS.md #18: merge() does not copy a many-to-one set to None",
        explains=_merge_copies_none,
    ),
    Pending(
        "duplicate-new-keys",
        "FINDINGS.md #19: two objects with the same primary key in one flush: FlushError "
        "before any SQL (SQLAlchemy: IntegrityError from the database, or no error)",
        explains=_duplicate_new_keys,
    ),
    Pending(
        "rollback-expires-restored",
        "FINDINGS.md #23: rollback() expires the objects it restores (deleted ones; "
        "a SAVEPOINT rollback: more than the changed ones)",
        explains=_rollback_expires_restored,
    ),

    Pending(
        "backref-duplicates",
        "FINDINGS.md #20: appending an object twice to a collection adds it once to the "
        "backref side",
        explains=_backref_duplicates,
    ),
    Pending(
        "set-none-unloaded",
        "FINDINGS.md #21: obj.rel = None on an unloaded many-to-one: not marked dirty, "
        "value not stored",
        explains=_set_none_unloaded,
    ),
]



#: the kept differences the harness recognizes in what it observes (the others
#: are tolerated by construction, see the module docstring)
KEPT: list[Pending] = []


class Tolerances(Judge):
    """The judge of the differential test: KEPT, KNOWN_PENDING and UNFIXED_FINDINGS."""

    def __init__(self, pending: list[Pending] | None = None) -> None:
        self.pending = KEPT + KNOWN_PENDING + UNFIXED_FINDINGS if pending is None else pending

    def mask(self, diff: Difference) -> set[str]:
        keys: set[str] = set()
        for pending in self.pending:
            keys |= pending.mask(diff)
        return keys

    def explain(self, diff: Difference) -> str | None:
        for pending in self.pending:
            if pending.explains(diff):
                return pending.key
        return None
