"""``Model.query`` for views: the legacy ``Query`` plus 404 helpers.

The helpers' logic is the web layer's (:mod:`session_ext.web.not_found`);
here "not found" becomes ``abort(404)``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort

from ..pagination import Pagination
from ..query import Query as _CoreQuery
from ..web import not_found
from .pagination import paginate_query

_T = TypeVar("_T")


class Query(_CoreQuery[_T]):
    """The query class of ``Model.query`` and ``db.session.query()``.

    Subclass it and pass ``SessionExt(query_class=...)`` (or set
    ``query_class`` on a model) to add your own methods.
    """

    def get_or_404(self, ident: Any, description: str | None = None) -> Any:
        """The object with this primary key, or ``abort(404)``."""
        try:
            return not_found.get_or_404(self._session(), self._single_entity_class(), ident,
                                        description)
        except not_found.NotFound as err:
            abort(404, description=err.description)

    def first_or_404(self, description: str | None = None) -> Any:
        """The first result, or ``abort(404)`` when there is none."""
        try:
            return not_found.query_first_or_404(self, description)
        except not_found.NotFound as err:
            abort(404, description=err.description)

    def one_or_404(self, description: str | None = None) -> Any:
        """Exactly one result, or ``abort(404)`` for none or several."""
        try:
            return not_found.query_one_or_404(self, description)
        except not_found.NotFound as err:
            abort(404, description=err.description)

    def paginate(  # type: ignore[override]
        self,
        page: int | None = None,
        per_page: int | None = None,
        max_per_page: int | None = None,
        *,
        error_out: bool = True,
        count: bool = True,
    ) -> Pagination:
        """A page of results; ``page``/``per_page`` default to the request's
        arguments (see :mod:`session_ext.web.pages` for the 404 rules)."""
        return paginate_query(
            self,
            page=page,
            per_page=per_page,
            max_per_page=max_per_page,
            error_out=error_out,
            count=count,
        )
