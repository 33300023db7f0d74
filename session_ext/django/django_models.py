"""Django models mapped onto session_ext classes: ``mapped(DjangoModel)``.

A project that already has Django models (and their migrations) gets session_ext
classes over the very same tables, read from each model's ``_meta``::

    from session_ext.django import db, mapped

    Book = mapped(library.models.Book)          # a session_ext class, made once
    db.session.scalars(select(Book).where(Book.title == "Dune")).one().author.name
    Book.query.filter_by(author_id=1).count()

What is mapped, per concrete model (a proxy model maps its concrete model):

* the table (``db_table``) and its columns: ``db_column`` is the column's
  name, the field's ``attname`` its attribute (``author_id`` for a foreign
  key), the type from the field (``CharField(max_length=n)`` ->
  ``String(n)``, ...), ``null`` -> nullable, the primary key;
* defaults: a field's ``db_default`` is a server default (``FetchedValue``:
  the database fills it, session_ext does not send the column and reads it
  back); a ``default`` (a value or a callable) is applied by session_ext on
  INSERT as Django would;
* a ``ForeignKey`` / ``OneToOneField``: the column with a ``ForeignKey`` to the
  target's column, a many-to-one relationship under the field's name
  (``book.author``), and on the target the one-to-many (one-to-one) relationship
  under Django's reverse accessor name (``author.books`` or ``author.book_set``;
  none for ``related_name="+"``);
* a ``ManyToManyField``: a relationship on both sides through the through
  table (``book.tags``, ``tag.books``).  With an auto-created through table it
  is read-write; with an explicit ``through`` model it is view-only, and the
  through model is mapped as a class of its own to write rows.

Every model reachable from the one asked for (foreign keys and many-to-many,
both ways) is mapped on the first call, so relationships always have their
target.  The classes live in their own declarative base (``DjangoModels``,
whose ``metadata`` is not ``db.metadata``): ``db.create_all()`` never creates
Django's tables, migrations stay Django's.

**Databases.** The class is routed to the session_ext database whose
``{"DJANGO_DATABASE": alias}`` is the alias Django's routers give for the model
(``router.db_for_read``; ``"default"`` without routers).  ``SESSION_EXT``
without ``DATABASES`` derives the default database from Django's ``default``.
A model whose alias no session_ext database derives from raises
``ImproperlyConfigured`` saying what to add.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models as dj
from django.db import router
from sqlalchemy import Column, FetchedValue, ForeignKey, MetaData, Table
from sqlalchemy import types as sa

from ..mapping.declarative import DeclarativeBase
from ..mapping.relationships import relationship
from .query import Query
from .state import Registry, registry

__all__ = ["DjangoModels", "column_type", "mapped"]


class DjangoModels(DeclarativeBase):
    """The declarative base of the classes :func:`mapped` makes."""

    metadata = MetaData()
    query = registry.session.query_property(Query)
    __bind_key__: str | None = None


registry.mapped_registries.append(DjangoModels.registry)

_lock = threading.RLock()
#: Django (concrete) model -> its session_ext class
_classes: dict[type, type] = {}
#: auto-created through model -> its Table
_through_tables: dict[type, Table] = {}

_SIMPLE_TYPES: dict[str, Any] = {
    "AutoField": sa.Integer,
    "BigAutoField": sa.BigInteger,
    "SmallAutoField": sa.SmallInteger,
    "IntegerField": sa.Integer,
    "PositiveIntegerField": sa.Integer,
    "SmallIntegerField": sa.SmallInteger,
    "PositiveSmallIntegerField": sa.SmallInteger,
    "BigIntegerField": sa.BigInteger,
    "PositiveBigIntegerField": sa.BigInteger,
    "BooleanField": sa.Boolean,
    "NullBooleanField": sa.Boolean,
    "TextField": sa.Text,
    "DateField": sa.Date,
    "TimeField": sa.Time,
    "FloatField": sa.Float,
    "BinaryField": sa.LargeBinary,
    "UUIDField": sa.Uuid,
    "JSONField": sa.JSON,
    "DurationField": sa.Interval,
}
_STRING_TYPES = {"CharField", "SlugField", "EmailField", "URLField", "FilePathField",
                 "FileField", "ImageField", "GenericIPAddressField", "IPAddressField"}


def column_type(field: Any) -> Any:
    """The SQLAlchemy type of a concrete Django field (``NullType`` for a field
    type it does not know, so the column still maps)."""
    internal = field.get_internal_type()
    if internal in _STRING_TYPES:
        return sa.String(field.max_length)
    if internal == "DecimalField":
        return sa.Numeric(field.max_digits, field.decimal_places)
    if internal == "DateTimeField":
        return sa.DateTime(timezone=True)
    simple = _SIMPLE_TYPES.get(internal)
    if simple is not None:
        return simple()
    return sa.types.NullType()


def mapped(model: type, state: Registry | None = None) -> type:
    """The session_ext class mapped to ``model``'s table (made on the first
    call, with every model it relates to; the same class afterwards)."""
    if not (isinstance(model, type) and issubclass(model, dj.Model)):
        raise TypeError(f"mapped() takes a Django model class, not {model!r}")
    if model._meta.abstract:
        raise TypeError(f"{model.__name__} is abstract: it has no table to map")
    model = model._meta.concrete_model
    with _lock:
        found = _classes.get(model)
        if found is None:
            _map_component(model, state or registry)
            found = _classes[model]
    return found


def _component(model: type) -> list[type]:
    """``model`` and every concrete model linked to it by relations (both ways)."""
    seen: dict[type, None] = {}
    todo = [model]
    while todo:
        current = todo.pop()._meta.concrete_model
        if current in seen or current in _classes:
            continue
        seen[current] = None
        for field in current._meta.get_fields(include_hidden=True):
            target = getattr(field, "related_model", None)
            if isinstance(target, type) and issubclass(target, dj.Model):
                todo.append(target)
            through = getattr(getattr(field, "remote_field", None), "through", None)
            if isinstance(through, type) and issubclass(through, dj.Model):
                todo.append(through)
    return list(seen)


def _map_component(model: type, state: Registry) -> None:
    models = _component(model)
    auto_through = [m for m in models if m._meta.auto_created]
    tables = {m: _table(m) for m in models}
    for m in auto_through:
        _through_tables[m] = tables[m]
    classes: dict[type, type] = {}
    relations = _relationships([m for m in models if m not in auto_through], tables)
    for m in models:
        if m in auto_through:
            continue
        namespace: dict[str, Any] = {
            "__table__": tables[m],
            "__module__": f"{__name__}.{m._meta.app_label}",
            "__qualname__": m.__name__,
            "__doc__": f"session_ext class of the Django model {m._meta.label}.",
            "__bind_key__": _bind_key(m, state),
            "django_model": m,
            **relations.get(m, {}),
        }
        classes[m] = type(m.__name__, (DjangoModels,), namespace)
    for m, table in tables.items():
        table.info["bind_key"] = _bind_key(m, state)
        table.info["django_model"] = m
    _classes.update(classes)
    state.clear_routes()


def refresh_bind_keys(state: Registry = registry) -> None:
    """Route every mapped class and table again (the settings or Django's
    routers changed); an alias no database derives from gets a bind key that
    names none (``"django:<alias>"``), refused when a statement needs it."""
    with _lock:
        for table in DjangoModels.metadata.tables.values():
            model = table.info.get("django_model")
            if model is None:
                continue
            try:
                key = _bind_key(model, state)
            except ImproperlyConfigured:
                key = f"django:{router.db_for_read(model) or 'default'}"
            table.info["bind_key"] = key
            cls = _classes.get(model)
            if cls is not None:
                cls.__bind_key__ = key  # type: ignore[attr-defined]
        state.clear_routes()


def _routers_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "DATABASE_ROUTERS":
        refresh_bind_keys()


registry.on_configure.append(refresh_bind_keys)
setting_changed.connect(_routers_changed)


def _table(model: type) -> Table:
    meta = model._meta
    existing = DjangoModels.metadata.tables.get(meta.db_table)
    if existing is not None:
        return existing
    columns = [_column(field) for field in meta.local_concrete_fields
               if getattr(field, "column", None) is not None]
    composite = getattr(meta.pk, "fields", None)  # a CompositePrimaryKey (Django 5.2)
    if composite:
        names = {f.column for f in composite}
        for column in columns:
            if column.name in names:
                column.primary_key, column.nullable = True, False
    return Table(meta.db_table, DjangoModels.metadata, *columns)


def _column(field: Any) -> Column[Any]:
    kwargs: dict[str, Any] = {
        "key": field.attname,
        "primary_key": field.primary_key,
        "nullable": field.null and not field.primary_key,
    }
    if field.primary_key and field.get_internal_type().endswith("AutoField"):
        kwargs["autoincrement"] = True
    elif field.primary_key:
        kwargs["autoincrement"] = False
    db_default = getattr(field, "db_default", dj.NOT_PROVIDED)
    if db_default is not dj.NOT_PROVIDED:
        kwargs["server_default"] = FetchedValue()
    elif field.has_default():
        kwargs["default"] = _python_default(field.default)
    args: list[Any] = []
    if field.many_to_one or field.one_to_one:
        target = field.target_field
        args.append(ForeignKey(f"{target.model._meta.db_table}.{target.column}"))
        type_ = _fk_type(target)
    else:
        type_ = column_type(field)
    return Column(field.column, type_, *args, **kwargs)


def _fk_type(target: Any) -> Any:
    """The type of a foreign key column: its target's, an auto field as its integer."""
    internal = target.get_internal_type()
    if internal == "AutoField":
        return sa.Integer()
    if internal == "BigAutoField":
        return sa.BigInteger()
    if internal == "SmallAutoField":
        return sa.SmallInteger()
    return column_type(target)


def _python_default(default: Any) -> Any:
    if callable(default):
        return lambda: default()  # SQLAlchemy would pass a context to a one-argument callable
    return default


def _relationships(models: list[type], tables: dict[type, Table]) -> dict[type, dict[str, Any]]:
    """``{model: {attribute: relationship(...)}}`` for the foreign keys and
    many-to-many fields of ``models`` (both sides)."""
    out: dict[type, dict[str, Any]] = {m: {} for m in models}

    def cls_of(target: type) -> Any:
        target = target._meta.concrete_model
        return lambda: _classes[target]

    for m in models:
        for field in m._meta.local_fields:
            if not (field.many_to_one or field.one_to_one):
                continue
            target = field.related_model._meta.concrete_model
            reverse = field.remote_field.get_accessor_name()
            hidden = _hidden(field.remote_field) or target not in out
            column = tables[m].c[field.attname]
            self_ref = target is m
            out[m][field.name] = relationship(
                cls_of(target),
                foreign_keys=[column],
                remote_side=[tables[m].c[field.target_field.attname]] if self_ref else None,
                back_populates=None if hidden else reverse,
            )
            if not hidden:
                out[target][reverse] = relationship(
                    cls_of(m),
                    foreign_keys=[column],
                    back_populates=field.name,
                    uselist=not field.one_to_one,
                )
        for field in m._meta.local_many_to_many:
            through = field.remote_field.through
            target = field.related_model._meta.concrete_model
            secondary = tables[through]
            source_fk = secondary.c[field.m2m_column_name()]
            target_fk = secondary.c[field.m2m_reverse_name()]
            viewonly = not through._meta.auto_created
            reverse = field.remote_field.get_accessor_name()
            hidden = _hidden(field.remote_field) or target not in out or target is m
            out[m][field.name] = relationship(
                cls_of(target), secondary=secondary,
                primaryjoin=_eq(tables[m], m, source_fk),
                secondaryjoin=_eq(tables[target], target, target_fk),
                viewonly=viewonly, back_populates=None if hidden else reverse,
            )
            if not hidden:
                out[target][reverse] = relationship(
                    cls_of(m), secondary=secondary,
                    primaryjoin=_eq(tables[target], target, target_fk),
                    secondaryjoin=_eq(tables[m], m, source_fk),
                    viewonly=viewonly, back_populates=field.name,
                )
    return out


def _hidden(rel: Any) -> bool:
    """No reverse accessor (``related_name="+"``); Django 5.1 renamed is_hidden()."""
    hidden = getattr(rel, "hidden", None)
    return bool(rel.is_hidden() if hidden is None else hidden)


def _eq(table: Table, model: type, fk_column: Any) -> Any:
    """``table.<referenced column> == fk_column`` (the column the through
    table's foreign key points at, normally the primary key)."""
    (fk,) = fk_column.foreign_keys
    return table.c[_key_of(table, fk.column.name)] == fk_column


def _key_of(table: Table, name: str) -> str:
    for column in table.columns:
        if column.name == name:
            return column.key
    raise KeyError(name)


def _bind_key(model: type, state: Registry) -> str | None:
    """The session_ext database the model's Django database alias derives from."""
    alias = router.db_for_read(model) or "default"
    settings = state.settings
    if settings is None:
        state.require()  # raises, saying what is not set up
        settings = state.settings
    assert settings is not None
    for bind in settings.binds.values():
        if bind.django_alias == alias:
            return bind.key
    raise ImproperlyConfigured(
        f"session_ext.django.mapped({model._meta.label}): Django's routers put it in the "
        f"database {alias!r}, and no database in settings.SESSION_EXT['DATABASES'] derives "
        f"from it. Add one: {{'{alias}': {{'DJANGO_DATABASE': '{alias}'}}}} "
        "(or leave out SESSION_EXT['DATABASES'] to share Django's default)"
    )
