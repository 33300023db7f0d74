"""404 helpers for views: a missing row becomes ``Http404``, not ``None``.

The logic is the web layer's (:mod:`session_ext.web.not_found`); without a
``session`` argument they use ``db.session``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ..session import Session
from ..web import not_found
from .http import http404
from .state import registry

_O = TypeVar("_O")


def _session(session: Session | None) -> Any:
    return session if session is not None else registry.session()


def get_object_or_404(
    model: type[_O], pk: Any, *, session: Session | None = None, message: str | None = None
) -> _O:
    """``session.get(model, pk)``, or ``Http404`` when there is no such row."""
    try:
        return not_found.get_or_404(_session(session), model, pk, message)  # type: ignore[no-any-return]
    except not_found.NotFound as err:
        raise http404(err) from None


def first_or_404(
    statement: Any, *, session: Session | None = None, message: str | None = None
) -> Any:
    """The first row's first column (the object for ``select(Model)``), or
    ``Http404`` when there is no row."""
    try:
        return not_found.first_or_404(_session(session), statement, message)
    except not_found.NotFound as err:
        raise http404(err) from None


def one_or_404(
    statement: Any, *, session: Session | None = None, message: str | None = None
) -> Any:
    """The only row's first column, or ``Http404`` for none or several rows."""
    try:
        return not_found.one_or_404(_session(session), statement, message)
    except not_found.NotFound as err:
        raise http404(err) from None
