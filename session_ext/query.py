"""The legacy ``Query`` API: ``session.query(User).filter(...).all()``.

A ``Query`` is a thin, immutable builder over a Core ``Select``: every method
returns a new ``Query`` and execution goes through ``Session.execute``, so it
shares the identity map, autoflush and loader options with 2.0-style
``select()`` code.  ``query.statement`` is the Core statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import Table, and_, delete, exists, func, select, update
from sqlalchemy.sql import Select

from . import exc
from .compat import has_limit, has_limit_or_offset, limit_and_offset, raw_columns
from .mapping.mapper import class_mapper, entity_of
from .mapping.relationships import Relationship
from .mapping.relationships.sqljoin import RelationshipJoin
from .query_more import QueryMore
from .strategies import UNIQUE_OK

if TYPE_CHECKING:
    from .pagination import Pagination
    from .protocols import SessionLike as Session

_T = TypeVar("_T")


def _is_entity(obj: Any) -> bool:
    return isinstance(obj, type) and "__mapper__" in vars(obj)


def _may_repeat_entities(stmt: Any) -> bool:
    """Whether a statement selecting entities may give one object twice: not
    when it reads one table (a plain query costs no uniquing per row)."""
    if not isinstance(stmt, Select) or not any(
            entity_of(e) is not None for e in raw_columns(stmt)):
        return False
    froms = stmt.get_final_froms()
    return len(froms) != 1 or not isinstance(froms[0], Table)


class Query(QueryMore, Generic[_T]):
    """A generative query against mapped classes and/or column expressions."""

    def __init__(self, entities: Any, session: Session | None = None) -> None:
        if not isinstance(entities, (list, tuple)):
            entities = (entities,)
        if not entities:
            raise exc.ArgumentError("Query needs at least one entity or column expression")
        self.session = session
        self._entities = tuple(entities)
        self._select: Select[Any] = select(*entities)
        first = next((e for e in entities if _is_entity(e)), None)
        if first is None:
            from .mapping.mapper import mapper_for_table

            for e in entities:
                m = mapper_for_table(getattr(e, "table", None))
                if m is not None:
                    first = m.class_
                    break
        self._filter_by_entity = first
        self._single_entity = len(entities) == 1 and _is_entity(entities[0])
        self._exec_options: dict[str, Any] = {}
        self._params: dict[str, Any] | None = None

    # -- generative helpers ------------------------------------------------------
    def _clone(self, stmt: Select[Any] | None = None) -> Query[_T]:
        q = self.__class__.__new__(self.__class__)
        q.__dict__.update(self.__dict__)
        q._exec_options = dict(self._exec_options)
        if stmt is not None:
            q._select = stmt
        return q

    def with_session(self, session: Session) -> Query[_T]:
        q = self._clone()
        q.session = session
        return q

    def filter(self, *criterion: Any) -> Query[_T]:
        """Add WHERE criteria (ANDed)."""
        return self._clone(self._select.where(*self._adapted(criterion)))

    where = filter

    def filter_by(self, **kwargs: Any) -> Query[_T]:
        """WHERE ``attr == value`` on the primary (or last joined) entity."""
        entity = self._filter_by_entity
        if entity is None:
            raise exc.InvalidRequestError(
                "filter_by() needs a mapped class in the query; use filter() with column "
                "expressions instead"
            )
        mapper = class_mapper(entity)
        clauses = []
        for key, value in kwargs.items():
            attr = mapper.column_attrs.get(key)
            if attr is None:
                rel = mapper.relationships.get(key)
                if rel is not None:  # filter_by(user=some_user): the relationship's ==
                    clauses.append(rel == value)
                    continue
                raise exc.InvalidRequestError(
                    f"Entity {entity.__name__} has no attribute {key!r} for filter_by(); "
                    f"known: {sorted(mapper.attrs)}"
                )
            clauses.append(attr.column == value)
        return self._clone(self._select.where(*self._adapted((and_(*clauses),))))

    def order_by(self, *clauses: Any) -> Query[_T]:
        if len(clauses) == 1 and clauses[0] is None:
            return self._clone(self._select.order_by(None))
        return self._clone(self._select.order_by(*self._adapted(clauses)))

    def group_by(self, *clauses: Any) -> Query[_T]:
        return self._clone(self._select.group_by(*self._adapted(clauses)))

    def having(self, *criterion: Any) -> Query[_T]:
        return self._clone(self._select.having(*self._adapted(criterion)))

    def join(self, target: Any, onclause: Any = None, *, isouter: bool = False,
             full: bool = False) -> Query[_T]:
        """JOIN ``target`` (a mapped class, table or relationship attribute)."""
        if onclause is None:
            stmt = self._select.join(target, isouter=isouter, full=full)
        else:
            stmt = self._select.join(target, onclause, isouter=isouter, full=full)
        q = self._clone(stmt)
        if _is_entity(target):
            q._filter_by_entity = target
        elif isinstance(target, (Relationship, RelationshipJoin)):  # filter_by() on its target
            q._filter_by_entity = target.mapper.class_ if isinstance(target, Relationship) \
                else target.rel.mapper.class_
        return q

    def outerjoin(self, target: Any, onclause: Any = None, *, full: bool = False) -> Query[_T]:
        return self.join(target, onclause, isouter=True, full=full)

    def from_statement(self, statement: Any) -> Query[_T]:
        """The query's entities loaded from the rows of ``statement`` (a ``text()``
        or ``select()``), matched by column name."""
        return self._clone(self._select.from_statement(statement))

    def limit(self, limit: int | None) -> Query[_T]:
        return self._clone(self._select.limit(limit))

    def offset(self, offset: int | None) -> Query[_T]:
        return self._clone(self._select.offset(offset))

    def distinct(self, *expr: Any) -> Query[_T]:
        return self._clone(self._select.distinct(*expr))

    def options(self, *options: Any) -> Query[_T]:
        """Loader options such as ``selectinload(User.addresses)``."""
        return self._clone(self._select.options(*options))

    def with_for_update(self, **kw: Any) -> Query[_T]:
        return self._clone(self._select.with_for_update(**kw))

    def add_columns(self, *columns: Any) -> Query[Any]:
        q = self._clone(self._select.add_columns(*columns))
        q._single_entity = False
        return q

    def execution_options(self, **options: Any) -> Query[_T]:
        q = self._clone()
        q._exec_options.update(options)
        return q

    def populate_existing(self) -> Query[_T]:
        return self.execution_options(populate_existing=True)

    def yield_per(self, count: int) -> Query[_T]:
        """Load ``count`` rows at a time (server-side cursor where supported)."""
        return self.execution_options(yield_per=count, stream_results=True)

    def params(self, **params: Any) -> Query[_T]:
        q = self._clone()
        q._params = {**(self._params or {}), **params}
        return q

    # -- statement ---------------------------------------------------------------
    @property
    def statement(self) -> Select[Any]:
        """The Core ``Select`` this query runs."""
        return self._select

    def subquery(self, name: str | None = None) -> Any:
        return self._select.subquery(name)

    def exists(self) -> Any:
        """An EXISTS construct: ``session.query(q.exists()).scalar()``."""
        return exists(self._select)

    def __str__(self) -> str:
        from .execution import eager_statement

        return str(eager_statement(self._select))  # with the joins of joined eager loading

    # -- execution ---------------------------------------------------------------
    def _session(self) -> Session:
        if self.session is None:
            raise exc.InvalidRequestError(
                "This Query is not bound to a Session; use session.query(...) or "
                "query.with_session(session)"
            )
        return self.session

    def _execute(self, stmt: Any | None = None) -> Any:
        session = self._session()
        # the legacy Query returns each parent of a joined eager collection once
        # without being asked (.unique() is for 2.0-style results)
        stmt = self._select if stmt is None else stmt
        result = session.execute(
            stmt, self._params, execution_options={**self._exec_options, UNIQUE_OK: True},
        )
        if "yield_per" not in self._exec_options and _may_repeat_entities(stmt):
            # as SQLAlchemy's Query: rows of entities come once each (a join
            # repeating a row gives its objects once)
            result = result.unique()
        return result

    def __iter__(self) -> Iterator[Any]:
        result = self._execute()
        if self._single_entity:
            return iter(result.scalars())
        return iter(result)

    def all(self) -> list[Any]:
        """Every result: objects for a single entity, rows otherwise."""
        result = self._execute()
        return list(result.scalars().all() if self._single_entity else result.all())

    def first(self) -> Any:
        """The first result (LIMIT 1), or None."""
        stmt = self._select if has_limit(self._select) else self._select.limit(1)
        result = self._execute(stmt)
        return result.scalars().first() if self._single_entity else result.first()

    def one(self) -> Any:
        """Exactly one result, else ``NoResultFound`` / ``MultipleResultsFound``."""
        result = self._execute()
        return result.scalars().one() if self._single_entity else result.one()

    def one_or_none(self) -> Any:
        result = self._execute()
        return result.scalars().one_or_none() if self._single_entity else result.one_or_none()

    def scalar(self) -> Any:
        """The first column of the single result row, or None."""
        result = self._execute()
        row = result.one_or_none()
        return None if row is None else row[0]

    def count(self) -> int:
        """``SELECT count(*) FROM (<this query>)``."""
        stmt = select(func.count()).select_from(self._select.order_by(None).subquery())
        return int(self._session().execute(stmt, self._params).scalar_one())

    def _single_entity_class(self) -> Any:
        """The one mapped class this query selects (for ``get()``-like helpers)."""
        if not self._single_entity:
            raise exc.InvalidRequestError("Query.get() needs a query over one mapped class")
        return self._entities[0]

    def get(self, ident: Any) -> Any:
        """Legacy ``query.get(pk)``: same as ``session.get(Entity, pk)``."""
        return self._session().get(self._single_entity_class(), ident)

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, slice):
            start, stop, step = item.start, item.stop, item.step
            if step not in (None, 1):
                raise exc.InvalidRequestError("Query slicing does not support a step")
            if (start is not None and start < 0) or (stop is not None and stop < 0):
                return self.all()[item]
            return self._window(start or 0, stop).all()
        if item < 0:
            return self.all()[item]
        results = self._window(item, item + 1).all()
        if not results:
            raise IndexError("query index out of range")
        return results[0]

    def _window(self, start: int, stop: int | None) -> Query[_T]:
        """LIMIT/OFFSET for rows start..stop, relative to any LIMIT/OFFSET already set."""
        base_limit, base_offset = limit_and_offset(self._select)
        base_offset = base_offset or 0
        offset = base_offset + start
        limit = None if stop is None else max(stop - start, 0)
        if base_limit is not None:
            remaining = max(base_limit - start, 0)
            limit = remaining if limit is None else min(limit, remaining)
        q = self.offset(offset or None)
        return q.limit(limit) if limit is not None else q

    # -- bulk DML ----------------------------------------------------------------
    def _dml_target(self, verb: str) -> Any:
        if not self._single_entity:
            raise exc.InvalidRequestError(
                f"Query.{verb}() needs a query over exactly one mapped class"
            )
        if has_limit_or_offset(self._select):
            raise exc.InvalidRequestError(
                f"Can't call Query.{verb}() when limit() or offset() has been applied"
            )
        return self._entities[0]

    def delete(self, synchronize_session: Any = "auto") -> int:
        """``DELETE`` the matched rows in one statement; returns the rowcount.
        Objects of the session that match are marked deleted (see docs/queries.md)."""
        entity = self._dml_target("delete")
        stmt = delete(entity)
        if self._select.whereclause is not None:
            stmt = stmt.where(self._select.whereclause)
        result = self._session().execute(
            stmt, execution_options={"synchronize_session": synchronize_session}
        )
        return int(result.rowcount)

    def update(self, values: dict[Any, Any], synchronize_session: Any = "auto") -> int:
        """``UPDATE`` the matched rows in one statement; returns the rowcount.
        Objects of the session that match are expired (see docs/queries.md)."""
        entity = self._dml_target("update")
        stmt = update(entity).values(values)
        if self._select.whereclause is not None:
            stmt = stmt.where(self._select.whereclause)
        result = self._session().execute(
            stmt, execution_options={"synchronize_session": synchronize_session}
        )
        return int(result.rowcount)

    # -- pagination --------------------------------------------------------------
    def paginate(
        self,
        page: int = 1,
        per_page: int = 20,
        max_per_page: int | None = None,
        count: bool = True,
    ) -> Pagination:
        """A :class:`~session_ext.pagination.Pagination` of this query's results."""
        from .pagination import paginate_query

        return paginate_query(self, page=page, per_page=per_page,
                              max_per_page=max_per_page, count=count)

    def __repr__(self) -> str:
        names = ", ".join(getattr(e, "__name__", str(e)) for e in self._entities)
        return f"<Query({names})>"

