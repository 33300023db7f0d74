"""``Model.query`` for views: the legacy ``Query`` plus 404 helpers."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort

from .. import exc
from ..pagination import Pagination
from ..query import Query as _CoreQuery
from ..web import get_from_client
from .pagination import paginate_query

_T = TypeVar("_T")


class Query(_CoreQuery[_T]):
    """The query class of ``Model.query`` and ``db.session.query()``.

    Subclass it and pass ``SessionExt(query_class=...)`` (or set
    ``query_class`` on a model) to add your own methods.
    """

    def get_or_404(self, ident: Any, description: str | None = None) -> Any:
        """The object with this primary key, or ``abort(404)``."""
        obj = get_from_client(self._session(), self._single_entity_class(), ident)
        if obj is None:
            abort(404, description=description)
        return obj

    def first_or_404(self, description: str | None = None) -> Any:
        """The first result, or ``abort(404)`` when there is none."""
        obj = self.first()
        if obj is None:
            abort(404, description=description)
        return obj

    def one_or_404(self, description: str | None = None) -> Any:
        """Exactly one result, or ``abort(404)`` for none or several."""
        try:
            return self.one()
        except (exc.NoResultFound, exc.MultipleResultsFound):
            abort(404, description=description)

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
        arguments (see :mod:`session_ext.flask.pagination` for the 404 rules)."""
        return paginate_query(
            self,
            page=page,
            per_page=per_page,
            max_per_page=max_per_page,
            error_out=error_out,
            count=count,
        )
