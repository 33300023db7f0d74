"""Attribute events (``set``, ``append``, ``remove``) and ``@validates``.

An attribute with no listener and no validator is the plain descriptor, at
full speed: nothing here runs for it.  The first listener or validator of an
attribute gives it an :class:`AttributeTarget` (where Core's event system
keeps its listeners) and switches the descriptor object to an *evented*
subclass of its own class (``__class__`` assignment, so every reference to
it -- the class attribute, ``mapper.attrs`` -- sees the change), whose
setters fire the events and then do what the plain descriptor does.

Which listeners fire for an object: those of the attribute's target when the
object's class is the class the target belongs to, and those registered with
``propagate=True`` for objects of its mapped subclasses too (inherited
attributes share the base class's descriptor).  The listeners fire in
the order registered, then the validators (``@validates`` on the class).
"""

from __future__ import annotations

from typing import Any

from .. import exc
from ..compat import event_op, propagated_listeners
from ..state import NO_VALUE, instance_state

__all__ = ["NO_VALUE", "Initiator", "validates"]
from .attributes import ColumnAttribute

OP_APPEND = event_op("APPEND")
OP_REMOVE = event_op("REMOVE")
OP_REPLACE = event_op("REPLACE")
OP_BULK_REPLACE = event_op("BULK_REPLACE")

#: descriptor -> its AttributeTarget (only attributes with listeners or validators)
_targets: dict[Any, AttributeTarget] = {}


class Initiator:
    """The ``initiator`` of an attribute event: ``key`` names the attribute
    whose change started it (the other side's for a backref-driven event), and
    ``op`` is SQLAlchemy's operation token (``OP_APPEND``, ``OP_REMOVE``,
    ``OP_REPLACE``, ``OP_BULK_REPLACE`` of ``sqlalchemy.orm.attributes``)."""

    __slots__ = ("key", "op")

    def __init__(self, key: str, op: Any) -> None:
        self.key = key
        self.op = op

    def __repr__(self) -> str:
        return f"<Initiator {self.key} {self.op}>"


class AttributeTarget:
    """The event target of one mapped attribute (``dispatch`` comes from
    ``session_ext.events.AttributeEvents``)."""

    dispatch: Any

    def __init__(self, attr: Any, owner: type) -> None:
        self.attr = attr
        self.owner = owner
        self.key: str = attr.key
        #: ``@validates`` method name -> the classes declaring it for this
        #: attribute; the method is looked up on the object's class, so a
        #: subclass's method of that name replaces its parent's
        self.validators: dict[str, tuple[type, ...]] = {}

    def _listeners(self, obj: Any, name: str) -> Any:
        coll = getattr(self.dispatch, name)
        if type(obj) is self.owner:
            return coll
        propagated = propagated_listeners(coll)
        return [fn for fn in coll if fn in propagated]

    def _run_validators(self, obj: Any, value: Any, initiator: Initiator, remove: bool) -> Any:
        backref = initiator.key != self.key
        for name, classes in self.validators.items():
            if not isinstance(obj, classes):
                continue
            fn = getattr(type(obj), name, None)
            names, include_removes, include_backrefs = getattr(
                fn, "__se_validates__", ((), False, False))
            if self.key not in names or (backref and not include_backrefs):
                continue
            if include_removes:
                value = fn(obj, self.key, value, remove)
            elif not remove:
                value = fn(obj, self.key, value)
        return value

    # listeners first, then validators: SQLAlchemy registers validators when
    # the mappers are configured, after the listeners of the models' modules
    def fire_set(self, obj: Any, value: Any, old: Any, initiator: Initiator) -> Any:
        for fn in self._listeners(obj, "set"):
            value = fn(obj, value, old, initiator)
        if self.validators:
            value = self._run_validators(obj, value, initiator, False)
        return value

    def fire_append(self, obj: Any, value: Any, initiator: Initiator) -> Any:
        for fn in self._listeners(obj, "append"):
            value = fn(obj, value, initiator)
        if self.validators:
            value = self._run_validators(obj, value, initiator, False)
        return value

    def fire_remove(self, obj: Any, value: Any, initiator: Initiator) -> None:
        for fn in self._listeners(obj, "remove"):
            fn(obj, value, initiator)
        if self.validators:
            self._run_validators(obj, value, initiator, True)

    def install(self) -> None:
        """Make the descriptor fire this target's events."""
        attr = self.attr
        if isinstance(attr, ColumnAttribute):
            attr.__class__ = EventedColumnAttribute
            _refresh_init_keys(attr.mapper)
        elif getattr(attr, "_configured", False):
            attr.__class__ = _evented_class(type(attr))
        # an unconfigured relationship calls install() again when configured


def target_for(attr: Any) -> AttributeTarget:
    """The event target of a column attribute or relationship (made on first use)."""
    target = _targets.get(attr)
    if target is None:
        owner = attr.mapper.class_ if isinstance(attr, ColumnAttribute) else attr.parent.class_
        target = _targets[attr] = AttributeTarget(attr, owner)
        if not isinstance(attr, ColumnAttribute):
            attr.__dict__["_se_attr_events"] = target
        target.install()
    return target


def evented(attr: Any) -> bool:
    """The attribute fires events (a listener or validator made its target)."""
    return attr in _targets


def init_keys(mapper: Any) -> frozenset[str]:
    """The column keys the declarative constructor may store directly (not
    through the descriptor): those whose descriptor fires no events."""
    keys = mapper.column_attr_set
    cls = mapper.class_
    for key in keys:
        if isinstance(class_descriptor(cls, key), EventedColumnAttribute):
            return frozenset(k for k in keys
                             if not isinstance(class_descriptor(cls, k), EventedColumnAttribute))
    return keys


def class_descriptor(cls: type, key: str) -> Any:
    """What ``cls`` (or the nearest class of its MRO defining it) holds under ``key``."""
    for klass in cls.__mro__:
        if key in klass.__dict__:
            return klass.__dict__[key]
    return None


def _refresh_init_keys(mapper: Any) -> None:
    if hasattr(mapper, "column_attr_set"):
        mapper.init_keys = init_keys(mapper)
    for sub in mapper.subclass_mappers:
        _refresh_init_keys(sub)


class EventedColumnAttribute(ColumnAttribute):
    """A column attribute with listeners: ``set`` fires before the value is stored."""

    __slots__ = ()

    def __set__(self, obj: object, value: Any) -> None:
        old = obj.__dict__.get(self.key, NO_VALUE)
        value = _targets[self].fire_set(obj, value, old, Initiator(self.key, OP_REPLACE))
        ColumnAttribute.__set__(self, obj, value)


class EventedRelationship:
    """Mixed in before a relationship class: its changes fire events first.

    ``_collection_added`` / ``_collection_removed`` are this side's collection
    changes (list operations and assignment); ``_add_to`` / ``_remove_from``
    the changes a backref makes on this side; ``_set_scalar`` an assignment of
    a scalar reference."""

    key: str
    uselist: bool
    partner: Any
    _bulk: bool = False

    def _set_collection(self, obj: Any, d: Any, state: Any, value: Any) -> None:
        self._bulk = True
        try:
            super()._set_collection(obj, d, state, value)  # type: ignore[misc]
        finally:
            self._bulk = False

    def _collection_added(self, state: Any, item: Any) -> Any:
        obj = state.obj()
        if obj is not None:
            op = OP_BULK_REPLACE if self._bulk else OP_APPEND
            item = _targets[self].fire_append(obj, item, Initiator(self.key, op))
        return super()._collection_added(state, item)  # type: ignore[misc]

    def _collection_removed(self, state: Any, item: Any) -> None:
        obj = state.obj()
        if obj is not None:
            _targets[self].fire_remove(obj, item, Initiator(self.key, OP_REMOVE))
        super()._collection_removed(state, item)  # type: ignore[misc]

    def _set_scalar(self, obj: Any, d: Any, state: Any, value: Any) -> None:
        old = self._known_value(obj)  # type: ignore[attr-defined]
        value = _targets[self].fire_set(obj, value, old, Initiator(self.key, OP_REPLACE))
        super()._set_scalar(obj, d, state, value)  # type: ignore[misc]

    def _backref_initiator(self, op: Any) -> Initiator:
        """The initiator of a change the other side (``partner``) made here."""
        other = self.partner
        if other is None:
            return Initiator(self.key, OP_REPLACE)
        if getattr(other, "_bulk", False):
            return Initiator(other.key, OP_BULK_REPLACE)
        return Initiator(other.key, op if other.uselist else OP_REPLACE)

    def _add_to(self, target: Any, item: Any) -> None:
        events = _targets[self]
        if self.uselist:  # loaded or not, as SQLAlchemy
            events.fire_append(target, item, self._backref_initiator(OP_APPEND))
        else:
            old = self._known_value(target)  # type: ignore[attr-defined]
            if old is not item:
                events.fire_set(target, item, old, self._backref_initiator(OP_APPEND))
        super()._add_to(target, item)  # type: ignore[misc]

    def _remove_from(self, target: Any, item: Any) -> None:
        events = _targets[self]
        d = target.__dict__
        if self.uselist:  # only from a loaded (or new) collection, as SQLAlchemy
            if d.get(self.key) is not None or instance_state(target).key is None:
                events.fire_remove(target, item, self._backref_initiator(OP_REMOVE))
        else:
            current = self._known_value(target)  # type: ignore[attr-defined]
            if current is item or (current is NO_VALUE
                                   and instance_state(target).key is not None):
                events.fire_set(target, None, item, self._backref_initiator(OP_REMOVE))
        super()._remove_from(target, item)  # type: ignore[misc]


_evented_classes: dict[type, type] = {}


def _evented_class(cls: type) -> type:
    if issubclass(cls, EventedRelationship):
        return cls
    evented_cls = _evented_classes.get(cls)
    if evented_cls is None:
        evented_cls = _evented_classes[cls] = type(
            cls.__name__, (EventedRelationship, cls),
            {"__hash__": object.__hash__, "__module__": cls.__module__,
             "__qualname__": cls.__qualname__})
    return evented_cls


# -- @validates ---------------------------------------------------------------------

def validates(*names: str, include_removes: bool = False,
              include_backrefs: bool = True) -> Any:
    """Decorate a method of a mapped class as the validator of the named
    attributes: called as ``method(self, key, value)`` (with
    ``include_removes=True``: ``method(self, key, value, is_remove)``) on each
    set or append (and remove), it returns the value to store, or raises to
    refuse the change.  ``include_backrefs=False`` skips the changes a backref
    makes."""

    def decorate(fn: Any) -> Any:
        fn.__se_validates__ = (names, include_removes, include_backrefs)
        return fn

    return decorate


def install_validators(mapper: Any) -> None:
    """Register the ``@validates`` methods of ``mapper``'s class (its own and
    those of unmapped mixins) on its attributes."""
    cls = mapper.class_
    seen: set[str] = set()
    for klass in cls.__mro__:
        if klass is not cls and "__mapper__" in klass.__dict__:
            continue  # a mapped base registered its own
        for name, fn in list(klass.__dict__.items()):
            spec = getattr(fn, "__se_validates__", None)
            if spec is None or name in seen:
                continue
            seen.add(name)
            for key in spec[0]:
                attr = class_descriptor(cls, key) if key in mapper.attrs else None
                if attr is None:
                    raise exc.ArgumentError(
                        f"@validates({key!r}) on {cls.__name__}.{name}: {cls.__name__} has "
                        "no mapped attribute of that name")
                validators = target_for(attr).validators
                validators[name] = (*validators.get(name, ()), cls)
