"""Client input turned into lookups: shared by the Flask and Django adapters.

A URL segment or a query argument arrives as text, while a primary key
lookup needs values of the key columns' types.  A value that cannot be of
that type names no row, so it must become "not found" *before* it reaches
the database: PostgreSQL refuses ``id = 'abc'`` with ``DataError`` (and
aborts the transaction), SQLite's driver refuses integers beyond 64 bits
with ``OverflowError``.
"""

from __future__ import annotations

import decimal
import uuid
from typing import TYPE_CHECKING, Any

from ..mapping.mapper import class_mapper

if TYPE_CHECKING:
    from ..session import Session

#: the widest integer any supported database stores (a signed 64-bit BIGINT)
MAX_INT64 = 2**63 - 1
MIN_INT64 = -(2**63)

_FROM_TEXT = {int: int, float: float, decimal.Decimal: decimal.Decimal, uuid.UUID: uuid.UUID}


def _coerce(python_type: Any, value: Any) -> tuple[bool, Any]:
    """(ok, value) for one key column; ``ok`` is False when no row can match."""
    convert = _FROM_TEXT.get(python_type)
    if convert is not None and isinstance(value, str):
        try:
            value = convert(value.strip())
        except (ValueError, ArithmeticError):
            return False, None
    if python_type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return False, None
        return MIN_INT64 <= value <= MAX_INT64, value
    return True, value


def identity_from_client(entity: type, ident: Any) -> tuple[Any, ...] | None:
    """The primary key tuple of ``entity`` that ``ident`` names, or None when
    ``ident`` (from a URL, a form, JSON) cannot be a key of this class.

    Text is converted to the key columns' Python types (``"12"`` -> 12 for an
    integer key, a UUID string -> ``uuid.UUID``); values out of the range a
    database stores give None.  A wrong *number* of values is a programming
    error and raises ``InvalidRequestError`` as ``Session.get`` does.
    """
    mapper = class_mapper(entity)
    values = mapper.normalize_ident(ident)
    out = []
    for column, value in zip(mapper.primary_key, values, strict=True):
        try:
            python_type = column.type.python_type
        except NotImplementedError:
            out.append(value)
            continue
        ok, value = _coerce(python_type, value)
        if not ok:
            return None
        out.append(value)
    return tuple(out)


def get_from_client(session: Session, entity: type, ident: Any) -> Any:
    """``session.get(entity, key)`` for a key from the client (see
    :func:`identity_from_client`), or None when no row can have it."""
    key = identity_from_client(entity, ident)
    return None if key is None else session.get(entity, key)
