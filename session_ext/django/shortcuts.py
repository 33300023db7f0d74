"""404 helpers for views: a missing row becomes ``Http404``, not ``None``."""

from __future__ import annotations

from typing import Any, TypeVar

from django.http import Http404

from .. import exc
from ..session import Session
from ..web import get_from_client

_O = TypeVar("_O")


def _session(session: Session | None) -> Any:
    if session is not None:
        return session
    from .state import registry

    return registry.session()


def get_object_or_404(
    model: type[_O], pk: Any, *, session: Session | None = None, message: str | None = None
) -> _O:
    """``session.get(model, pk)``, or ``Http404`` when there is no such row."""
    obj = get_from_client(_session(session), model, pk)
    if obj is None:
        raise Http404(message or f"No {model.__name__} with primary key {pk!r}.")
    return obj  # type: ignore[no-any-return]


def first_or_404(
    statement: Any, *, session: Session | None = None, message: str | None = None
) -> Any:
    """The first row's first column (the object for ``select(Model)``), or
    ``Http404`` when there is no row."""
    value = _session(session).execute(statement).scalar()
    if value is None:
        raise Http404(message or "No row matches the query.")
    return value


def one_or_404(
    statement: Any, *, session: Session | None = None, message: str | None = None
) -> Any:
    """The only row's first column, or ``Http404`` for none or several rows."""
    try:
        return _session(session).execute(statement).scalar_one()
    except (exc.NoResultFound, exc.MultipleResultsFound):
        raise Http404(message or "No single row matches the query.") from None
