"""``paginate(request, select(...))``: which page to fetch, and 404s.

The page itself is the core's framework-free :class:`session_ext.Pagination`
and the rules (defaults, caps, which values are a 404) are the web layer's,
:mod:`session_ext.web.pages`: ``page``/``per_page`` not given are read from
``request.GET`` (1 and 20 without them, or without a request), nonsense is
``Http404`` (``error_out=True``, the default) or the defaults, an empty page
other than the first is ``Http404``, and a ``per_page`` from the request is
capped at 100 when no ``max_per_page`` is given.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ..pagination import Pagination
from ..query import Query
from ..session import Session
from ..web.not_found import NotFound
from ..web.pages import page_args as _page_args
from ..web.pages import page_of_query, page_of_statement
from .http import arguments_of, http404
from .state import registry

DEFAULT_PER_PAGE = 20
#: cap of a ``per_page`` read from the request when no max_per_page is given
DEFAULT_MAX_PER_PAGE = 100


def page_args(
    request: HttpRequest | None,
    page: int | None = None,
    per_page: int | None = None,
    max_per_page: int | None = None,
    error_out: bool = True,
) -> tuple[int, int]:
    """The ``(page, per_page)`` to fetch, or ``Http404``."""
    try:
        return _page_args(page, per_page, max_per_page, error_out, arguments_of(request))
    except NotFound as err:
        raise http404(err) from None


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
    try:
        # the arguments first: a page that cannot exist needs no session
        page, per_page = _page_args(page, per_page, max_per_page, error_out,
                                    arguments_of(request))
        if isinstance(statement, Query):
            return page_of_query(statement, page=page, per_page=per_page,
                                 error_out=error_out, count=count)
        if session is None:
            session = registry.session()
        return page_of_statement(session, statement, page=page, per_page=per_page,
                                 error_out=error_out, count=count)
    except NotFound as err:
        raise http404(err) from None
