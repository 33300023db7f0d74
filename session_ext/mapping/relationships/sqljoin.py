"""A relationship as a JOIN target or ON clause in ``select()``.

``select(User).join(User.addresses)``, ``.join(Address, User.addresses)``,
``.outerjoin(User.tags)`` (through the secondary table),
``.join(User.addresses.and_(Address.email.like("%@x")))`` and
``.join(alias, User.addresses.of_type(alias))`` all hand Core a FROM element
annotated with a :class:`RelationshipJoin`; session_ext's compile-state plugin
(:mod:`session_ext.mapping.sqlplugin`) asks it for the plain joins when the
statement is compiled.

The annotation is compared by identity, so two statements join alike only
when they use the same :class:`RelationshipJoin`: a relationship keeps one for
its plain use (``User.addresses``), so such statements share Core's compiled
cache; every ``.and_()``/``.of_type()`` call makes a new one (its criteria's
bound values are then never mixed up with another statement's).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam
from sqlalchemy.schema import Column
from sqlalchemy.sql import visitors
from sqlalchemy.sql.expression import BindParameter

from ... import exc
from ...compat.sqlplugin import REL_JOIN, join_element


def _join_element(selectable: Any, spec: RelationshipJoin) -> Any:
    """``selectable`` annotated with ``spec``, usable as a join target and as an
    ON clause."""
    return join_element(selectable, {REL_JOIN: spec})


def _adapt(clause: Any, sides: list[tuple[Any, Any]], remote: Any = None) -> Any:
    """``clause`` with each column of table ``t`` replaced by ``sel``'s, for
    ``(t, sel)`` in ``sides``; ``remote`` (self-referential relationships):
    columns in it belong to the last side, the others to the first."""

    def replace(elem: Any) -> Any:
        if not isinstance(elem, Column):
            return None
        if remote is not None:
            sel = sides[-1][1] if elem in remote else sides[0][1]
        else:
            sel = next((s for t, s in sides if elem.table is t), None)
        if sel is None:
            return None
        col = sel.corresponding_column(elem)
        return None if col is None or col is elem else col

    return visitors.replacement_traverse(clause, {}, replace)


class RelationshipJoin:
    """A relationship joined from ``parent`` (the parent class's FROM element
    or an alias of it) to ``target``, with extra ``criteria`` in the ON clause."""

    def __init__(self, rel: Any, parent: Any = None, target: Any = None,
                 criteria: tuple[Any, ...] = ()) -> None:
        self.rel = rel
        self.parent = parent
        self.target = target
        self.criteria = criteria
        self._element: Any = None

    def __clause_element__(self) -> Any:
        if self._element is None:
            self.rel.parent.registry.configure()
            self._element = _join_element(self._target(), self)
        return self._element

    def _target(self) -> Any:
        return self.target if self.target is not None else self.rel.mapper.__clause_element__()

    def _parent_entity(self) -> Any:
        return self.parent if self.parent is not None else self.rel.parent.__clause_element__()

    def and_(self, *criteria: Any) -> RelationshipJoin:
        """The join with ``criteria`` added to its ON clause."""
        return RelationshipJoin(self.rel, self.parent, self.target, self.criteria + criteria)

    def of_type(self, entity: Any) -> RelationshipJoin:
        """The join to ``entity`` (an ``aliased()`` target class) instead."""
        return RelationshipJoin(self.rel, self.parent, entity.__clause_element__(),
                                self.criteria)

    # -- criteria from an aliased parent: ua.addresses.any(...) ---------------------------
    def _from_parent(self, expr: Any) -> Any:
        rel = self.rel
        if self.parent is None:
            return expr
        if rel.parent.table is rel.mapper.table:
            raise exc.InvalidRequestError(
                f"{rel.class_attribute} of an aliased class is self-referential: compare "
                "the alias's foreign key columns instead"
            )
        return _adapt(expr, [(rel.parent.table, self.parent)])

    def any(self, *criterion: Any, **kwargs: Any) -> Any:
        return self._from_parent(self.rel.any(*criterion, **kwargs))

    def has(self, *criterion: Any, **kwargs: Any) -> Any:
        return self._from_parent(self.rel.has(*criterion, **kwargs))

    def contains(self, other: Any, **kwargs: Any) -> Any:
        return self._from_parent(self.rel.contains(other, **kwargs))

    def join_steps(self, left: Any, right: Any, explicit_right: bool,
                   flags: Any) -> list[tuple[Any, Any, Any, Any]]:
        """Core's ``(right, onclause, left, flags)`` joins this join stands for;
        ``right`` is the statement's join target when the relationship was
        given as the ON clause (``explicit_right``)."""
        rel = self.rel
        target = right if explicit_right else self._target()
        parent = self._parent_entity()
        ptable, ttable = rel.parent.table, rel.mapper.table
        criteria = [_adapt(c, [(ttable, target)]) for c in self.criteria]
        if left is None:  # join(Address.user): from Address, wherever it is in the FROMs
            left = parent
        if rel.kind.through_secondary:
            first = _adapt(rel.primaryjoin, [(ptable, parent)])
            second = _adapt(rel.secondaryjoin, [(ttable, target)])
            return [(rel.secondary, first, left, flags),
                    (target, and_(second, *criteria), None, flags)]
        remote = rel.remote_side if ptable is ttable else None
        on = _adapt(rel.primaryjoin, [(ptable, parent), (ttable, target)], remote)
        return [(target, and_(on, *criteria) if criteria else on, left, flags)]

    def __repr__(self) -> str:
        return f"<RelationshipJoin {self.rel}>"




def with_parent(instance: Any, prop: Any, from_entity: Any = None) -> Any:
    """WHERE criteria for the rows ``prop`` (``User.addresses``) relates to
    ``instance``: ``select(Address).where(with_parent(user, User.addresses))``;
    ``from_entity``: an ``aliased()`` target class to read them from. The
    instance's key values are read when the statement runs."""
    rel = prop.rel if isinstance(prop, RelationshipJoin) else prop
    rel.parent.registry.configure()
    if not isinstance(instance, rel.parent.class_):
        raise exc.ArgumentError(
            f"with_parent(): {exc.instance_str(instance)} is not a "
            f"{rel.parent.class_.__name__}, the parent class of {rel}"
        )
    keys = rel.parent_keys

    def value_of(key: str) -> Any:
        return lambda: getattr(instance, key)

    def replace(elem: Any) -> Any:
        if isinstance(elem, BindParameter) and elem.key.startswith("_se_rel_"):
            key = keys[int(elem.key[len("_se_rel_"):])]
            return bindparam(key, callable_=value_of(key), type_=elem.type, unique=True)
        return None

    criteria = visitors.replacement_traverse(rel.lazy_stmt.whereclause, {}, replace)
    if rel.kind.through_secondary:
        criteria = and_(rel.secondaryjoin, criteria)
    if from_entity is not None:
        criteria = _adapt(criteria, [(rel.mapper.table, from_entity.__clause_element__())])
    return criteria


__all__ = ["RelationshipJoin", "with_parent"]
