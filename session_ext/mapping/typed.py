"""Typed declarative models: ``Mapped[...]`` annotations and ``mapped_column()``.

The 2.x spelling of a model::

    class User(Base):
        __tablename__ = "user_account"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(30))
        fullname: Mapped[str | None]
        addresses: Mapped[list["Address"]] = relationship(back_populates="user")

``Mapped`` is for type checkers: on the class, ``User.name`` is typed as a column
expression (:class:`InstrumentedAttribute`), on an instance as ``str``.  At run
time nothing of it stays on the class: the declarative base reads the
annotations once, when the class statement runs, and puts session_ext's own
descriptors there (the same ones a ``Column`` model gets), so attribute access
costs what it always did.

What an annotation gives (see docs/models.md):

* the column type, when ``mapped_column()`` names none: from the base's
  ``type_annotation_map``, then from the defaults (``int`` -> ``Integer``,
  ``str`` -> ``String``, enum classes -> ``Enum(cls)``, ``Literal[...]`` ->
  ``Enum`` of the strings, ...), looked up along the Python type's MRO;
* ``nullable``, when ``mapped_column()`` does not say: ``Optional[X]`` / ``X |
  None`` is nullable, anything else NOT NULL (a primary key always is);
* ``Annotated[X, mapped_column(...)]``: the arguments of that ``mapped_column``
  are the defaults of the attribute's own;
* for a ``relationship()``: its target (``Mapped[list["Address"]]``,
  ``Mapped["User"]``, ``Mapped[Optional["User"]]``) and ``uselist``
  (a list annotation: a collection; anything else: a scalar), and the loader of
  ``WriteOnlyMapped`` / ``DynamicMapped``.
"""

from __future__ import annotations

import builtins
import datetime
import decimal
import enum
import re
import sys
import types
import typing
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar, Union, overload

import sqlalchemy
from sqlalchemy import types as sqltypes
from sqlalchemy.schema import Column

from .. import exc
from ..compat import copy_schema_item

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)

#: what a keyword of mapped_column() is when it was not given
_UNSET: Any = type("_Unset", (), {"__repr__": lambda self: "<unset>", "__bool__":
                                  lambda self: False})()

#: mapped_column()/relationship() keywords that only a dataclass mapping uses
DATACLASS_KEYWORDS = ("init", "repr", "default_factory", "compare", "kw_only", "hash",
                      "dataclass_metadata")


# -- what type checkers see ----------------------------------------------------------

if TYPE_CHECKING:
    from sqlalchemy import SQLColumnExpression
    from sqlalchemy.sql.expression import ColumnElement

    class InstrumentedAttribute(ColumnElement[_T_co]):
        """``User.name`` on the class, as a type checker sees it: a column
        expression of the attribute's type (relationships add ``any``/``has``/
        ``of_type``/``and_``)."""

        key: str

        def any(self, criterion: Any = None, **kwargs: Any) -> ColumnElement[bool]: ...

        def has(self, criterion: Any = None, **kwargs: Any) -> ColumnElement[bool]: ...

        def of_type(self, class_: Any) -> InstrumentedAttribute[_T_co]: ...

        def and_(self, *criteria: Any) -> InstrumentedAttribute[_T_co]: ...

        @property
        def property(self) -> Any: ...

    class Mapped(Generic[_T_co]):
        """A mapped attribute: ``InstrumentedAttribute[T]`` on the class, ``T``
        on an instance."""

        @overload
        def __get__(self, instance: None, owner: Any) -> InstrumentedAttribute[_T_co]: ...

        @overload
        def __get__(self, instance: object, owner: Any) -> _T_co: ...

        def __get__(self, instance: object | None, owner: Any) -> Any: ...

        def __set__(self, instance: Any, value: _T_co | SQLColumnExpression[_T_co]) -> None: ...

        def __delete__(self, instance: Any) -> None: ...

    class _CollectionMapped(Mapped[_T_co]):
        @overload  # type: ignore[override]
        def __get__(self, instance: None, owner: Any) -> InstrumentedAttribute[_T_co]: ...

        @overload
        def __get__(self, instance: object, owner: Any) -> Any: ...

        def __get__(self, instance: object | None, owner: Any) -> Any: ...

        def __set__(self, instance: Any, value: Any) -> None: ...

    class WriteOnlyMapped(_CollectionMapped[_T_co]):
        """A ``lazy="write_only"`` collection of ``T``."""

    class DynamicMapped(_CollectionMapped[_T_co]):
        """A ``lazy="dynamic"`` collection of ``T``."""

else:

    class InstrumentedAttribute(Generic[_T_co]):
        """For annotations only: at run time ``User.name`` is the mapped
        ``Column`` (a relationship: the relationship object)."""

    class Mapped(Generic[_T_co]):
        """For annotations only (``name: Mapped[str]``); see the module docs."""

        __slots__ = ()

    class WriteOnlyMapped(Mapped[_T_co]):
        """``Mapped`` for a ``lazy="write_only"`` relationship."""

        __slots__ = ()

    class DynamicMapped(Mapped[_T_co]):
        """``Mapped`` for a ``lazy="dynamic"`` relationship."""

        __slots__ = ()


# -- mapped_column() -------------------------------------------------------------------


class MappedColumn(Mapped[_T]):
    """What ``mapped_column()`` returns: the arguments of a ``Column``, built
    per mapped class once the annotation is known (so a mixin's column, foreign
    key included, is new for each class)."""

    __slots__ = ("args", "kwargs", "type", "nullable", "column_default", "sort_order",
                 "dataclass_opts")

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any], type_: Any,
                 nullable: Any, column_default: Any, sort_order: int,
                 dataclass_opts: dict[str, Any]) -> None:
        self.args = args
        self.kwargs = kwargs
        self.type = type_
        self.nullable = nullable
        self.column_default = column_default
        self.sort_order = sort_order
        self.dataclass_opts = dataclass_opts

    def merged_over(self, base: MappedColumn[Any]) -> MappedColumn[Any]:
        """This column's arguments on top of ``base``'s (from ``Annotated``)."""
        return MappedColumn(
            base.args + self.args,
            {**base.kwargs, **self.kwargs},
            self.type if self.type is not None else base.type,
            self.nullable if self.nullable is not _UNSET else base.nullable,
            self.column_default if self.column_default is not _UNSET else base.column_default,
            self.sort_order if self.sort_order else base.sort_order,
            {**base.dataclass_opts, **self.dataclass_opts},
        )

    def build(self, key: str, type_: Any, nullable: bool | None) -> Column[Any]:
        """A new ``Column`` for attribute ``key`` of one class."""
        args = tuple(copy_schema_item(a) for a in self.args)
        kwargs = dict(self.kwargs)
        if nullable is not None:
            kwargs["nullable"] = nullable
        if self.column_default is not _UNSET:
            kwargs["default"] = self.column_default
        name = kwargs.pop("name", None) or key
        if type_ is None:
            return Column(name, *args, **kwargs)
        return Column(name, type_, *args, **kwargs)

    def __repr__(self) -> str:
        return f"mapped_column({self.type!r}, {self.kwargs!r})"


def mapped_column(
    __name_pos: Any = None,
    __type_pos: Any = None,
    /,
    *args: Any,
    init: Any = _UNSET,
    repr: Any = _UNSET,  # noqa: A002 - SQLAlchemy's keyword
    default: Any = _UNSET,
    default_factory: Any = _UNSET,
    compare: Any = _UNSET,
    kw_only: Any = _UNSET,
    hash: Any = _UNSET,  # noqa: A002 - SQLAlchemy's keyword
    dataclass_metadata: Any = _UNSET,
    nullable: bool | None = _UNSET,
    primary_key: bool | None = False,
    deferred: bool = False,
    name: str | None = None,
    type_: Any = None,
    autoincrement: Any = "auto",
    insert_default: Any = _UNSET,
    sort_order: int = 0,
    use_existing_column: bool = False,
    active_history: bool = False,
    **kw: Any,
) -> MappedColumn[Any]:
    """Declare a mapped column: ``Column``'s arguments (``ForeignKey``, ``index``,
    ``unique``, ``server_default``, ``onupdate``, ``comment``, ``key``, ...), the
    type and nullability taken from the ``Mapped[...]`` annotation unless given.

    ``default`` (or ``insert_default``) is the column's Python-side default;
    ``init``/``repr``/``default_factory``/``compare``/``kw_only``/``hash`` are
    for :class:`~session_ext.MappedAsDataclass` models. ``sort_order`` moves the
    column within the table (lower first; 0 is the default).
    """
    if deferred:
        raise exc.ArgumentError(
            "mapped_column(deferred=True): session_ext loads every column of a row; "
            "deferred column loading is not supported (leave the argument out, or "
            "select the columns you want with select(User.id, User.name))"
        )
    positional = [a for a in (__name_pos, __type_pos) if a is not None]
    if positional and isinstance(positional[0], str):
        if name is not None:
            raise exc.ArgumentError("mapped_column(): the name given twice, positionally "
                                    "and as name=")
        name = positional.pop(0)
    extra = []
    for item in positional:
        if _is_type(item):
            if type_ is not None:
                raise exc.ArgumentError(f"mapped_column(): two types given ({type_!r}, {item!r})")
            type_ = item
        else:
            extra.append(item)
    args = (*extra, *args)
    kwargs = dict(kw, primary_key=primary_key, autoincrement=autoincrement)
    if name is not None:
        kwargs["name"] = name
    opts = {k: v for k, v in (("init", init), ("repr", repr), ("default", default),
                              ("default_factory", default_factory), ("compare", compare),
                              ("kw_only", kw_only), ("hash", hash),
                              ("dataclass_metadata", dataclass_metadata))
            if v is not _UNSET}
    column_default = insert_default if insert_default is not _UNSET else default
    return MappedColumn(tuple(args), kwargs, type_, nullable, column_default, sort_order, opts)


def _is_type(obj: Any) -> bool:
    return isinstance(obj, sqltypes.TypeEngine) or (
        isinstance(obj, type) and issubclass(obj, sqltypes.TypeEngine)
    )


# -- reading annotations -------------------------------------------------------------


class _Forward:
    """A name in an annotation that is not defined (yet): a class declared
    later in the module, named by a relationship."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self) -> None:  # typing accepts callables as type arguments
        raise TypeError(self.name)

    def __getattr__(self, attr: str) -> _Forward:
        if attr.startswith("_"):
            raise AttributeError(attr)
        return _Forward(f"{self.name}.{attr}")

    def __or__(self, other: Any) -> Any:
        return Union[self, other]  # noqa: UP007 - operands are not types

    def __ror__(self, other: Any) -> Any:
        return Union[other, self]  # noqa: UP007

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Forward) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return self.name


class _Namespace(dict):  # type: ignore[type-arg]
    """Names for evaluating a string annotation: the class body, the module,
    builtins, ``typing`` and session_ext's typed names; anything else is a
    :class:`_Forward`."""

    def __init__(self, *scopes: Mapping[str, Any]) -> None:
        super().__init__()
        self.scopes = scopes

    def __missing__(self, name: str) -> Any:
        for scope in self.scopes:
            if name in scope:
                return scope[name]
        return _Forward(name)


_TYPED_NAMES = {"Mapped": Mapped, "WriteOnlyMapped": WriteOnlyMapped,
                "DynamicMapped": DynamicMapped}


def own_annotations(klass: type) -> dict[str, Any]:
    """The annotations written in ``klass``'s own body (strings unevaluated)."""
    try:
        import annotationlib  # Python 3.14+

        return dict(annotationlib.get_annotations(klass,
                                                  format=annotationlib.Format.FORWARDREF))
    except ImportError:
        return dict(klass.__dict__.get("__annotations__", {}))


def evaluate(annotation: Any, klass: type) -> Any:
    """An annotation as an object; names not defined become :class:`_Forward`."""
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if not isinstance(annotation, str):
        return annotation
    module = sys.modules.get(klass.__module__)
    # the module first, as typing.get_type_hints() does: an attribute named like a
    # type (``date: Mapped[date]``) must not hide the type
    namespace = _Namespace(vars(module) if module else {}, dict(vars(klass)),
                           vars(builtins), vars(typing), _TYPED_NAMES)
    try:
        return eval(annotation, {"__builtins__": {}}, namespace)  # noqa: S307 - an annotation
    except Exception as err:
        raise exc.ArgumentError(
            f"Could not read the annotation {annotation!r} of class {klass.__name__}: {err}"
        ) from err


_MAPPED_STRING = re.compile(r"\s*(\w+\.)*(Mapped|WriteOnlyMapped|DynamicMapped)\[")


class MappedAnnotation:
    """What a ``Mapped[...]`` annotation says: the wrapper (``Mapped``,
    ``WriteOnlyMapped``, ``DynamicMapped``) and the type inside it."""

    __slots__ = ("wrapper", "inner", "from_string")

    def __init__(self, wrapper: type, inner: Any, from_string: bool = False) -> None:
        self.wrapper = wrapper
        self.inner = inner
        #: the type inside was written as a string (``Mapped["User"]``, or the
        #: whole annotation under ``from __future__ import annotations``)
        self.from_string = from_string


def mapped_annotation(annotation: Any, klass: type) -> MappedAnnotation | None:
    """The annotation as a :class:`MappedAnnotation`, or None if it is not one
    (``ClassVar[...]``, a plain ``int``: not mapped)."""
    if annotation is None:
        return None
    if isinstance(annotation, str):
        if "Mapped" not in annotation:
            return None
        try:
            value = evaluate(annotation, klass)
        except exc.ArgumentError:
            if _MAPPED_STRING.match(annotation):
                raise
            return None  # some other annotation that mentions "Mapped"
    else:
        value = evaluate(annotation, klass)
    origin = typing.get_origin(value)
    if isinstance(origin, type) and issubclass(origin, Mapped):
        args = typing.get_args(value)
        from_string = isinstance(annotation, str) or (
            bool(args) and isinstance(args[0], (str, typing.ForwardRef)))
        return MappedAnnotation(origin, evaluate(args[0], klass) if args else Any, from_string)
    if isinstance(value, type) and issubclass(value, Mapped):
        return MappedAnnotation(value, Any)
    return None


def split_optional(tp: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``Optional[X]`` / ``X | None``, else ``(tp, False)``."""
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = typing.get_args(tp)
        rest = tuple(a for a in args if a is not type(None))
        if len(rest) < len(args):
            if len(rest) == 1:
                return rest[0], True
            return Union[rest], True  # noqa: UP007 - built from a tuple
    if tp is None or tp is type(None):
        return tp, True
    return tp, False


# -- annotation -> column ------------------------------------------------------------


_SA_VERSION = tuple(int(p) for p in sqlalchemy.__version__.split(".")[:2])


def _default_type_map() -> dict[Any, Any]:
    # SQLAlchemy's own default map: float is Float up to 2.0, Double from 2.1
    double = sqltypes.Double if _SA_VERSION >= (2, 1) else sqltypes.Float
    return {
        int: sqltypes.Integer(),
        float: double(),
        bool: sqltypes.Boolean(),
        str: sqltypes.String(),
        bytes: sqltypes.LargeBinary(),
        decimal.Decimal: sqltypes.Numeric(),
        datetime.datetime: sqltypes.DateTime(),
        datetime.date: sqltypes.Date(),
        datetime.time: sqltypes.Time(),
        datetime.timedelta: sqltypes.Interval(),
        uuid.UUID: sqltypes.Uuid(),
        enum.Enum: sqltypes.Enum(enum.Enum),
        Literal: sqltypes.Enum(enum.Enum),
    }


DEFAULT_TYPE_MAP: dict[Any, Any] = _default_type_map()


def _as_type(found: Any) -> Any:
    return found() if isinstance(found, type) else found


def _generic_enum(tp: Any) -> bool:
    return isinstance(tp, sqltypes.Enum) and tp.enum_class in (None, enum.Enum) \
        and not tp.enums


def _lookup(python_type: Any, type_map: Mapping[Any, Any]) -> Any:
    """The SQL type ``type_map`` (then the defaults) gives ``python_type``."""
    for table in (type_map, DEFAULT_TYPE_MAP):
        try:
            found = table.get(python_type)
        except TypeError:  # unhashable annotation
            found = None
        if found is not None:
            return _as_type(found)
    if typing.get_origin(python_type) is Annotated:
        return _lookup(typing.get_args(python_type)[0], type_map)
    if typing.get_origin(python_type) is Literal:
        found = type_map.get(Literal, DEFAULT_TYPE_MAP[Literal])
        values = [str(v) for v in typing.get_args(python_type)]
        if _generic_enum(_as_type(found)):
            return sqltypes.Enum(*values, native_enum=False)
        return _as_type(found)
    if isinstance(python_type, type):
        for klass in python_type.__mro__[1:]:
            for table in (type_map, DEFAULT_TYPE_MAP):
                found = table.get(klass)
                if found is None:
                    continue
                found = _as_type(found)
                if issubclass(python_type, enum.Enum) and _generic_enum(found):
                    return sqltypes.Enum(python_type, native_enum=found.native_enum)
                return found
    return None


def _annotated_column(tp: Any) -> tuple[Any, MappedColumn[Any] | None]:
    """``Annotated[X, mapped_column(...)]`` -> ``(X, that mapped_column)``."""
    if typing.get_origin(tp) is not Annotated:
        return tp, None
    found = None
    for extra in tp.__metadata__:
        if isinstance(extra, MappedColumn):
            found = extra
    if found is None:
        return tp, None
    return typing.get_args(tp)[0], found


def column_for(cls: type, key: str, spec: MappedColumn[Any] | None,
               ann: MappedAnnotation | None, type_map: Mapping[Any, Any]) -> Column[Any]:
    """The ``Column`` of attribute ``key`` of ``cls`` from its ``mapped_column()``
    (None: annotation only) and its annotation."""
    inner, optional = split_optional(ann.inner) if ann is not None else (Any, False)
    if ann is not None and typing.get_origin(inner) is Annotated:
        # the Annotated alias may itself be in type_annotation_map: keep it whole
        bare, from_annotated = _annotated_column(inner)
        if from_annotated is not None:
            spec = spec.merged_over(from_annotated) if spec is not None else from_annotated
            inner, more_optional = split_optional(bare)
            optional = optional or more_optional
    if spec is None:
        spec = mapped_column()
    type_ = spec.type
    if type_ is None and ann is not None and inner is not Any:
        type_ = _lookup(inner, type_map)
        if type_ is None and not _has_foreign_key(spec):
            raise exc.ArgumentError(
                f"Could not find an SQL type for the annotation {ann.inner!r} of "
                f"{cls.__name__}.{key}: give the type to mapped_column(), or add the Python "
                "type to the base's type_annotation_map"
            )
    nullable = spec.nullable
    if nullable is _UNSET:
        if spec.kwargs.get("primary_key"):
            nullable = None
        elif ann is not None:
            nullable = optional
        else:
            nullable = None
    return spec.build(key, _as_type(type_) if type_ is not None else None, nullable)


def _has_foreign_key(spec: MappedColumn[Any]) -> bool:
    from sqlalchemy.schema import ForeignKey

    return any(isinstance(a, ForeignKey) for a in spec.args)


# -- annotation -> relationship ------------------------------------------------------


def _target_of(tp: Any) -> Any:
    """A class, or its name, from what an annotation names."""
    if isinstance(tp, typing.ForwardRef):
        return tp.__forward_arg__
    if isinstance(tp, _Forward):
        return tp.name
    return tp


def _registry_class(cls: type, target: type) -> type:
    """The class a name written as a string means, as SQLAlchemy resolves it: the
    declarative base's own class of that name first, then the module's (a class
    declared in a function, named like one of the module, is the base's)."""
    registry = getattr(cls, "registry", None)
    find = getattr(registry, "find", None)
    found = find(target.__name__) if find is not None else None
    return found if found is not None else target


def configure_relationship(rel: Any, cls: type, key: str, ann: MappedAnnotation | None) -> None:
    """Fill a relationship's target, ``uselist`` and loader from its annotation."""
    if ann is not None:
        _apply_wrapper(rel, cls, key, ann.wrapper)
        inner, _ = split_optional(ann.inner)
        origin = typing.get_origin(inner)
        if origin in (list, typing.List):  # noqa: UP006 - both spellings
            target, uselist = typing.get_args(inner)[0], True
        elif origin in (set, frozenset, typing.Set, dict, typing.Dict):  # noqa: UP006
            raise exc.ArgumentError(
                f"{cls.__name__}.{key}: Mapped[{origin.__name__}[...]] asks for a "
                f"{origin.__name__} collection; session_ext relationship collections are "
                "lists: annotate it Mapped[list[...]]"
            )
        elif ann.wrapper is not Mapped:
            target, uselist = inner, True
        else:
            target, uselist = inner, False
        target = _target_of(split_optional(target)[0])
        if ann.from_string and isinstance(target, type):
            target = _registry_class(cls, target)
        if rel.argument is None and target is not Any:
            rel.argument = target
        if rel._uselist is None and ann.wrapper is Mapped:
            rel._uselist = uselist
    if rel.argument is None:
        raise exc.ArgumentError(
            f"relationship {cls.__name__}.{key} names no target class: pass it "
            "(relationship(\"Address\")) or annotate the attribute (Mapped[list[\"Address\"]])"
        )


def _apply_wrapper(rel: Any, cls: type, key: str, wrapper: type) -> None:
    if wrapper is Mapped:
        return
    lazy = "write_only" if wrapper is WriteOnlyMapped else "dynamic"
    try:
        rel.use_loader(lazy)
    except exc.ArgumentError:
        raise NotImplementedError(
            f"{cls.__name__}.{key}: {wrapper.__name__}[...] needs the lazy={lazy!r} loader, "
            "which this version of session_ext does not have; annotate it "
            "Mapped[list[...]] (a loaded list; lazy=\"select\" or \"selectin\"), and query "
            "large collections with select(Child).where(Child.parent_id == obj.id)"
        ) from None


__all__ = [
    "DATACLASS_KEYWORDS",
    "DynamicMapped",
    "InstrumentedAttribute",
    "Mapped",
    "MappedColumn",
    "WriteOnlyMapped",
    "column_for",
    "configure_relationship",
    "mapped_annotation",
    "mapped_column",
    "own_annotations",
]


def check_dataclass_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``init``/``default_factory``/... keywords of a relationship(), checked."""
    allowed = (*DATACLASS_KEYWORDS, "default")
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"relationship() got unexpected keyword argument(s) {unknown}")
    return dict(options)
