"""``db.Model``: the declarative base of the Django adapter.

On top of :class:`session_ext.DeclarativeBase` it gives models

* ``Model.query``: a :class:`~session_ext.django.query.Query` on
  ``db.session`` (the request's session, else the thread's);
* ``__bind_key__``: the name, in ``SESSION_EXT['DATABASES']``, of the
  database that holds the model's table; copied to ``table.info["bind_key"]``
  so Core statements on the table are routed there too;
* a default ``__tablename__``: the class name in snake_case
  (``BlogPost`` -> ``blog_post``) when neither ``__tablename__`` nor
  ``__table__`` is given, named as the Flask adapter (and Flask-SQLAlchemy)
  names it, except that leading underscores are kept (``_Private`` ->
  ``_private``; see :mod:`session_ext.web.naming` and docs/django.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..mapping.declarative import DeclarativeBase
from ..web.naming import default_tablename
from ..web.naming import snake_case as _snake_case
from .query import Query
from .state import registry

__all__ = ["Model", "snake_case"]


def snake_case(name: str) -> str:
    """The default table name of class ``name`` (``BlogPost`` -> ``blog_post``,
    ``HTTPLog`` -> ``http_log``): the web layer's, leading underscores kept."""
    return _snake_case(name, keep_leading_underscores=True)


class Model(DeclarativeBase):
    """The base class of session_ext models in a Django project::

        from session_ext.django import db

        class Note(db.Model):                  # table "note"
            id = Column(Integer, primary_key=True)
            text = Column(String(200))
    """

    metadata = registry.metadata
    #: ``Model.query``: a Query on the current session
    query: ClassVar[Any] = registry.session.query_property(Query)
    #: the database of this model's table (a key of SESSION_EXT['DATABASES'])
    __bind_key__: ClassVar[str | None] = None

    def __init_subclass__(cls, **kw: Any) -> None:
        tablename = default_tablename(cls.__name__, vars(cls), cls.__bases__,
                                      keep_leading_underscores=True)
        if tablename is not None:
            cls.__tablename__ = tablename
        super().__init_subclass__(**kw)
        mapper = vars(cls).get("__mapper__")
        key = getattr(cls, "__bind_key__", None)
        if mapper is not None and key is not None:
            mapper.table.info["bind_key"] = key


registry.model_registry = Model.registry
