"""Default table names: the class name in snake_case.

Both adapters name the table of a model that sets neither ``__tablename__``
nor ``__table__`` as Flask-SQLAlchemy 3.x does, which is what Flask users
already have in their databases:

* a capital starts a new word after a small letter or a digit
  (``UserProfile`` -> ``user_profile``, ``User2Group`` -> ``user2_group``);
* in a run of capitals, the last one starts a new word when a small letter
  follows it (``HTTPResponse`` -> ``http_response``, ``ABCThing`` -> ``abc_thing``);
* a capital after an underscore that is followed by a small letter starts a
  word too, so the underscore doubles (``Order_Item`` -> ``order__item``);
* leading underscores are dropped (``_Private`` -> ``private``), unless the
  caller keeps them (the Django adapter does: docs/django.md).

Only ASCII letters and digits count as capitals, small letters and digits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_LOWER_OR_DIGIT = _LOWER | frozenset("0123456789")


def snake_case(name: str, *, keep_leading_underscores: bool = False) -> str:
    """The default table name for class ``name`` (see the module's rules)."""
    out: list[str] = []
    last = len(name) - 1
    for i, char in enumerate(name):
        if char in _UPPER and i > 0 and (
            name[i - 1] in _LOWER_OR_DIGIT or (i < last and name[i + 1] in _LOWER)
        ):
            out.append("_")
        out.append(char)
    words = "".join(out).lower()
    stripped = words.lstrip("_")
    if keep_leading_underscores:
        return name[: len(name) - len(name.lstrip("_"))] + stripped
    return stripped


def names_its_table(namespace: Mapping[str, Any], bases: tuple[type, ...]) -> bool:
    """Whether a class with this body and these bases already says which
    table it maps: ``__tablename__`` or ``__table__`` in its body, a
    ``__tablename__`` (not None) or a ``__table__`` on a base (then it shares
    that table: single-table inheritance, or a mixin's name)."""
    if "__tablename__" in namespace or "__table__" in namespace:
        return True
    for base in bases:
        for klass in base.__mro__:
            if klass.__dict__.get("__tablename__") is not None or "__table__" in klass.__dict__:
                return True
    return False


def default_tablename(
    name: str,
    namespace: Mapping[str, Any],
    bases: tuple[type, ...],
    *,
    keep_leading_underscores: bool = False,
) -> str | None:
    """The ``__tablename__`` to give class ``name``, or None when it is
    abstract or :func:`names_its_table`."""
    if namespace.get("__abstract__", False) or names_its_table(namespace, bases):
        return None
    return snake_case(name, keep_leading_underscores=keep_leading_underscores)
