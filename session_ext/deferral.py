"""Which columns a query loads onto its objects: deferred columns
(``mapped_column(deferred=True)``, ``deferred_group``, ``deferred_raiseload``),
the loader options ``load_only()``, ``defer()``, ``undefer()``,
``undefer_group()`` and ``with_expression()`` for ``query_expression()``
attributes.

A statement selecting an entity with columns to leave out keeps its column
layout: each left-out column is selected as ``NULL`` (so the row loaders and
joined eager loading keep their positions) and the loader does not set it;
the objects remember which columns were left out (``"defer"``) or must raise
when read (``"raise"``) in ``state.load_options``.  Reading a deferred column
loads it (with the rest of its ``deferred_group``) by primary key.
``with_expression()`` columns are added at the end of the SELECT.  A mapper
with no deferred column and a statement with none of these options cost one
test per entity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import literal_column
from sqlalchemy.sql.expression import Subquery

from . import exc
from .compat import WITH_OPTIONS, ClauseAdapter, PathOption, raw_columns, unannotated
from .loading import ExpressionMark
from .mapping.attributes import ExpressionAttribute
from .state import STATE_ATTR

if TYPE_CHECKING:
    from .mapping.mapper import Mapper


class ColumnOption(PathOption):
    """``load_only()`` / ``defer()`` / ``undefer()`` / ``undefer_group()`` /
    ``with_expression()`` (chained after a relationship option, such as
    ``selectinload(User.books).load_only(Book.title)``, it is carried by that
    option's strategy for the related objects' SELECT)."""

    def __init__(self, kind: str, targets: tuple[Any, ...], raiseload: bool = False,
                 expr: Any = None) -> None:
        self.kind = kind
        self.targets = targets
        self.raiseload = raiseload
        self.expr = expr
        self.path_key = (
            kind, tuple(t if isinstance(t, str) else id(t) for t in targets), raiseload,
            id(expr) if expr is not None else None,
        )

    def applies_to(self, mapper: Mapper) -> bool:
        if self.kind == "expression":
            return self.targets[0].mapper is mapper or (
                self.targets[0].mapper is not None
                and issubclass(mapper.class_, self.targets[0].mapper.class_))
        if self.kind in ("undefer_group", "wildcard"):
            return True
        return all(key_of(mapper, c) is not None for c in self.targets)

    def __repr__(self) -> str:
        return f"{self.kind}({', '.join(map(str, self.targets))})"


def key_of(mapper: Mapper, column: Any) -> str | None:
    """The attribute key of ``mapper`` a column stands for (also a column of an
    alias of its table, ``aliased(Book).title``), or None."""
    key = mapper.col_to_key.get(column)
    if key is None:
        own = mapper.table.corresponding_column(column)
        key = mapper.col_to_key.get(own) if own is not None else None
    return key


def _columns(attrs: tuple[Any, ...], name: str) -> tuple[Any, ...]:
    out = []
    for a in attrs:
        col = a.__clause_element__() if hasattr(a, "__clause_element__") else a
        if getattr(col, "table", None) is None:
            raise exc.ArgumentError(
                f"{name}() takes column attributes of mapped classes (Book.title), not {a!r}")
        out.append(col)
    return tuple(out)


def deferred(column: Any, *, group: str | None = None, raiseload: bool = False) -> Any:
    """A ``Column`` mapped as deferred (``map_imperatively(properties={"summary":
    deferred(table.c.summary)})``, or ``summary = deferred(Column(Text))`` in a
    class body); returns the column.  SQL expressions (SQLAlchemy's deferred
    ``column_property``) are not supported."""
    from sqlalchemy.schema import Column

    from .mapping.attributes import DEFERRED_COLUMNS

    if not isinstance(column, Column):
        raise exc.ArgumentError(
            f"deferred() takes a Column, not {type(column).__name__}: session_ext has no "
            "column_property() for SQL expressions; use query_expression() and "
            "with_expression() to load an expression onto objects"
        )
    DEFERRED_COLUMNS[column] = (group, raiseload)
    return column


def load_only(*attrs: Any, raiseload: bool = False) -> ColumnOption:
    """Load only these columns (and the primary key) of their entity."""
    return ColumnOption("load_only", _columns(attrs, "load_only"), raiseload)


def defer(attr: Any, *more: Any, raiseload: bool = False) -> ColumnOption:
    """Leave these columns out of the SELECT; they load when read (or raise)."""
    return ColumnOption("defer", _columns((attr, *more), "defer"), raiseload)


def undefer(attr: Any, *more: Any) -> ColumnOption:
    """Load these deferred columns with the rest; ``undefer("*")``: all of them."""
    if attr == "*" and not more:
        return ColumnOption("wildcard", ("*",))
    return ColumnOption("undefer", _columns((attr, *more), "undefer"))


def undefer_group(name: str) -> ColumnOption:
    """Load the deferred columns of ``deferred_group=name`` with the rest."""
    return ColumnOption("undefer_group", (name,))


def with_expression(attr: Any, expr: Any) -> ColumnOption:
    """Fill the ``query_expression()`` attribute ``attr`` from ``expr``."""
    if not isinstance(attr, ExpressionAttribute):
        raise exc.ArgumentError(
            f"with_expression() takes a query_expression() attribute, not {attr!r}")
    return ColumnOption("expression", (attr,), expr=expr)


class SlotPlan:
    """What one entity of a statement loads: ``skip`` (column keys not loaded),
    ``marks`` (key -> "defer"/"raise", recorded on the objects) and
    ``expressions`` ((key, expression) of ``query_expression()`` attributes)."""

    __slots__ = ("skip", "marks", "expressions", "expr_index")

    def __init__(self, skip: frozenset[str], marks: dict[str, str],
                 expressions: list[tuple[str, Any]]) -> None:
        self.skip = skip
        self.marks = marks
        self.expressions = expressions
        self.expr_index: list[tuple[str, int]] = []


def column_options(statement: Any) -> list[ColumnOption]:
    return [o for o in getattr(statement, WITH_OPTIONS, ()) if isinstance(o, ColumnOption)]


def plan_for(mapper: Mapper, options: list[ColumnOption]) -> SlotPlan | None:
    """The columns ``options`` (and the mapping's deferrals) leave out of
    ``mapper``'s objects; None when every column loads."""
    if not options and not mapper.deferred_keys and not mapper.expressions:
        return None
    deferred = set(mapper.deferred_keys)
    raising = set(mapper.deferred_raise)
    expressions: dict[str, Any] = {
        k: a.default_expr for k, a in mapper.expressions.items() if a.default_expr is not None}
    pk = set(mapper.pk_keys)
    for opt in options:
        if not opt.applies_to(mapper):
            continue
        kind = opt.kind
        if kind == "expression":
            expressions[opt.targets[0].key] = opt.expr
            continue
        if kind == "wildcard":
            deferred.clear()
            raising.clear()
            continue
        if kind == "undefer_group":
            keys = {k for k, (g, _r) in mapper.deferral.items() if g == opt.targets[0]}
        else:
            keys = {key_of(mapper, c) for c in opt.targets}
        if kind == "load_only":
            deferred |= set(mapper.column_attr_keys) - keys - pk
            if opt.raiseload:
                raising |= deferred
        elif kind == "defer":
            deferred |= keys - pk
            if opt.raiseload:
                raising |= keys
            else:
                raising -= keys
        else:  # undefer, undefer_group
            deferred -= keys
            raising -= keys
    if not deferred and not expressions:
        return None
    marks = {k: ("raise" if k in raising else "defer") for k in deferred}
    return SlotPlan(frozenset(deferred), marks, list(expressions.items()))


def apply_plans(statement: Any, original: Any, layout: list[tuple[Any, int]],
                plans: dict[int, SlotPlan]) -> Any:
    """``statement`` (what will run; ``original`` as the user gave it) selecting
    NULL for the columns the plans leave out and their expressions at the end."""
    cols = raw_columns(statement)
    if any(a is not b for a, b in zip(cols, raw_columns(original))):
        # wrapped for eager loading (LIMIT in a subquery): every column is read,
        # the loaders still leave the deferred ones unset
        skip_sql = False
    else:
        skip_sql = True
    new_cols: list[Any] = []
    changed = False
    n = 0
    for slot, element in enumerate(cols):
        plan = plans.get(slot)
        if not skip_sql or plan is None or not plan.skip or slot >= len(layout):
            new_cols.append(element)
            continue
        mapper = layout[slot][0]
        # the element's own columns (a table, or an alias/subquery read as the
        # entity), by position: those of the class first, in table order
        table_cols = mapper.select_columns
        element_cols = list(element.c)
        if [c.name for c in element_cols[: len(table_cols)]] != [c.name for c in table_cols]:
            new_cols.append(element)  # laid out otherwise: read it all, set what is loaded
            continue
        changed = True
        for i, c in enumerate(element_cols):
            key = mapper.col_to_key.get(table_cols[i]) if i < len(table_cols) else None
            if key in plan.skip:
                n += 1
                new_cols.append(literal_column("NULL").label(f"_se_deferred_{n}"))
            else:
                new_cols.append(c)
    if changed:
        statement = statement.with_only_columns(*new_cols, maintain_column_froms=True)
    extra = []
    for _slot, plan in sorted(plans.items()):
        for key, expr in plan.expressions:
            extra.append((plan, key, expr))
    if extra:
        # an expression naming columns of a statement the entity is read from
        # (from_statement() of a UNION) reads them from its subquery
        subqueries = [f for f in statement.get_final_froms() if isinstance(f, Subquery)]
        for n, (plan, key, expr) in enumerate(extra):
            for sub in subqueries:
                sub = unannotated(sub)
                col = sub.corresponding_column(expr)
                expr = col if col is not None else ClauseAdapter(sub).traverse(expr)
            extra[n] = (plan, key, expr)
        width = len(statement.selected_columns)
        for i, (plan, key, _expr) in enumerate(extra):
            plan.expr_index.append((key, width + i))
        statement = statement.add_columns(
            *(expr.label(f"_se_expr_{i}") for i, (_p, _k, expr) in enumerate(extra)))
    return statement


def with_expressions(load: Any, plan: SlotPlan, populate: bool) -> Any:
    """``load`` (a row loader) also setting the plan's expression attributes."""
    index = plan.expr_index

    def load_with(row: Any) -> Any:
        obj = load(row)
        if obj is not None:
            d = obj.__dict__
            for key, i in index:
                if populate or key not in d:
                    d[key] = row[i]
        return obj

    return load_with


def mark_objects(objects: list[Any], plan: SlotPlan) -> None:
    """Record on each object the columns it was loaded without (and the
    expressions of its ``with_expression()`` values, evaluated again when
    the object is reloaded)."""
    marks: dict[str, Any] = dict(plan.marks)
    for key, expr in plan.expressions:
        marks[key] = ExpressionMark(expr)
    if not marks:
        return
    for obj in objects:
        d = obj.__dict__
        st = d[STATE_ATTR]
        opts = st.load_options
        for key, how in marks.items():
            if key not in d or type(how) is ExpressionMark:
                if opts is None:
                    opts = st.load_options = {}
                opts[key] = how
