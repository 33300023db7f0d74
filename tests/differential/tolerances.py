"""The differences the differential test tolerates.

``TOLERANCES``: differences session_ext keeps on purpose, each documented
under its heading in docs/differences.md (a test checks the headings exist).
How the harness tolerates each:

* ``plain-sql-strings``: programs pass plain SQL strings to ``execute()``;
  SQLAlchemy is given the ``text()`` it requires (``Step.sa_code``) and the
  outcomes are compared as usual.
* ``flush-order-without-relationships`` and ``batched-inserts``: the harness
  never compares the order or the number of statements, only their effects.
* the others: an entry of ``KEPT`` recognizes the difference in what the step
  changed and ends the example.

``KNOWN_PENDING``: differences being fixed on other branches right now.  Each
entry recognizes its difference from what differs after a step; the example
then ends without failing (Hypothesis ``event``).  Remove an entry once its
fix is merged: the test then fails if the difference is still there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .compare import UNLOADED, Difference, Judge
from .models import RELATIONSHIPS
from .program import Raised

#: kept difference -> its heading in docs/differences.md
TOLERANCES: dict[str, str] = {
    "plain-sql-strings": "Plain SQL strings in `execute()` run as `text()`",
    "flush-order-without-relationships":
        "Flush orders INSERTs by foreign keys, also without relationships",
    "batched-inserts": "INSERTs of several rows are batched",
    "displaced-holder-detached":
        "An object whose key a new object's INSERT took over is detached",
    "deleted-many-to-one-not-loaded":
        "The flush does not load many-to-one attributes of the objects it deletes",
    "fetch-sync-of-changed-keys":
        '`synchronize_session="fetch"` with an UPDATE that changes primary keys',
    "rolled-back-new-object-with-changed-key":
        "A new object whose primary key changed before `rollback()` is transient",
    "backref-append-to-unloaded-collection":
        "A backref append to a collection that is not loaded is not kept for the flush",
    "compare-to-expired-object":
        "Comparing a relationship to an expired object uses its identity key",
    "row-switch-onto-a-deleted-row":
        "A new object taking over the key of a row already deleted raises `StaleDataError`",
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


#: differences the differential test found that are not fixed yet (FINDINGS.md);
#: same form as KNOWN_PENDING
UNFIXED_FINDINGS: list[Pending] = []


def _displaced_holder(diff: Difference) -> bool:
    # only objects SQLAlchemy calls persistent (and session_ext detached) differ,
    # each while another object of the session holds its identity
    seen = diff.observed
    handles = set()
    for key, pair in diff.diffs.items():
        what, _, name = key.partition(" of ")
        if (what, pair) not in [("state", ("persistent", "detached")),
                                ("session", ("session", None))]:
            return False
        handles.add(name)
    for name in handles:
        identity = seen.get(f"identity of {name}")
        if not any(
            key.startswith("identity of ") and key != f"identity of {name}" and value == identity
            and seen.get(f"state of {key.removeprefix('identity of ')}") == "persistent"
            and seen.get(f"{key.removeprefix('identity of ')} is") != seen.get(f"{name} is")
            for key, value in seen.items()
        ):
            return False
    return bool(handles)


def _many_to_one_key(key: str) -> bool:
    if " " in key or "." not in key or key.startswith("session."):
        return False
    name, attr = key.split(".", 1)
    return any(rels.get(attr, (None, True))[1] is False for rels in RELATIONSHIPS.values())


def _deleted_many_to_one(diff: Difference) -> set[str]:
    # a many-to-one SQLAlchemy's flush filled in on an object it deleted: first
    # seen while the object is deleted, then for as long as it stays so
    keys = set()
    for key, (sa, se) in diff.diffs.items():
        if not _many_to_one_key(key) or sa == UNLOADED or se != UNLOADED:
            continue
        name = key.split(".", 1)[0]
        if diff.observed.get(f"state of {name}") == "deleted" or key in diff.masked_before:
            keys.add(key)
    return keys


def _fetch_sync_of_changed_keys(diff: Difference) -> bool:
    # an UPDATE statement setting a primary key (Keyword.word) with "fetch"
    code = diff.step.code
    return (diff.step.kind == "dml_update" and "update(Keyword)" in code
            and "word=" in code and "'fetch'" in code)


def _rolled_back_key_change(diff: Difference) -> bool:
    # objects SQLAlchemy leaves "detached" with their first key and session_ext
    # transient, each a new object whose primary key a set_attr step changed (the
    # only key programs set is Keyword.word)
    handles = {name for key, pair in diff.diffs.items()
               if key.startswith("state of ") and pair == ("detached", "transient")
               for name in [key.removeprefix("state of ")]}
    if not handles:
        return False
    changed = {step.handles[0] for step in diff.steps
               if step.kind == "set_attr" and step.handles
               and (step.info.get("model"), step.info.get("attr")) == ("Keyword", "word")}
    if not handles <= changed:
        return False
    return all(key.removeprefix(f"{what} of ").split(".")[0] in handles
               for key in diff.diffs for what in [key.split(" of ")[0]])


def _unloaded_collection_append(diff: Difference) -> bool:
    # the foreign key SQLAlchemy's flush copied into a child outside the session
    # that a many-to-one set (a0.user = u1) appended to an unloaded collection
    set_on = {step.handles[0] for step in diff.steps
              if step.kind == "scalar_set" and not step.info.get("to_none")}
    for key, (sa, se) in diff.diffs.items():
        name, _, attr = key.partition(".")
        if (attr != "user_id" or name not in set_on or se not in (UNLOADED, None)
                or sa is None or diff.observed.get(f"session of {name}") is not None):
            return False
    return bool(diff.diffs)


def _compare_to_expired(diff: Difference) -> bool:
    # SQLAlchemy loads the expired object the criterion names (its row gone:
    # ObjectDeletedError; detached: InvalidRequestError), session_ext uses its key
    if set(diff.diffs) != {OUTCOME}:
        return False
    sa, se = diff.diffs[OUTCOME]
    return (_raised(sa, "ObjectDeletedError") or _raised(sa, "InvalidRequestError")) and not (
        _raised(se)) and re.search(r"\.(author|user) [!=]= [a-z]+\d", diff.step.code) is not None


def _compared_expired_left_unloaded(diff: Difference) -> set[str]:
    # the object a criterion compares to, expired with its row present:
    # SQLAlchemy loads its columns when the statement runs, session_ext leaves
    # them unloaded (and so they stay until read or loaded)
    names = set(re.findall(r"\.(?:author|user) [!=]= ([a-z]+\d+)", diff.step.code))
    keys = set()
    for key, (sa, se) in diff.diffs.items():
        name, _, attr = key.partition(".")
        if not attr or _many_to_one_key(key) or se != UNLOADED or sa == UNLOADED:
            continue
        if name in names or key in diff.masked_before:
            keys.add(key)
    return keys


def _row_switch_onto_deleted_row(diff: Difference) -> bool:
    # a new object (a merge() copy) with the key of an object deleted again after
    # its DELETE was flushed: both UPDATE the gone row and get StaleDataError;
    # SQLAlchemy's rollback then fails restoring the deleted object and raises
    # InvalidRequestError ("is not persisted") instead
    if set(diff.diffs) != {OUTCOME}:
        return False
    sa, se = diff.diffs[OUTCOME]
    return (_raised(sa, "InvalidRequestError") and "is not persisted" in sa.message
            and _raised(se, "StaleDataError") and "UPDATE statement" in se.message)


#: the kept differences the harness recognizes in what it observes (the others
#: are tolerated by construction, see the module docstring)
KEPT: list[Pending] = [
    Pending(
        "displaced-holder-detached",
        "docs/differences.md: an object whose key a new object's INSERT took over is "
        "detached (SQLAlchemy: 'persistent' but no longer in the session)",
        explains=_displaced_holder,
    ),
    Pending(
        "deleted-many-to-one-not-loaded",
        "docs/differences.md: the flush does not load many-to-one attributes of the "
        "objects it deletes (SQLAlchemy fills some in, without SQL)",
        mask=_deleted_many_to_one,
    ),
    Pending(
        "fetch-sync-of-changed-keys",
        "docs/differences.md: synchronize_session='fetch' with an UPDATE that changes "
        "primary keys updates the objects matched before it (SQLAlchemy: none)",
        explains=_fetch_sync_of_changed_keys,
    ),
    Pending(
        "rolled-back-new-object-with-changed-key",
        "docs/differences.md: rollback() of an object INSERTed in the transaction whose "
        "primary key then changed: transient (SQLAlchemy: detached, with its first key)",
        explains=_rolled_back_key_change,
    ),
    Pending(
        "backref-append-to-unloaded-collection",
        "docs/differences.md: a many-to-one set on an object outside the session whose "
        "target's collection is not loaded: the flush does not give it the target's key",
        explains=_unloaded_collection_append,
    ),
    Pending(
        "compare-to-expired-object",
        "docs/differences.md: Model.rel == obj with obj expired uses obj's identity key "
        "(SQLAlchemy loads obj, and raises when its row is gone or it is detached)",
        explains=_compare_to_expired,
    ),
    Pending(
        "compare-to-expired-object",
        "docs/differences.md: Model.rel == obj with obj expired (its row present) leaves "
        "obj expired (SQLAlchemy loads its columns)",
        mask=_compared_expired_left_unloaded,
    ),
    Pending(
        "row-switch-onto-a-deleted-row",
        "docs/differences.md: the flush's UPDATE of a new object onto a row deleted "
        "earlier raises StaleDataError (SQLAlchemy's rollback then fails: 'is not persisted')",
        explains=_row_switch_onto_deleted_row,
    ),
]


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
