""""No such row" for views: the logic of the ``*_or_404`` helpers.

Each helper returns what a view asked for or raises :class:`NotFound`; the
adapters turn that into their framework's 404 (Flask's ``abort(404)``,
Django's ``Http404``) and decide what message to show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import exc
from .client_input import get_from_client

if TYPE_CHECKING:
    from ..query import Query
    from ..session import Session


class NotFound(LookupError):
    """A view asked for a row (or a page) that does not exist.

    ``description`` is the message the caller gave (None: none), ``detail``
    says what was missing; :attr:`message` is the first of the two.
    """

    def __init__(self, description: str | None, detail: str) -> None:
        super().__init__(description or detail)
        self.description = description
        self.detail = detail

    @property
    def message(self) -> str:
        return self.description or self.detail


def get_or_404(
    session: Session, entity: type, ident: Any, description: str | None = None
) -> Any:
    """``session.get(entity, ident)`` for a key from the client (text is
    converted, see :func:`~session_ext.web.get_from_client`), or NotFound."""
    obj = get_from_client(session, entity, ident)
    if obj is None:
        raise NotFound(description, f"No {entity.__name__} with primary key {ident!r}.")
    return obj


def first_or_404(session: Session, statement: Any, description: str | None = None) -> Any:
    """The first row's first column (the object for ``select(Model)``), or NotFound."""
    value = session.execute(statement).scalar()
    if value is None:
        raise NotFound(description, "No row matches the query.")
    return value


def one_or_404(session: Session, statement: Any, description: str | None = None) -> Any:
    """The only row's first column, or NotFound for none or several rows."""
    try:
        return session.execute(statement).scalar_one()
    except (exc.NoResultFound, exc.MultipleResultsFound):
        raise NotFound(description, "No single row matches the query.") from None


def query_first_or_404(query: Query[Any], description: str | None = None) -> Any:
    """``query.first()``, or NotFound when there is no result."""
    obj = query.first()
    if obj is None:
        raise NotFound(description, "No row matches the query.")
    return obj


def query_one_or_404(query: Query[Any], description: str | None = None) -> Any:
    """``query.one()``, or NotFound for none or several results."""
    try:
        return query.one()
    except (exc.NoResultFound, exc.MultipleResultsFound):
        raise NotFound(description, "No single row matches the query.") from None
