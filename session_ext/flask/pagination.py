"""Pagination for views: ``page``/``per_page`` from ``request.args``, 404s.

The rules (defaults, caps, which values are a 404) are the web layer's,
:mod:`session_ext.web.pages`; this module reads the arguments from the
current request (none outside a request) and answers
:class:`~session_ext.web.not_found.NotFound` with ``abort(404)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from flask import abort, has_request_context, request

from ..web.not_found import NotFound
from ..web.pages import DEFAULT_MAX_PER_PAGE, DEFAULT_PER_PAGE, page_of_query, page_of_statement

if TYPE_CHECKING:
    from ..pagination import Pagination
    from ..query import Query
    from ..session import Session

__all__ = ["DEFAULT_MAX_PER_PAGE", "DEFAULT_PER_PAGE", "paginate_query", "paginate_select"]


def request_arg(name: str) -> Any:
    """The raw value of request argument ``name``, or None (also outside a request)."""
    if has_request_context():
        return request.args.get(name)
    return None


def abort_not_found(err: NotFound) -> NoReturn:
    """``abort(404)`` with the message of a page that does not exist."""
    abort(404, description=err.message)


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
    try:
        return page_of_statement(session, statement, page=page, per_page=per_page,
                                 max_per_page=max_per_page, error_out=error_out,
                                 count=count, read_arg=request_arg)
    except NotFound as err:
        abort_not_found(err)


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
    try:
        return page_of_query(query, page=page, per_page=per_page, max_per_page=max_per_page,
                             error_out=error_out, count=count, read_arg=request_arg)
    except NotFound as err:
        abort_not_found(err)
