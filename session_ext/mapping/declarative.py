"""Declarative mapping: classes with ``__tablename__`` and ``Column`` attributes.

Two equivalent spellings::

    Base = declarative_base()

    class Base(DeclarativeBase):
        pass

A direct subclass of :class:`DeclarativeBase` is a *base*: it owns a
``MetaData`` (``Base.metadata``) and a :class:`Registry` of its classes.
Every further subclass is mapped when the class statement runs, unless it
sets ``__abstract__ = True``.  Columns may come from the class body, from
mixins (copied per class) or from ``__table__`` (an existing or reflected
Core table).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from sqlalchemy import MetaData
from sqlalchemy.schema import Column, Table

from .. import exc, listening
from ..compat import copy_column
from ..state import STATE_ATTR
from . import typed
from .attrevents import install_validators
from .mapper import Mapper

#: held while a registry resolves its relationships (re-entered from inside)
_CONFIGURE_LOCK = threading.RLock()

_T = TypeVar("_T")


class declared_attr:
    """Mark a mixin method whose result is computed per mapped class.

    Use it for ``__tablename__``, ``__table_args__`` or for columns that must
    be built anew for each class (a ``ForeignKey`` column on a mixin, say)::

        class TimestampMixin:
            @declared_attr
            def __tablename__(cls):
                return cls.__name__.lower()
    """

    def __init__(self, fn: Any) -> None:
        if isinstance(fn, classmethod):  # @declared_attr over @classmethod (for type checkers)
            fn = fn.__func__
        self.fn = fn
        self.__doc__ = getattr(fn, "__doc__", None)

    def __get__(self, obj: Any, cls: type) -> Any:
        return self.fn(cls)

    @classmethod
    def directive(cls, fn: Any) -> declared_attr:
        """``@declared_attr.directive``: the 2.x spelling for ``__tablename__``,
        ``__table_args__`` and other non-mapped names (the same thing here)."""
        return cls(fn)


class Registry:
    """The classes of one declarative base, by name (for string lookups)."""

    def __init__(self, metadata: MetaData | None = None, *,
                 type_annotation_map: Mapping[Any, Any] | None = None) -> None:
        self.metadata = metadata if metadata is not None else MetaData()
        #: Python type (or ``Annotated`` alias) -> SQL type, for ``Mapped[...]``
        #: columns that name no type (over session_ext.mapping.typed's defaults)
        self.type_annotation_map: dict[Any, Any] = dict(type_annotation_map or {})
        self._by_name: dict[str, list[type]] = {}
        self.mappers: list[Mapper] = []
        #: True while some relationship() has not been resolved yet
        self.relationships_pending = False
        #: True while a thread runs configure()
        self._configuring = False

    def configure(self) -> None:
        """Resolve every relationship of this registry (runs once, lazily).

        Thread-safe: the first thread configures under a lock; another thread
        arriving meanwhile waits for it rather than seeing half-configured
        relationships (a web server's first requests race here)."""
        if self.relationships_pending or self._configuring:
            with _CONFIGURE_LOCK:
                if self.relationships_pending:
                    outermost = not self._configuring  # configure() can re-enter
                    self._configuring = True
                    try:
                        self._configure_now()
                    finally:
                        if outermost:
                            self._configuring = False

    def _configure_now(self) -> None:
        from .relationships import configure_registry

        configure_registry(self)
        for mapper in self.mappers:  # parents come first: backrefs reach subclasses
            if mapper.inherits is not None:
                for key, rel in mapper.inherits.relationships.items():
                    if key not in mapper.relationships:
                        mapper.relationships[key] = mapper.attrs[key] = rel

    def add(self, cls: type) -> None:
        self._by_name.setdefault(cls.__name__, []).append(cls)
        self._by_name.setdefault(f"{cls.__module__}.{cls.__qualname__}", []).append(cls)
        self.mappers.append(cls.__mapper__)  # type: ignore[attr-defined]

    def map_imperatively(self, cls: type, table: Any, properties: dict[str, Any] | None = None
                         ) -> Mapper:
        """Map a plain class to a Core Table (see :mod:`session_ext.mapping.imperative`)."""
        from .imperative import map_imperatively

        return map_imperatively(self, cls, table, properties)

    def find(self, name: str) -> type | None:
        """The one mapped class of this registry named ``name``, or None."""
        found = self._by_name.get(name)
        return found[0] if found and len(found) == 1 else None

    def resolve(self, name: str) -> type:
        found = self._by_name.get(name)
        if not found:
            raise exc.InvalidRequestError(
                f"No mapped class named {name!r} in this declarative base; known classes: "
                f"{sorted(k for k in self._by_name if '.' not in k)}. Check the spelling "
                "or define the class before the mapping is first used"
            )
        if len(found) > 1:
            raise exc.InvalidRequestError(
                f"Several mapped classes are named {name!r}: "
                f"{[f'{c.__module__}.{c.__qualname__}' for c in found]}; "
                "use the module-qualified name"
            )
        return found[0]


def _is_base(cls: type) -> bool:
    """A declarative base: a direct subclass of DeclarativeBase (or of
    DeclarativeBaseNoMeta), or a class that says so (``__se_base__``, a base
    sharing its parent base's registry: Flask's ``db.Model`` on your base)."""
    return any(b in _BASE_ROOTS for b in cls.__bases__) or "__se_base__" in cls.__dict__


def _table_args(cls: type) -> tuple[list[Any], dict[str, Any]]:
    args = getattr(cls, "__table_args__", None)
    if args is None:
        return [], {}
    if isinstance(args, dict):
        return [], dict(args)
    if isinstance(args, tuple):
        if args and isinstance(args[-1], dict):
            return list(args[:-1]), dict(args[-1])
        return list(args), {}
    raise exc.ArgumentError(
        f"{cls.__name__}.__table_args__ must be a tuple (optionally ending in a dict) or a "
        f"dict, not {type(args).__name__}"
    )


_NO_VALUE: Any = object()
#: the classes whose direct subclasses are bases (set below their definitions)
_BASE_ROOTS: tuple[type, ...] = ()


def _own_items(klass: type) -> list[tuple[str, Any, Any]]:
    """``(key, value, annotation)`` of ``klass``'s own body in declaration order
    (``_NO_VALUE``: annotation only; None: no annotation).

    The class namespace and the annotations are two orders; they are merged as
    SQLAlchemy merges them: an annotation-only key comes right after the
    annotated, assigned key written before it (before the first one if none),
    ahead of assigned keys without annotation written between the two."""
    anns = typed.own_annotations(klass)
    values = vars(klass)
    ann_keys = [k for k in anns if k not in values]  # annotation-only, in order
    ann_order = {k: i for i, k in enumerate(anns)}
    shared = sorted(ann_order[k] for k in anns if k in values)
    following = dict(zip(shared, [*shared[1:], len(anns)], strict=False))
    out: list[tuple[str, Any, Any]] = []

    def flush(before: int) -> None:
        while ann_keys and ann_order[ann_keys[0]] < before:
            k = ann_keys.pop(0)
            out.append((k, _NO_VALUE, anns[k]))

    for key, value in values.items():
        pos = ann_order.get(key)
        if pos is not None:  # annotation-only keys written before this one come first
            flush(pos)
        out.append((key, value, anns.get(key)))
        if pos is not None:  # and those written after it, up to the next such key
            flush(following[pos])
    out.extend((k, _NO_VALUE, anns[k]) for k in ann_keys)
    return out


def _skipped(klass: type) -> bool:
    return klass in _NOT_MAPPED or _is_base(klass)


def _collect_properties(cls: type) -> tuple[dict[str, Column[Any]], dict[str, Any]]:
    """Columns and other mapped properties of ``cls``: own body plus mixins."""
    columns: dict[str, Column[Any]] = {}
    props: dict[str, Any] = {}
    sort_orders: dict[str, int] = {}
    type_map = _registry_of(cls).type_annotation_map
    dataclass = hasattr(cls, "__se_dataclass_options__")
    parent = _inherited_mapper(cls)
    inherited = set(parent.class_.__mro__) if parent is not None else set()
    for klass in reversed(cls.__mro__):
        if _skipped(klass):
            continue
        own = klass is cls
        if not own and klass in inherited:
            continue  # a mapped class inherited from (or its mixins): mapped already
        for key, value, annotation in _own_items(klass):
            if isinstance(value, declared_attr):
                if key.startswith("__"):
                    continue
                if annotation is None:
                    annotation = value.fn.__annotations__.get("return")
                value = getattr(cls, key)
                if not isinstance(value, (Column, typed.MappedColumn)) \
                        and not hasattr(value, "_se_declare"):
                    continue
                setattr(cls, key, value)
            ann = typed.mapped_annotation(annotation, klass)
            if value is _NO_VALUE:
                if ann is not None:  # annotation only: a column
                    columns.pop(key, None)
                    columns[key] = typed.column_for(cls, key, None, ann, type_map)
                continue
            if isinstance(value, typed.MappedColumn):
                if not dataclass:
                    _refuse_dataclass_options(cls, key, value.dataclass_opts)
                columns.pop(key, None)
                columns[key] = typed.column_for(cls, key, value, ann, type_map)
                sort_orders[key] = value.sort_order
            elif isinstance(value, Column):
                if not own:
                    if value.foreign_keys and not isinstance(vars(klass)[key], declared_attr):
                        raise exc.ArgumentError(
                            f"Column {key!r} on mixin {klass.__name__} has a ForeignKey; "
                            "wrap it in a @declared_attr method so each class gets its own copy"
                        )
                    value = copy_column(value)
                columns.pop(key, None)
                columns[key] = value
            elif hasattr(value, "_se_declare"):
                if not own and not isinstance(vars(klass)[key], declared_attr):
                    raise exc.ArgumentError(
                        f"relationship {key!r} on mixin {klass.__name__} must be wrapped in a "
                        "@declared_attr method so each class gets its own"
                    )
                if not dataclass:
                    _refuse_dataclass_options(cls, key, getattr(value, "dataclass_options", {}))
                if not getattr(value, "is_column_expression", False):
                    typed.configure_relationship(value, cls, key, ann)
                props[key] = value
            elif ann is not None:
                raise exc.ArgumentError(
                    f"{klass.__name__}.{key} is annotated Mapped[...] but set to {value!r}; "
                    "set it to mapped_column(...) or relationship(...), or annotate it "
                    "ClassVar[...] if it is not mapped"
                )
    if any(sort_orders.values()):
        keys = sorted(columns, key=lambda k: sort_orders.get(k, 0))
        columns = {k: columns[k] for k in keys}
    return columns, props


def _refuse_dataclass_options(cls: type, key: str, options: Mapping[str, Any]) -> None:
    given = sorted(k for k in options if k != "default")
    if given:
        raise exc.ArgumentError(
            f"{cls.__name__}.{key} gives dataclass options {given}, but {cls.__name__} is "
            "not a dataclass: make the base class Base(MappedAsDataclass, DeclarativeBase), "
            "or leave those arguments out"
        )


def _inherited_mapper(cls: type) -> Mapper | None:
    """The mapper of the nearest mapped class ``cls`` inherits from."""
    for klass in cls.__mro__[1:]:
        mapper = klass.__dict__.get("__mapper__")
        if mapper is not None:
            return mapper  # type: ignore[no-any-return]
    return None


def _subclass_tablename(cls: type) -> Any:
    """A subclass of a mapped class names its own table in its body or through a
    ``@declared_attr`` (an inherited plain ``__tablename__`` does not count)."""
    if "__tablename__" in cls.__dict__:
        return cls.__dict__["__tablename__"]
    for klass in cls.__mro__[1:]:
        value = klass.__dict__.get("__tablename__")
        if isinstance(value, declared_attr):
            return cls.__tablename__  # type: ignore[attr-defined]
        if value is not None:
            return None
    return None


def _mapper_args(cls: type, parent: Mapper | None) -> dict[str, Any]:
    args = getattr(cls, "__mapper_args__", None) or {}
    if parent is not None and "__mapper_args__" not in cls.__dict__:
        owner = next(k for k in cls.__mro__ if "__mapper_args__" in k.__dict__)
        if not isinstance(owner.__dict__["__mapper_args__"], declared_attr):
            args = {}  # the parent's own arguments: not this class's identity
    return dict(args)


def _single_table(cls: type, parent: Mapper, columns: dict[str, Column[Any]]) -> Table:
    """Single-table inheritance: the subclass's columns join the parent's table."""
    table = parent.table
    for key, col in columns.items():
        if col.name is None:
            col.name = key
        if col.key is None or col.key != key:
            col.key = key
        existing = table.c.get(col.key)
        if existing is not None and existing is not col and col in typed.USE_EXISTING:
            continue  # use_existing_column=True: map the column the table has
        if existing is not None and existing is not col:
            raise exc.ArgumentError(
                f"Column {key!r} of single-table subclass {cls.__name__} conflicts with the "
                f"existing column {existing!r} of table {table.name!r}"
            )
        if col.primary_key:
            raise exc.ArgumentError(
                f"Single-table subclass {cls.__name__} declares primary key column {key!r}: "
                "the primary key comes from the base class's table"
            )
        table.append_column(col)
    return table


def _registry_of(cls: type) -> Registry:
    base = next(b for b in cls.__mro__ if _is_base(b))
    return base.registry  # type: ignore[attr-defined, no-any-return]


def _map_class(cls: type) -> None:
    registry = _registry_of(cls)
    metadata = registry.metadata
    parent = _inherited_mapper(cls)
    columns, props = _collect_properties(cls)
    table = cls.__dict__.get("__table__")
    if parent is None:
        tablename = getattr(cls, "__tablename__", None)
    else:
        tablename = _subclass_tablename(cls)
    if parent is not None and table is None and tablename is None:
        if parent.table_parts:
            raise exc.ArgumentError(
                f"Class {cls.__name__} names no table of its own, and its parent "
                f"{parent.class_.__name__} uses joined-table inheritance: single-table "
                "subclasses of a joined-table subclass are not supported; give "
                f"{cls.__name__} a __tablename__"
            )
        table = _single_table(cls, parent, columns)
        col_for_key = {key: table.c[key] for key in columns}
    elif table is None:
        if tablename is None:
            raise exc.ArgumentError(
                f"Class {cls.__name__} has no __tablename__ or __table__: give it one, or set "
                "__abstract__ = True if it is only a base for other classes"
            )
        for key, col in columns.items():
            if col.name is None:
                col.name = key
            if col.key is None or col.key != key:
                col.key = key
        args, kwargs = _table_args(cls)
        table = Table(tablename, metadata, *columns.values(), *args, **kwargs)
        col_for_key = {key: table.c[key] for key in columns}
    else:
        col_for_key = _own_table_columns(cls, table, columns)
    try:
        mapper = Mapper(cls, table, registry, inherits=parent)
    except exc.ArgumentError:
        if "__table__" not in cls.__dict__:
            metadata.remove(table)
        raise
    cls.__mapper__ = mapper  # type: ignore[attr-defined]
    cls.__table__ = table  # type: ignore[attr-defined]
    if parent is not None:
        for key, attr in parent.column_attrs.items():
            mapper.add_column_attribute(key, attr.column)
        for col, key in parent.col_to_key.items():  # joined: every table's column
            mapper.col_to_key.setdefault(col, key)
        mapper.relationships.update(parent.relationships)
        mapper.attrs.update(parent.relationships)
    for key, col in col_for_key.items():
        setattr(cls, key, mapper.add_column_attribute(key, col))
    mapper.configure_columns()
    margs = _mapper_args(cls, parent)
    mapper.set_polymorphic(margs.get("polymorphic_on"), margs.get("polymorphic_identity"))
    mapper.polymorphic_load = margs.get("polymorphic_load")
    mapper.with_polymorphic_arg = margs.get("with_polymorphic")
    mapper.eager_defaults = margs.get("eager_defaults", "auto")
    if parent is not None or mapper.polymorphic_on is not None:
        mapper.refresh_hierarchy()
    for key, prop in props.items():
        prop._se_declare(mapper, key)
    ident = mapper.polymorphic_identity
    disc = mapper.col_to_key.get(mapper.polymorphic_on) if ident is not None else None  # type: ignore[arg-type]
    _column_inits[cls] = (registry, mapper, (disc, ident) if disc is not None else None)
    install_validators(mapper)
    registry.add(cls)


def _own_table_columns(cls: type, table: Any, columns: dict[str, Column[Any]]) -> dict[str, Any]:
    if not isinstance(table, Table):
        raise exc.ArgumentError(
            f"{cls.__name__}.__table__ must be a sqlalchemy Table, not {type(table).__name__}"
        )
    col_for_key = {}
    for key, col in columns.items():
        if col.table is not table:
            raise exc.ArgumentError(
                f"{cls.__name__} declares __table__ and also Column {key!r}; with "
                "__table__ the columns come from the table: remove the Column"
            )
        col_for_key[key] = col
    return col_for_key


#: mapped class -> (registry, mapper), for the constructor: one dict lookup
#: instead of class attribute and ``__dict__`` lookups per new object
#: and the discriminator (attribute key, value) its new objects get (or None)
_column_inits: dict[type, tuple[Registry, Mapper, tuple[str, Any] | None]] = {}


def _clause_element(cls: type) -> Any:
    mapper = cls.__dict__.get("__mapper__")
    if mapper is None:
        raise exc.UnmappedClassError(
            f"Class {cls.__name__} is not mapped (it is a declarative base or __abstract__), "
            "so it cannot be used in a SQL statement"
        )
    return mapper._selectable


class _MappedClassMeta(type):
    """Lets a mapped class itself act as a Core FROM/columns element."""

    def __clause_element__(cls) -> Any:
        return _clause_element(cls)


class _Declarative:
    """What both declarative bases give their classes: mapping at the class
    statement, the keyword constructor and the repr."""

    if TYPE_CHECKING:
        metadata: ClassVar[MetaData]
        registry: ClassVar[Registry]
        type_annotation_map: ClassVar[dict[Any, Any]]
        __mapper__: ClassVar[Mapper]
        __table__: ClassVar[Table]
        __tablename__: Any
        __table_args__: Any
        __mapper_args__: Any
    __abstract__: ClassVar[bool] = False

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if _is_base(cls):
            _set_up_base(cls)
            return
        if cls.__dict__.get("__abstract__", False):
            return
        _map_class(cls)

    def __init__(self, **kwargs: Any) -> None:
        cls = type(self)
        mapped = _column_inits.get(cls)  # one dict lookup: this runs once per new object
        registry, mapper, disc = mapped if mapped is not None else (cls.registry, None, None)
        if registry.relationships_pending:
            registry.configure()
        d = self.__dict__
        if listening.instance and mapper is not None:
            listening.fire_instance(mapper, "init", self, (), kwargs)
        fresh = STATE_ATTR not in d
        if disc is not None and fresh:
            d[disc[0]] = disc[1]  # the discriminator of a new object of the class
        if fresh and mapper is not None and mapper.init_keys.issuperset(kwargs):
            d.update(kwargs)  # what the column descriptors do for a new object
            return
        columns = mapper.init_keys if mapper is not None else ()
        for key, value in kwargs.items():
            if fresh and key in columns:
                d[key] = value  # what the column descriptor does for a new object
                continue
            if not hasattr(cls, key):
                known = sorted(mapper.attrs) if mapper is not None else []
                raise TypeError(
                    f"{key!r} is an invalid keyword argument for {cls.__name__}: it has no "
                    f"attribute of that name (mapped attributes: {', '.join(known)})"
                )
            setattr(self, key, value)

    def __repr__(self) -> str:
        cls = type(self)
        mapper = cls.__dict__.get("__mapper__")
        if mapper is None:
            return object.__repr__(self)
        d = self.__dict__
        state = d.get(STATE_ATTR)
        parts = []
        for key in mapper.pk_keys:
            parts.append(f"{key}={d.get(key)!r}")
        shown = 0
        for key in mapper.column_attr_keys:
            if key in mapper.pk_keys or key not in d or shown >= 3:
                continue
            value = d[key]
            text = repr(value)
            if len(text) > 40:
                text = text[:37] + "..."
            parts.append(f"{key}={text}")
            shown += 1
        status = ""
        if state is not None and state.key is None and state.session_id is not None:
            status = " (pending)"
        elif state is not None and state.deleted:
            status = " (deleted)"
        return f"<{cls.__name__} {' '.join(parts)}{status}>"


class DeclarativeBase(_Declarative, metaclass=_MappedClassMeta):
    """Subclass this once to make a declarative base for your models.

    The base holds ``metadata`` (pass your own ``MetaData`` as a class attribute
    to share it), ``registry`` and ``type_annotation_map`` (Python types to SQL
    types for ``Mapped[...]`` columns); its subclasses are mapped to tables.
    The class itself stands for its table in Core statements (``select(User)``).
    """

    __abstract__ = True


class _ClassClauseElement:
    """``Model.__clause_element__()`` on the class only: an instance is no SQL
    element (``hasattr(obj, "__clause_element__")`` is False)."""

    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is not None:
            raise AttributeError("__clause_element__")
        return lambda: _clause_element(owner)


class DeclarativeBaseNoMeta(_Declarative):
    """:class:`DeclarativeBase` without a metaclass of its own, for classes that
    need another metaclass (``class Base(DeclarativeBaseNoMeta, metaclass=MyMeta)``)."""

    __abstract__ = True
    __clause_element__ = _ClassClauseElement()


_BASE_ROOTS = (DeclarativeBase, DeclarativeBaseNoMeta)
#: classes in a model's MRO that are never mixins
_NOT_MAPPED = frozenset((object, _Declarative, DeclarativeBase, DeclarativeBaseNoMeta))


def _set_up_base(cls: type) -> None:
    """A new declarative base: its registry, metadata and type_annotation_map."""
    own = cls.__dict__
    if "__se_base__" in own:  # shares the registry of the base it derives from
        return
    registry = own.get("registry")
    metadata = own.get("metadata")
    type_map = own.get("type_annotation_map")
    if registry is None:
        registry = Registry(metadata, type_annotation_map=type_map)
    else:
        if not isinstance(registry, Registry):
            raise exc.ArgumentError(
                f"{cls.__name__}.registry must be a session_ext Registry, not "
                f"{type(registry).__name__}"
            )
        if metadata is not None and metadata is not registry.metadata:
            raise exc.ArgumentError(
                f"{cls.__name__} sets both registry and metadata: give the MetaData to "
                "the Registry (Registry(metadata))"
            )
        if type_map:
            registry.type_annotation_map.update(type_map)
    cls.registry = registry  # type: ignore[attr-defined]
    cls.metadata = registry.metadata  # type: ignore[attr-defined]
    cls.type_annotation_map = registry.type_annotation_map  # type: ignore[attr-defined]


def declarative_base(
    metadata: MetaData | None = None,
    name: str = "Base",
    cls: type | tuple[type, ...] = object,
    metaclass: type = _MappedClassMeta,
) -> type[DeclarativeBase]:
    """Return a new declarative base class (the 1.x-style spelling of
    subclassing :class:`DeclarativeBase`).

    ``metadata`` is shared if given; ``cls`` adds your own base class(es) whose
    methods every model inherits; ``metaclass`` (a subclass of
    ``type(DeclarativeBase)``) is the metaclass of the base and its models.
    """
    if not (isinstance(metaclass, type) and issubclass(metaclass, _MappedClassMeta)):
        raise exc.ArgumentError(
            f"declarative_base(metaclass={metaclass!r}): the metaclass must subclass "
            "type(session_ext.DeclarativeBase)"
        )
    bases = cls if isinstance(cls, tuple) else (cls,)
    bases = tuple(b for b in bases if b is not object) + (DeclarativeBase,)
    namespace: dict[str, Any] = {"__module__": __name__, "__doc__": "A declarative base."}
    if metadata is not None:
        namespace["metadata"] = metadata
    return metaclass(name, bases, namespace)  # type: ignore[no-any-return]


def is_mapped_class(cls: Any) -> bool:
    return isinstance(cls, type) and "__mapper__" in vars(cls)
