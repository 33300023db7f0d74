"""``db.Model``: the declarative base of one :class:`SessionExt`.

On top of :class:`session_ext.DeclarativeBase` it gives models

* ``Model.query``: a :class:`~session_ext.flask.query.Query` on the current
  app context's session (``query_class`` on a model picks another class);
* ``__bind_key__``: the bind (a key of ``SESSION_EXT_BINDS``) whose database
  holds the model's table; it is stored in ``table.info["bind_key"]``, where
  sessions, ``create_all()`` and Core statements on the table find it;
* a default ``__tablename__``: the class name in snake_case, as
  Flask-SQLAlchemy 3.x names it (``UserProfile`` -> ``user_profile``, see
  :mod:`session_ext.web.naming`) when the class sets neither
  ``__tablename__`` nor ``__table__`` (not with :class:`ModelMetaNoName`,
  ``SessionExt(disable_autonaming=True)``).

A base of your own with another metaclass: subclass :class:`ModelMeta` and
pass ``declarative_base(cls=Model, metaclass=YourMeta, name="Model")`` as
``SessionExt(model_class=...)``.  ``DefaultMeta``/``DefaultMetaNoName`` are
Flask-SQLAlchemy's names of the two metaclasses.

The extension is passed in (:func:`make_model`, :class:`QueryProperty`):
only its public ``Query`` and ``session`` are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sqlalchemy import MetaData

from .. import exc
from ..mapping.declarative import DeclarativeBase, _Declarative, _is_base
from ..web.binds import copy_bind_keys
from ..web.naming import default_tablename, snake_case

if TYPE_CHECKING:
    from .query import Query

__all__ = [
    "DefaultMeta",
    "DefaultMetaNoName",
    "Model",
    "ModelMeta",
    "ModelMetaNoName",
    "QueryProperty",
    "make_model",
    "snake_case",
    "sync_bind_keys",
]

_BaseMeta: type = type(DeclarativeBase)


class _Extension(Protocol):
    """What models need of a ``SessionExt``."""

    Query: type[Any]

    @property
    def session(self) -> Any: ...


class Model:
    """The default mixin of ``db.Model`` (``SessionExt(model_class=...)``
    replaces it with your own class, whose methods every model then has)."""

    #: the Query class of ``Model.query``; ``db.Model`` gets the extension's
    #: ``query_class`` unless a model_class sets another
    query_class: ClassVar[type[Query[Any]] | None] = None
    #: ``Model.query``: set on each ``db.Model`` by the extension
    query: ClassVar[Query[Any]]


class QueryProperty:
    """``Model.query``: a new Query on the current app context's session each
    time it is read (``RuntimeError`` outside an app context)."""

    def __init__(self, db: _Extension) -> None:
        self.db = db

    def __get__(self, instance: Any, owner: type) -> Any:
        if "__mapper__" not in vars(owner):
            return self  # on db.Model itself or an abstract base: nothing to query
        query_cls = getattr(owner, "query_class", None) or self.db.Query
        return query_cls(owner, session=self.db.session())


class ModelMeta(_BaseMeta):  # type: ignore[misc, valid-type]
    """Metaclass of ``db.Model``: default table names and ``__bind_key__``."""

    #: give models without ``__tablename__`` or ``__table__`` their snake_case name
    autoname: ClassVar[bool] = True

    def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any],
                **kw: Any) -> Any:
        if mcls.autoname and DeclarativeBase not in bases and "__se_base__" not in namespace:
            tablename = default_tablename(name, namespace, bases)
            if tablename is not None:
                namespace["__tablename__"] = tablename
        return super().__new__(mcls, name, bases, namespace, **kw)

    def __init__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any],
                 **kw: Any) -> None:
        super().__init__(name, bases, namespace, **kw)
        mapper = cls.__dict__.get("__mapper__")
        if mapper is not None:
            key = getattr(cls, "__bind_key__", None)
            if key is not None:
                mapper.table.info["bind_key"] = key


class ModelMetaNoName(ModelMeta):
    """:class:`ModelMeta` without default table names: every model sets
    ``__tablename__`` or ``__table__`` (``SessionExt(disable_autonaming=True)``)."""

    autoname = False


#: Flask-SQLAlchemy's names of the metaclasses, for code that imports them
DefaultMeta = ModelMeta
DefaultMetaNoName = ModelMetaNoName


def make_model(
    db: _Extension,
    model_class: type | None,
    metadata: MetaData | None,
    *,
    autonaming: bool = True,
) -> type[DeclarativeBase]:
    """Build ``db.Model`` from a mixin class or from your declarative base.

    Given a declarative base (a direct subclass of
    :class:`session_ext.DeclarativeBase` or ``DeclarativeBaseNoMeta``),
    ``db.Model`` is a subclass of it that shares its registry and metadata
    (``db.metadata is Base.metadata``; ``metadata=`` must then be omitted or the
    same object) and names tables after classes (unless ``autonaming`` is
    False); the base itself gets ``query``, so its own direct subclasses have
    ``Model.query`` too.  A base whose metaclass is a :class:`ModelMeta`
    already (``declarative_base(cls=Model, metaclass=...)``) is used as it is.
    Any other class becomes a mixin of a new base, whose metaclass gives
    default table names unless ``autonaming`` is False.
    """
    _refuse_orm_base(model_class)
    if isinstance(model_class, ModelMeta) and DeclarativeBase in model_class.__bases__:
        return _adopt_model_base(db, model_class, metadata)
    if isinstance(model_class, type) and _is_base(model_class):
        return _model_on_base(db, model_class, metadata, autonaming)
    if model_class is not None and not isinstance(model_class, type):
        raise exc.ArgumentError(
            f"model_class must be a class (a mixin for every model, or a declarative base), "
            f"not {model_class!r}"
        )
    if isinstance(model_class, type) and issubclass(model_class, _Declarative):
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
    metaclass = ModelMeta if autonaming else ModelMetaNoName
    return metaclass("Model", (mixin, DeclarativeBase), namespace)  # type: ignore[no-any-return]


def _adopt_model_base(db: _Extension, base: Any, metadata: MetaData | None) -> Any:
    """``db.Model`` for a base built with a :class:`ModelMeta` (names and bind
    keys are its metaclass's already): the base itself, given ``query``."""
    if metadata is not None and metadata is not base.metadata:
        raise exc.ArgumentError(
            f"model_class {base.__name__} is a declarative base with its own "
            "metadata; pass metadata=None (or that same MetaData)"
        )
    if not isinstance(base.__dict__.get("query"), QueryProperty):
        base.query = QueryProperty(db)
    return base


def _model_on_base(db: _Extension, base: type, metadata: MetaData | None,
                   autonaming: bool = True) -> Any:
    """``db.Model`` for ``SessionExt(model_class=Base)``: see :func:`make_model`."""
    if metadata is not None and metadata is not base.metadata:  # type: ignore[attr-defined]
        raise exc.ArgumentError(
            f"model_class {base.__name__} is a declarative base with its own "
            "metadata; pass metadata=None (or that same MetaData)"
        )
    if not isinstance(base.__dict__.get("query"), QueryProperty):
        base.query = QueryProperty(db)  # type: ignore[attr-defined]
    if not hasattr(base, "query_class"):
        base.query_class = None  # type: ignore[attr-defined]
    meta: type = ModelMeta if autonaming else ModelMetaNoName
    if not issubclass(meta, type(base)):
        meta = type(meta.__name__, (meta, type(base)), {})
    namespace = {"__module__": base.__module__, "__qualname__": "Model",
                 "__doc__": base.__doc__, "__se_base__": True}
    return meta("Model", (base,), namespace)


def _refuse_orm_base(model_class: Any) -> None:
    """A class of SQLAlchemy's ORM can not be a session_ext base: say so, and how."""
    if not isinstance(model_class, type):
        return
    orm_classes = [k for k in (type(model_class), *model_class.__mro__)
                   if k.__module__.startswith("sqlalchemy.orm")]
    if orm_classes:
        raise exc.ArgumentError(
            f"model_class {model_class.__name__} is a declarative base of SQLAlchemy's ORM "
            f"(it derives from {orm_classes[0].__module__}.{orm_classes[0].__name__}); "
            "session_ext maps models itself: derive it from session_ext.DeclarativeBase "
            "instead (from session_ext import DeclarativeBase, Mapped, mapped_column, "
            "relationship)"
        )


def sync_bind_keys(base: type[DeclarativeBase]) -> None:
    """Copy ``__bind_key__`` of every model to its table's info (for bases not
    built by :func:`make_model`, whose metaclass does this at class creation)."""
    copy_bind_keys(base.registry.mappers)
