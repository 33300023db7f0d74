"""``lazy="dynamic"`` and ``lazy="write_only"`` collections.

``user.addresses`` of a ``lazy="dynamic"`` relationship is an
:class:`AppenderQuery`: a :class:`~session_ext.Query` of the related objects
(``.filter()``, ``.order_by()``, ``.count()``, ``.all()``, ``.paginate()``,
iteration, slicing) that also takes ``append()``/``extend()``/``remove()``
(``add()``/``add_all()``). A ``lazy="write_only"`` one is a
:class:`WriteOnlyCollection`: ``add()``/``add_all()``/``remove()``, and
``select()``, ``insert()``, ``update()``, ``delete()`` statements for the
related rows to run with ``session.execute()``. Neither ever loads the whole
collection into memory.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update

from . import exc
from .mapping.relationships import LoaderStrategy, register_loader
from .mapping.relationships.sqljoin import with_parent
from .query import Query
from .state import instance_state


class _ViewMethods:
    """Adding and removing through a view (both kinds)."""

    _se_rel: Any
    _se_obj: Any

    def add(self, item: Any) -> None:
        self._se_rel.view_append(self._se_obj, item)

    def add_all(self, items: Any) -> None:
        for item in items:
            self._se_rel.view_append(self._se_obj, item)

    def remove(self, item: Any) -> None:
        self._se_rel.view_remove(self._se_obj, item)

    def _criteria(self) -> Any:
        return with_parent(self._se_obj, self._se_rel)

    def _view_members(self) -> list[Any]:
        """Every related object (from the database, no autoflush) and the ones added."""
        rel, obj = self._se_rel, self._se_obj
        state = instance_state(obj)
        pending = rel.pending_added(state, obj.__dict__)
        if state.key is None or state.session is None:
            return pending
        stmt = select(rel.mapper.class_).where(self._criteria())
        found = list(state.session.scalars(stmt, execution_options={"autoflush": False}))
        removed = state.committed.get(rel.key, ())
        found = [o for o in found if not any(o is r for r in removed)]
        return found + [p for p in pending if not any(p is f for f in found)]


class AppenderQuery(_ViewMethods, Query[Any]):
    """``lazy="dynamic"``: a query of the related objects that can also change them."""

    def __init__(self, rel: Any, obj: Any) -> None:
        state = instance_state(obj)
        super().__init__(rel.mapper.class_, state.session)
        self._se_rel = rel
        self._se_obj = obj
        self._select = self._select.where(self._criteria())
        if rel.order_by:
            self._select = self._select.order_by(*rel.order_by)

    append = _ViewMethods.add
    extend = _ViewMethods.add_all

    def _session(self) -> Any:
        state = instance_state(self._se_obj)
        if state.session is None:
            if state.key is None:
                return None
            raise exc.DetachedInstanceError(
                f"Parent instance {exc.instance_str(self._se_obj)} is not bound to a Session; "
                f"the dynamic relationship {self._se_rel.class_attribute} can't be queried"
            )
        return state.session

    def _execute(self, stmt: Any | None = None) -> Any:
        if self._session() is None:  # transient parent: what was appended
            raise _NoSession
        return super()._execute(stmt)

    def __iter__(self) -> Any:
        if self._session() is None:
            return iter(self._view_members())
        return super().__iter__()

    def all(self) -> list[Any]:
        if self._session() is None:
            return self._view_members()
        return super().all()

    def count(self) -> int:
        if self._session() is None:
            return len(self._view_members())
        return super().count()

    def __repr__(self) -> str:
        return f"<AppenderQuery {self._se_rel.class_attribute} of {exc.instance_str(self._se_obj)}>"


class _NoSession(exc.InvalidRequestError):
    def __init__(self) -> None:
        super().__init__("This dynamic relationship's parent is transient and has no session")


class WriteOnlyCollection(_ViewMethods):
    """``lazy="write_only"``: changes and statements, never a loaded collection."""

    __slots__ = ("_se_rel", "_se_obj")

    def __init__(self, rel: Any, obj: Any) -> None:
        self._se_rel = rel
        self._se_obj = obj

    def select(self) -> Any:
        """``SELECT`` the related objects: ``session.scalars(user.addresses.select())``."""
        stmt = select(self._se_rel.mapper.class_).where(self._criteria())
        if self._se_rel.order_by:
            stmt = stmt.order_by(*self._se_rel.order_by)
        return stmt

    def insert(self) -> Any:
        """``INSERT`` into the related table with the foreign key set to this parent
        (one-to-many only)."""
        rel = self._se_rel
        if rel.kind.through_secondary:
            raise exc.InvalidRequestError(
                f"insert() of the write-only collection {rel.class_attribute} is for "
                "one-to-many collections; for many-to-many insert the rows, then add_all()"
            )
        obj = self._se_obj
        values = {fk.key: getattr(obj, rel.parent.col_to_key[ref]) for ref, fk in rel.sync_pairs}
        return insert(rel.mapper.class_).values(values)

    def update(self) -> Any:
        """``UPDATE`` of the related rows."""
        return update(self._se_rel.mapper.class_).where(self._criteria())

    def delete(self) -> Any:
        """``DELETE`` of the related rows."""
        return delete(self._se_rel.mapper.class_).where(self._criteria())

    def __repr__(self) -> str:
        return f"<WriteOnlyCollection {self._se_rel.class_attribute}>"


@register_loader
class DynamicLoader(LoaderStrategy):
    """lazy="dynamic": reading the attribute gives an :class:`AppenderQuery`."""

    name = "dynamic"
    after_load = False
    is_view = True

    def on_access(self, rel: Any, state: Any, obj: Any) -> Any:
        return AppenderQuery(rel, obj)


@register_loader
class WriteOnlyLoader(LoaderStrategy):
    """lazy="write_only": reading the attribute gives a :class:`WriteOnlyCollection`."""

    name = "write_only"
    after_load = False
    is_view = True

    def on_access(self, rel: Any, state: Any, obj: Any) -> Any:
        return WriteOnlyCollection(rel, obj)


__all__ = ["AppenderQuery", "WriteOnlyCollection"]
