"""``db``: everything a Django project needs from session_ext, in one name.

::

    from session_ext.django import db

    class Note(db.Model):
        id = Column(Integer, primary_key=True)

    def note(request, pk):
        return JsonResponse({"text": db.get_object_or_404(Note, pk).text})

A thin face over :data:`session_ext.django.registry` (the state), the
helper modules and the shared web layer (:mod:`session_ext.web.schema` for
the per-bind schema); it holds nothing of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Engine

from ..pagination import Pagination
from ..scoping import scope, scoped_session
from ..web import schema
from . import pagination, shortcuts
from .conf import ALL_BINDS, DEFAULT_KEY, SETTING, bind_key
from .model import Model
from .state import Registry, Session, registry

_O = TypeVar("_O")


class Database:
    """``db.session``, ``db.Model``, the engines and the view helpers."""

    #: the declarative base of session_ext models
    Model = Model
    #: open a scope of its own (``with db.scope():``) for a job or a task
    scope = scope

    def __init__(self, state: Registry) -> None:
        self._state = state

    @property
    def session(self) -> scoped_session[Session]:
        """The current request's session (the thread's outside a request)."""
        return self._state.session

    @property
    def metadata(self) -> MetaData:
        """The ``MetaData`` of ``db.Model`` and ``db.Table`` (every bind's tables)."""
        return self._state.metadata

    @property
    def engine(self) -> Engine:
        """The default database's engine."""
        return self._state.engine_for(None)

    @property
    def engines(self) -> Mapping[str | None, Engine]:
        """Every engine by bind key (None: the default database)."""
        return MappingProxyType(self._state.require())

    def get_engine(self, bind: str | None = None) -> Engine:
        """The engine of bind ``bind`` (None or ``"default"``: the default database)."""
        return self._state.engine_for(bind)

    def Table(self, name: str, *args: Any, bind_key: str | None = None, **kw: Any) -> Table:  # noqa: N802
        """A Core ``Table`` in ``db.metadata``, stored in bind ``bind_key``."""
        if bind_key is not None:
            kw["info"] = {**(kw.get("info") or {}), "bind_key": bind_key}
        return Table(name, self.metadata, *args, **kw)

    # ------------------------------------------------------------------ schema
    def bind_keys(self, bind: Any = ALL_BINDS) -> list[str | None]:
        """The bind keys ``bind`` names: ``"__all__"``, None/"default", a key, or a list."""
        return schema.select_bind_keys(
            bind, self._state.require(), self._state.engine_for,
            argument="bind", default_name=DEFAULT_KEY, error=TypeError,
        )

    def tables(self, key: str | None) -> list[Table]:
        """The tables of bind ``key``, in foreign-key order."""
        self._check_bind_keys()
        return schema.tables_of_bind(self.metadata, key, default_name=DEFAULT_KEY)

    def _check_bind_keys(self) -> None:
        engines = self._state.require()
        for user, key in self._state.invalid_bind_keys():
            raise ImproperlyConfigured(
                f"{user} has __bind_key__ {key!r}, which is not a database name: use a key of "
                f"settings.{SETTING}['DATABASES'], or leave __bind_key__ out"
            )
        for key, users in self._state.bind_key_users().items():
            if bind_key(key) not in engines:
                raise ImproperlyConfigured(
                    f"{', '.join(users)} use(s) __bind_key__ {key!r}, which is not in "
                    f"settings.{SETTING}['DATABASES']: add a database named {key!r}"
                )

    def create_all(self, bind: Any = ALL_BINDS) -> None:
        """Create the missing tables of every model (and ``db.Table``) in ``bind``."""
        schema.create_all(self.metadata, self.bind_keys(bind), self.tables,
                          self._state.engine_for)

    def drop_all(self, bind: Any = ALL_BINDS) -> None:
        """Drop the tables of every model (and ``db.Table``) in ``bind``."""
        schema.drop_all(self.metadata, self.bind_keys(bind), self.tables,
                        self._state.engine_for)

    # ------------------------------------------------------------------ views
    def get_object_or_404(self, model: type[_O], pk: Any, *, message: str | None = None) -> _O:
        """``db.session.get(model, pk)``, or ``Http404``."""
        return shortcuts.get_object_or_404(model, pk, session=self.session(), message=message)

    def first_or_404(self, statement: Any, *, message: str | None = None) -> Any:
        """The first row's first column (the object for ``select(Model)``), or ``Http404``."""
        return shortcuts.first_or_404(statement, session=self.session(), message=message)

    def one_or_404(self, statement: Any, *, message: str | None = None) -> Any:
        """The only row's first column, or ``Http404`` for none or several."""
        return shortcuts.one_or_404(statement, session=self.session(), message=message)

    def paginate(
        self,
        request: HttpRequest | None,
        statement: Any,
        *,
        page: int | None = None,
        per_page: int | None = None,
        max_per_page: int | None = None,
        error_out: bool = True,
        count: bool = True,
    ) -> Pagination:
        """A page of ``statement`` from ``?page=``/``?per_page=`` (see
        :func:`session_ext.django.pagination.paginate`)."""
        return pagination.paginate(request, statement, page=page, per_page=per_page,
                                   max_per_page=max_per_page, error_out=error_out,
                                   count=count, session=self.session())

    # ------------------------------------------------------------------ async views
    @property
    def async_session(self) -> Any:
        """The current request's ``AsyncSession`` (async views under ASGI; see
        :mod:`session_ext.django.asyncio`): ``await db.async_session.get(...)``."""
        from . import asyncio as async_views

        return async_views.session

    def __getattr__(self, name: str) -> Any:
        # aget_object_or_404, afirst_or_404, aone_or_404, apaginate: awaitable helpers
        if name in ("aget_object_or_404", "afirst_or_404", "aone_or_404", "apaginate"):
            from . import asyncio as async_views

            return getattr(async_views, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"<session_ext.django.db {self._state!r}>"


#: the facade every project imports: ``from session_ext.django import db``
db = Database(registry)
