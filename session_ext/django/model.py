"""``db.Model``: the declarative base of the Django adapter.

On top of :class:`session_ext.DeclarativeBase` it gives models

* ``Model.query``: a :class:`~session_ext.django.query.Query` on
  ``db.session`` (the request's session, else the thread's);
* ``__bind_key__``: the name, in ``SESSION_EXT['DATABASES']``, of the
  database that holds the model's table; copied to ``table.info["bind_key"]``
  so Core statements on the table are routed there too;
* a default ``__tablename__``: the class name in snake_case
  (``BlogPost`` -> ``blog_post``) when neither ``__tablename__`` nor
  ``__table__`` is given.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..mapping.declarative import DeclarativeBase
from .query import Query
from .state import registry


def snake_case(name: str) -> str:
    """``BlogPost`` -> ``blog_post``, ``HTTPLog`` -> ``http_log``.

    A capital starts a new word after a small letter or a digit, and at the
    end of a run of capitals when a small letter follows it (``HTTPLog``).
    """
    words: list[str] = []
    for i, char in enumerate(name):
        if i and char.isupper():
            before = name[i - 1]
            after = name[i + 1] if i + 1 < len(name) else ""
            if before.islower() or before.isdigit() or (before.isupper() and after.islower()):
                words.append("_")
        words.append(char.lower())
    return "".join(words)


def _names_table(cls: type) -> bool:
    if "__table__" in vars(cls):
        return True
    return any(vars(klass).get("__tablename__") is not None for klass in cls.__mro__)


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
        if not vars(cls).get("__abstract__", False) and not _names_table(cls):
            cls.__tablename__ = snake_case(cls.__name__)
        super().__init_subclass__(**kw)
        mapper = vars(cls).get("__mapper__")
        key = getattr(cls, "__bind_key__", None)
        if mapper is not None and key is not None:
            mapper.table.info["bind_key"] = key


registry.model_registry = Model.registry
