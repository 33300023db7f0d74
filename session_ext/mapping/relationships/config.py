"""Configuration of a relationship: the arguments of ``relationship()``, its
declaration on a mapped class, resolving its target and join arguments when the
registry is configured, and the introspection names of SQLAlchemy's
``RelationshipProperty`` (``mapper``, ``local_remote_pairs``, ``primaryjoin``, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.schema import Column, Table
from sqlalchemy.sql.expression import ColumnElement

from ... import exc
from .cascades import parse_cascade
from .directions import _key_join
from .loaders import LOADER_STRATEGIES, loader_name

if TYPE_CHECKING:
    from ..mapper import Mapper


class RelationshipConfig:
    """Arguments, declaration, configuration and introspection."""

    is_relationship = True
    #: the class an instance becomes once configured (set on the unconfigured class)
    _configured_class: type | None = None

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
        #: the name of the loader strategy (see loaders.py)
        self.lazy = loader_name(lazy)
        self.loader = LOADER_STRATEGIES[self.lazy]
        self.cascade = parse_cascade(kw["cascade"])
        self.passive_deletes = kw["passive_deletes"]
        self.post_update = kw["post_update"]
        self.viewonly = kw["viewonly"]
        #: a target object may be referred to by one parent object at a time
        self.single_parent = bool(kw.get("single_parent", False))
        #: joined eager loads of it are INNER JOINs (``joinedload(..., innerjoin=)`` wins)
        self.innerjoin = bool(kw.get("innerjoin", False))
        if self.backref and self.back_populates:
            raise exc.ArgumentError("Use either backref or back_populates, not both")
        self.info: dict[str, Any] = dict(kw.get("info") or {})
        self.parent: Mapper | None = None
        self.key = ""
        self._configured = False
        self.secondary: Table | None = None

    def use_loader(self, lazy: Any) -> None:
        """Load with the strategy registered as ``lazy`` (ArgumentError if none is)."""
        self.lazy = loader_name(lazy)
        self.loader = LOADER_STRATEGIES[self.lazy]

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
    def _get_property(self) -> Any:
        """``User.addresses.property``: the relationship itself (configured)."""
        self.parent.registry.configure()  # type: ignore[union-attr]
        return self

    @property
    def prop(self) -> Any:
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
        """The key equalities (column on this side, column on the other side); see
        :meth:`Direction.sides`."""
        return self.kind.sides(self)

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
        return self.kind.synchronize_pairs(self)

    @property
    def secondary_synchronize_pairs(self) -> list[tuple[Column[Any], Column[Any]]]:
        self._get_property()
        return self.kind.secondary_synchronize_pairs(self)

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
        return self.kind.secondaryjoin(self)

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
            self.uselist = self.kind.default_uselist
        else:
            self.uselist = bool(self._uselist)
        self._check_single_parent()
        self._configured = True
        if type(self)._configured_class is not None:
            self.__class__ = self._configured_as()
            if "_se_attr_events" in self.__dict__:  # attribute events: evented class again
                self._se_attr_events.install()
        self._split_criteria()
        self._setup_backref()
        self._build_lazy_clause()

