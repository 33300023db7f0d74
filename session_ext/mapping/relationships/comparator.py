"""A relationship in SQL expressions: ``==``/``!=`` an object or None,
``contains()``, ``any()``, ``has()``; every other operator raises with a hint."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, bindparam, or_
from sqlalchemy.schema import Column
from sqlalchemy.sql import visitors

from ... import exc
from ...compat import ClauseAdapter
from ...state import NO_VALUE, InstanceState, instance_state
from .sqljoin import RelationshipJoin


class RelationshipComparator:
    """The SQL operators of a relationship (class-level use)."""

    def _configure_for_sql(self) -> None:
        self.parent.registry.configure()  # type: ignore[union-attr]

    def _check_instance(self, other: Any, op: str) -> None:
        target = self.mapper.class_
        if isinstance(other, target):
            return
        if getattr(type(other), "__mapper__", None) is not None:
            raise exc.ArgumentError(
                f"{self} {op} {exc.instance_str(other)}: {self} relates to {target.__name__} "
                f"objects, not {type(other).__name__}"
            )
        raise exc.ArgumentError(
            f"{self} {op} {other!r}: a relationship compares to a mapped {target.__name__} "
            "object (or None), not to a class, query, SQL expression or plain value. For "
            f"criteria on the related rows use {self}."
            f"{'any' if self.uselist else 'has'}(...); to compare keys, compare the foreign "
            "key columns themselves"
        )

    def _value_of(self, obj: Any, col: Column[Any], local: Any) -> Any:
        """A bind parameter for ``obj``'s value of the target column ``col``,
        read when the statement executes (a pending object has its key by then)."""
        mapper = self.mapper
        key = mapper.col_to_key[col]
        state = instance_state(obj)

        def value() -> Any:
            v = obj.__dict__.get(key, NO_VALUE)
            if v is NO_VALUE:
                v = self._unloaded_value(state, obj, key)
            if v is None:
                warnings.warn(
                    f"Comparing {self} with {exc.instance_str(obj)}, whose {key!r} is None: "
                    "this compares with NULL (matching no rows), not IS NULL; compare the "
                    f"relationship with None for that",
                    exc.SAWarning,
                    stacklevel=2,
                )
            return v

        return bindparam(local.key, callable_=value, type_=local.type, unique=True)

    def _unloaded_value(self, state: InstanceState, obj: Any, key: str) -> Any:
        if state.key is None:
            raise exc.InvalidRequestError(
                f"Can't compare {self} with {exc.instance_str(obj)}: its {key!r} has no "
                f"value yet (the object is {'pending' if state.session_id else 'transient'}). "
                "Flush the session first so that the database assigns it, or set it"
            )
        pk_keys = self.mapper.pk_keys
        if key in pk_keys:  # expired: the identity key still has it (no SELECT)
            return state.key[1][pk_keys.index(key)]
        if state.session is not None:
            return getattr(obj, key)  # expired: reloaded
        raise exc.InvalidRequestError(
            f"Can't compare {self} with {exc.instance_str(obj)}: the object is detached and "
            f"its {key!r} was expired. Merge or add it to a session first"
        )

    def _binds_for(self, clause: Any, other: Any, columns: Callable[[Column[Any]], bool]) -> Any:
        """``clause`` with the columns ``columns`` selects replaced by ``other``'s values."""

        def replace(elem: Any) -> Any:
            if isinstance(elem, Column) and columns(elem):
                return self._value_of(other, elem, elem)
            return None

        return visitors.replacement_traverse(clause, {}, replace)

    def _compare_to_object(self, other: Any, op: str) -> Any:
        """The rows related to ``other``: ``fk = :value`` on the foreign key columns."""
        self._check_instance(other, op)
        return self.kind.compare_to_object(self, other)

    def _criterion_exists(self, criterion: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """EXISTS (related rows matching ``criterion``), correlated to this side."""
        tm = self.mapper
        target = tm.table
        criteria = [c for c in criterion if c is not None]
        for name, value in kwargs.items():
            attr = tm.attrs.get(name)
            if attr is None:
                raise exc.InvalidRequestError(
                    f"{tm.class_.__name__} has no attribute {name!r} for the keyword criteria "
                    f"of {self}; known: {sorted(tm.attrs)}"
                )
            criteria.append(attr == value if attr.is_relationship else attr.column == value)
        alias = None
        if target is self.parent.table:  # type: ignore[union-attr]
            # self-referential: the related rows come from an alias of the same table
            alias = target.alias()
            adapter = ClauseAdapter(alias)
            criteria = [adapter.traverse(c) for c in criteria]
        source = target if alias is None else alias
        return self.kind.related_exists(self, source, alias, criteria)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        """``Address.user == user`` -> ``addresses.user_id = :id`` (the user's key,
        read when the statement runs); ``== None``: no related row."""
        if isinstance(other, RelationshipComparator):
            return self is other
        self._configure_for_sql()
        if other is None:
            return self.kind.is_none(self)
        if self.uselist:
            raise exc.InvalidRequestError(
                f"Can't compare the collection {self} with == to an object or list; use "
                f"{self}.contains(obj) to test membership, or {self}.any(...)"
            )
        return self._compare_to_object(other, "==")

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        """``Address.user != user``: a different user or none (``user_id != :id OR
        user_id IS NULL``); ``!= None``: some related row."""
        if isinstance(other, RelationshipComparator):
            return self is not other
        self._configure_for_sql()
        if other is None:
            return self.kind.is_not_none(self)
        if self.uselist:
            raise exc.InvalidRequestError(
                f"Can't compare the collection {self} with != to an object or list; use "
                f"~{self}.contains(obj) to test non-membership"
            )
        self._check_instance(other, "!=")
        if self.identity_lookup:
            pairs = [(fk, self._value_of(other, ref, fk)) for ref, fk in self.sync_pairs]
            # any differing column, or a NULL foreign key (no related object at all)
            return or_(*(fk != v for fk, v in pairs), *(fk.is_(None) for fk, _ in pairs))
        tm = self.mapper
        same = and_(*(c == self._value_of(other, c, c) for c in tm.primary_key))
        return ~self._criterion_exists((same,), {})

    def contains(self, other: Any, **kwargs: Any) -> Any:
        """``User.addresses.contains(address)``: the parent of that address."""
        self._configure_for_sql()
        if not self.uselist:
            raise exc.InvalidRequestError(
                f"contains() is for collections; {self} refers to a single object: use "
                f"{self} == obj"
            )
        return self._compare_to_object(other, "contains")

    def any(self, *criterion: Any, **kwargs: Any) -> Any:
        """EXISTS criteria for a collection: ``User.addresses.any(Address.email == x)``
        (keyword arguments compare attributes of the target: ``any(email=x)``)."""
        self._configure_for_sql()
        if not self.uselist:
            raise exc.InvalidRequestError(
                f"any() is for collections; {self} refers to a single object: use "
                f"{self}.has(...)"
            )
        return self._criterion_exists(criterion, kwargs)

    def has(self, *criterion: Any, **kwargs: Any) -> Any:
        """EXISTS criteria for a single related object: ``Address.user.has(User.name == x)``."""
        self._configure_for_sql()
        if self.uselist:
            raise exc.InvalidRequestError(
                f"has() is for a relationship to a single object; {self} is a collection: "
                f"use {self}.any(...)"
            )
        return self._criterion_exists(criterion, kwargs)

    def _unsupported(self, op: str) -> Any:
        raise exc.InvalidRequestError(
            f"{op} is not supported for relationship {self}: a relationship compares only "
            "with == and != (to an object or None), contains(), any() and has(). Compare "
            "the foreign key columns for other operators, e.g. "
            f"{self._key_columns_hint()}.in_([...])"
        )

    def _key_columns_hint(self) -> str:
        self._configure_for_sql()
        pm = self.parent
        (local, _), *_ = self._sides()[0]
        return f"{pm.class_.__name__}.{pm.col_to_key[local]}"  # type: ignore[union-attr]

    def in_(self, other: Any) -> Any:
        return self._unsupported("in_()")

    def not_in(self, other: Any) -> Any:
        return self._unsupported("not_in()")

    notin_ = not_in

    def is_(self, other: Any) -> Any:
        return self._unsupported("is_() (use == None)")

    def is_not(self, other: Any) -> Any:
        return self._unsupported("is_not() (use != None)")

    isnot = is_not

    def like(self, *args: Any, **kw: Any) -> Any:
        return self._unsupported("like()")

    def ilike(self, *args: Any, **kw: Any) -> Any:
        return self._unsupported("ilike()")

    def startswith(self, *args: Any, **kw: Any) -> Any:
        return self._unsupported("startswith()")

    def endswith(self, *args: Any, **kw: Any) -> Any:
        return self._unsupported("endswith()")

    def between(self, *args: Any, **kw: Any) -> Any:
        return self._unsupported("between()")

    def __lt__(self, other: Any) -> Any:
        return self._unsupported("<")

    def __le__(self, other: Any) -> Any:
        return self._unsupported("<=")

    def __gt__(self, other: Any) -> Any:
        return self._unsupported(">")

    def __ge__(self, other: Any) -> Any:
        return self._unsupported(">=")

    def _plain_join(self) -> RelationshipJoin:
        join = self.__dict__.get("_se_plain_join")
        if join is None:
            join = self.__dict__["_se_plain_join"] = RelationshipJoin(self)
        return join

    def __clause_element__(self) -> Any:
        """``select(User).join(User.addresses)`` and ``.join(Address, User.addresses)``:
        joined along the relationship (see :mod:`.sqljoin`)."""
        return self._plain_join().__clause_element__()

    def and_(self, *criteria: Any) -> RelationshipJoin:
        """``.join(User.addresses.and_(Address.email.like(x)))``: extra ON criteria."""
        return self._plain_join().and_(*criteria)

    def of_type(self, entity: Any) -> RelationshipJoin:
        """``.join(alias, User.addresses.of_type(alias))``: join to an aliased target."""
        return self._plain_join().of_type(entity)
