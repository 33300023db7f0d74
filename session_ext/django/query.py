"""``Model.query``: the core's legacy ``Query`` plus 404 helpers for views.

The helpers' logic is the web layer's (:mod:`session_ext.web.not_found`,
:mod:`session_ext.web.pages`); here "not found" becomes ``Http404``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.http import HttpRequest

from ..pagination import Pagination
from ..query import Query as CoreQuery
from ..web import not_found
from ..web.pages import page_of_query
from .http import arguments_of, http404

_T = TypeVar("_T")


class Query(CoreQuery[_T]):
    """The class of ``Model.query`` and ``db.session.query()``."""

    def get_or_404(self, ident: Any, message: str | None = None) -> _T:
        """The object with this primary key, or ``Http404``."""
        try:
            return not_found.get_or_404(  # type: ignore[no-any-return]
                self._session(), self._single_entity_class(), ident, message
            )
        except not_found.NotFound as err:
            raise http404(err) from None

    def first_or_404(self, message: str | None = None) -> Any:
        """The first result, or ``Http404`` when there is none."""
        try:
            return not_found.query_first_or_404(self, message)
        except not_found.NotFound as err:
            raise http404(err) from None

    def one_or_404(self, message: str | None = None) -> Any:
        """Exactly one result, or ``Http404`` for none or several."""
        try:
            return not_found.query_one_or_404(self, message)
        except not_found.NotFound as err:
            raise http404(err) from None

    def paginate(  # type: ignore[override]
        self,
        request: HttpRequest | None = None,
        *,
        page: int | None = None,
        per_page: int | None = None,
        max_per_page: int | None = None,
        error_out: bool = True,
        count: bool = True,
    ) -> Pagination:
        """A page of results, ``?page=``/``?per_page=`` read from ``request``
        (see :mod:`session_ext.web.pages` for the 404 rules)."""
        try:
            return page_of_query(self, page=page, per_page=per_page,
                                 max_per_page=max_per_page, error_out=error_out,
                                 count=count, read_arg=arguments_of(request))
        except not_found.NotFound as err:
            raise http404(err) from None
