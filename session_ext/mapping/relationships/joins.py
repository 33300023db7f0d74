"""Join analysis of a relationship: which foreign keys relate the two tables,
in which direction, the extra criteria of a custom join condition, and the
keys and lazy-load SELECT that loading and the flush use."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.schema import Column
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.expression import BinaryExpression

from ... import exc
from .directions import DIRECTIONS, MANYTOMANY, MANYTOONE, ONETOMANY, Pairs


def _columns_in(clause: Any) -> list[Column[Any]]:
    return [c for c in visitors.iterate(clause) if isinstance(c, Column)]


def _equated_pairs(clause: Any) -> Pairs:
    pairs = []
    for elem in visitors.iterate(clause):
        if (
            isinstance(elem, BinaryExpression)
            and elem.operator.__name__ == "eq"
            and isinstance(elem.left, Column)
            and isinstance(elem.right, Column)
        ):
            pairs.append((elem.left, elem.right))
    return pairs


class JoinAnalysis:
    """The part of a :class:`Relationship` that works out how the tables join."""

    def _split_criteria(self) -> None:
        """Criteria of a custom primaryjoin/secondaryjoin beyond the key equalities.

        Eager loaders add them to their SELECT when they only name the target
        (or secondary) table; otherwise eager loading falls back to lazy loads.
        """
        self.extra_criteria: list[Any] = []
        self.eager_unsupported = False
        pairs, joins, allowed = self.kind.criteria_sources(self)
        keys = {frozenset((a, b)) for a, b in pairs}
        for join in joins:
            if join is None:
                continue
            parts = list(join.clauses) if getattr(join, "operator", None) is operators.and_ \
                else [join]
            for part in parts:
                if (
                    isinstance(part, BinaryExpression)
                    and isinstance(part.left, Column)
                    and isinstance(part.right, Column)
                    and frozenset((part.left, part.right)) in keys
                ):
                    continue
                if all(c.table in allowed for c in _columns_in(part)):
                    self.extra_criteria.append(part)
                else:
                    self.eager_unsupported = True
        if self.mapper.table is self.parent.table and self.extra_criteria:  # type: ignore[union-attr]
            self.eager_unsupported = True  # self-referential: the criteria are ambiguous

    def _fk_pairs(self, from_table: Any, to_table: Any) -> Pairs:
        """(referenced column in to_table, foreign key column in from_table) pairs."""
        pairs = []
        position = {c: i for i, c in enumerate(from_table.columns)}
        # in table column order (foreign_keys is a set): stable SQL and pair order
        for fk in sorted(from_table.foreign_keys, key=lambda fk: position.get(fk.parent, -1)):
            try:
                ref = fk.column
            except Exception:
                continue
            if ref.table is not to_table:
                continue
            if self._foreign_cols is not None and fk.parent not in self._foreign_cols:
                continue
            pairs.append((ref, fk.parent))
        return pairs

    def _pairs_from_join(self, clause: Any) -> Pairs:
        out = []
        for left, right in _equated_pairs(clause):
            if self._foreign_cols is not None:
                if left in self._foreign_cols:
                    out.append((right, left))
                elif right in self._foreign_cols:
                    out.append((left, right))
            elif left.references(right):
                out.append((right, left))
            elif right.references(left):
                out.append((left, right))
        return out

    def _determine_direction(self) -> None:
        if self.secondary is not None:
            direction = self._secondary_pairs()
        else:
            direction, pairs = self._direct_pairs()
            self._check_unambiguous(pairs)
            self.secondary_parent_pairs = self.secondary_target_pairs = []
            #: (referenced column, foreign key column)
            self.sync_pairs = pairs
        self.direction = direction
        #: the direction's behaviour (see directions.py)
        self.kind = DIRECTIONS[direction]

    def _secondary_pairs(self) -> str:
        """Many-to-many: the key pairs of the secondary table with both sides."""
        sec = self.secondary
        ptable = _side_table(self, self.parent, [sec])
        ttable = _side_table(self, self.mapper, [sec])
        where = self.class_attribute
        if self._primaryjoin is not None:
            ppairs = [p for p in self._pairs_from_join(self._primaryjoin) if p[1].table is sec]
        else:
            ppairs = self._fk_pairs(sec, ptable)
        if self._secondaryjoin is not None:
            tpairs = [p for p in self._pairs_from_join(self._secondaryjoin) if p[1].table is sec]
        else:
            tpairs = self._fk_pairs(sec, ttable)
        if ptable is ttable and (self._primaryjoin is None or self._secondaryjoin is None):
            raise exc.ArgumentError(
                f"Self-referential many-to-many {where} needs primaryjoin= and "
                "secondaryjoin= to tell the two foreign keys of the secondary table apart"
            )
        if not ppairs or not tpairs:
            raise exc.ArgumentError(
                f"Could not determine the join condition of many-to-many {where}: the "
                f"secondary table {sec.name!r} needs foreign keys to both "
                f"{ptable.name!r} and {ttable.name!r} (or give primaryjoin/secondaryjoin)"
            )
        #: (parent column, secondary column) and (target column, secondary column)
        self.secondary_parent_pairs = ppairs
        self.secondary_target_pairs = tpairs
        self.sync_pairs = []
        return MANYTOMANY

    def _direct_pairs(self) -> tuple[str, Pairs]:
        """One-to-many or many-to-one: the direction and the (referenced column,
        foreign key column) pairs."""
        ptable = _side_table(self, self.parent, _own_tables(self.mapper))
        ttable = _side_table(self, self.mapper, [ptable])
        where = self.class_attribute
        if self._primaryjoin is not None:
            pairs = self._pairs_from_join(self._primaryjoin)
            if not pairs:
                raise exc.ArgumentError(
                    f"primaryjoin of {where} has no 'column == column' comparison with a "
                    "foreign key; name the foreign key columns with foreign_keys="
                )
            fk_tables = {fk.table for _, fk in pairs}
            if ptable is ttable:
                return self._self_ref_direction(pairs), pairs
            if fk_tables <= set(_own_tables(self.mapper)):
                return ONETOMANY, pairs
            if fk_tables <= set(_own_tables(self.parent)):
                return MANYTOONE, pairs
            raise exc.ArgumentError(f"Could not tell the direction of {where}")
        if ptable is ttable:
            pairs = self._fk_pairs(ptable, ptable)
            if not pairs:
                raise exc.ArgumentError(
                    f"Could not determine the join condition of self-referential {where}: "
                    f"table {ptable.name!r} has no foreign key to itself"
                )
            return self._self_ref_direction(pairs), pairs
        o2m = self._fk_pairs(ttable, ptable)
        m2o = self._fk_pairs(ptable, ttable)
        if o2m and m2o:
            raise exc.ArgumentError(
                f"Could not determine the direction of {where}: foreign keys run both "
                f"ways between {ptable.name!r} and {ttable.name!r}; pass foreign_keys= "
                "to choose"
            )
        if not o2m and not m2o:
            raise exc.ArgumentError(
                f"Could not determine the join condition of {where}: there is no foreign "
                f"key between {ptable.name!r} and {ttable.name!r}. Add a ForeignKey, or "
                "give primaryjoin= with foreign_keys="
            )
        return (ONETOMANY, o2m) if o2m else (MANYTOONE, m2o)

    def _check_unambiguous(self, pairs: Pairs) -> None:
        """Multiple foreign keys to the same table, unresolved: refuse to guess."""
        fk_cols = {fk for _, fk in pairs}
        if len({fk.table for fk in fk_cols}) == 1 and self._foreign_cols is None:
            by_constraint = {
                fk.constraint for fk in next(iter(fk_cols)).table.foreign_keys
                if fk.parent in fk_cols
            }
            if len(by_constraint) > 1 and self._primaryjoin is None:
                raise exc.ArgumentError(
                    f"Could not determine the join condition of {self.class_attribute}: "
                    f"several foreign keys ({sorted(c.name for c in fk_cols)}) could be meant; "
                    "pass foreign_keys=[...] to choose"
                )

    def _self_ref_direction(self, pairs: Pairs) -> str:
        if self._remote_side is not None:
            referenced = {ref for ref, _ in pairs}
            return MANYTOONE if self._remote_side <= referenced else ONETOMANY
        partner = self._partner()
        if partner is not None and partner._configured and partner.direction == ONETOMANY:
            return MANYTOONE
        return ONETOMANY

    # -- keys used by loading and flush -------------------------------------------------
    def _build_lazy_clause(self) -> None:
        pm = self.parent
        tm = self.mapper
        assert pm is not None
        kind = self.kind
        local = [c for c, _ in kind.sides(self)[0]]
        #: parent attribute keys whose values identify the related rows
        self.parent_keys = [pm.col_to_key[c] for c in local]
        self.uses_target_pk = False
        stmt = kind.configure_keys(self)
        if self._primaryjoin is not None and not kind.through_secondary:
            local = list(dict.fromkeys(local))  # each column bound once
            self.parent_keys = [pm.col_to_key[c] for c in local]
            binds = {c: bindparam(f"_se_rel_{i}") for i, c in enumerate(local)}

            def replace(elem: Any) -> Any:
                return binds.get(elem) if isinstance(elem, Column) else None

            stmt = select(tm).where(visitors.replacement_traverse(self._primaryjoin, {}, replace))
        if self.order_by:
            stmt = stmt.order_by(*self.order_by)
        self.lazy_stmt = stmt
        #: a many-to-one whose target is found by its identity key (parent_keys) without SQL
        self.identity_lookup = self.uses_target_pk and self._primaryjoin is None
        #: keys a flush-time sync reads on the referenced object / writes as foreign key
        self.sync_source_keys, self.sync_dest_keys = kind.sync_keys(self)


def _own_tables(mapper: Any) -> list[Any]:
    """The tables of ``mapper``'s rows: one, or (joined-table inheritance) one
    per class of its line, the subclass's first."""
    parts = mapper.table_parts
    return [p.local_table for p in reversed(parts)] if parts else [mapper.table]


def _side_table(rel: Any, mapper: Any, others: list[Any]) -> Any:
    """The table of ``mapper``'s rows the relationship's foreign keys name:
    for joined-table inheritance the most specific table with a foreign key
    to or from one of ``others``."""
    if not mapper.table_parts:
        return mapper.table
    for table in _own_tables(mapper):
        for other in others:
            if other is not None and (
                    rel._fk_pairs(table, other) or rel._fk_pairs(other, table)):
                return table
    return mapper.local_table
