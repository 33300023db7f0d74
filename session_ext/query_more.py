"""More of the legacy ``Query`` API (the methods of SQLAlchemy's ``Query``
reference beyond filtering and fetching): set operations (``union()`` and
friends, whose result is queried like the original entities), entity and
column changes (``with_entities()``, ``add_entity()``, ``select_from()``),
statement forms (``subquery()``, ``cte()``, ``scalar_subquery()``,
``label()``), hints and prefixes, and small accessors.

:class:`QueryMore` is a mixin of :class:`session_ext.query.Query`; it uses
only the query's statement (``_select``), entities and ``_clone()``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import except_, except_all, intersect, intersect_all, select, union, union_all

from .aliasing import aliased
from .compat import ClauseAdapter
from .mapping.relationships.sqljoin import with_parent


def _entity_class(obj: Any) -> bool:
    return isinstance(obj, type) and "__mapper__" in vars(obj)


class QueryMore:
    """The rest of the legacy Query API (see the module docs)."""

    _select: Any
    _entities: tuple[Any, ...]
    _single_entity: bool
    _exec_options: dict[str, Any]
    _adapter: Any = None

    def _clone(self, stmt: Any = None) -> Any:  # provided by Query
        raise NotImplementedError

    def _adapted(self, clauses: tuple[Any, ...]) -> tuple[Any, ...]:
        """``clauses`` in terms of the set operation this query reads from."""
        if self._adapter is None:
            return clauses
        return tuple(self._adapter.traverse(c) for c in clauses)

    # -- entities and FROM ---------------------------------------------------------
    def with_entities(self, *entities: Any) -> Any:
        """The same query selecting ``entities`` instead."""
        q = self._clone(self._select.with_only_columns(
            *self._adapted(entities), maintain_column_froms=True))
        q._entities = tuple(entities)
        q._single_entity = len(entities) == 1 and _entity_class(entities[0])
        return q

    def add_column(self, column: Any) -> Any:
        return self.add_columns(column)  # type: ignore[attr-defined]

    def add_entity(self, entity: Any, alias: Any = None) -> Any:
        """Also select ``entity`` (a mapped class; ``alias``: a selectable to read it from)."""
        return self.add_columns(entity if alias is None else aliased(entity, alias))  # type: ignore[attr-defined]

    def select_from(self, *froms: Any) -> Any:
        q = self._clone(self._select.select_from(*froms))
        first = next((f for f in froms if _entity_class(f)), None)
        if first is not None:
            q._filter_by_entity = first
        return q

    def correlate(self, *froms: Any) -> Any:
        return self._clone(self._select.correlate(*froms))

    def with_parent(self, instance: Any, property: Any = None,  # noqa: A002
                    from_entity: Any = None) -> Any:
        """Rows related to ``instance`` through ``property`` (``User.addresses``)."""
        if property is None:
            target = self._entities[0]
            property = next(r for r in type(instance).__mapper__.relationships.values()
                            if r.mapper.class_ is target)
        return self.filter(with_parent(instance, property, from_entity))  # type: ignore[attr-defined]

    # -- set operations ---------------------------------------------------------
    def _set_op(self, fn: Any, queries: tuple[Any, ...]) -> Any:
        subq = fn(self._select, *[q._select for q in queries]).subquery()
        entities = []
        for e in self._entities:
            entities.append(aliased(e, subq) if _entity_class(e) else
                            subq.corresponding_column(e.__clause_element__()
                                                      if hasattr(e, "__clause_element__") else e))
        q = self._clone(select(*entities))
        q._adapter = ClauseAdapter(subq)  # later criteria name the subquery's columns
        return q

    def union(self, *q: Any) -> Any:
        return self._set_op(union, q)

    def union_all(self, *q: Any) -> Any:
        return self._set_op(union_all, q)

    def intersect(self, *q: Any) -> Any:
        return self._set_op(intersect, q)

    def intersect_all(self, *q: Any) -> Any:
        return self._set_op(intersect_all, q)

    def except_(self, *q: Any) -> Any:
        return self._set_op(except_, q)

    def except_all(self, *q: Any) -> Any:
        return self._set_op(except_all, q)

    # -- statement forms --------------------------------------------------------------
    def cte(self, name: str | None = None, recursive: bool = False, nesting: bool = False) -> Any:
        return self._select.cte(name, recursive=recursive, nesting=nesting)

    def scalar_subquery(self) -> Any:
        return self._select.scalar_subquery()

    as_scalar = scalar_subquery

    def label(self, name: str) -> Any:
        return self._select.scalar_subquery().label(name)

    def prefix_with(self, *prefixes: Any, dialect: str = "*") -> Any:
        return self._clone(self._select.prefix_with(*prefixes, dialect=dialect))

    def suffix_with(self, *suffixes: Any, dialect: str = "*") -> Any:
        return self._clone(self._select.suffix_with(*suffixes, dialect=dialect))

    def with_hint(self, selectable: Any, text: str, dialect_name: str = "*") -> Any:
        return self._clone(self._select.with_hint(selectable, text, dialect_name))

    def with_statement_hint(self, text: str, dialect_name: str = "*") -> Any:
        return self._clone(self._select.with_statement_hint(text, dialect_name))

    def set_label_style(self, style: Any) -> Any:
        return self._clone(self._select.set_label_style(style))

    def get_label_style(self) -> Any:
        return self._select.get_label_style()

    # -- small accessors and switches ---------------------------------------------
    @property
    def selectable(self) -> Any:
        return self._select

    @property
    def whereclause(self) -> Any:
        return self._select.whereclause

    @property
    def column_descriptions(self) -> Any:
        return self._select.column_descriptions

    @property
    def is_single_entity(self) -> bool:
        return self._single_entity

    def get_execution_options(self) -> dict[str, Any]:
        return {**self._select.get_execution_options(), **self._exec_options}

    def autoflush(self, setting: bool) -> Any:
        return self.execution_options(autoflush=setting)  # type: ignore[attr-defined]

    def slice(self, start: int, stop: int | None) -> Any:
        return self._window(start, stop)  # type: ignore[attr-defined]

    def tuples(self) -> Any:
        """Rows (tuples) as results, also for a query of one entity."""
        q = self._clone()
        q._single_entity = False
        return q

    def only_return_tuples(self, value: bool) -> Any:
        q = self._clone()
        q._single_entity = not value and len(self._entities) == 1 and _entity_class(
            self._entities[0])
        return q

    def enable_assertions(self, value: bool) -> Any:
        return self._clone()

    def reset_joinpoint(self) -> Any:
        return self._clone()

    def with_transformation(self, fn: Any) -> Any:
        return fn(self)

    def value(self, column: Any) -> Any:
        """The first row's value of ``column``."""
        return self.with_entities(column).scalar()  # type: ignore[attr-defined]

    def values(self, *columns: Any) -> Any:
        return iter(self.with_entities(*columns))


__all__ = ["QueryMore"]
