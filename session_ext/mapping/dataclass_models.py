"""``MappedAsDataclass``: mapped classes that are also dataclasses.

::

    class Base(MappedAsDataclass, DeclarativeBase):
        pass

    class User(Base):
        __tablename__ = "user_account"
        id: Mapped[int] = mapped_column(init=False, primary_key=True)
        name: Mapped[str]
        addresses: Mapped[list["Address"]] = relationship(default_factory=list,
                                                          back_populates="user")

Every class below the base (mapped, ``__abstract__`` or a mixin that subclasses
``MappedAsDataclass``) goes through :func:`dataclasses.dataclass` when its class
statement runs, before it is mapped: ``__init__``, ``__repr__`` and ``__eq__``
are the dataclass's, made from the ``Mapped[...]`` attributes in declaration
order (fields of dataclass bases first).  ``mapped_column()``/``relationship()``
keywords ``init``, ``repr``, ``default``, ``default_factory``, ``compare``,
``kw_only``, ``hash`` and ``dataclass_metadata`` become the field's options;
class keywords (``class Base(MappedAsDataclass, DeclarativeBase, kw_only=True)``)
go to ``dataclass()``.  The generated ``__init__`` sets each attribute through
session_ext's descriptors, as ``obj.name = value`` would.
"""

from __future__ import annotations

import dataclasses
from typing import Any, dataclass_transform

from .. import exc
from . import typed
from .relationships.relationship import relationship

#: dataclass() keywords a class statement may give
_CLASS_KEYWORDS = ("init", "repr", "eq", "order", "unsafe_hash", "match_args", "kw_only",
                   "dataclass_callable")
_NO_DEFAULT: Any = dataclasses.MISSING


@dataclass_transform(field_specifiers=(typed.MappedColumn, typed.mapped_column, relationship))
class MappedAsDataclass:
    """Mixin of a declarative base whose classes are dataclasses (see the module)."""

    def __init_subclass__(cls, **kw: Any) -> None:
        options = {k: kw.pop(k) for k in list(kw) if k in _CLASS_KEYWORDS}
        inherited = getattr(cls, "__se_dataclass_options__", {})
        options = {**inherited, **options}
        cls.__se_dataclass_options__ = options  # type: ignore[attr-defined]
        if not _is_base(cls):
            _make_dataclass(cls, options)
        super().__init_subclass__(**kw)


def _is_base(cls: type) -> bool:
    from .declarative import _is_base as is_declarative_base

    return is_declarative_base(cls) or MappedAsDataclass in cls.__bases__


def _field_for(key: str, value: Any, options: dict[str, Any]) -> Any:
    """The ``dataclasses.field()`` of one mapped attribute."""
    kwargs: dict[str, Any] = {}
    for name in ("init", "repr", "compare", "kw_only", "hash"):
        if name in options:
            kwargs[name] = options[name]
    if "dataclass_metadata" in options:
        kwargs["metadata"] = options["dataclass_metadata"]
    if "default" in options and "default_factory" in options:
        raise exc.ArgumentError(f"{key}: give default or default_factory, not both")
    if "default" in options:
        kwargs["default"] = options["default"]
    elif "default_factory" in options:
        kwargs["default_factory"] = options["default_factory"]
    elif value is None and kwargs.get("init", True) is False:
        kwargs["default"] = None  # not in __init__: reads as None until set
    return dataclasses.field(**kwargs)


def _options_of(value: Any) -> dict[str, Any] | None:
    if isinstance(value, typed.MappedColumn):
        return value.dataclass_opts
    if hasattr(value, "_se_declare"):  # a relationship
        return getattr(value, "dataclass_options", {})
    return None


def _make_dataclass(cls: type, options: dict[str, Any]) -> None:
    """Run ``dataclass()`` on ``cls``, keeping its mapped attributes for mapping."""
    kept: dict[str, Any] = {}
    for key, annotation in typed.own_annotations(cls).items():
        if typed.mapped_annotation(annotation, cls) is None:
            continue
        value = cls.__dict__.get(key)
        opts = _options_of(value)
        if opts is None and value is not None:
            continue  # a plain default (or a Column): dataclass() takes it as it is
        kept[key] = value
        setattr(cls, key, _field_for(key, value, opts or {}))
    make = options.get("dataclass_callable", dataclasses.dataclass)
    make(cls, **{k: v for k, v in options.items() if k != "dataclass_callable"})
    for key, value in kept.items():
        if value is None:
            if key in cls.__dict__:
                delattr(cls, key)  # the field's default: __init__ has it, the class must not
        else:
            setattr(cls, key, value)
    _configure_first(cls)


def _configure_first(cls: type) -> None:
    """The dataclass ``__init__`` of a mapped class resolves its relationships
    first, as the declarative constructor does."""
    init = cls.__dict__.get("__init__")
    if init is None or cls.__dict__.get("__abstract__", False):
        return

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        registry = type(self).registry
        if registry.relationships_pending:
            registry.configure()
        init(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__doc__ = init.__doc__
    __init__.__wrapped__ = init  # type: ignore[attr-defined]
    cls.__init__ = __init__  # type: ignore[misc]


__all__ = ["MappedAsDataclass"]
