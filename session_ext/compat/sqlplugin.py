"""session_ext's compile-state plugin for ``select()``: joins along relationships.

A ``select()`` naming a mapped class (or an aliased one, or a relationship as a
join target) carries ``{"compile_state_plugin": "session_ext"}`` in its
propagated attributes, as Core does for its own plugins. When Core compiles the
statement it then builds its FROM list with :class:`JoinAwareSelectState`, which
is Core's own ``SelectState`` except that a JOIN whose target or ON clause is a
relationship (``.join(User.addresses)``, ``.join(Address, User.addresses)``,
``.join(User.tags)`` through the secondary table, ``.and_()``/``.of_type()``) is
first expanded into the plain table joins and ON clauses it stands for.

Such a join element is a FROM element annotated with :data:`REL_JOIN`, whose
value has ``join_steps(left, right, explicit_right, flags)`` yielding Core's
``(right, onclause, left, flags)`` join tuples.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, null, select
from sqlalchemy.sql import roles, visitors
from sqlalchemy.sql.base import CompileState
from sqlalchemy.sql.dml import DeleteDMLState, InsertDMLState, UpdateDMLState
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import SelectState
from sqlalchemy.util import immutabledict

from .. import exc

#: the plugin name Core looks up in ``statement._propagate_attrs``
PLUGIN_NAME = "session_ext"
#: what a mapped FROM element propagates to the statements it is used in
PROPAGATE = immutabledict({"compile_state_plugin": PLUGIN_NAME, "plugin_subject": None})
#: annotation key of a FROM element whose rows load as a mapped class's objects
ENTITY_ANNOTATION = "session_ext_mapper"
#: annotation key of a relationship used as a join target or ON clause
REL_JOIN = "session_ext_rel_join"
#: annotation key of an entity's FROM element lacking some of the class's columns
#: (``aliased(Address, subquery_of_some_columns)``): their attribute keys
MISSING_ANNOTATION = "session_ext_missing"
#: annotation key of an entity's FROM element that reads some columns of another
#: selectable through a subquery: (that selectable, its columns, the subquery's)
WRAPS_ANNOTATION = "session_ext_wraps"
#: annotation key of an ``aliased()`` entity's FROM element: (the AliasedClass, its name)
ALIAS_ANNOTATION = "session_ext_alias"


def column_entity(column: Any) -> Any:
    """The mapper of the table ``column`` belongs to, or None (the mapping layer
    replaces this function: it knows the mapped tables)."""
    return None


def with_plugin(element: Any) -> Any:
    """``element`` (an annotated copy, owned by the caller) marked to select the plugin."""
    element._propagate_attrs = PROPAGATE
    return element


#: annotated FROM class -> the same class also accepted as an ON clause
_ONCLAUSE_CLASSES: dict[type, type] = {}


def join_element(selectable: Any, annotations: dict[str, Any]) -> Any:
    """``selectable`` annotated with ``annotations``, usable as a join target
    and as an ON clause (Core accepts only SQL expressions there otherwise)."""
    elem = selectable._annotate(annotations)
    cls = type(elem)
    onclause_cls = _ONCLAUSE_CLASSES.get(cls)
    if onclause_cls is None:
        onclause_cls = type(cls.__name__, (cls, roles.OnClauseRole), {"inherit_cache": True})
        _ONCLAUSE_CLASSES[cls] = onclause_cls
    elem.__class__ = onclause_cls
    return with_plugin(elem)


def _column_in(selectable: Any, column: Any) -> Any:
    col = selectable.corresponding_column(column)
    if col is None:
        col = selectable.c.get(column.key)
    if col is None:
        col = selectable.c.get(column.name)
    return col


def entity_over(mapper: Any, selectable: Any, name: str | None,
                what: str, extra: tuple[Any, ...] = ()) -> tuple[Any, dict[Any, Any]]:
    """A FROM element whose rows load as ``mapper``'s objects, reading them from
    ``selectable`` (an alias, subquery or CTE naming the table's columns), and
    which of its columns stands for each table column; ``extra``: columns of
    ``selectable`` it carries after the class's (read by ``with_expression()``)."""
    cols = []
    missing = []
    pk = set(mapper.primary_key)
    for table_col in mapper.select_columns:
        col = _column_in(selectable, table_col)
        if col is None and table_col not in pk:
            # not in the statement: the objects get it unloaded (read on access)
            missing.append(mapper.col_to_key[table_col])
            col = null().label(table_col.key)
        if col is None:
            raise exc.ArgumentError(
                f"{what}({mapper.class_.__name__}, ...): the statement has no column "
                f"{table_col.name!r}; it needs every column of the table "
                f"{mapper.table.name!r}, named as there"
            )
        cols.append(col)
    values: dict[str, Any] = {ENTITY_ANNOTATION: mapper}
    if cols + list(extra) != list(selectable.c):
        # rows load by position: read exactly the class's columns, in table order
        # (then the extra ones)
        base, base_cols = selectable, (*cols, *extra)
        selectable = select(*base_cols).subquery(name)
        wrapper = list(selectable.c)
        cols = wrapper[: len(cols)]
        values[WRAPS_ANNOTATION] = (base, base_cols, tuple(wrapper))
    if missing:
        values[MISSING_ANNOTATION] = tuple(missing)
    entity = with_plugin(selectable._annotate(values))
    return entity, dict(zip(mapper.select_columns, cols))


def unwrap_shared(statement: Any) -> Any:
    """``statement`` with entities that read one selectable through subqueries
    of their own (``aliased(User, subq)`` and ``aliased(Address, subq)`` over a
    subquery of both) reading its columns directly: one FROM, not a cartesian
    product of two wrappers. Each entity keeps its columns' positions."""
    wrapped = [e._annotations.get(WRAPS_ANNOTATION) for e in statement._raw_columns]
    bases = [w[0] for w in wrapped if w is not None]
    if len(bases) == len({id(b) for b in bases}):
        return statement
    columns: list[Any] = []
    replace: dict[Any, Any] = {}
    for element, w in zip(statement._raw_columns, wrapped):
        if w is None:
            columns.append(element)
            continue
        _base, base_cols, wrapper_cols = w
        columns.extend(base_cols)
        replace.update(zip(wrapper_cols, base_cols))
    stmt = statement.with_only_columns(*columns, maintain_column_froms=False)
    return visitors.replacement_traverse(stmt, {}, lambda e: replace.get(e))


def rel_join_of(element: Any) -> Any:
    ann = getattr(element, "_annotations", None)
    return ann.get(REL_JOIN) if ann else None


@CompileState.plugin_for(PLUGIN_NAME, "select")
class JoinAwareSelectState(SelectState):
    """Core's SELECT compile state, with relationship joins expanded first."""

    def _setup_joins(self, args: Any, raw_columns: Any) -> None:
        expanded: list[Any] = []
        for right, onclause, left, flags in args:
            spec = rel_join_of(onclause) if onclause is not None else rel_join_of(right)
            if spec is None:
                expanded.append((right, onclause, left, flags))
            else:
                expanded.extend(spec.join_steps(left, right, onclause is not None, flags))
        super()._setup_joins(tuple(expanded), raw_columns)

    @classmethod
    def get_column_descriptions(cls, statement: Any) -> list[dict[str, Any]]:
        """``select(...).column_descriptions`` as SQLAlchemy's ORM gives it: for a
        selected entity its class (or ``aliased()`` object) as ``expr``,
        ``entity`` and ``type``; for a column of a mapped table its class as
        ``entity``."""
        out = []
        core = iter(super().get_column_descriptions(statement))
        for element in statement._raw_columns:
            ann = element._annotations
            mapper = ann.get(ENTITY_ANNOTATION)
            width = len(element.columns) if hasattr(element, "columns") else 1
            if mapper is None:
                for _ in range(width):
                    d = next(core)
                    entity = column_entity(d["expr"])
                    if entity is not None and getattr(d["expr"], "key", None):
                        d["name"] = d["expr"].key  # the attribute's name, as the ORM's
                    d["aliased"] = False
                    d["entity"] = entity.class_ if entity is not None else None
                    out.append(d)
                continue
            for _ in range(width):
                next(core, None)
            alias, alias_name = ann.get(ALIAS_ANNOTATION, (None, None))
            cls_ = mapper.class_
            out.append({
                "name": alias_name if alias is not None else cls_.__name__,
                "type": cls_,
                "aliased": alias is not None,
                "expr": alias if alias is not None else cls_,
                "entity": alias if alias is not None else cls_,
            })
        return out

    @classmethod
    def from_statement(cls, statement: Any, from_statement: Any) -> Any:
        """``select(User).from_statement(text("SELECT ..."))``: the entities of
        ``statement`` read, by column name, from the rows of ``from_statement``
        (a ``text()``, ``text().columns()`` or ``select()``), which runs as a
        subquery; loader options and execution options carry over."""
        needed = []
        for element in statement._raw_columns:
            mapper = element._annotations.get(ENTITY_ANNOTATION)
            if mapper is not None:
                needed.extend(column(c.name, c.type) for c in mapper.select_columns)
            elif getattr(element, "name", None):
                needed.append(column(element.name, element.type))
        inner = from_statement
        if isinstance(inner, TextClause):
            inner = inner.columns(*needed)
        sub = inner.subquery()
        elements = []
        for element in statement._raw_columns:
            mapper = element._annotations.get(ENTITY_ANNOTATION)
            if mapper is not None:
                extra: tuple[Any, ...] = ()
                if len(statement._raw_columns) == 1:
                    # one entity: the statement's other columns ride along after
                    # its own, for a with_expression() naming one of them
                    own = {id(_column_in(sub, c)) for c in mapper.select_columns}
                    extra = tuple(c for c in sub.c if id(c) not in own)
                elements.append(entity_over(mapper, sub, None, "from_statement", extra)[0])
            else:
                elements.append(sub.c[element.name])
        stmt = select(*elements)
        if statement._with_options:
            stmt = stmt.options(*statement._with_options)
        return stmt.execution_options(**statement._execution_options)


class _DescribedDML:
    """``entity_description`` / ``returning_column_descriptions`` of an
    ``insert()``/``update()``/``delete()`` of a mapped class, as SQLAlchemy's ORM
    gives them (its class as ``entity``, ``expr`` and ``type``)."""

    @classmethod
    def get_entity_description(cls, statement: Any) -> dict[str, Any]:
        mapper = statement.table._annotations.get(ENTITY_ANNOTATION)
        if mapper is None:
            return super().get_entity_description(statement)  # type: ignore[misc, no-any-return]
        cls_ = mapper.class_
        return {"name": cls_.__name__, "type": cls_, "expr": cls_, "entity": cls_,
                "table": getattr(mapper, "local_table", mapper.table)}

    @classmethod
    def get_returning_column_descriptions(cls, statement: Any) -> list[dict[str, Any]]:
        out = super().get_returning_column_descriptions(statement)  # type: ignore[misc]
        for d in out:
            entity = column_entity(d["expr"])
            d["aliased"] = False
            d["entity"] = entity.class_ if entity is not None else None
        return out  # type: ignore[no-any-return]


@CompileState.plugin_for(PLUGIN_NAME, "insert")
class DescribedInsertState(_DescribedDML, InsertDMLState):
    pass


@CompileState.plugin_for(PLUGIN_NAME, "update")
class DescribedUpdateState(_DescribedDML, UpdateDMLState):
    pass


@CompileState.plugin_for(PLUGIN_NAME, "delete")
class DescribedDeleteState(_DescribedDML, DeleteDMLState):
    pass


__all__ = [
    "ALIAS_ANNOTATION", "ENTITY_ANNOTATION", "MISSING_ANNOTATION", "WRAPS_ANNOTATION",
    "unwrap_shared", "PLUGIN_NAME", "PROPAGATE", "REL_JOIN", "JoinAwareSelectState",
    "entity_over", "join_element", "rel_join_of", "with_plugin",
]
