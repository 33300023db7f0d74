"""Session and mapper events through Core's ``sqlalchemy.event``.

SQLAlchemy's event system lets a library register its own event targets: an
``Events`` subclass names the events (its methods give their signatures) and
the class that receives the ``dispatch`` collection.  Here
:class:`SessionEvents` targets session_ext's :class:`~session_ext.Session`
and :class:`MapperEvents` its :class:`~session_ext.Mapper`, so::

    from sqlalchemy import event

    event.listen(session_or_factory_or_Session_class, "before_commit", fn)
    event.listen(User, "before_insert", fn)      # fn(mapper, connection, target)

work as on SQLAlchemy's ORM.  Nothing here imports ``sqlalchemy.orm``.

Our event classes go first in Core's registry of event names, so a
session_ext target never reaches the ORM's own event classes (which accept
any class, ORM-mapped or not); every other target is left to them.

Cost: registering a listener sets a flag in :mod:`session_ext.listening`;
until then firing an event is one module attribute test.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.schema import Column

from . import listening
from .compat import LibraryEvents, put_events_first
from .factory import sessionmaker
from .mapping.attrevents import AttributeTarget, class_descriptor, target_for
from .mapping.attributes import ColumnAttribute
from .mapping.declarative import Registry
from .mapping.mapper import Mapper, mapper_for_table
from .scoping import scoped_session
from .session import Session
from .state import instance_state


class SessionEvents(LibraryEvents):
    """The events of a session_ext ``Session`` (SQLAlchemy's names and arguments).

    Listen on a session, a ``sessionmaker``, a ``scoped_session`` or a
    ``Session`` class.  Listening on a factory gives it its own ``Session``
    subclass (as SQLAlchemy's ``sessionmaker`` always does), so its listeners
    apply to the sessions it creates from then on."""

    _se_target = Session

    @classmethod
    def _se_accept(cls, target: Any) -> Any:
        if isinstance(target, scoped_session):
            target = target.session_factory
        if isinstance(target, sessionmaker):
            return _factory_class(target)
        if isinstance(target, type):
            if issubclass(target, Session):
                return target
            if issubclass(target, scoped_session):
                return Session
            return None
        if isinstance(target, Session):
            return target
        return None

    @classmethod
    def _se_on_listen(cls, identifier: str) -> None:
        listening.session = True

    # -- transactions ------------------------------------------------------------
    def after_transaction_create(self, session: Any, transaction: Any) -> None:
        """A transaction (root or SAVEPOINT) was created."""

    def after_transaction_end(self, session: Any, transaction: Any) -> None:
        """A transaction ended (committed, rolled back or closed)."""

    def before_commit(self, session: Any) -> None:
        """Before a commit (of the root transaction or a SAVEPOINT), before its flush."""

    def after_commit(self, session: Any) -> None:
        """The root transaction committed."""

    def after_rollback(self, session: Any) -> None:
        """A database rollback happened (root, SAVEPOINT, or a failed flush's)."""

    def after_soft_rollback(self, session: Any, previous_transaction: Any) -> None:
        """``rollback()`` ended ``previous_transaction``."""

    def after_begin(self, session: Any, transaction: Any, connection: Any) -> None:
        """A transaction began on a connection."""

    def do_orm_execute(self, orm_execute_state: Any) -> None:
        """``Session.execute()`` was called (see session_ext.ormexecute.ORMExecuteState);
        a ``Result`` returned is what the call returns."""

    # -- flush -------------------------------------------------------------------
    def before_flush(self, session: Any, flush_context: Any, instances: Any) -> None:
        """A flush with something to write is about to start."""

    def after_flush(self, session: Any, flush_context: Any) -> None:
        """The flush's SQL ran; objects are not settled yet (``session.new`` still lists them)."""

    def after_flush_postexec(self, session: Any, flush_context: Any) -> None:
        """The flush finished and objects are settled."""

    # -- object lifecycle ----------------------------------------------------------
    def after_attach(self, session: Any, instance: Any) -> None:
        """An object was attached to the session (add, delete of a detached object)."""

    def transient_to_pending(self, session: Any, instance: Any) -> None:
        """``add()`` of a transient object."""

    def pending_to_transient(self, session: Any, instance: Any) -> None:
        """A pending object was expunged or discarded by a rollback."""

    def pending_to_persistent(self, session: Any, instance: Any) -> None:
        """A pending object's INSERT was flushed."""

    def loaded_as_persistent(self, session: Any, instance: Any) -> None:
        """An object was loaded into the session from a row."""

    def persistent_to_deleted(self, session: Any, instance: Any) -> None:
        """A persistent object's DELETE was flushed."""

    def deleted_to_detached(self, session: Any, instance: Any) -> None:
        """A deleted object left the session (commit, expunge, close)."""

    def persistent_to_detached(self, session: Any, instance: Any) -> None:
        """A persistent object was expunged (``expunge()``, ``close()``, ...)."""

    def detached_to_persistent(self, session: Any, instance: Any) -> None:
        """A detached object was attached (``add()``)."""

    def persistent_to_transient(self, session: Any, instance: Any) -> None:
        """A rollback undid the INSERT of an object."""

    def deleted_to_persistent(self, session: Any, instance: Any) -> None:
        """A rollback undid the DELETE of an object."""


class MapperEvents(LibraryEvents):
    """Per-object flush events of a mapped class: ``fn(mapper, connection, target)``,
    and its instance events (``init``, ``load``, ``refresh``, ``expire``, as
    SQLAlchemy's ``InstanceEvents``).

    Listen on the mapped class, its mapper, the ``Mapper`` class (every
    mapper), or a declarative base (every class mapped from it).
    ``propagate=True`` on a class also fires for its mapped subclasses."""

    _se_target = Mapper

    @classmethod
    def _se_accept(cls, target: Any) -> Any:
        if isinstance(target, Mapper):
            return target
        if isinstance(target, type):
            if issubclass(target, Mapper):
                return Mapper
            mapper = target.__dict__.get("__mapper__")
            if isinstance(mapper, Mapper):
                return mapper
            if _declarative_base(target):
                return Mapper  # every mapper; _se_wrap keeps to the base's classes
        return None

    @classmethod
    def _se_wrap(cls, target: Any, identifier: str, fn: Any) -> Any:
        if not (isinstance(target, type) and _declarative_base(target)
                and "__mapper__" not in target.__dict__):
            return None
        at = 0 if identifier in _INSTANCE_EVENTS else 2  # the argument that is the object

        def for_the_base_only(*args: Any) -> Any:
            if isinstance(args[at], target):
                return fn(*args)
            return None

        return for_the_base_only

    @classmethod
    def _se_on_listen(cls, identifier: str) -> None:
        if identifier in _INSTANCE_EVENTS:
            listening.instance = True
        else:
            listening.mapper = True

    def before_insert(self, mapper: Any, connection: Any, target: Any) -> None:
        """Before the object's INSERT."""

    def after_insert(self, mapper: Any, connection: Any, target: Any) -> None:
        """After the object's INSERT."""

    def before_update(self, mapper: Any, connection: Any, target: Any) -> None:
        """Before the object's UPDATE (for every changed object, as SQLAlchemy)."""

    def after_update(self, mapper: Any, connection: Any, target: Any) -> None:
        """After the object's UPDATE."""

    def before_delete(self, mapper: Any, connection: Any, target: Any) -> None:
        """Before the object's DELETE."""

    def after_delete(self, mapper: Any, connection: Any, target: Any) -> None:
        """After the object's DELETE."""

    # -- instance events ------------------------------------------------------------
    def init(self, target: Any, args: Any, kwargs: Any) -> None:
        """The constructor was called (before it sets anything): ``kwargs`` is its dict."""

    def load(self, target: Any, context: Any) -> None:
        """A row made a new object (its columns are set; eager loads may follow)."""

    def refresh(self, target: Any, context: Any, attrs: Any) -> None:
        """A row filled in attributes of an object already present: ``attrs`` the
        unloaded keys it covered (None for ``populate_existing``/``refresh()``)."""

    def expire(self, target: Any, attrs: Any) -> None:
        """Attributes were expired: ``attrs`` their keys, None for all."""


class AttributeEvents(LibraryEvents):
    """``set``, ``append`` and ``remove`` of a mapped attribute (SQLAlchemy's
    ``AttributeEvents``): listen on ``User.name`` (the column) or a
    relationship (``User.addresses``).  ``retval=True``: a ``set``/``append``
    listener's return value is what is stored; ``raw=True``: the listener gets
    the object's state instead of the object; ``propagate=True``: also for
    objects of mapped subclasses."""

    _se_target = AttributeTarget
    _se_own_keywords = ("retval", "raw")

    @classmethod
    def _se_accept(cls, target: Any) -> Any:
        if isinstance(target, AttributeTarget):
            return target
        attr = _attribute_of(target)
        return target_for(attr) if attr is not None else None

    @classmethod
    def _se_wrap_kw(cls, target: Any, identifier: str, fn: Any, kw: dict[str, Any]) -> Any:
        raw, retval = kw.get("raw", False), kw.get("retval", False)
        if raw:
            plain = fn

            def fn(target: Any, *args: Any) -> Any:  # noqa: F811
                return plain(instance_state(target), *args)
        if retval or identifier == "remove":
            return fn if raw else None
        given = fn

        def value_kept(target: Any, value: Any, *args: Any) -> Any:
            given(target, value, *args)
            return value

        return value_kept

    def set(self, target: Any, value: Any, oldvalue: Any, initiator: Any) -> None:
        """A scalar attribute is set: ``oldvalue`` is its value, or ``NO_VALUE``
        (session_ext's) when not loaded or never set."""

    def append(self, target: Any, value: Any, initiator: Any) -> None:
        """An object is added to a collection (before it goes in)."""

    def remove(self, target: Any, value: Any, initiator: Any) -> None:
        """An object is removed from a collection."""


def _attribute_of(target: Any) -> Any:
    """The descriptor a listen() target names: a mapped Column (``User.name``),
    a relationship, or a column descriptor; None otherwise."""
    if isinstance(target, ColumnAttribute) or (
            getattr(target, "is_relationship", False) and hasattr(target, "_set_scalar")):
        return target
    if isinstance(target, Column):
        table = getattr(target, "table", None)
        mapper = mapper_for_table(table) if table is not None else None
        key = mapper.col_to_key.get(target) if mapper is not None else None
        if key is not None:
            attr = class_descriptor(mapper.class_, key)
            return attr if isinstance(attr, ColumnAttribute) else None
    return None


_INSTANCE_EVENTS = frozenset(("init", "load", "refresh", "expire"))


def _declarative_base(cls: type) -> bool:
    """A declarative base (or an abstract class of one): has session_ext's registry."""
    return isinstance(getattr(cls, "registry", None), Registry)


def _factory_class(factory: sessionmaker[Any]) -> type:
    """The factory's own Session subclass (made on the first listener), so its
    listeners reach only the sessions it creates."""
    cls = factory.class_
    if cls.__dict__.get("_session_ext_factory") is not factory:
        cls = type(cls.__name__, (cls,), {"_session_ext_factory": factory,
                                          "__module__": cls.__module__,
                                          "__qualname__": cls.__qualname__})
        factory.class_ = cls
    return cls


put_events_first(SessionEvents, MapperEvents, AttributeEvents)
