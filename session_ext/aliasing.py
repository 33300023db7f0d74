"""``aliased()``: a mapped class under another name in a statement, or read
from a subquery or CTE, whose rows still load as objects of the class.

``ua = aliased(User)`` is an alias of the class's table: ``ua.name`` is that
alias's column, ``select(ua)`` loads ``User`` objects, ``ua.addresses`` joins
from the alias (``select(ua).join(ua.addresses)``), and
``User.addresses.of_type(aa)`` joins to an aliased target.
``aliased(User, subq)`` reads the class's columns from ``subq`` (a subquery,
CTE or alias whose columns are named like the table's).
"""

from __future__ import annotations

from typing import Any

from .compat import annotate
from .compat.sqlplugin import ALIAS_ANNOTATION, entity_over, with_plugin
from .mapping.mapper import Mapper, class_mapper
from .mapping.relationships.sqljoin import RelationshipJoin


class AliasedClass:
    """A mapped class read through ``selectable`` (see the module docs)."""

    def __init__(self, mapper: Mapper, selectable: Any, name: str | None) -> None:
        selectable, by_column = entity_over(mapper, selectable, name, "aliased")
        selectable = with_plugin(annotate(
            selectable, {ALIAS_ANNOTATION: (self, name or mapper.class_.__name__)}))
        d = self.__dict__
        d["_se_mapper"] = mapper
        d["_se_name"] = name or mapper.class_.__name__
        d["_se_selectable"] = selectable
        d["_se_columns"] = {key: by_column[attr.column]
                            for key, attr in mapper.column_attrs.items()}

    def __clause_element__(self) -> Any:
        return self._se_selectable

    def __getattr__(self, key: str) -> Any:
        d = self.__dict__
        if key.startswith("__") or "_se_mapper" not in d:
            raise AttributeError(key)
        mapper = d["_se_mapper"]
        col = d["_se_columns"].get(key)
        if col is not None:
            return col
        rel = mapper.relationships.get(key)
        if rel is not None:
            join = d[key] = RelationshipJoin(rel, parent=d["_se_selectable"])
            return join
        raise AttributeError(
            f"aliased({mapper.class_.__name__}) has no attribute {key!r}; mapped attributes: "
            f"{sorted(mapper.attrs)}"
        )

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"aliased({self._se_name}) is read-only")

    def __repr__(self) -> str:
        return f"<aliased({self._se_mapper.class_.__name__}) {self._se_name}>"


def aliased(element: Any, alias: Any = None, name: str | None = None, flat: bool = False,
            adapt_on_names: bool = False) -> AliasedClass:
    """``element`` (a mapped class) under an alias of its table, or read from
    ``alias`` (a subquery, CTE or alias of a statement of its columns)."""
    if isinstance(element, AliasedClass):
        mapper = element._se_mapper
        base = element._se_selectable
    else:
        mapper = class_mapper(element)
        base = mapper.table
    if alias is None:
        alias = base.alias(name)
    elif hasattr(alias, "subquery") and not hasattr(alias, "c"):
        alias = alias.subquery(name)  # a select() given: its subquery
    return AliasedClass(mapper, alias, name)


__all__ = ["AliasedClass", "aliased"]
