"""``Model.query``: the core's legacy ``Query`` plus 404 helpers for views."""

from __future__ import annotations

from typing import Any, TypeVar

from django.http import Http404, HttpRequest

from .. import exc
from ..pagination import Pagination
from ..query import Query as CoreQuery
from ..web import get_from_client
from .pagination import paginate

_T = TypeVar("_T")


class Query(CoreQuery[_T]):
    """The class of ``Model.query`` and ``db.session.query()``."""

    def get_or_404(self, ident: Any, message: str | None = None) -> _T:
        """The object with this primary key, or ``Http404``."""
        entity = self._single_entity_class()
        obj = get_from_client(self._session(), entity, ident)
        if obj is None:
            raise Http404(message or f"No {entity.__name__} with primary key {ident!r}.")
        return obj  # type: ignore[no-any-return]

    def first_or_404(self, message: str | None = None) -> Any:
        """The first result, or ``Http404`` when there is none."""
        obj = self.first()
        if obj is None:
            raise Http404(message or "No row matches the query.")
        return obj

    def one_or_404(self, message: str | None = None) -> Any:
        """Exactly one result, or ``Http404`` for none or several."""
        try:
            return self.one()
        except (exc.NoResultFound, exc.MultipleResultsFound):
            raise Http404(message or "No single row matches the query.") from None

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
        (see :mod:`session_ext.django.pagination` for the 404 rules)."""
        return paginate(request, self, page=page, per_page=per_page,
                        max_per_page=max_per_page, error_out=error_out, count=count)
