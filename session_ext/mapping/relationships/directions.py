"""Relationship directions as objects that carry their behaviour.

``Relationship.direction`` is the public name (a :class:`RelationshipDirection`,
equal to SQLAlchemy's ``ONETOMANY`` ...); ``Relationship.kind`` is the matching
:class:`Direction` object, and code that acts differently per direction asks it
(``rel.kind.sides(rel)``, ``rel.kind.outer_join(...)``, ``rel.kind.copies_keys``)
instead of comparing strings. Layers above the mapping that need their own
per-direction behaviour (the flush, selectin loading) keep a dictionary keyed by
``rel.direction`` of their own classes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.schema import Column
from sqlalchemy.sql import visitors

from ...compat import ClauseAdapter

#: a Relationship (not imported: the relationship is built on this module)
Rel = Any
Pairs = list[tuple[Column[Any], Column[Any]]]


class RelationshipDirection(StrEnum):
    """``Relationship.direction``: SQLAlchemy's names (``.name`` is ``"ONETOMANY"``
    etc.); the values are readable strings, and each member equals its value."""

    ONETOMANY = "one-to-many"
    MANYTOONE = "many-to-one"
    MANYTOMANY = "many-to-many"

    __hash__ = str.__hash__  # equal to its value, so hashed like it


ONETOMANY = RelationshipDirection.ONETOMANY
MANYTOONE = RelationshipDirection.MANYTOONE
MANYTOMANY = RelationshipDirection.MANYTOMANY


def _key_join(pairs: Pairs) -> Any:
    """The join condition of key equalities: ``a == b`` for each pair."""
    return and_(*(a == b for a, b in pairs))


def _binds(columns: list[Column[Any]]) -> Any:
    """``col_0 = :_se_rel_0 AND ...``: the WHERE of a lazy load."""
    return and_(*(c == bindparam(f"_se_rel_{i}") for i, c in enumerate(columns)))


#: direction name -> its behaviour object (filled by :func:`register_direction`)
DIRECTIONS: dict[RelationshipDirection, Direction] = {}


def register_direction(cls: type[Direction]) -> type[Direction]:
    DIRECTIONS[cls.name] = cls()
    return cls


class Direction:
    """What one relationship direction means for joins, keys, SQL and sets."""

    name: RelationshipDirection
    #: ``uselist`` when ``relationship(uselist=None)``
    default_uselist = True
    #: the flush copies key values between the two sides' rows (else: association rows)
    copies_keys = True
    #: the rows are related through an association (``secondary``) table
    through_secondary = False
    #: setting the scalar loads the replaced value first (its foreign key must be cleared)
    set_loads_old = False

    def __repr__(self) -> str:
        return f"<Direction {self.name.name}>"

    # -- join analysis ----------------------------------------------------------------
    def sides(self, rel: Rel) -> tuple[Pairs, Pairs]:
        """The key equalities as (column on this side, column on the other side):
        those of this class's table (with the target's or the secondary table),
        and for a many-to-many those of the target's table (with the secondary)."""
        raise NotImplementedError

    def synchronize_pairs(self, rel: Rel) -> Pairs:
        """(referenced column, foreign key column) pairs the flush copies along."""
        return list(rel.sync_pairs)

    def secondary_synchronize_pairs(self, rel: Rel) -> Pairs:
        return []

    def secondaryjoin(self, rel: Rel) -> Any:
        return None

    def criteria_sources(self, rel: Rel) -> tuple[Pairs, list[Any], set[Any]]:
        """(key pairs, join conditions given, tables extra criteria may name)."""
        return rel.sync_pairs, [rel._primaryjoin], {rel.mapper.table, rel.mapper.local_table}

    def configure_keys(self, rel: Rel) -> Any:
        """Set the attribute keys loading and flush use; return the lazy-load SELECT."""
        raise NotImplementedError

    def sync_keys(self, rel: Rel) -> tuple[list[str], list[str]]:
        """(keys read on the referenced object, foreign key keys written) of a sync."""
        return [], []

    # -- SQL ---------------------------------------------------------------------------
    def outer_join(self, rel: Rel, stmt: Any, local: Any, talias: Any,
                   isouter: bool = True) -> Any:
        """``stmt`` LEFT OUTER JOINed (``isouter=False``: INNER JOINed) to ``talias``
        (an alias of the target's table) along the relationship; ``local(col)`` is
        this side's column in ``stmt``."""
        raise NotImplementedError

    def is_none(self, rel: Rel) -> Any:
        """``rel == None``: no related row."""
        return ~rel._criterion_exists((), {})

    def is_not_none(self, rel: Rel) -> Any:
        return rel._criterion_exists((), {})

    def compare_to_object(self, rel: Rel, other: Any) -> Any:
        """The rows related to ``other``: ``fk = :value`` on the foreign key columns."""
        if rel._primaryjoin is None:
            return and_(*(local == rel._value_of(other, remote, local)
                          for local, remote in self.sides(rel)[0]))
        ttable = rel.mapper.table
        if ttable is rel.parent.table:
            remote = rel.remote_side
            return rel._binds_for(rel._primaryjoin, other, lambda c: c in remote)
        return rel._binds_for(rel._primaryjoin, other, lambda c: c.table is ttable)

    def related_exists(self, rel: Rel, source: Any, alias: Any,
                       criteria: list[Any]) -> Any:
        """EXISTS (rows of ``source`` related to this side, matching ``criteria``);
        ``alias``: the target table's alias of a self-referential relationship."""
        join = rel.primaryjoin
        if alias is not None:
            remote = rel.remote_side

            def to_alias(elem: Any) -> Any:
                if isinstance(elem, Column) and elem in remote:
                    return alias.corresponding_column(elem)
                return None

            join = visitors.replacement_traverse(join, {}, to_alias)
        stmt = select(1).select_from(source).where(join, *criteria)
        return exists(stmt.correlate_except(source))


@register_direction
class ManyToOne(Direction):
    """This table holds the foreign key (``Address.user``)."""

    name = MANYTOONE
    default_uselist = False

    def sides(self, rel: Rel) -> tuple[Pairs, Pairs]:
        return [(fk, ref) for ref, fk in rel.sync_pairs], []

    def configure_keys(self, rel: Rel) -> Any:
        tm = rel.mapper
        rel.target_ref_keys = [tm.col_to_key[ref] for ref, _ in rel.sync_pairs]
        rel.uses_target_pk = rel.target_ref_keys == list(tm.pk_keys)
        return select(tm).where(_binds([ref for ref, _ in rel.sync_pairs]))

    def sync_keys(self, rel: Rel) -> tuple[list[str], list[str]]:
        return rel.target_ref_keys, rel.parent_keys

    def outer_join(self, rel: Rel, stmt: Any, local: Any, talias: Any,
                   isouter: bool = True) -> Any:
        on = and_(*(talias.c[ref.key] == local(fk) for ref, fk in rel.sync_pairs))
        return stmt.join(talias, on, isouter=isouter)

    def is_none(self, rel: Rel) -> Any:
        return and_(*(fk.is_(None) for _, fk in rel.sync_pairs))

    def is_not_none(self, rel: Rel) -> Any:
        return ~self.is_none(rel)


@register_direction
class OneToMany(Direction):
    """The target table holds the foreign key (``User.addresses``; with
    ``uselist=False`` one-to-one)."""

    name = ONETOMANY
    set_loads_old = True

    def sides(self, rel: Rel) -> tuple[Pairs, Pairs]:
        return list(rel.sync_pairs), []

    def configure_keys(self, rel: Rel) -> Any:
        tm = rel.mapper
        rel.child_fk_keys = [tm.col_to_key[fk] for _, fk in rel.sync_pairs]
        return select(tm).where(_binds([fk for _, fk in rel.sync_pairs]))

    def sync_keys(self, rel: Rel) -> tuple[list[str], list[str]]:
        return rel.parent_keys, rel.child_fk_keys

    def outer_join(self, rel: Rel, stmt: Any, local: Any, talias: Any,
                   isouter: bool = True) -> Any:
        on = and_(*(local(ref) == talias.c[fk.key] for ref, fk in rel.sync_pairs))
        return stmt.join(talias, on, isouter=isouter)


@register_direction
class ManyToMany(Direction):
    """An association ``secondary`` table holds both foreign keys."""

    name = MANYTOMANY
    copies_keys = False
    through_secondary = True

    def sides(self, rel: Rel) -> tuple[Pairs, Pairs]:
        return list(rel.secondary_parent_pairs), list(rel.secondary_target_pairs)

    def synchronize_pairs(self, rel: Rel) -> Pairs:
        return list(rel.secondary_parent_pairs)

    def secondary_synchronize_pairs(self, rel: Rel) -> Pairs:
        return list(rel.secondary_target_pairs)

    def secondaryjoin(self, rel: Rel) -> Any:
        if rel._secondaryjoin is not None:
            return rel._secondaryjoin
        return _key_join(rel.secondary_target_pairs)

    def criteria_sources(self, rel: Rel) -> tuple[Pairs, list[Any], set[Any]]:
        return (rel.secondary_parent_pairs + rel.secondary_target_pairs,
                [rel._primaryjoin, rel._secondaryjoin], {rel.mapper.table, rel.secondary})

    def configure_keys(self, rel: Rel) -> Any:
        tm = rel.mapper
        rel.target_keys = [tm.col_to_key[c] for c, _ in rel.secondary_target_pairs]
        join = _key_join(rel.secondary_target_pairs)
        where = _binds([s for _, s in rel.secondary_parent_pairs])
        return select(tm).join(rel.secondary, join).where(where)

    def outer_join(self, rel: Rel, stmt: Any, local: Any, talias: Any,
                   isouter: bool = True) -> Any:
        salias = rel.secondary.alias()
        on1 = and_(*(local(pc) == salias.c[sc.key] for pc, sc in rel.secondary_parent_pairs))
        on2 = and_(*(talias.c[tc.key] == salias.c[sc.key] for tc, sc in rel.secondary_target_pairs))
        return stmt.join(salias, on1, isouter=isouter).join(talias, on2, isouter=isouter)

    def compare_to_object(self, rel: Rel, other: Any) -> Any:
        sec = rel.secondary
        if rel._secondaryjoin is None:
            sj = and_(*(s == rel._value_of(other, c, s) for c, s in rel.secondary_target_pairs))
        else:
            ttable = rel.mapper.table
            sj = rel._binds_for(rel._secondaryjoin, other, lambda c: c.table is ttable)
        return exists(select(1).select_from(sec).where(rel.primaryjoin, sj).correlate_except(sec))

    def related_exists(self, rel: Rel, source: Any, alias: Any,
                       criteria: list[Any]) -> Any:
        sec = rel.secondary
        sj = rel.secondaryjoin
        if alias is not None:
            sj = ClauseAdapter(alias).traverse(sj)
        stmt = select(1).select_from(sec).join(source, sj).where(rel.primaryjoin, *criteria)
        return exists(stmt.correlate_except(sec, source))
