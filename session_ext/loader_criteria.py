"""``with_loader_criteria()``: WHERE / ON criteria for every occurrence of a class.

The option rides in a statement's ``.options()``. When ``Session.execute()``
runs a statement carrying it, :func:`apply` rewrites the statement before it
runs: a selected (or ``select_from()``) entity of a matching class gets the
criteria in WHERE, a join to one (explicit, or along a relationship) in its ON
clause; joined eager loads get them in their ON clause (``strategies``).
``UPDATE``/``DELETE`` of a matching class get them in WHERE. Aliases of the
class count only with ``include_aliases=True`` (joined eager loads always).

With ``propagate_to_loaders=True`` the objects the statement loaded keep the
option for their relationships' later loads (lazy loads, also after expiry;
``selectinload``'s SELECT): see :func:`propagate`.

A statement without the option pays one test of its ``_with_options`` tuple.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, and_
from sqlalchemy.exc import ArgumentError, NoForeignKeysError
from sqlalchemy.sql import Select
from sqlalchemy.sql.expression import Alias, ClauseElement, Delete, Update

from . import exc
from .compat import (
    ANNOTATIONS,
    WITH_OPTIONS,
    ClauseAdapter,
    PathOption,
    join_condition,
    select_froms,
    setup_joins,
    unannotated,
    with_setup_joins,
)
from .compat.sqlplugin import ALIAS_ANNOTATION, ENTITY_ANNOTATION, rel_join_of
from .mapping.mapper import mapper_for_table
from .mapping.relationships.sqljoin import RelationshipJoin
from .state import instance_state
from .strategies import LOADER_CRITERIA, Sticky


class LoaderCriteria(PathOption):
    """The option :func:`with_loader_criteria` returns."""

    #: the criteria reach the statement's WHERE/ON (and its cache key) when it
    #: runs; the option itself adds nothing to the cache key
    path_key = ("_se_loader_criteria",)
    propagate_to_loaders: bool

    def __init__(self, entity: Any, where: Any, loader_only: bool, include_aliases: bool,
                 propagate_to_loaders: bool) -> None:
        cls = getattr(entity, "class_", entity)
        if not isinstance(cls, type):
            raise exc.ArgumentError(
                f"with_loader_criteria({entity!r}, ...): the first argument is a mapped "
                "class, a base class or a mixin of mapped classes"
            )
        self.root = cls
        self.where = where
        self.is_lambda = callable(where) and not isinstance(where, ClauseElement)
        self.loader_only = loader_only
        self.include_aliases = include_aliases
        self.propagate_to_loaders = propagate_to_loaders

    def criteria_for(self, mapper: Any) -> Any:
        """The criteria for ``mapper``'s class, or None when it is not concerned."""
        cls = mapper.class_
        if not issubclass(cls, self.root):
            return None
        return self.where(cls) if self.is_lambda else self.where

    def __repr__(self) -> str:
        return f"with_loader_criteria({self.root.__name__}, {self.where!r})"


def with_loader_criteria(entity_or_base: Any, where_criteria: Any, loader_only: bool = False,
                         include_aliases: bool = False, propagate_to_loaders: bool = True,
                         track_closure_variables: bool = True) -> LoaderCriteria:
    """Criteria added to every load of ``entity_or_base`` (a mapped class, or a
    base class / mixin: every mapped class deriving from it) in the statement:
    WHERE for the selected entity, ON for joins to it. ``where_criteria``: a SQL
    expression, or a function of the class returning one
    (``lambda cls: cls.timestamp > cutoff``), called when the statement runs.
    ``loader_only`` and ``track_closure_variables`` are accepted as SQLAlchemy
    accepts them: ``loader_only`` changes nothing there either; the function
    is called on every execution, so its closure's current values are used."""
    return LoaderCriteria(entity_or_base, where_criteria, loader_only, include_aliases,
                          propagate_to_loaders)


def options_of(statement: Any) -> tuple[LoaderCriteria, ...]:
    """The ``with_loader_criteria()`` options of ``statement``."""
    opts = getattr(statement, WITH_OPTIONS, None)
    if not opts:
        return ()
    return tuple(o for o in opts if isinstance(o, LoaderCriteria))


def _entity(element: Any) -> tuple[Any, Any]:
    """(mapper, alias or None) a FROM element stands for; (None, None) otherwise."""
    ann = getattr(element, ANNOTATIONS, None)
    mapper = ann.get(ENTITY_ANNOTATION) if ann else None
    if mapper is None:
        if isinstance(element, Table):
            return mapper_for_table(element), None
        if isinstance(element, Alias):  # a column of aliased(Model): select(a.id)
            mapper = mapper_for_table(unannotated(element.element))
            return mapper, (element if mapper is not None else None)
        return None, None
    plain = unannotated(element)
    if (ann and ALIAS_ANNOTATION in ann) or plain is not unannotated(mapper.table):
        return mapper, plain
    return mapper, None


def criteria(options: tuple[LoaderCriteria, ...], mapper: Any, alias: Any = None,
             aliases: bool = False) -> list[Any]:
    """The criteria of ``options`` for ``mapper``'s rows read from ``alias``
    (None: its table); ``aliases``: an alias always counts (joined eager loads)."""
    out = []
    for opt in options:
        if alias is not None and not (aliases or opt.include_aliases):
            continue
        crit = opt.criteria_for(mapper)
        if crit is not None:
            out.append(crit if alias is None else ClauseAdapter(alias).traverse(crit))
    return out


def _inferred_on(statement: Any, right: Any, left: Any) -> Any:
    """The ON clause Core would infer from foreign keys for a join to ``right``
    (``.join(Address)``): from ``left``, else the first FROM that has one."""
    for candidate in ((left,) if left is not None else statement.columns_clause_froms):
        try:
            return join_condition(candidate, right)
        except (ArgumentError, NoForeignKeysError):
            continue
    raise exc.InvalidRequestError(
        f"with_loader_criteria(): no ON clause found for the join to {right}; "
        "join along a relationship or give the ON clause"
    )


def _join_target(join: tuple[Any, ...]) -> tuple[Any, Any]:
    """(relationship join spec or None, the FROM element joined to) of one of
    a select()'s joins (see ``compat.setup_joins``)."""
    right, onclause = join[0], join[1]
    spec = rel_join_of(onclause) if onclause is not None else rel_join_of(right)
    if spec is not None and onclause is None:  # .join(User.addresses)
        return spec, spec._target()
    return spec, right


def _join(statement: Any, options: tuple[LoaderCriteria, ...], join: tuple[Any, ...],
          spec: Any, target: Any) -> tuple[Any, ...]:
    """``join`` with the criteria for its target in its ON clause."""
    right, onclause, left, flags = join
    mapper, alias = _entity(target)
    crit = criteria(options, mapper, alias) if mapper is not None else []
    if not crit:
        return join
    if spec is not None:
        spec = RelationshipJoin(spec.rel, spec.parent, spec.target, (*spec.criteria, *crit))
        if onclause is not None:
            return right, spec.__clause_element__(), left, flags
        return spec.__clause_element__(), None, left, flags
    if onclause is None:
        onclause = _inferred_on(statement, right, left)
    return right, and_(onclause, *crit), left, flags


def apply(statement: Any, options: tuple[LoaderCriteria, ...]) -> Any:
    """``statement`` with the criteria of ``options`` in its WHERE and ON clauses."""
    if isinstance(statement, (Update, Delete)):
        mapper = mapper_for_table(unannotated(statement.table)) or _entity(statement.table)[0]
        crit = criteria(options, mapper) if mapper is not None else []
        return statement.where(*crit) if crit else statement
    if not isinstance(statement, Select):
        return statement
    joins = setup_joins(statement)
    joined = set()
    if joins:
        new = []
        for join in joins:
            spec, target = _join_target(join)
            joined.add(unannotated(target))
            new.append(_join(statement, options, join, spec, target))
        if any(a is not b for a, b in zip(new, joins)):
            statement = with_setup_joins(statement, tuple(new))
    where = []
    seen = set()
    for element in (*statement.columns_clause_froms, *select_froms(statement)):
        plain = unannotated(element)
        if plain in joined or plain in seen:
            continue
        seen.add(plain)
        mapper, alias = _entity(element)
        if mapper is not None:
            where.extend(criteria(options, mapper, alias))
    return statement.where(*where) if where else statement


def propagate(options: tuple[LoaderCriteria, ...], objects: list[Any],
              ) -> tuple[LoaderCriteria, ...]:
    """The loaded ``objects`` keep ``options`` for the later loads of those of
    their relationships whose target class the options concern; returns the
    propagating options."""
    options = tuple(o for o in options if o.propagate_to_loaders)
    if not options or not objects:
        return options
    by_class: dict[type, list[tuple[str, Any]]] = {}
    for obj in objects:
        cls = type(obj)
        rels = by_class.get(cls)
        if rels is None:
            mapper = instance_state(obj).mapper
            rels = by_class[cls] = [
                (key, rel) for key, rel in mapper.relationships.items()
                if any(issubclass(rel.mapper.class_, o.root) for o in options)]
        if not rels:
            continue
        st = instance_state(obj)
        if st.load_options is None:
            st.load_options = {}
        lo = st.load_options
        for key, rel in rels:
            old = lo.get(key)
            if isinstance(old, Sticky):
                if any(o in old.columns for o in options):
                    continue
                lo[key] = Sticky(old, old.criteria, old.child_paths, (*old.columns, *options))
            else:
                lo[key] = Sticky(old or rel.lazy, (), [], options)
    return options


__all__ = ["LOADER_CRITERIA", "LoaderCriteria", "apply", "criteria", "options_of", "propagate",
           "with_loader_criteria"]
