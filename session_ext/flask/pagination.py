"""Pagination for views: ``page``/``per_page`` from the request, 404s.

The page itself is the framework-free :class:`session_ext.Pagination`; this
module only decides *which* page to fetch and turns nonsense into
``404 Not Found`` (``error_out=True``, the default) or into the defaults
(``error_out=False``):

* ``page`` and ``per_page`` not given are read from ``request.args``
  (defaults 1 and 20 when absent or outside a request);
* a value that is not an integer, a ``page`` below 1 or a ``per_page`` below
  1 is invalid;
* an empty page other than the first is a 404 (with ``error_out``);
* ``per_page`` is capped at ``max_per_page``; when ``per_page`` comes from
  the request and no ``max_per_page`` is given, at 100, so a client cannot
  ask for the whole table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import abort, has_request_context, request

from ..pagination import Pagination
from ..pagination import paginate as _paginate_select
from ..pagination import paginate_query as _paginate_query

if TYPE_CHECKING:
    from ..query import Query
    from ..session import Session

DEFAULT_PER_PAGE = 20
#: cap for a ``per_page`` read from the request when no max_per_page is given
DEFAULT_MAX_PER_PAGE = 100


def _arg(name: str) -> tuple[Any, bool]:
    """(raw value, from_request) of a request argument, or (None, False)."""
    if has_request_context():
        value = request.args.get(name)
        if value is not None:
            return value, True
    return None, False


def _as_positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if number >= 1 else None


def resolve_page_args(
    page: int | None,
    per_page: int | None,
    max_per_page: int | None,
    error_out: bool,
) -> tuple[int, int]:
    """The ``(page, per_page)`` to fetch, or ``abort(404)``."""
    if max_per_page is not None and (not isinstance(max_per_page, int) or max_per_page < 1):
        raise ValueError(f"max_per_page must be an integer >= 1 or None, not {max_per_page!r}")

    per_page_from_request = False
    if page is None:
        raw_page, _ = _arg("page")
        raw_page = 1 if raw_page is None else raw_page
    else:
        raw_page = page
    if per_page is None:
        raw_per_page, per_page_from_request = _arg("per_page")
        raw_per_page = DEFAULT_PER_PAGE if raw_per_page is None else raw_per_page
    else:
        raw_per_page = per_page

    checked_page = _as_positive_int(raw_page)
    if checked_page is None:
        if error_out:
            abort(404, description=f"Page {raw_page!r} does not exist: pages start at 1.")
        checked_page = 1
    checked_per_page = _as_positive_int(raw_per_page)
    if checked_per_page is None:
        if error_out:
            abort(404, description=f"per_page={raw_per_page!r} is not a positive integer.")
        checked_per_page = DEFAULT_PER_PAGE

    cap = max_per_page
    if cap is None and per_page_from_request:
        cap = DEFAULT_MAX_PER_PAGE
    if cap is not None:
        checked_per_page = min(checked_per_page, cap)
    return checked_page, checked_per_page


def _check_not_empty(result: Pagination, error_out: bool) -> Pagination:
    if error_out and result.page > 1 and not result.items:
        abort(404, description=f"Page {result.page} is past the last page.")
    return result


def paginate_select(
    session: Session,
    statement: Any,
    *,
    page: int | None = None,
    per_page: int | None = None,
    max_per_page: int | None = None,
    error_out: bool = True,
    count: bool = True,
) -> Pagination:
    """A page of a ``select()`` (objects for ``select(Model)``, rows otherwise)."""
    page, per_page = resolve_page_args(page, per_page, max_per_page, error_out)
    result = _paginate_select(session, statement, page=page, per_page=per_page, count=count)
    return _check_not_empty(result, error_out)


def paginate_query(
    query: Query[Any],
    *,
    page: int | None = None,
    per_page: int | None = None,
    max_per_page: int | None = None,
    error_out: bool = True,
    count: bool = True,
) -> Pagination:
    """A page of a legacy ``Query``."""
    page, per_page = resolve_page_args(page, per_page, max_per_page, error_out)
    result = _paginate_query(query, page=page, per_page=per_page, count=count)
    return _check_not_empty(result, error_out)
