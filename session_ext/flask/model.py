"""``db.Model``: the declarative base of one :class:`SessionExt`.

On top of :class:`session_ext.DeclarativeBase` it gives models

* ``Model.query``: a :class:`~session_ext.flask.query.Query` on the current
  app context's session (``query_class`` on a model picks another class);
* ``__bind_key__``: the bind (a key of ``SESSION_EXT_BINDS``) whose database
  holds the model's table; it is stored in ``table.info["bind_key"]``, where
  sessions, ``create_all()`` and Core statements on the table find it;
* a default ``__tablename__``: the class name in snake_case
  (``UserProfile`` -> ``user_profile``) when the class sets neither
  ``__tablename__`` nor ``__table__``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import MetaData

from .. import exc
from ..mapping.declarative import DeclarativeBase

if TYPE_CHECKING:
    from .extension import SessionExt
    from .query import Query

_BaseMeta: type = type(DeclarativeBase)


def snake_case(name: str) -> str:
    """``UserProfile`` -> ``user_profile``, ``HTTPRequest`` -> ``http_request``."""
    return re.sub(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))", r"_\1", name).lower()


class Model:
    """The default mixin of ``db.Model`` (``SessionExt(model_class=...)``
    replaces it with your own class, whose methods every model then has)."""

    #: the Query class of ``Model.query``; None: the extension's ``query_class``
    query_class: ClassVar[type[Query[Any]] | None] = None
    #: ``Model.query``: set on each ``db.Model`` by the extension
    query: ClassVar[Query[Any]]


class QueryProperty:
    """``Model.query``: a new Query on the current app context's session each
    time it is read (``RuntimeError`` outside an app context)."""

    def __init__(self, db: SessionExt) -> None:
        self.db = db

    def __get__(self, instance: Any, owner: type) -> Any:
        if "__mapper__" not in vars(owner):
            return self  # on db.Model itself or an abstract base: nothing to query
        query_cls = getattr(owner, "query_class", None) or self.db.Query
        return query_cls(owner, session=self.db.session())


def _has_own_tablename(bases: tuple[type, ...], namespace: dict[str, Any]) -> bool:
    if "__tablename__" in namespace or "__table__" in namespace:
        return True
    for base in bases:
        for klass in base.__mro__:
            if klass.__dict__.get("__tablename__") is not None:
                return True
            if "__table__" in klass.__dict__:
                return True
    return False


def _is_declarative_base(bases: tuple[type, ...]) -> bool:
    return DeclarativeBase in bases


class ModelMeta(_BaseMeta):  # type: ignore[misc, valid-type]
    """Metaclass of ``db.Model``: default table names and ``__bind_key__``."""

    def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any],
                **kw: Any) -> Any:
        if (
            not _is_declarative_base(bases)
            and not namespace.get("__abstract__", False)
            and not _has_own_tablename(bases, namespace)
        ):
            namespace["__tablename__"] = snake_case(name)
        return super().__new__(mcls, name, bases, namespace, **kw)

    def __init__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any],
                 **kw: Any) -> None:
        super().__init__(name, bases, namespace, **kw)
        mapper = cls.__dict__.get("__mapper__")
        if mapper is not None:
            key = getattr(cls, "__bind_key__", None)
            if key is not None:
                mapper.table.info["bind_key"] = key


def make_model(
    db: SessionExt,
    model_class: type | None,
    metadata: MetaData | None,
) -> type[DeclarativeBase]:
    """Build ``db.Model`` from a mixin class, or adopt a declarative base.

    A subclass of :class:`session_ext.DeclarativeBase` that is already a base
    is used as it is (its metadata wins; ``metadata=`` must then be omitted or
    the same object); any other class becomes a mixin of a new base.
    """
    if isinstance(model_class, type) and DeclarativeBase in model_class.__bases__:
        if metadata is not None and metadata is not model_class.metadata:
            raise exc.ArgumentError(
                f"model_class {model_class.__name__} is a declarative base with its own "
                "metadata; pass metadata=None (or that same MetaData)"
            )
        if not isinstance(model_class.__dict__.get("query"), QueryProperty):
            model_class.query = QueryProperty(db)  # type: ignore[assignment, attr-defined]
        if not hasattr(model_class, "query_class"):
            model_class.query_class = None  # type: ignore[attr-defined]
        return model_class
    if model_class is not None and not isinstance(model_class, type):
        raise exc.ArgumentError(
            f"model_class must be a class (a mixin for every model, or a declarative base), "
            f"not {model_class!r}"
        )
    if isinstance(model_class, type) and issubclass(model_class, DeclarativeBase):
        raise exc.ArgumentError(
            f"model_class {model_class.__name__} is a mapped or abstract model; pass a plain "
            "mixin class or a direct subclass of DeclarativeBase"
        )
    mixin = model_class or Model
    namespace: dict[str, Any] = {
        "__module__": mixin.__module__,
        "__qualname__": "Model",
        "__doc__": mixin.__doc__,
        "metadata": metadata if metadata is not None else MetaData(),
        "query": QueryProperty(db),
    }
    if not hasattr(mixin, "query_class"):
        namespace["query_class"] = None
    return ModelMeta("Model", (mixin, DeclarativeBase), namespace)  # type: ignore[no-any-return]


def sync_bind_keys(base: type[DeclarativeBase]) -> None:
    """Copy ``__bind_key__`` of every model to its table's info (for bases not
    built by :func:`make_model`, whose metaclass does this at class creation)."""
    for mapper in base.registry.mappers:
        key = getattr(mapper.class_, "__bind_key__", None)
        if key is not None:
            mapper.table.info["bind_key"] = key
