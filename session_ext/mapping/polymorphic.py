"""Polymorphic selectables: a class of an inheritance hierarchy read together
with the tables of some of its subclasses (``with_polymorphic()``, and the
mapper arguments ``polymorphic_load="inline"`` / ``with_polymorphic="*"``).

For joined-table inheritance the selectable is the class's own table (or
join) LEFT OUTER JOINed to each included subclass's table; single-table
subclasses add no table (their columns are in the shared table already).
``aliased=True`` reads it through aliases: ``flat=True`` aliases each table
and keeps the joins, otherwise the join becomes one subquery.

The FROM element is annotated with the class's mapper (as the mapper's own
selectable is) and with a :class:`PolymorphicLayout`: the table columns of
the selectable in order, which the row loaders read objects of every class
from.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import LABEL_STYLE_TABLENAME_PLUS_COL, select
from sqlalchemy.sql.expression import Join

from .. import exc
from ..compat import ANNOTATIONS, ClauseAdapter, annotate
from ..compat.sqlplugin import ENTITY_ANNOTATION, with_plugin

#: annotation key of a polymorphic FROM element: its PolymorphicLayout
LAYOUT_ANNOTATION = "session_ext_polymorphic_layout"


class PolymorphicLayout:
    """The columns a polymorphic selectable yields, as the tables' columns in
    the selectable's order (what row loaders look positions up in); equal
    layouts share the loaders generated for them."""

    __slots__ = ("select_columns", "column_types", "mappers")

    def __init__(self, columns: tuple[Any, ...], mappers: tuple[Any, ...]) -> None:
        self.select_columns = columns
        self.column_types = tuple(c.type for c in columns)
        #: the mappers whose columns the layout has (the class's and the included ones)
        self.mappers = mappers

    def __hash__(self) -> int:
        return hash(self.select_columns)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, PolymorphicLayout)
                and other.select_columns == self.select_columns)


def layout_of(element: Any) -> PolymorphicLayout | None:
    """The layout of a polymorphic FROM element (None for any other element)."""
    ann = getattr(element, ANNOTATIONS, None)
    return ann.get(LAYOUT_ANNOTATION) if ann else None


def included_mappers(mapper: Any, classes: Any) -> list[Any]:
    """The mappers ``with_polymorphic(mapper, classes)`` includes: ``"*"`` all
    descendants, else the given classes and the classes between them and
    ``mapper``; in hierarchy order."""
    everyone = mapper.self_and_descendants()
    if classes == "*":
        return everyone
    wanted = {mapper}
    for cls in classes:
        sub = cls if hasattr(cls, "iterate_to_root") else getattr(cls, "__mapper__", None)
        if sub is None or mapper not in sub.iterate_to_root():
            raise exc.InvalidRequestError(
                f"with_polymorphic(): {getattr(cls, '__name__', cls)!r} is not a subclass "
                f"of {mapper.class_.__name__} in its mapped hierarchy"
            )
        wanted.update(sub.iterate_to_root())
    return [m for m in everyone if m in wanted]


def polymorphic_from(mapper: Any, mappers: list[Any], aliased: bool = False,
                     flat: bool = False, name: str | None = None,
                     given: Any = None) -> tuple[Any, dict[Any, Any]]:
    """The polymorphic FROM element of ``mapper`` with ``mappers``' tables (or
    ``given``, a selectable the caller built: a join of the tables, or a
    subquery/alias naming their columns), and which of its columns stands for
    each table column."""
    table_columns = [c for m in mappers for c in m.table.columns]
    if given is None:
        plain = mapper.table
        for sub in mappers:
            if sub is not mapper and not sub.is_single_table() and sub.local_table not in list(
                    _tables_of(plain)):
                plain = plain.outerjoin(sub.local_table, sub.table.onclause)
    else:
        plain = given.subquery() if hasattr(given, "subquery") and not hasattr(
            given, "c") else given
    selectable = plain
    if flat and isinstance(plain, Join):  # flat alone aliases too, as in SQLAlchemy
        selectable = _flat_alias(plain, {t: t.alias() for t in _tables_of(plain)})
    elif flat or aliased or name is not None:
        if isinstance(plain, Join):
            plain_stmt = select(plain).set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
            selectable = plain_stmt.subquery(name)
        else:
            selectable = plain.alias(name)
    # the table column each column of the selectable stands for, in its order
    stands_for: dict[Any, Any] = {}
    for col in table_columns:
        found = plain.corresponding_column(col)
        if found is not None:
            stands_for.setdefault(found, col)
    columns = tuple(stands_for.get(c, c) for c in plain.columns)
    by_column = {}
    for col in columns:
        found = selectable.corresponding_column(col)
        if found is None:
            raise exc.ArgumentError(f"with_polymorphic(): no column for {col} in {selectable}")
        by_column[col] = found
    missing = [c for c in mapper.primary_key + (mapper.polymorphic_on,) if c not in by_column]
    if missing:
        raise exc.ArgumentError(
            f"with_polymorphic({mapper.class_.__name__}): the selectable has no column for "
            f"{', '.join(str(c) for c in missing)}")
    layout = PolymorphicLayout(columns, tuple(mappers))
    element = annotate(selectable, {ENTITY_ANNOTATION: mapper, LAYOUT_ANNOTATION: layout})
    return with_plugin(element), by_column


def _tables_of(selectable: Any) -> list[Any]:
    if isinstance(selectable, Join):
        return _tables_of(selectable.left) + _tables_of(selectable.right)
    return [selectable]


def _flat_alias(join: Any, aliases: dict[Any, Any]) -> Any:
    """``join`` with each table replaced by its alias, ON clauses adapted."""
    if not isinstance(join, Join):
        return aliases[join]
    left = _flat_alias(join.left, aliases)
    right = _flat_alias(join.right, aliases)
    on = join.onclause
    for alias in aliases.values():
        on = ClauseAdapter(alias).traverse(on)
    return left.join(right, on, isouter=join.isouter)


def default_polymorphic(mapper: Any) -> list[Any] | None:
    """The mappers a plain ``select(cls)`` of ``mapper`` includes by the mapper
    arguments (``with_polymorphic="*"`` / a list on the hierarchy's root,
    ``polymorphic_load="inline"`` on subclasses); None: none."""
    root_arg = mapper.base_mapper.with_polymorphic_arg
    subs = [m for m in mapper.self_and_descendants()[1:]
            if m.polymorphic_load == "inline" and not m.is_single_table()]
    if root_arg is not None:
        classes = root_arg[0] if isinstance(root_arg, tuple) else root_arg
        if classes == "*":
            subs = mapper.self_and_descendants()[1:]
        else:
            subs += [m for m in mapper.self_and_descendants()[1:]
                     if m.class_ in classes or m in classes]
    subs = [m for m in subs if not m.is_single_table()]
    if not subs:
        return None
    return included_mappers(mapper, [m.class_ for m in subs])


__all__ = ["LAYOUT_ANNOTATION", "PolymorphicLayout", "default_polymorphic", "included_mappers",
           "layout_of", "polymorphic_from"]
