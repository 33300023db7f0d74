"""The link between a mapped class and its Core ``Table``.

A :class:`Mapper` is built once per class by the declarative base and holds
everything the session needs precomputed: column attribute keys in table
order, primary key positions, defaults to apply at flush, the columns the
database generates, and cached Core statements.
"""

from __future__ import annotations

import sys
import weakref
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.schema import Column, Table

from .. import exc
from ..compat import ANNOTATIONS, annotate, autoincrement_column, sqlplugin
from ..compat.sqlplugin import ENTITY_ANNOTATION, with_plugin
from .attrevents import init_keys
from .attributes import DEFERRED_COLUMNS, ColumnAttribute
from .polymorphic import default_polymorphic, polymorphic_from

#: Table -> Mapper of every mapped table (for binds given per class)
_mapper_by_table: weakref.WeakKeyDictionary[Table, Mapper] = weakref.WeakKeyDictionary()


def mapper_for_table(table: Any) -> Mapper | None:
    try:
        return _mapper_by_table.get(table)
    except TypeError:
        return None


class Mapper:
    """Maps one class to one table."""

    #: ``__mapper_args__``' ``eager_defaults``: True fetches server-generated
    #: values of UPDATEs with RETURNING too ("auto": INSERTs only)
    eager_defaults: Any = "auto"

    def __init__(self, class_: type, table: Table, registry: Any,
                 inherits: Mapper | None = None, part_of: Mapper | None = None) -> None:
        # registry: the declarative.Registry (which imports this module)
        self.class_ = class_
        #: the table of this class's own columns
        self.local_table = table
        #: joined-table inheritance: the parent's table (or join) joined to
        #: ``local_table``, which the class's SELECTs read; else ``local_table``
        self.table: Any = table
        if inherits is not None and table is not inherits.table:
            self.table = inherits.table.join(table)
        #: joined-table inheritance: the mapper of one table of the class's
        #: rows (see :meth:`table_part`); None: a class mapped to a table
        self.part_of = part_of
        #: joined-table inheritance: one part mapper per table, root first
        #: (what the flush writes); empty for a class mapped to one table
        self.table_parts: tuple[Mapper, ...] = ()
        self.registry = registry
        #: the mapper of the mapped class this one inherits from (None: a root)
        self.inherits = inherits
        self.base_mapper: Mapper = inherits.base_mapper if inherits is not None else self
        #: the class of identity keys: the hierarchy's root, so that get(Employee, 1)
        #: and get(Manager, 1) find the same object
        self.identity_class: type = self.base_mapper.class_
        #: the discriminator column of the hierarchy (None: no polymorphic loading)
        self.polymorphic_on: Column[Any] | None = (
            inherits.polymorphic_on if inherits is not None else None)
        self.polymorphic_identity: Any = None
        #: discriminator value -> mapper, shared by the whole hierarchy
        self.polymorphic_map: dict[Any, Mapper] = (
            inherits.polymorphic_map if inherits is not None else {})
        #: the mappers inheriting from this one directly
        self.subclass_mappers: list[Mapper] = []
        #: WHERE criterion a single-table subclass adds to its SELECTs (None: none)
        self.single_criteria: Any = None
        #: ``__mapper_args__``' polymorphic_load ("selectin", "inline" or None)
        #: and with_polymorphic (on a root)
        self.polymorphic_load: str | None = None
        self.with_polymorphic_arg: Any = None
        #: descendants whose columns a SELECT of this class loads right after
        #: the rows (polymorphic_load="selectin")
        self.selectin_subclasses: tuple[Mapper, ...] = ()
        if inherits is not None:
            inherits.subclass_mappers.append(self)
        # dicts by key that also answer attribute access (``mapper.attrs.name``), as
        # SQLAlchemy's do; iterating them gives keys (SQLAlchemy's: the properties)
        self.attrs: dict[str, Any] = Properties()
        self.column_attrs: dict[str, ColumnAttribute] = Properties()
        self.relationships: dict[str, Any] = Properties()
        self.col_to_key: dict[Column[Any], str] = {}
        #: ``query_expression()`` attributes by key
        self.expressions: dict[str, Any] = {}
        if not table.primary_key.columns:
            raise exc.ArgumentError(
                f"Mapper for class {class_.__name__} could not assemble a primary key: "
                f"table {table.name!r} has no primary key column. Mark a column with "
                "Column(..., primary_key=True) or give the Table a PrimaryKeyConstraint"
            )
        # joined: the join's primary key is the root table's (the others equal it)
        self.primary_key: tuple[Column[Any], ...] = (
            tuple(table.primary_key.columns) if self.table is table
            else tuple(c for c in self.base_mapper.primary_key if c in self.table.primary_key))
        self._stmt_cache: dict[Any, Any] = {}
        self._selectable = with_plugin(annotate(self.table, {ENTITY_ANNOTATION: self}))
        self._plain_selectable = self._selectable
        if part_of is None:
            _mapper_by_table.setdefault(table, self)

    def add_column_attribute(self, key: str, column: Column[Any]) -> ColumnAttribute:
        # a plain interned str: a column's key is a ``quoted_name`` (a str
        # subclass), and every ``__dict__`` lookup with one compares the strings
        # character by character instead of by identity
        key = sys.intern(str(key))
        attr = ColumnAttribute(self, key, column)
        self.attrs[key] = attr
        self.column_attrs[key] = attr
        self.col_to_key[column] = key
        return attr

    def configure_columns(self) -> None:
        """Freeze the precomputed column layout once all attributes are added."""
        layout = list(self.table.columns)
        if self.inherits is None and self.part_of is None and not hasattr(self, "columns"):
            missing = [c for c in layout if c not in self.col_to_key]
            for c in missing:  # columns of the table with no attribute: map by key
                setattr(self.class_, c.key, self.add_column_attribute(c.key, c))
        #: the columns ``select(cls)`` yields, in order (single-table inheritance:
        #: those of the whole hierarchy's table, mapped here or not)
        self.select_columns: tuple[Column[Any], ...] = tuple(layout)
        cols = [c for c in layout if c in self.col_to_key]
        if self.table is not self.local_table:  # joined: one column per attribute
            firsts: dict[str, Column[Any]] = {}
            for c in cols:
                firsts.setdefault(self.col_to_key[c], c)
            cols = list(firsts.values())
        #: column attribute keys in the table's column order (the SELECT order)
        self.column_attr_keys: tuple[str, ...] = tuple(self.col_to_key[c] for c in cols)
        self.columns: tuple[Column[Any], ...] = Columns(cols)
        self.columns._by_key = {self.col_to_key[c]: c for c in cols}  # type: ignore[attr-defined]
        self.column_attr_set: frozenset[str] = frozenset(self.column_attr_keys)
        #: the keys the constructor stores directly: no attribute events (attrevents)
        self.init_keys: frozenset[str] = init_keys(self)
        self._configure_deferral(cols)
        #: the types of ``select_columns``
        self.column_types: tuple[Any, ...] = tuple(c.type for c in layout)
        self.pk_keys: tuple[str, ...] = tuple(self.col_to_key[c] for c in self.primary_key)
        #: positions of the primary key columns in ``select_columns``
        self.pk_indexes: tuple[int, ...] = tuple(layout.index(c) for c in self.primary_key)
        self.pk_param_names: tuple[str, ...] = tuple(
            f"_se_pk_{i}" for i in range(len(self.primary_key))
        )
        #: attribute key -> the column's key (the name of its bind parameter)
        self.attr_to_column_key: dict[str, str] = {
            self.col_to_key[c]: c.key for c in cols
        }
        self.same_column_keys = all(k == c for k, c in self.attr_to_column_key.items())
        #: attributes whose type compares values with plain ``==``
        from sqlalchemy.types import TypeEngine

        self.plain_compare: frozenset[str] = frozenset(
            self.col_to_key[c]
            for c in cols
            if type(c.type).compare_values is TypeEngine.compare_values
        )
        # flush-time facts
        self.python_defaults: dict[str, Any] = {}
        self.python_onupdates: dict[str, Any] = {}
        self.fetch_on_insert: set[str] = set()
        self.fetch_on_update: set[str] = set()
        for c in cols:
            key = self.col_to_key[c]
            d = c.default
            if d is not None and (d.is_scalar or d.is_callable):
                self.python_defaults[key] = d
            elif d is not None or c.server_default is not None:
                self.fetch_on_insert.add(key)
            elif c.primary_key and c is autoincrement_column(c.table):
                self.fetch_on_insert.add(key)
            u = c.onupdate
            if u is not None and (u.is_scalar or u.is_callable):
                self.python_onupdates[key] = u
            elif u is not None or c.server_onupdate is not None:
                self.fetch_on_update.add(key)
        # by name: the referenced table of another foreign key may not exist yet
        fullname = self.local_table.fullname
        self.has_self_reference = any(
            fk.target_fullname.rpartition(".")[0] == fullname
            for fk in self.local_table.foreign_keys
        )
        if self.table is not self.local_table:
            self.table_parts = tuple(
                self.table_part(m.local_table) for m in reversed(self.iterate_to_root())
                if m.table is not m.inherits_table())

    def _configure_deferral(self, cols: list[Column[Any]]) -> None:
        """Deferred columns: keys, the keys loaded together with each, raising ones."""
        deferral = {self.col_to_key[c]: DEFERRED_COLUMNS[c] for c in cols
                    if c in DEFERRED_COLUMNS and not c.primary_key}
        #: key -> (deferred_group or None, raiseload) of each deferred column
        self.deferral: dict[str, tuple[str | None, bool]] = deferral
        self.deferred_keys: frozenset[str] = frozenset(deferral)
        self.deferred_raise: frozenset[str] = frozenset(
            k for k, (_g, raising) in deferral.items() if raising)
        self.deferred_groups: dict[str, tuple[str, ...]] = {
            k: tuple(o for o, (og, _r) in deferral.items() if og == g) if g is not None else (k,)
            for k, (g, _r) in deferral.items()
        }

    def inherits_table(self) -> Any:
        """The table of the parent class (None for a root)."""
        return self.inherits.table if self.inherits is not None else None

    def table_part(self, table: Table) -> Mapper:
        """Joined-table inheritance: a mapper of this class's attributes stored
        in ``table`` (one table of its rows), which the flush writes as it
        writes a class mapped to one table."""
        part = Mapper(self.class_, table, self.registry, part_of=self)
        part.identity_class = self.identity_class
        for col, key in self.col_to_key.items():
            if col.table is table:
                part.add_column_attribute(key, col)
        part.configure_columns()
        return part

    # -- inheritance ----------------------------------------------------------------
    def set_polymorphic(self, on: Any, identity: Any) -> None:
        """``__mapper_args__``' ``polymorphic_on`` (a column or the name of a
        column attribute) and ``polymorphic_identity``."""
        if on is not None:
            if isinstance(on, str):
                attr = self.column_attrs.get(on)
                col = attr.column if attr is not None else self.table.c.get(on)
            else:
                col = getattr(on, "column", on)  # a mapped_column()-like wrapper
                if not isinstance(col, Column):
                    col = on.__clause_element__() if hasattr(on, "__clause_element__") else on
            if col is None or col not in self.col_to_key:
                raise exc.ArgumentError(
                    f"polymorphic_on={on!r} of {self.class_.__name__} is not a column "
                    "mapped by the class: name one of its columns (or its attribute name)"
                )
            self.polymorphic_on = col
        if identity is not None:
            if self.polymorphic_on is None:
                raise exc.ArgumentError(
                    f"{self.class_.__name__} has polymorphic_identity={identity!r} but its "
                    "hierarchy has no polymorphic_on column: set polymorphic_on in the "
                    "base class's __mapper_args__"
                )
            self.polymorphic_identity = identity
            self.polymorphic_map[identity] = self

    def iterate_to_root(self) -> list[Mapper]:
        out: list[Mapper] = []
        m: Mapper | None = self
        while m is not None:
            out.append(m)
            m = m.inherits
        return out

    def self_and_descendants(self) -> list[Mapper]:
        out = [self]
        for sub in self.subclass_mappers:
            out.extend(sub.self_and_descendants())
        return out

    def is_single_table(self) -> bool:
        """True for a single-table subclass (it shares its parent's table)."""
        return self.inherits is not None and self.inherits.table is self.table

    def refresh_hierarchy(self) -> None:
        """After a class joined the hierarchy: every mapper's column layout
        (the shared table may have grown) and single-table criteria anew."""
        for m in self.base_mapper.self_and_descendants():
            m._stmt_cache.clear()
            m.configure_columns()
            m.single_criteria = None
            m.selectin_subclasses = tuple(d for d in m.self_and_descendants()[1:]
                                          if d.polymorphic_load == "selectin")
            poly = default_polymorphic(m)
            if poly is not None or m._selectable is not m._plain_selectable:
                # select(cls) reads the subclass tables too (polymorphic_load="inline")
                m._selectable = (polymorphic_from(m, poly)[0] if poly is not None
                                 else m._plain_selectable)
            if m.is_single_table() and m.polymorphic_on is not None:
                idents = [d.polymorphic_identity for d in m.self_and_descendants()
                          if d.polymorphic_identity is not None]
                m.single_criteria = m.polymorphic_on.in_(idents)

    @property
    def eager_relationships(self) -> list[Any]:
        """Relationships that load eagerly by default (``lazy="selectin"`` / ``"joined"``):
        a refresh, and the load of an object expired as a whole, load them too."""
        self.registry.configure()
        rels = self.relationships
        cached = self.__dict__.get("_eager_relationships")
        if cached is None or cached[0] != len(rels):  # relationships are only ever added
            cached = (len(rels), [r for r in rels.values() if r.lazy in ("selectin", "joined")])
            self.__dict__["_eager_relationships"] = cached
        return cached[1]

    def has_eager_defaults(self) -> bool:
        """True if a relationship of this class loads eagerly (or raises) by default."""
        self.registry.configure()
        return bool(self.selectin_subclasses) or any(
            r.loader.after_load for r in self.relationships.values())

    # -- identity ---------------------------------------------------------------
    def identity_key_from_values(self, pk: tuple[Any, ...]) -> tuple[Any, ...]:
        return (self.identity_class, pk, None)

    def primary_key_from_dict(self, d: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(d.get(k) for k in self.pk_keys)

    def normalize_ident(self, ident: Any) -> tuple[Any, ...]:
        """Turn what ``Session.get`` accepts into a primary key tuple."""
        n = len(self.pk_keys)
        if isinstance(ident, dict):
            try:
                values = tuple(ident[k] for k in self.pk_keys)
            except KeyError as err:
                raise exc.InvalidRequestError(
                    f"Incorrect names of values in identifier for {self.class_.__name__}: "
                    f"expected the keys {list(self.pk_keys)}, got {sorted(ident)}"
                ) from err
            return values
        if isinstance(ident, (tuple, list)):
            values = tuple(ident)
        else:
            values = (ident,)
        if len(values) != n:
            raise exc.InvalidRequestError(
                f"Incorrect number of values in identifier for {self.class_.__name__}: "
                f"the primary key has {n} column(s) {list(self.pk_keys)}, got {len(values)} "
                f"value(s) {values!r}; pass a tuple or dict in primary key order"
            )
        return values

    # -- cached statements --------------------------------------------------------
    def select_by_pk(self, keys: tuple[str, ...] | None = None) -> Any:
        """``SELECT <columns> FROM table WHERE pk = :pk_0 ...`` (cached)."""
        cache_key = ("select_pk", keys)
        stmt = self._stmt_cache.get(cache_key)
        if stmt is None:
            # select(table) keeps Core's cache key short: it is computed on every execute
            cols = (self.table,) if keys is None else [self.column_attrs[k].column for k in keys]
            stmt = select(*cols).where(
                and_(*(c == bindparam(f"_se_pk_{i}") for i, c in enumerate(self.primary_key)))
            )
            if self.single_criteria is not None:
                stmt = stmt.where(self.single_criteria)
            if self.table_parts:
                stmt = stmt.select_from(self.table)
            self._stmt_cache[cache_key] = stmt
        return stmt

    def pk_params(self, pk: tuple[Any, ...]) -> dict[str, Any]:
        return dict(zip(self.pk_param_names, pk))

    def __clause_element__(self) -> Any:
        return self._selectable

    # -- SQLAlchemy's inspection names ------------------------------------------------
    @property
    def c(self) -> tuple[Column[Any], ...]:
        return self.columns

    @property
    def entity(self) -> type:
        return self.class_

    @property
    def persist_selectable(self) -> Table:
        return self.table

    @property
    def selectable(self) -> Any:
        return self._selectable

    @property
    def tables(self) -> list[Table]:
        return [self.table]

    def __repr__(self) -> str:
        return f"<Mapper {self.class_.__name__} -> {self.table.name}>"


class Properties(dict):  # type: ignore[type-arg]
    """A dict of mapped properties by key that also answers ``props.key``."""

    __slots__ = ()

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


class Columns(tuple):  # type: ignore[type-arg]
    """The mapped columns in table order; ``columns.name`` / ``columns["name"]``
    give the column of an attribute."""

    _by_key: dict[str, Column[Any]]

    def __getattr__(self, key: str) -> Any:
        try:
            return self.__dict__["_by_key"][key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, str):
            return self._by_key[index]
        return tuple.__getitem__(self, index)

    def keys(self) -> list[str]:
        return list(self._by_key)


def class_mapper(cls: type) -> Mapper:
    mapper = cls.__dict__.get("__mapper__") if isinstance(cls, type) else None
    if mapper is None:
        raise exc.UnmappedClassError(
            f"Class {getattr(cls, '__qualname__', cls)!r} is not mapped: declare it on a "
            "session_ext declarative base with a __tablename__ or __table__"
        )
    return mapper


def entity_of(element: Any) -> Mapper | None:
    """The mapper a Core element stands for, if it is a mapped entity."""
    ann = getattr(element, ANNOTATIONS, None)
    if ann:
        return ann.get(ENTITY_ANNOTATION)
    return None


def entity_name(element: Any) -> str | None:
    """The name a selected entity has in result rows: its ``aliased(...,
    name=...)`` name, else its class's name (None for other elements)."""
    ann = getattr(element, ANNOTATIONS, None)
    if not ann or ENTITY_ANNOTATION not in ann:
        return None
    alias = ann.get(sqlplugin.ALIAS_ANNOTATION)
    return alias[1] if alias is not None else ann[ENTITY_ANNOTATION].class_.__name__


def missing_keys(element: Any) -> tuple[str, ...]:
    """The attribute keys a selected entity's FROM element lacks (see
    ``compat.sqlplugin.entity_over``)."""
    ann = getattr(element, ANNOTATIONS, None)
    return ann.get(sqlplugin.MISSING_ANNOTATION, ()) if ann else ()


def _column_entity(column: Any) -> Mapper | None:
    table = getattr(column, "table", None)
    return mapper_for_table(table) if table is not None else None


sqlplugin.column_entity = _column_entity  # Select.column_descriptions' "entity"

__all__ = ["Mapper", "class_mapper", "entity_name", "entity_of", "missing_keys"]
