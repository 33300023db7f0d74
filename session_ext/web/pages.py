"""Which page a view shows: ``page``/``per_page`` checked, a page fetched.

The page itself is the framework-free :class:`session_ext.Pagination`; this
module decides *which* page to fetch and turns nonsense into
:class:`~session_ext.web.not_found.NotFound` (``error_out=True``) or into
the defaults (``error_out=False``).  The adapters only say where request
arguments come from (``read_arg``) and answer NotFound with a 404:

* ``page``/``per_page`` not given are read with ``read_arg`` (1 and 20 when
  absent);
* a value that is not an integer, or is below 1, is invalid;
* an empty page other than the first is NotFound (with ``error_out``);
* ``per_page`` is capped at ``max_per_page``; a ``per_page`` read from the
  request is capped at 100 when no ``max_per_page`` is given, so a client
  cannot ask for a whole table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..pagination import Pagination, paginate, paginate_query
from .not_found import NotFound

if TYPE_CHECKING:
    from ..query import Query
    from ..session import Session

DEFAULT_PER_PAGE = 20
#: cap of a ``per_page`` read from the request when no max_per_page is given
DEFAULT_MAX_PER_PAGE = 100

#: ``read_arg(name)``: the request's raw value of argument ``name``, or None
ReadArg = Callable[[str], Any]


def no_request(name: str) -> None:
    """``read_arg`` outside a request: no arguments."""
    return None


def positive_int(value: Any) -> int | None:
    """``value`` (an int, or text of one) when it is an integer >= 1, else None."""
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
    page: Any,
    per_page: Any,
    max_per_page: int | None,
    error_out: bool,
    read_arg: ReadArg = no_request,
) -> tuple[int, int]:
    """The ``(page, per_page)`` to fetch, or NotFound."""
    if max_per_page is not None and (
        isinstance(max_per_page, bool) or not isinstance(max_per_page, int) or max_per_page < 1
    ):
        raise ValueError(f"max_per_page must be an integer >= 1 or None, not {max_per_page!r}")
    raw_page = page
    if page is None:
        raw_page = read_arg("page")
        raw_page = 1 if raw_page is None else raw_page
    raw_per_page = per_page
    from_request = False
    if per_page is None:
        raw_per_page = read_arg("per_page")
        from_request = raw_per_page is not None
        raw_per_page = DEFAULT_PER_PAGE if raw_per_page is None else raw_per_page

    checked_page = positive_int(raw_page)
    if checked_page is None:
        if error_out:
            raise NotFound(None, f"Page {raw_page!r} does not exist: pages are numbered from 1.")
        checked_page = 1
    checked_per_page = positive_int(raw_per_page)
    if checked_per_page is None:
        if error_out:
            raise NotFound(None, f"per_page={raw_per_page!r} is not a positive integer.")
        checked_per_page = DEFAULT_PER_PAGE
    cap = max_per_page
    if cap is None and from_request:
        cap = DEFAULT_MAX_PER_PAGE
    if cap is not None:
        checked_per_page = min(checked_per_page, cap)
    return checked_page, checked_per_page


def _not_empty(result: Pagination, error_out: bool) -> Pagination:
    if error_out and result.page > 1 and not result.items:
        raise NotFound(None, f"Page {result.page} is past the last page.")
    return result


def page_of_statement(
    session: Session,
    statement: Any,
    *,
    page: Any = None,
    per_page: Any = None,
    max_per_page: int | None = None,
    error_out: bool = True,
    count: bool = True,
    read_arg: ReadArg = no_request,
) -> Pagination:
    """A page of a ``select()`` (objects for ``select(Model)``, rows otherwise)."""
    page, per_page = page_args(page, per_page, max_per_page, error_out, read_arg)
    result = paginate(session, statement, page=page, per_page=per_page, count=count)
    return _not_empty(result, error_out)


def page_of_query(
    query: Query[Any],
    *,
    page: Any = None,
    per_page: Any = None,
    max_per_page: int | None = None,
    error_out: bool = True,
    count: bool = True,
    read_arg: ReadArg = no_request,
) -> Pagination:
    """A page of a legacy ``Query``."""
    page, per_page = page_args(page, per_page, max_per_page, error_out, read_arg)
    result = paginate_query(query, page=page, per_page=per_page, count=count)
    return _not_empty(result, error_out)
