"""``relationship()``: object references and collections between mapped classes.

A :class:`Relationship` is declared on a class body; its target (a class, a
class name or a callable) is resolved lazily, when the registry is configured
(first instance, first query or first flush).  From the tables' foreign keys
(or ``primaryjoin``/``secondary``) it works out its direction:

* many-to-one: this table holds the foreign key (``Address.user``);
* one-to-many: the target table holds it (``User.addresses``); ``uselist=False``
  makes it one-to-one;
* many-to-many: an association ``secondary`` table holds both.

On instances it is a descriptor: a scalar for many-to-one/one-to-one, an
:class:`InstrumentedList` otherwise.  The first change records the original
value/contents in the object's state (like column attributes do), which is
all the flush needs to know what was added and removed.  ``back_populates``
/ ``backref`` keep the other side in step in Python before any flush.

Loading strategies live in :mod:`session_ext.strategies`, flush-time
dependency processing in :mod:`session_ext.dependency`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, exists, or_, select
from sqlalchemy.schema import Column, Table
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.expression import BinaryExpression, ColumnElement

from .. import exc
from ..compat import ClauseAdapter
from ..state import NO_VALUE, STATE_ATTR, History, InstanceState, instance_state
from .collections import InstrumentedList, members, not_in

if TYPE_CHECKING:
    from ..session import Session
    from .mapper import Mapper


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

LAZY_STRATEGIES = ("select", "selectin", "joined", "raise", "noload", True, False)
_ALL_CASCADES = {"save-update", "merge", "refresh-expire", "expunge", "delete"}
_VALID_CASCADES = _ALL_CASCADES | {"delete-orphan", "all", "none"}


class CascadeOptions(frozenset):  # type: ignore[type-arg]
    """The cascades of a relationship: a frozenset of names, with SQLAlchemy's
    boolean attributes (``save_update``, ``delete``, ``delete_orphan``, ...)."""

    __slots__ = ()

    save_update = property(lambda self: "save-update" in self)
    delete = property(lambda self: "delete" in self)
    delete_orphan = property(lambda self: "delete-orphan" in self)
    merge = property(lambda self: "merge" in self)
    expunge = property(lambda self: "expunge" in self)
    refresh_expire = property(lambda self: "refresh-expire" in self)

    def __repr__(self) -> str:
        return f"CascadeOptions({','.join(sorted(self))!r})"


def parse_cascade(text: str) -> CascadeOptions:
    parts = {p.strip() for p in text.split(",") if p.strip()}
    bad = parts - _VALID_CASCADES
    if bad:
        raise exc.ArgumentError(
            f"Invalid cascade option(s) {sorted(bad)}; valid options are "
            f"{sorted(_VALID_CASCADES)}"
        )
    if "all" in parts:
        parts |= _ALL_CASCADES
    parts -= {"all", "none"}
    return CascadeOptions(parts)


def relationship(
    argument: Any,
    *,
    back_populates: str | None = None,
    backref: str | tuple[str, dict[str, Any]] | None = None,
    uselist: bool | None = None,
    secondary: Table | str | Callable[[], Table] | None = None,
    primaryjoin: Any = None,
    secondaryjoin: Any = None,
    foreign_keys: Any = None,
    remote_side: Any = None,
    order_by: Any = None,
    lazy: str | bool = "select",
    cascade: str = "save-update, merge",
    passive_deletes: bool = False,
    post_update: bool = False,
    viewonly: bool = False,
    info: dict[str, Any] | None = None,
) -> Any:
    """Declare a relationship to another mapped class (see the module docs)."""
    return Relationship(
        argument,
        back_populates=back_populates,
        backref=backref,
        uselist=uselist,
        secondary=secondary,
        primaryjoin=primaryjoin,
        secondaryjoin=secondaryjoin,
        foreign_keys=foreign_keys,
        remote_side=remote_side,
        order_by=order_by,
        lazy=lazy,
        cascade=cascade,
        passive_deletes=passive_deletes,
        post_update=post_update,
        viewonly=viewonly,
        info=info,
    )


def backref(name: str, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """``relationship(..., backref=backref("user", lazy="joined"))``."""
    return (name, kwargs)


def _columns_in(clause: Any) -> list[Column[Any]]:
    return [c for c in visitors.iterate(clause) if isinstance(c, Column)]


def _key_join(pairs: list[tuple[Column[Any], Column[Any]]]) -> Any:
    """The join condition of key equalities: ``a == b`` for each pair."""
    return and_(*(a == b for a, b in pairs))


def _equated_pairs(clause: Any) -> list[tuple[Column[Any], Column[Any]]]:
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


class Relationship:
    """A mapped relationship; the class attribute and instance descriptor."""

    is_relationship = True

    def __init__(self, argument: Any, **kw: Any) -> None:
        self.argument = argument
        self.back_populates: str | None = kw["back_populates"]
        self.backref = kw["backref"]
        self._uselist = kw["uselist"]
        self._secondary_arg = kw["secondary"]
        self._primaryjoin_arg = kw["primaryjoin"]
        self._secondaryjoin_arg = kw["secondaryjoin"]
        self._foreign_keys_arg = kw["foreign_keys"]
        self._remote_side_arg = kw["remote_side"]
        self._order_by_arg = kw["order_by"]
        lazy = kw["lazy"]
        if lazy not in LAZY_STRATEGIES:
            raise exc.ArgumentError(
                f"lazy={lazy!r} is not a loader strategy; use one of "
                "'select', 'selectin', 'joined', 'raise', 'noload'"
            )
        self.lazy = {True: "select", False: "joined"}.get(lazy, lazy)  # type: ignore[call-overload]
        self.cascade = parse_cascade(kw["cascade"])
        self.passive_deletes = kw["passive_deletes"]
        self.post_update = kw["post_update"]
        self.viewonly = kw["viewonly"]
        if self.backref and self.back_populates:
            raise exc.ArgumentError("Use either backref or back_populates, not both")
        self.info: dict[str, Any] = dict(kw.get("info") or {})
        self.parent: Mapper | None = None
        self.key = ""
        self._configured = False
        self.secondary: Table | None = None

    # -- declaration ----------------------------------------------------------------
    def _se_declare(self, mapper: Mapper, key: str) -> None:
        self.parent = mapper
        self.key = key
        mapper.attrs[key] = self
        mapper.relationships[key] = self
        setattr(mapper.class_, key, self)
        mapper.registry.relationships_pending = True

    def __set_name__(self, owner: type, name: str) -> None:
        if not self.key:
            self.key = name

    @property
    def class_attribute(self) -> str:
        owner = self.parent.class_.__name__ if self.parent is not None else "?"
        return f"{owner}.{self.key}"

    def __repr__(self) -> str:
        return f"<Relationship {self.class_attribute}>"

    def __str__(self) -> str:
        return self.class_attribute

    __hash__ = object.__hash__

    # -- introspection, with the names of SQLAlchemy's RelationshipProperty ---------------------
    def __new__(cls, *args: Any, **kw: Any) -> Relationship:
        # an _UnconfiguredRelationship until configure() (see there)
        return object.__new__(_UnconfiguredRelationship if cls is Relationship else cls)

    def _get_property(self) -> Relationship:
        """``User.addresses.property``: the relationship itself (configured)."""
        self.parent.registry.configure()  # type: ignore[union-attr]
        return self

    @property
    def prop(self) -> Relationship:
        return self._get_property()

    @property
    def class_(self) -> type:
        """The class this relationship is declared on."""
        return self.parent.class_  # type: ignore[union-attr]

    @property
    def entity(self) -> Mapper:
        """The target's mapper (same as ``mapper``)."""
        return self._get_property().mapper

    @property
    def target(self) -> Table:
        """The target's table."""
        return self._get_property().mapper.local_table

    def _sides(self) -> tuple[list[tuple[Column[Any], Column[Any]]],
                              list[tuple[Column[Any], Column[Any]]]]:
        """The key equalities as (column on this side, column on the other side):
        those of this class's table (with the target's table, or the secondary
        table), and for a many-to-many those of the target's table (with the
        secondary table). The one place that knows which column of a pair is on
        which side."""
        if self.direction == MANYTOONE:
            return [(fk, ref) for ref, fk in self.sync_pairs], []
        if self.direction == ONETOMANY:
            return list(self.sync_pairs), []
        return list(self.secondary_parent_pairs), list(self.secondary_target_pairs)

    @property
    def local_remote_pairs(self) -> list[tuple[Column[Any], Column[Any]]]:
        """(column on this side, column on the other side) of each key equality; for a
        many-to-many the other side is the secondary table."""
        self._get_property()
        local, target = self._sides()
        return local + target

    @property
    def local_columns(self) -> set[Column[Any]]:
        self._get_property()
        return {c for c, _ in self._sides()[0]}

    @property
    def remote_side(self) -> set[Column[Any]]:
        """The other side's columns: the target's table, or for a many-to-many the
        secondary table."""
        return {c for _, c in self.local_remote_pairs}

    @property
    def synchronize_pairs(self) -> list[tuple[Column[Any], Column[Any]]]:
        """(referenced column, foreign key column) pairs the flush copies along."""
        self._get_property()
        if self.direction == MANYTOMANY:
            return list(self.secondary_parent_pairs)
        return list(self.sync_pairs)

    @property
    def secondary_synchronize_pairs(self) -> list[tuple[Column[Any], Column[Any]]]:
        self._get_property()
        return list(self.secondary_target_pairs) if self.direction == MANYTOMANY else []

    @property
    def primaryjoin(self) -> Any:
        """The join condition between this class's table and the target's (or the
        secondary) table: the one given, else the key equalities."""
        self._get_property()
        if self._primaryjoin is not None:
            return self._primaryjoin
        return _key_join(self.synchronize_pairs)

    @property
    def secondaryjoin(self) -> Any:
        """Many-to-many: the join condition between the secondary and target tables."""
        self._get_property()
        if self.direction != MANYTOMANY:
            return None
        if self._secondaryjoin is not None:
            return self._secondaryjoin
        return _key_join(self.secondary_target_pairs)

    # -- configuration ----------------------------------------------------------------
    def _resolve(self, arg: Any) -> Any:
        if arg is None:
            return None
        registry = self.parent.registry  # type: ignore[union-attr]
        if isinstance(arg, str):
            namespace: dict[str, Any] = {}
            for name, classes in registry._by_name.items():
                if "." not in name and len(classes) == 1:
                    namespace[name] = classes[0]
            for table_name, table in registry.metadata.tables.items():
                namespace.setdefault(table_name, table)
            import sqlalchemy

            namespace.update(
                {"and_": sqlalchemy.and_, "or_": sqlalchemy.or_, "desc": sqlalchemy.desc,
                 "asc": sqlalchemy.asc, "func": sqlalchemy.func}
            )
            try:
                return eval(arg, namespace)  # noqa: S307 - a mapping expression, like SQLAlchemy
            except Exception as err:
                raise exc.ArgumentError(
                    f"Could not evaluate {arg!r} for relationship {self.class_attribute}: {err}"
                ) from err
        if callable(arg) and not isinstance(arg, (type, ColumnElement, Table)):
            return arg()
        return arg

    def configure(self) -> None:
        if self._configured:
            return
        parent = self.parent
        assert parent is not None
        target = self.argument
        if isinstance(target, str):
            target = parent.registry.resolve(target)
        elif callable(target) and not isinstance(target, type):
            target = target()
        mapper = target.__dict__.get("__mapper__") if isinstance(target, type) else None
        if mapper is None:
            raise exc.ArgumentError(
                f"relationship {self.class_attribute} targets {self.argument!r}, which is not "
                "a mapped class"
            )
        self.mapper: Mapper = mapper
        self.target_class = mapper.class_
        secondary = self._secondary_arg
        if isinstance(secondary, str):
            by_name = parent.registry.metadata.tables.get(secondary)
            secondary = by_name if by_name is not None else self._resolve(secondary)
        elif callable(secondary) and not isinstance(secondary, Table):
            secondary = secondary()
        self.secondary = secondary
        order_by = self._resolve(self._order_by_arg)
        if order_by is not None and not isinstance(order_by, (list, tuple)):
            order_by = [order_by]
        self.order_by = list(order_by) if order_by else []
        self._primaryjoin = self._resolve(self._primaryjoin_arg)
        self._secondaryjoin = self._resolve(self._secondaryjoin_arg)
        fks = self._resolve(self._foreign_keys_arg)
        if fks is not None and not isinstance(fks, (list, tuple, set)):
            fks = [fks]
        self._foreign_cols = set(fks) if fks else None
        remote = self._resolve(self._remote_side_arg)
        if remote is not None and not isinstance(remote, (list, tuple, set)):
            remote = [remote]
        self._remote_side = set(remote) if remote else None
        self._determine_direction()
        if self._uselist is None:
            self.uselist = self.direction != MANYTOONE
        else:
            self.uselist = bool(self._uselist)
        self._configured = True
        if type(self) is _UnconfiguredRelationship:
            self.__class__ = Relationship
        self._split_criteria()
        self._setup_backref()
        self._build_lazy_clause()

    def _split_criteria(self) -> None:
        """Criteria of a custom primaryjoin/secondaryjoin beyond the key equalities.

        Eager loaders add them to their SELECT when they only name the target
        (or secondary) table; otherwise eager loading falls back to lazy loads.
        """
        self.extra_criteria: list[Any] = []
        self.eager_unsupported = False
        if self.direction == MANYTOMANY:
            pairs = self.secondary_parent_pairs + self.secondary_target_pairs
            joins = [self._primaryjoin, self._secondaryjoin]
            allowed = {self.mapper.table, self.secondary}
        else:
            pairs = self.sync_pairs
            joins = [self._primaryjoin]
            allowed = {self.mapper.table}
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

    def _fk_pairs(self, from_table: Any, to_table: Any) -> list[tuple[Column[Any], Column[Any]]]:
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

    def _pairs_from_join(self, clause: Any) -> list[tuple[Column[Any], Column[Any]]]:
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
        ptable = self.parent.table  # type: ignore[union-attr]
        ttable = self.mapper.table
        where = self.class_attribute
        if self.secondary is not None:
            sec = self.secondary
            if self._primaryjoin is not None:
                ppairs = [p for p in self._pairs_from_join(self._primaryjoin)
                          if p[1].table is sec]
            else:
                ppairs = self._fk_pairs(sec, ptable)
            if self._secondaryjoin is not None:
                tpairs = [p for p in self._pairs_from_join(self._secondaryjoin)
                          if p[1].table is sec]
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
            self.direction = MANYTOMANY
            #: (parent column, secondary column) and (target column, secondary column)
            self.secondary_parent_pairs = ppairs
            self.secondary_target_pairs = tpairs
            self.sync_pairs = []
            return
        if self._primaryjoin is not None:
            pairs = self._pairs_from_join(self._primaryjoin)
            if not pairs:
                raise exc.ArgumentError(
                    f"primaryjoin of {where} has no 'column == column' comparison with a "
                    "foreign key; name the foreign key columns with foreign_keys="
                )
            fk_tables = {fk.table for _, fk in pairs}
            if ptable is ttable:
                direction = self._self_ref_direction(pairs)
            elif fk_tables == {ttable}:
                direction = ONETOMANY
            elif fk_tables == {ptable}:
                direction = MANYTOONE
            else:
                raise exc.ArgumentError(f"Could not tell the direction of {where}")
        elif ptable is ttable:
            pairs = self._fk_pairs(ptable, ptable)
            if not pairs:
                raise exc.ArgumentError(
                    f"Could not determine the join condition of self-referential {where}: "
                    f"table {ptable.name!r} has no foreign key to itself"
                )
            direction = self._self_ref_direction(pairs)
        else:
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
            pairs, direction = (o2m, ONETOMANY) if o2m else (m2o, MANYTOONE)
        # multiple foreign keys to the same table, unresolved
        fk_cols = {fk for _, fk in pairs}
        if len({fk.table for fk in fk_cols}) == 1 and self._foreign_cols is None:
            by_constraint = {
                fk.constraint for fk in next(iter(fk_cols)).table.foreign_keys
                if fk.parent in fk_cols
            }
            if len(by_constraint) > 1 and self._primaryjoin is None:
                raise exc.ArgumentError(
                    f"Could not determine the join condition of {where}: several foreign "
                    f"keys ({sorted(c.name for c in fk_cols)}) could be meant; pass "
                    "foreign_keys=[...] to choose"
                )
        self.direction = direction
        #: (referenced column, foreign key column)
        self.sync_pairs = pairs

    def _self_ref_direction(self, pairs: list[tuple[Column[Any], Column[Any]]]) -> str:
        if self._remote_side is not None:
            referenced = {ref for ref, _ in pairs}
            return MANYTOONE if self._remote_side <= referenced else ONETOMANY
        partner = self._partner()
        if partner is not None and partner._configured and partner.direction == ONETOMANY:
            return MANYTOONE
        return ONETOMANY

    def _partner(self) -> Relationship | None:
        if self.back_populates:
            rel = self.mapper.relationships.get(self.back_populates)
            return rel if isinstance(rel, Relationship) else None
        return None

    def _setup_backref(self) -> None:
        if self.backref:
            name, kw = (self.backref, {}) if isinstance(self.backref, str) else self.backref
            if name in self.mapper.attrs:
                raise exc.ArgumentError(
                    f"backref {name!r} of {self.class_attribute} collides with the existing "
                    f"attribute {self.mapper.class_.__name__}.{name}"
                )
            other_kw = dict(
                back_populates=self.key, backref=None, uselist=None, secondary=self.secondary,
                primaryjoin=self._secondaryjoin if self.secondary is not None else None,
                secondaryjoin=self._primaryjoin if self.secondary is not None else None,
                foreign_keys=self._foreign_cols and list(self._foreign_cols),
                remote_side=None, order_by=None, lazy="select",
                cascade="save-update, merge", passive_deletes=False,
                post_update=False, viewonly=self.viewonly,
            )
            if self.secondary is None and self._primaryjoin is not None:
                other_kw["primaryjoin"] = self._primaryjoin
            if self.parent.table is self.mapper.table and self.secondary is None:  # type: ignore[union-attr]
                # self-referential: the other side's remote columns are this side's local ones
                other_kw["remote_side"] = [c for c, _ in self._sides()[0]]
            other_kw.update(kw)
            other = Relationship(self.parent.class_, **other_kw)  # type: ignore[union-attr]
            other._se_declare(self.mapper, name)
            self.back_populates = name
            other.configure()
        partner = self._partner()
        if self.back_populates and partner is None:
            raise exc.ArgumentError(
                f"back_populates={self.back_populates!r} on {self.class_attribute}: "
                f"{self.mapper.class_.__name__} has no relationship of that name"
            )
        if partner is not None and partner.back_populates is None:
            partner.back_populates = self.key
        self.partner = partner

    # -- keys used by loading and flush -------------------------------------------------
    def _build_lazy_clause(self) -> None:
        pm = self.parent
        tm = self.mapper
        assert pm is not None
        local = [c for c, _ in self._sides()[0]]
        #: parent attribute keys whose values identify the related rows
        self.parent_keys = [pm.col_to_key[c] for c in local]
        if self.direction == MANYTOMANY:
            sec = self.secondary
            assert sec is not None
            self.target_keys = [tm.col_to_key[c] for c, _ in self.secondary_target_pairs]
            join = _key_join(self.secondary_target_pairs)
            where = and_(*(s == bindparam(f"_se_rel_{i}") for i, (_, s)
                           in enumerate(self.secondary_parent_pairs)))
            stmt = select(tm).join(sec, join).where(where)
        elif self.direction == ONETOMANY:
            self.child_fk_keys = [tm.col_to_key[fk] for _, fk in self.sync_pairs]
            stmt = select(tm).where(
                and_(*(fk == bindparam(f"_se_rel_{i}") for i, (_, fk)
                       in enumerate(self.sync_pairs)))
            )
        else:
            self.target_ref_keys = [tm.col_to_key[ref] for ref, _ in self.sync_pairs]
            self.uses_target_pk = [tm.col_to_key[ref] for ref, _ in self.sync_pairs] == list(
                tm.pk_keys
            )
            stmt = select(tm).where(
                and_(*(ref == bindparam(f"_se_rel_{i}") for i, (ref, _)
                       in enumerate(self.sync_pairs)))
            )
        if self._primaryjoin is not None and self.direction != MANYTOMANY:
            local = list(dict.fromkeys(local))  # each column bound once
            self.parent_keys = [pm.col_to_key[c] for c in local]
            binds = {c: bindparam(f"_se_rel_{i}") for i, c in enumerate(local)}

            def replace(elem: Any) -> Any:
                return binds.get(elem) if isinstance(elem, Column) else None

            stmt = select(tm).where(visitors.replacement_traverse(self._primaryjoin, {}, replace))
        if self.order_by:
            stmt = stmt.order_by(*self.order_by)
        self.lazy_stmt = stmt

    # -- class-level helpers --------------------------------------------------------------
    def _se_join_target(self) -> tuple[Any, Any]:
        """(target, onclause) for ``select(A).join(A.rel)`` in Query.join."""
        self.parent.registry.configure()  # type: ignore[union-attr]
        if self.direction == MANYTOMANY:
            raise exc.InvalidRequestError(
                f"Join along many-to-many {self.class_attribute} with two explicit joins: "
                ".join(secondary, ...).join(Target, ...)"
            )
        return self.mapper.class_, self.primaryjoin

    # -- SQL expressions: comparisons, any()/has()/contains() --------------------------------
    def _configure_for_sql(self) -> None:
        self.parent.registry.configure()  # type: ignore[union-attr]

    def _check_instance(self, other: Any, op: str) -> None:
        target = self.mapper.class_
        if isinstance(other, target):
            return
        if getattr(type(other), "__mapper__", None) is not None:
            raise exc.ArgumentError(
                f"{self} {op} {exc.instance_str(other)}: {self} relates to {target.__name__} "
                f"objects, not {type(other).__name__}"
            )
        raise exc.ArgumentError(
            f"{self} {op} {other!r}: a relationship compares to a mapped {target.__name__} "
            "object (or None), not to a class, query, SQL expression or plain value. For "
            f"criteria on the related rows use {self}."
            f"{'any' if self.uselist else 'has'}(...); to compare keys, compare the foreign "
            "key columns themselves"
        )

    def _value_of(self, obj: Any, col: Column[Any], local: Any) -> Any:
        """A bind parameter for ``obj``'s value of the target column ``col``,
        read when the statement executes (a pending object has its key by then)."""
        mapper = self.mapper
        key = mapper.col_to_key[col]
        state = instance_state(obj)

        def value() -> Any:
            v = obj.__dict__.get(key, NO_VALUE)
            if v is NO_VALUE:
                v = self._unloaded_value(state, obj, key)
            if v is None:
                warnings.warn(
                    f"Comparing {self} with {exc.instance_str(obj)}, whose {key!r} is None: "
                    "this compares with NULL (matching no rows), not IS NULL; compare the "
                    f"relationship with None for that",
                    exc.SAWarning,
                    stacklevel=2,
                )
            return v

        return bindparam(local.key, callable_=value, type_=local.type, unique=True)

    def _unloaded_value(self, state: InstanceState, obj: Any, key: str) -> Any:
        if state.key is None:
            raise exc.InvalidRequestError(
                f"Can't compare {self} with {exc.instance_str(obj)}: its {key!r} has no "
                f"value yet (the object is {'pending' if state.session_id else 'transient'}). "
                "Flush the session first so that the database assigns it, or set it"
            )
        pk_keys = self.mapper.pk_keys
        if key in pk_keys:  # expired: the identity key still has it (no SELECT)
            return state.key[1][pk_keys.index(key)]
        if state.session is not None:
            return getattr(obj, key)  # expired: reloaded
        raise exc.InvalidRequestError(
            f"Can't compare {self} with {exc.instance_str(obj)}: the object is detached and "
            f"its {key!r} was expired. Merge or add it to a session first"
        )

    def _binds_for(self, clause: Any, other: Any, columns: Callable[[Column[Any]], bool]) -> Any:
        """``clause`` with the columns ``columns`` selects replaced by ``other``'s values."""

        def replace(elem: Any) -> Any:
            if isinstance(elem, Column) and columns(elem):
                return self._value_of(other, elem, elem)
            return None

        return visitors.replacement_traverse(clause, {}, replace)

    def _compare_to_object(self, other: Any, op: str) -> Any:
        """The rows related to ``other``: ``fk = :value`` on the foreign key columns."""
        self._check_instance(other, op)
        tm = self.mapper
        if self.direction == MANYTOMANY:
            sec = self.secondary
            pj = self.primaryjoin
            if self._secondaryjoin is None:
                sj = and_(*(s == self._value_of(other, c, s)
                            for c, s in self.secondary_target_pairs))
            else:
                ttable = tm.table
                sj = self._binds_for(self._secondaryjoin, other, lambda c: c.table is ttable)
            return exists(select(1).select_from(sec).where(pj, sj).correlate_except(sec))
        if self._primaryjoin is None:
            return and_(*(local == self._value_of(other, remote, local)
                          for local, remote in self._sides()[0]))
        remote = self.remote_side
        ttable = tm.table
        if ttable is self.parent.table:  # type: ignore[union-attr]
            return self._binds_for(self._primaryjoin, other, lambda c: c in remote)
        return self._binds_for(self._primaryjoin, other, lambda c: c.table is ttable)

    def _criterion_exists(self, criterion: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """EXISTS (related rows matching ``criterion``), correlated to this side."""
        tm = self.mapper
        target = tm.table
        criteria = [c for c in criterion if c is not None]
        for name, value in kwargs.items():
            attr = tm.attrs.get(name)
            if attr is None:
                raise exc.InvalidRequestError(
                    f"{tm.class_.__name__} has no attribute {name!r} for the keyword criteria "
                    f"of {self}; known: {sorted(tm.attrs)}"
                )
            criteria.append(attr == value if attr.is_relationship else attr.column == value)
        alias = None
        if target is self.parent.table:  # type: ignore[union-attr]
            # self-referential: the related rows come from an alias of the same table
            alias = target.alias()
            adapter = ClauseAdapter(alias)
            criteria = [adapter.traverse(c) for c in criteria]
        source = target if alias is None else alias
        if self.direction == MANYTOMANY:
            sec = self.secondary
            pj = self.primaryjoin
            sj = self.secondaryjoin
            if alias is not None:
                sj = ClauseAdapter(alias).traverse(sj)
            stmt = select(1).select_from(sec).join(source, sj).where(pj, *criteria)
            return exists(stmt.correlate_except(sec, source))
        join = self.primaryjoin
        if alias is not None:
            remote = self.remote_side

            def to_alias(elem: Any) -> Any:
                if isinstance(elem, Column) and elem in remote:
                    return alias.corresponding_column(elem)
                return None

            join = visitors.replacement_traverse(join, {}, to_alias)
        stmt = select(1).select_from(source).where(join, *criteria)
        return exists(stmt.correlate_except(source))

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        """``Address.user == user`` -> ``addresses.user_id = :id`` (the user's key,
        read when the statement runs); ``== None``: no related row."""
        if isinstance(other, Relationship):
            return self is other
        self._configure_for_sql()
        if other is None:
            if self.direction == MANYTOONE:
                return and_(*(fk.is_(None) for _, fk in self.sync_pairs))
            return ~self._criterion_exists((), {})
        if self.uselist:
            raise exc.InvalidRequestError(
                f"Can't compare the collection {self} with == to an object or list; use "
                f"{self}.contains(obj) to test membership, or {self}.any(...)"
            )
        return self._compare_to_object(other, "==")

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        """``Address.user != user``: a different user or none (``user_id != :id OR
        user_id IS NULL``); ``!= None``: some related row."""
        if isinstance(other, Relationship):
            return self is not other
        self._configure_for_sql()
        if other is None:
            if self.direction == MANYTOONE:
                return ~and_(*(fk.is_(None) for _, fk in self.sync_pairs))
            return self._criterion_exists((), {})
        if self.uselist:
            raise exc.InvalidRequestError(
                f"Can't compare the collection {self} with != to an object or list; use "
                f"~{self}.contains(obj) to test non-membership"
            )
        self._check_instance(other, "!=")
        if self.direction == MANYTOONE and self._primaryjoin is None and self.uses_target_pk:
            pairs = [(fk, self._value_of(other, ref, fk)) for ref, fk in self.sync_pairs]
            # any differing column, or a NULL foreign key (no related object at all)
            return or_(*(fk != v for fk, v in pairs), *(fk.is_(None) for fk, _ in pairs))
        tm = self.mapper
        same = and_(*(c == self._value_of(other, c, c) for c in tm.primary_key))
        return ~self._criterion_exists((same,), {})

    def contains(self, other: Any, **kwargs: Any) -> Any:
        """``User.addresses.contains(address)``: the parent of that address."""
        self._configure_for_sql()
        if not self.uselist:
            raise exc.InvalidRequestError(
                f"contains() is for collections; {self} refers to a single object: use "
                f"{self} == obj"
            )
        return self._compare_to_object(other, "contains")

    def any(self, *criterion: Any, **kwargs: Any) -> Any:
        """EXISTS criteria for a collection: ``User.addresses.any(Address.email == x)``
        (keyword arguments compare attributes of the target: ``any(email=x)``)."""
        self._configure_for_sql()
        if not self.uselist:
            raise exc.InvalidRequestError(
                f"any() is for collections; {self} refers to a single object: use "
                f"{self}.has(...)"
            )
        return self._criterion_exists(criterion, kwargs)

    def has(self, *criterion: Any, **kwargs: Any) -> Any:
        """EXISTS criteria for a single related object: ``Address.user.has(User.name == x)``."""
        self._configure_for_sql()
        if self.uselist:
            raise exc.InvalidRequestError(
                f"has() is for a relationship to a single object; {self} is a collection: "
                f"use {self}.any(...)"
            )
        return self._criterion_exists(criterion, kwargs)

    def _unsupported(self, op: str) -> Any:
        raise exc.InvalidRequestError(
            f"{op} is not supported for relationship {self}: a relationship compares only "
            "with == and != (to an object or None), contains(), any() and has(). Compare "
            "the foreign key columns for other operators, e.g. "
            f"{self._key_columns_hint()}.in_([...])"
        )

    def _key_columns_hint(self) -> str:
        self._configure_for_sql()
        pm = self.parent
        (local, _), *_ = self._sides()[0]
        return f"{pm.class_.__name__}.{pm.col_to_key[local]}"  # type: ignore[union-attr]

    def in_(self, other: Any) -> Any:
        return self._unsupported("in_()")

    def not_in(self, other: Any) -> Any:
        return self._unsupported("not_in()")

    notin_ = not_in

    def is_(self, other: Any) -> Any:
        return self._unsupported("is_() (use == None)")

    def is_not(self, other: Any) -> Any:
        return self._unsupported("is_not() (use != None)")

    isnot = is_not

    def like(self, *args: Any, **kw: Any) -> Any:
        return self._unsupported("like()")

    def ilike(self, *args: Any, **kw: Any) -> Any:
        return self._unsupported("ilike()")

    def startswith(self, *args: Any, **kw: Any) -> Any:
        return self._unsupported("startswith()")

    def endswith(self, *args: Any, **kw: Any) -> Any:
        return self._unsupported("endswith()")

    def between(self, *args: Any, **kw: Any) -> Any:
        return self._unsupported("between()")

    def __lt__(self, other: Any) -> Any:
        return self._unsupported("<")

    def __le__(self, other: Any) -> Any:
        return self._unsupported("<=")

    def __gt__(self, other: Any) -> Any:
        return self._unsupported(">")

    def __ge__(self, other: Any) -> Any:
        return self._unsupported(">=")

    def __clause_element__(self) -> Any:
        """``select(User).join(User.addresses)``: the target, joined along the foreign key."""
        self.parent.registry.configure()  # type: ignore[union-attr]
        return self.mapper.__clause_element__()

    # -- instance access ----------------------------------------------------------------------
    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        try:
            return obj.__dict__[self.key]
        except KeyError:
            d = obj.__dict__
            state = d.get(STATE_ATTR)
            if self._deleted(state, d):
                # empty until flushed, not reloaded
                if self.uselist:
                    value = d[self.key] = InstrumentedList((), state, self)
                    return value
                return None
            from ..strategies import load_relationship

            return load_relationship(self, obj)

    def _deleted(self, state: InstanceState | None, d: dict[str, Any]) -> bool:
        """Deleted with ``del obj.rel``: the original is recorded but there is no value."""
        return state is not None and self.key in state.committed and self.key not in d

    def empty_value(self, state: InstanceState) -> Any:
        return InstrumentedList((), state, self) if self.uselist else None

    def unsaved_empty(self, state: InstanceState) -> InstrumentedList:
        """The empty collection a transient/pending object shows for this
        relationship: the same list on every read, kept out of ``__dict__``
        (so merge() and the flush do not take it for a value) until its first
        change puts it there."""
        empties = state.empty_collections
        if empties is None:
            empties = state.empty_collections = {}
        coll = empties.get(self.key)
        if coll is None:
            coll = empties[self.key] = InstrumentedList((), state, self)
        return coll

    def __set__(self, obj: Any, value: Any) -> None:
        """Checks, then the owner's first-change bookkeeping (which may refuse: no
        transaction may begin), then backrefs and cascades, then the value itself:
        a refused change leaves everything as it was."""
        self.parent.registry.configure()  # type: ignore[union-attr]
        d = obj.__dict__
        state = d.get(STATE_ATTR) or instance_state(obj)
        if self.uselist:
            self._set_collection(obj, d, state, value)
        else:
            self._set_scalar(obj, d, state, value)

    def _set_collection(self, obj: Any, d: dict[str, Any], state: InstanceState,
                        value: Any) -> None:
        key = self.key
        if value is None or isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise TypeError(
                f"{self.class_attribute} is a collection: assign a list of "
                f"{self.mapper.class_.__name__} objects, not {type(value).__name__}"
            )
        new_items = list(value)
        old = d.get(key, NO_VALUE)
        if old is NO_VALUE and state.key is not None and state.session is not None:
            old = getattr(obj, key)  # load so that removed members are known
        old_items = () if old is NO_VALUE or old is None else old
        old_members = members(old_items)
        new_members = members(new_items)
        added = not_in(new_members, old_members)
        for item in added:
            self._check_type(item)
        if not state.modified:
            state.mark_modified()
        for item in not_in(old_members, new_members):
            self._collection_removed(state, item)
        for item in added:
            self._collection_added(state, item)
        if key not in state.committed:
            state.committed[key] = tuple(old_items) if old is not NO_VALUE else NO_VALUE
        coll = d[key] = InstrumentedList(new_items, state, self)
        coll._none = len(new_members) != len(new_items)

    def _set_scalar(self, obj: Any, d: dict[str, Any], state: InstanceState,
                    value: Any) -> None:
        key = self.key
        self._check_type(value)
        old = self._known_value(obj)
        if old is NO_VALUE and self.direction == ONETOMANY and state.key is not None \
                and state.session is not None:
            old = getattr(obj, key)  # one-to-one: the replaced child's key must be cleared
        if not state.modified:
            state.mark_modified()
        if old is value:
            # no change, but a set all the same: the value is known from now on
            # and the object counts as modified (session.dirty), as in SQLAlchemy
            d[key] = value
            return
        partner = self.partner
        if partner is not None:
            if old is not NO_VALUE and old is not None:
                partner._remove_from(old, obj)
            if value is not None:
                partner._add_to(value, obj)
        if key not in state.committed:
            state.committed[key] = old
        d[key] = value
        if value is not None:
            self._cascade_on_attach(state, value)

    def __delete__(self, obj: Any) -> None:
        """``del obj.rel``: the value is removed (the flush clears the foreign key);
        reading it again gives None / an empty list. An unloaded collection of a
        persistent object is left alone; a scalar with no value raises
        AttributeError."""
        self.parent.registry.configure()  # type: ignore[union-attr]
        d = obj.__dict__
        state = d.get(STATE_ATTR) or instance_state(obj)
        key = self.key
        if self.uselist:
            if key in d:
                self.__set__(obj, [])
                d.pop(key)
            return
        if key not in d:
            if state.key is None:
                raise AttributeError(
                    f"{self} of {exc.instance_str(obj)} has no value to delete: it was never "
                    "set (or is already deleted)"
                )
            if self._deleted(state, d):
                return
        self.__set__(obj, None)
        d.pop(key, None)

    def _check_type(self, value: Any) -> None:
        if value is not None and not isinstance(value, self.mapper.class_):
            raise TypeError(
                f"{self.class_attribute} takes a {self.mapper.class_.__name__} object, "
                f"not {type(value).__name__}"
            )

    def _known_value(self, target: Any) -> Any:
        """The loaded value of this scalar on ``target``; for an unloaded
        many-to-one, the object its foreign key names if the identity map has
        it (no SQL); else NO_VALUE."""
        d = target.__dict__
        value = d.get(self.key, NO_VALUE)
        if value is not NO_VALUE or self.direction != MANYTOONE:
            return value
        if self._primaryjoin is not None or not self.uses_target_pk:
            return NO_VALUE
        tstate = d.get(STATE_ATTR)
        if self._deleted(tstate, d):
            return None
        session = tstate.session if tstate is not None else None
        if session is None or tstate.key is None:
            return NO_VALUE
        values = tuple(d.get(k, NO_VALUE) for k in self.parent_keys)
        if NO_VALUE in values:
            return NO_VALUE
        if None in values:
            return None
        found = session.identity_map._dict.get((self.mapper.class_, values, None))
        obj = found.obj() if found is not None else None
        return obj if obj is not None else NO_VALUE

    # backref plumbing: change the other side without echoing back; each marks its
    # object changed before changing it (which may refuse, see __set__)
    def _add_to(self, target: Any, item: Any) -> None:
        """``target.<self.key>`` now includes/points to ``item``."""
        d = target.__dict__
        tstate = instance_state(target)
        if self.uselist:
            coll = d.get(self.key)
            if coll is None:
                if tstate.key is not None:
                    # not loaded: the database will say it on load; the object
                    # counts as modified all the same (session.dirty), as in SQLAlchemy
                    if not tstate.modified:
                        tstate.mark_modified()
                    return
                coll = self.unsaved_empty(tstate)  # goes into __dict__ with the append
            coll._append_quiet(item)  # twice if appended twice on the other side, as in SA
        else:
            old = self._known_value(target)
            if old is item:
                return
            if not tstate.modified:
                tstate.mark_modified()
            if old is not NO_VALUE and old is not None and self.partner is not None:
                self.partner._remove_from(old, target)
            if self.key not in tstate.committed:
                tstate.committed[self.key] = old
            d[self.key] = item

    def _remove_from(self, target: Any, item: Any) -> None:
        d = target.__dict__
        tstate = instance_state(target)
        if self.uselist:
            coll = d.get(self.key)
            if coll is None and tstate.empty_collections:  # read while transient
                coll = tstate.empty_collections.get(self.key)
                if coll is not None:
                    coll._before_change()  # an event makes it the object's value
            if coll is not None:
                coll._remove_quiet(item)
            elif tstate.key is not None and not tstate.modified:
                tstate.mark_modified()  # not loaded: modified all the same, as in SQLAlchemy
        else:
            current = self._known_value(target)
            # unknown: ``target`` was in ``item``'s collection, so it pointed at ``item``
            if current is item or (current is NO_VALUE and tstate.key is not None):
                if not tstate.modified:
                    tstate.mark_modified()
                if self.key not in tstate.committed:
                    tstate.committed[self.key] = item
                d[self.key] = None

    # called with the objects (never None) added to / removed from a collection
    def _collection_added(self, state: InstanceState, item: Any) -> None:
        self._check_type(item)
        owner = state.obj()
        if self.partner is not None and owner is not None:
            self.partner._add_to(item, owner)
        self._cascade_on_attach(state, item)

    def _collection_removed(self, state: InstanceState, item: Any) -> None:
        owner = state.obj()
        if self.partner is not None and owner is not None:
            self.partner._remove_from(item, owner)
        if "delete-orphan" in self.cascade:
            istate = instance_state(item)
            session = istate.session
            if istate.key is None and session is not None:
                session.expunge(item)  # a pending orphan is simply never inserted

    def _cascade_on_attach(self, state: InstanceState, item: Any) -> None:
        if "save-update" not in self.cascade or self.viewonly:
            return
        session = state.session
        if session is not None:
            istate = instance_state(item)
            if istate.session_id != session.hash_key:
                session.add(item)

    # -- history ------------------------------------------------------------------------------
    def history(self, state: InstanceState, d: dict[str, Any]) -> History:
        current = d.get(self.key, NO_VALUE)
        if self.uselist:
            cur = list(current) if current is not NO_VALUE else []
            if self.key in state.committed:
                orig = state.committed[self.key]
                orig = list(orig) if orig is not NO_VALUE and orig is not None else []
            elif state.key is None:
                orig = []
            else:
                return History((), tuple(cur), ())
            # by identity, in linear time (a loaded collection may be large)
            orig_ids = {id(o) for o in orig}
            added = tuple(x for x in cur if id(x) not in orig_ids)
            unchanged = tuple(x for x in cur if id(x) in orig_ids)
            return History(added, unchanged, tuple(not_in(orig, cur)))
        if self.key in state.committed:
            old = state.committed[self.key]
            if old is current:
                return History((), (() if current in (NO_VALUE, None) else (current,)), ())
            return History(
                () if current in (NO_VALUE, None) else (current,),
                (),
                () if old is NO_VALUE or old is None else (old,),
            )
        if current is NO_VALUE or current is None:
            return History((), (), ())
        if state.key is None:
            return History((current,), (), ())
        return History((), (current,), ())

    def has_changes(self, state: InstanceState, d: dict[str, Any]) -> bool:
        if not self.uselist and self.key in state.committed:
            return state.committed[self.key] is not d.get(self.key, NO_VALUE)
        return self.history(state, d).has_changes()

    def related_objects(self, d: dict[str, Any]) -> list[Any]:
        """The objects ``d`` (an instance's ``__dict__``) relates to, loaded ones only."""
        # _objects_in(d.get(key)) with members()'s usual case, written out: this runs
        # for every new or changed object and relationship on every flush
        value = d.get(self.key, NO_VALUE)
        if value is NO_VALUE or value is None:
            return []
        if not self.uselist:
            return [value]
        if type(value) is InstrumentedList and not value._none:
            return list(value)
        return members(value)

    def _objects_in(self, value: Any) -> list[Any]:
        """The objects a value of this relationship refers to (a collection, its
        recorded original, or one object), as a new list without None."""
        if value is NO_VALUE or value is None:
            return []
        if self.uselist:
            return members(value)
        return [value]

    # -- cascades (called by the session) -----------------------------------------------------
    def cascade_add(self, session: Session, state: InstanceState, obj: Any,
                    visited: set[int]) -> None:
        if "save-update" not in self.cascade or self.viewonly:
            return
        d = obj.__dict__
        for item in self.related_objects(d):
            session._add_with_cascade(item, visited)
        if self.key in state.committed:
            # removed while outside this session: the flush must still clear (or, with
            # delete-orphan, delete) them, so they come along too
            for item in self._removed_items(state, d):
                session._add_with_cascade(item, visited)

    def _removed_items(self, state: InstanceState, d: dict[str, Any]) -> list[Any]:
        """Objects this relationship referred to at the last flush/load and no longer does."""
        return not_in(self._objects_in(state.committed[self.key]),
                      self._objects_in(d.get(self.key, NO_VALUE)))

    def cascade_delete(self, session: Session, state: InstanceState, obj: Any) -> None:
        if "delete" not in self.cascade:
            return
        if self.passive_deletes and self.key not in obj.__dict__:
            return
        for item in self._objects_in(getattr(obj, self.key)):
            istate = instance_state(item)
            if istate.key is None:
                if istate.session_id == session.hash_key:
                    session._expunge_state(istate)
            elif istate not in session._deleted and not istate.deleted:
                session.delete(item)

    def cascade_expunge(self, session: Session, state: InstanceState, obj: Any) -> None:
        if "expunge" not in self.cascade:
            return
        for item in self.related_objects(obj.__dict__):
            istate = instance_state(item)
            if istate.session_id == session.hash_key:
                session.expunge(item)

    def cascade_expire(self, session: Session, obj: Any, refresh: bool) -> list[Any]:
        if "refresh-expire" not in self.cascade:
            return []
        return [
            item for item in self.related_objects(obj.__dict__)
            if instance_state(item).session_id == session.hash_key
        ]

    def load_now(self, state: InstanceState, obj: Any) -> None:
        getattr(obj, self.key)

    # last in the class body: from here on ``property`` names this attribute
    property = property(_get_property)


class _UnconfiguredRelationship(Relationship):
    """A :class:`Relationship` before :meth:`~Relationship.configure`: reading what
    configuration works out (``direction``, ``mapper``, ...) configures the
    registry first. Configured, it becomes a plain Relationship again: a class
    with ``__getattr__`` makes every attribute read slower (some 15 ns on
    CPython 3.11), and a relationship's attributes are read on every access,
    load and flush."""

    #: what the mapping works out on configuration; reading one configures the registry
    _CONFIGURED_ATTRS = frozenset(("mapper", "direction", "uselist", "order_by", "target_class",
                                   "partner", "sync_pairs"))

    def __getattr__(self, name: str) -> Any:
        # only reached for attributes not set yet: those set by configure()
        if name in self._CONFIGURED_ATTRS and self.__dict__.get("parent") is not None \
                and not self.__dict__.get("_configured"):
            self.parent.registry.configure()  # type: ignore[union-attr]
            if self._configured:
                return getattr(self, name)
        raise AttributeError(f"'Relationship' object has no attribute {name!r}")


def configure_registry(registry: Any) -> None:
    """Resolve every relationship of a registry (idempotent)."""
    while registry.relationships_pending:
        registry.relationships_pending = False
        for mapper in list(registry.mappers):
            for rel in list(mapper.relationships.values()):
                rel.configure()
