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
from .mapping.polymorphic import included_mappers, polymorphic_from
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


class _SubclassNamespace:
    """``poly.Manager``: the attributes of one class of a ``with_polymorphic()``
    entity, as columns of its selectable."""

    def __init__(self, mapper: Mapper, by_column: dict[Any, Any], selectable: Any) -> None:
        self._se_mapper = mapper
        self._se_columns = {key: by_column[attr.column]
                            for key, attr in mapper.column_attrs.items()
                            if attr.column in by_column}
        self._se_selectable = selectable

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_se_"):
            raise AttributeError(key)
        col = self._se_columns.get(key)
        if col is not None:
            return col
        rel = self._se_mapper.relationships.get(key)
        if rel is not None:
            return RelationshipJoin(rel, parent=self._se_selectable)
        raise AttributeError(
            f"{self._se_mapper.class_.__name__} of with_polymorphic() has no attribute {key!r}")


class PolymorphicEntity(AliasedClass):
    """What :func:`with_polymorphic` returns: the class read together with the
    tables of the subclasses it names; ``poly.name`` is a column of the base
    class, ``poly.Manager.manager_name`` one of a subclass, and rows load as
    objects of each row's class with the subclasses' columns loaded."""

    def __init__(self, mapper: Mapper, mappers: list[Mapper], aliased: bool, flat: bool,
                 name: str | None, given: Any = None) -> None:
        selectable, by_column = polymorphic_from(mapper, mappers, aliased, flat, name, given)
        d = self.__dict__
        d["_se_mapper"] = mapper
        d["_se_name"] = name or mapper.class_.__name__
        d["_se_selectable"] = selectable
        d["_se_columns"] = {key: by_column[attr.column]
                            for key, attr in mapper.column_attrs.items()
                            if attr.column in by_column}
        for sub in mappers:
            d[sub.class_.__name__] = _SubclassNamespace(sub, by_column, selectable)

    def __repr__(self) -> str:
        return f"<with_polymorphic({self._se_mapper.class_.__name__}) {self._se_name}>"


def with_polymorphic(base: Any, classes: Any, selectable: Any = False, flat: bool = False,
                     polymorphic_on: Any = None, aliased: bool = False,
                     innerjoin: bool = False, adapt_on_names: bool = False,
                     name: str | None = None) -> PolymorphicEntity:
    """``base`` (a class of an inheritance hierarchy) read with the tables of
    ``classes`` (its subclasses, or ``"*"`` for all) LEFT OUTER JOINed, so
    that rows load with every class's columns and criteria can name the
    subclasses' columns (``poly.Manager.manager_name``); ``aliased=True``
    reads it through aliases (``flat=True``: each table aliased, else one
    subquery), so it can be used twice in one statement. ``selectable``: the
    FROM to read instead of the LEFT OUTER JOINs (a join of the tables, or a
    subquery naming their columns)."""
    given = selectable if selectable is not False and selectable is not None else None
    if polymorphic_on is not None or innerjoin or adapt_on_names:
        raise NotImplementedError(
            "with_polymorphic(): polymorphic_on, innerjoin and adapt_on_names are not "
            "supported")
    mapper = base._se_mapper if isinstance(base, AliasedClass) else class_mapper(base)
    mapper.registry.configure()
    return PolymorphicEntity(mapper, included_mappers(mapper, classes), aliased, flat, name,
                             given)


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


__all__ = ["AliasedClass", "PolymorphicEntity", "aliased", "with_polymorphic"]
