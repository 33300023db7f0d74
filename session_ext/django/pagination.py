"""``paginate(request, select(...))``: which page to fetch, and 404s.

The page itself is the core's framework-free :class:`session_ext.Pagination`;
this module reads ``?page=`` and ``?per_page=`` and turns nonsense into
``Http404`` (``error_out=True``, the default) or into the defaults
(``error_out=False``):

* ``page`` / ``per_page`` not given are read from ``request.GET`` (1 and 20
  when absent, or when ``request`` is None);
* a value that is not an integer, or below 1, is invalid;
* an empty page other than the first is a 404 (with ``error_out``);
* ``per_page`` is capped at ``max_per_page``; a ``per_page`` from the request
  is capped at 100 when no ``max_per_page`` is given, so a client cannot ask
  for a whole table.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from ..pagination import Pagination, paginate_query
from ..pagination import paginate as paginate_select
from ..query import Query
from ..session import Session

DEFAULT_PER_PAGE = 20
#: cap of a ``per_page`` read from the request when no max_per_page is given
DEFAULT_MAX_PER_PAGE = 100


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int):
        return None
    return value if value >= 1 else None


def page_args(
    request: HttpRequest | None,
    page: int | None = None,
    per_page: int | None = None,
    max_per_page: int | None = None,
    error_out: bool = True,
) -> tuple[int, int]:
    """The ``(page, per_page)`` to fetch, or ``Http404``."""
    if max_per_page is not None and _positive_int(max_per_page) is None:
        raise ValueError(f"max_per_page must be an integer >= 1 or None, not {max_per_page!r}")
    query = request.GET if request is not None else {}
    raw_page = query.get("page", 1) if page is None else page
    from_request = per_page is None and "per_page" in query
    raw_per_page = query.get("per_page", DEFAULT_PER_PAGE) if per_page is None else per_page

    checked_page = _positive_int(raw_page)
    if checked_page is None:
        if error_out:
            raise Http404(f"Page {raw_page!r} does not exist: pages are numbered from 1.")
        checked_page = 1
    checked_per_page = _positive_int(raw_per_page)
    if checked_per_page is None:
        if error_out:
            raise Http404(f"per_page={raw_per_page!r} is not a positive integer.")
        checked_per_page = DEFAULT_PER_PAGE
    cap = max_per_page if max_per_page is not None else (
        DEFAULT_MAX_PER_PAGE if from_request else None
    )
    if cap is not None:
        checked_per_page = min(checked_per_page, cap)
    return checked_page, checked_per_page


def paginate(
    request: HttpRequest | None,
    statement: Any,
    *,
    page: int | None = None,
    per_page: int | None = None,
    max_per_page: int | None = None,
    error_out: bool = True,
    count: bool = True,
    session: Session | None = None,
) -> Pagination:
    """A page of a ``select()`` (objects for ``select(Model)``, rows otherwise)
    or of a legacy ``Query``, on ``session`` (default: ``db.session``).

    ``count=False`` skips the ``COUNT(*)`` (``total`` is then None).
    """
    page, per_page = page_args(request, page, per_page, max_per_page, error_out)
    if isinstance(statement, Query):
        result = paginate_query(statement, page=page, per_page=per_page, count=count)
    else:
        if session is None:
            from .state import registry

            session = registry.session()
        result = paginate_select(session, statement, page=page, per_page=per_page, count=count)
    if error_out and result.page > 1 and not result.items:
        raise Http404(f"Page {result.page} is past the last page.")
    return result
