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

The class is assembled from one part per job (configuration, join analysis,
SQL operators, the attribute descriptor, backrefs, history, cascades), each in
its own module of this package. Loading strategies register themselves in
:mod:`.loaders` (see :mod:`session_ext.strategies`); flush-time dependency
processing lives in :mod:`session_ext.dependency`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.schema import Table

from ... import exc
from .attribute import RelationshipAttribute
from .backrefs import BackrefEvents
from .cascades import RelationshipCascades
from .comparator import RelationshipComparator
from .config import RelationshipConfig
from .history import RelationshipHistory
from .joins import JoinAnalysis
from .loaders import LOADER_STRATEGIES
from .views import CollectionViews


class Relationship(
    RelationshipConfig,
    JoinAnalysis,
    RelationshipComparator,
    RelationshipAttribute,
    BackrefEvents,
    RelationshipHistory,
    RelationshipCascades,
):
    """A mapped relationship; the class attribute and instance descriptor."""

    __hash__ = object.__hash__

    def __new__(cls, *args: Any, **kw: Any) -> Relationship:
        # an _UnconfiguredRelationship until configure() (see there)
        unconfigured = cls is Relationship or cls is ViewRelationship
        return object.__new__(_UnconfiguredRelationship if unconfigured else cls)

    def load_now(self, state: Any, obj: Any) -> None:
        getattr(obj, self.key)

    def _configured_as(self) -> type:
        """The class a configured relationship takes: views for ``lazy="dynamic"``
        and ``lazy="write_only"``."""
        if not getattr(LOADER_STRATEGIES[self.lazy], "is_view", False):
            return Relationship
        if not self.uselist:
            raise exc.InvalidRequestError(
                f"On relationship {self.class_attribute}, lazy={self.lazy!r} is for "
                "collections, not for a reference to one object (uselist=False)"
            )
        return ViewRelationship

    # last in the class body: from here on ``property`` names this attribute
    property = property(RelationshipConfig._get_property)


class ViewRelationship(CollectionViews, Relationship):
    """A ``lazy="dynamic"``/``"write_only"`` relationship (see :mod:`.views`)."""

    __hash__ = object.__hash__


class _UnconfiguredRelationship(Relationship):
    """A :class:`Relationship` before :meth:`~Relationship.configure`: reading what
    configuration works out (``direction``, ``mapper``, ...) configures the
    registry first. Configured, it becomes a plain Relationship again: a class
    with ``__getattr__`` makes every attribute read slower (some 15 ns on
    CPython 3.11), and a relationship's attributes are read on every access,
    load and flush."""

    _configured_class = Relationship
    #: what the mapping works out on configuration; reading one configures the registry
    _CONFIGURED_ATTRS = frozenset(("mapper", "direction", "uselist", "order_by", "target_class",
                                   "partner", "sync_pairs", "kind"))

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


def relationship(
    argument: Any = None,
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
    single_parent: bool = False,
    info: dict[str, Any] | None = None,
    innerjoin: bool = False,
    **dataclass_options: Any,
) -> Any:
    """Declare a relationship to another mapped class (see the module docs).

    Without ``argument`` the target comes from the ``Mapped[...]`` annotation;
    ``dataclass_options`` (``init``, ``default_factory``, ...) are for
    ``MappedAsDataclass`` models (see :mod:`session_ext.mapping.typed`)."""
    rel = Relationship(
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
        single_parent=single_parent,
        info=info,
        innerjoin=innerjoin,
    )
    if dataclass_options:
        from ..typed import check_dataclass_options

        rel.dataclass_options = check_dataclass_options(dataclass_options)
    return rel


def backref(name: str, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """``relationship(..., backref=backref("user", lazy="joined"))``."""
    return (name, kwargs)
