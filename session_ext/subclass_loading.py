"""Loading the columns of subclass tables after the rows: ``selectin_polymorphic()``
and ``polymorphic_load="selectin"``.

A SELECT of a joined-table inheritance base class reads the base table only;
the columns of the subclasses' own tables are then unloaded on the objects.
A :class:`SubclassStep` in a loader option path (or a subclass mapper's
``polymorphic_load="selectin"``) asks for them right after the rows: one
``SELECT <key>, <subclass columns> FROM <subclass join> WHERE <key> IN (...)``
per subclass, for the objects of that class, filling the attributes that are
not loaded yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, tuple_

from . import exc
from .mapping.polymorphic import included_mappers
from .state import STATE_ATTR

if TYPE_CHECKING:
    from .mapping.mapper import Mapper
    from .protocols import SessionLike as Session

#: IN lists longer than this are split
_CHUNK = 30_000


class SubclassStep:
    """A loader option path step: load the columns of ``mappers``' tables for
    the objects (of ``parent``, the class the path reached) of those classes."""

    __slots__ = ("parent", "mappers", "class_attribute", "_primaryjoin", "key")

    def __init__(self, parent: Mapper, mappers: Any) -> None:
        self.parent = parent
        self.mappers = tuple(m for m in mappers if m is not parent)
        # what the statement's cache key is made of (see LoaderOption.path_key)
        self.class_attribute = ("selectin_polymorphic", parent.class_,
                                tuple(m.class_ for m in self.mappers))
        self._primaryjoin = None
        self.key = None

    def __repr__(self) -> str:
        names = ", ".join(m.class_.__name__ for m in self.mappers)
        return f"selectin_polymorphic({self.parent.class_.__name__}, [{names}])"


def subclass_step(parent: Mapper, classes: Any) -> SubclassStep:
    """The step of ``selectin_polymorphic(parent, classes)``: the given
    subclasses and those between them and ``parent``, in hierarchy order."""
    try:
        return SubclassStep(parent, included_mappers(parent, classes))
    except exc.InvalidRequestError as err:
        raise exc.ArgumentError(str(err).replace("with_polymorphic", "selectin_polymorphic")
                                ) from None


def load_subclass_columns(session: Session, parent: Mapper, objects: list[Any],
                          mappers: tuple[Mapper, ...], populate: bool) -> None:
    """For each of ``mappers``, one SELECT (per chunk of keys) of its columns
    that ``parent``'s SELECT did not read, for the ``objects`` of its class
    that miss them; attributes already loaded (or changed) are kept unless
    ``populate``."""
    loaded_keys = parent.column_attr_set
    for sub in mappers:
        keys = [k for k in sub.column_attr_keys if k not in loaded_keys]
        if not keys:
            continue
        cls = sub.class_
        by_pk: dict[tuple[Any, ...], Any] = {}
        for obj in objects:
            if isinstance(obj, cls):
                d = obj.__dict__
                if populate or any(k not in d for k in keys):
                    by_pk[d[STATE_ATTR].key[1]] = obj
        if not by_pk:
            continue
        pk_cols = list(sub.primary_key)
        cols = [sub.column_attrs[k].column for k in keys]
        n = len(pk_cols)
        pks = list(by_pk)
        for i in range(0, len(pks), _CHUNK):
            chunk = pks[i : i + _CHUNK]
            where = (pk_cols[0].in_([p[0] for p in chunk]) if n == 1
                     else tuple_(*pk_cols).in_(chunk))
            stmt = select(*pk_cols, *cols).select_from(sub.table).where(where)
            if sub.single_criteria is not None:
                stmt = stmt.where(sub.single_criteria)
            rows = session.execute(stmt, execution_options={"autoflush": False})
            for row in rows:
                obj = by_pk.get(tuple(row[:n]))
                if obj is None:
                    continue
                d = obj.__dict__
                committed = d[STATE_ATTR].committed
                for k, v in zip(keys, row[n:]):
                    if k not in committed and (populate or k not in d):
                        d[k] = v


__all__ = ["SubclassStep", "load_subclass_columns", "subclass_step"]
