"""Framework-free pagination of a query or ``select()``.

``Pagination`` holds one page of results and the numbers around it; the Flask
and Django adapters add reading ``page``/``per_page`` from the request and
answering 404 for pages that do not exist.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from sqlalchemy import func, select

from .compat import ANNOTATIONS, raw_columns
from .strategies import UNIQUE_OK


class _Executes(Protocol):
    """What :func:`paginate` needs of a session (so this module, which sits
    above the Session and Query, imports neither)."""

    def execute(self, statement: Any, params: Any = None, *,
                execution_options: Any = None) -> Any: ...


class _PagedQuery(Protocol):
    """What :func:`paginate_query` needs of a legacy ``Query``."""

    def limit(self, limit: Any) -> Any: ...

    def order_by(self, *clauses: Any) -> Any: ...


class Pagination:
    """One page of results.

    ``items`` are the results on this page; ``total`` is None when counting
    was turned off.  ``first``/``last`` are the 1-based numbers of the first
    and last item on the page (0 when the page is empty).
    """

    def __init__(
        self,
        items: list[Any],
        page: int,
        per_page: int,
        total: int | None,
        fetch_page: Callable[[int], Pagination] | None = None,
    ) -> None:
        self.items = items
        self.page = page
        self.per_page = per_page
        self.total = total
        self._fetch_page = fetch_page

    @property
    def pages(self) -> int:
        """Number of pages (0 when there are no results or the total is unknown)."""
        if not self.total or not self.per_page:
            return 0
        return math.ceil(self.total / self.per_page)

    @property
    def first(self) -> int:
        if not self.items:
            return 0
        return (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        if not self.items:
            return 0
        return self.first + len(self.items) - 1

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        if self.total is None:
            return len(self.items) == self.per_page
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def prev(self) -> Pagination:
        """The previous page (runs its query)."""
        return self._page(self.page - 1)

    def next(self) -> Pagination:
        """The next page (runs its query)."""
        return self._page(self.page + 1)

    def _page(self, page: int) -> Pagination:
        if self._fetch_page is None:
            raise RuntimeError("this Pagination was built without a query to fetch other pages")
        return self._fetch_page(max(page, 1))

    def iter_pages(
        self,
        *,
        left_edge: int = 2,
        left_current: int = 2,
        right_current: int = 4,
        right_edge: int = 2,
    ) -> Iterator[int | None]:
        """Page numbers for a pager widget, ``None`` where numbers are skipped.

        With 20 pages on page 10 and the defaults: 1 2 None 8 9 10 11 12 13 14 None 19 20.
        """
        pages = self.pages
        shown = [
            n
            for n in range(1, pages + 1)
            if n <= left_edge
            or n > pages - right_edge
            or self.page - left_current <= n <= self.page + right_current
        ]
        previous = 0
        for n in shown:
            if n != previous + 1:
                yield None
            yield n
            previous = n

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"<Pagination page={self.page} per_page={self.per_page} total={self.total}>"


#: the largest OFFSET databases accept (a signed 64-bit integer); pages past
#: it are empty without asking the database, which would refuse the number
MAX_OFFSET = 2**63 - 1


def _check(page: int, per_page: int, max_per_page: int | None) -> tuple[int, int]:
    if not isinstance(page, int) or page < 1:
        raise ValueError(f"page must be an integer >= 1, got {page!r}")
    if not isinstance(per_page, int) or per_page < 1:
        raise ValueError(f"per_page must be an integer >= 1, got {per_page!r}")
    if max_per_page is not None:
        if max_per_page < 1:
            raise ValueError(f"max_per_page must be >= 1, got {max_per_page!r}")
        per_page = min(per_page, max_per_page)
    return page, min(per_page, MAX_OFFSET)


def paginate(
    session: _Executes,
    statement: Any,
    *,
    page: int = 1,
    per_page: int = 20,
    max_per_page: int | None = None,
    count: bool = True,
) -> Pagination:
    """Paginate a ``select()``: objects for a single-entity select, rows otherwise."""
    page, per_page = _check(page, per_page, max_per_page)
    offset = (page - 1) * per_page
    items: list[Any] = []
    if offset <= MAX_OFFSET:
        # a page holds each parent of a joined eager collection once, as Flask-SQLAlchemy's
        result = session.execute(statement.limit(per_page).offset(offset),
                                 execution_options={UNIQUE_OK: True})
        raw = raw_columns(statement)
        single_entity = len(raw) == 1 and getattr(raw[0], ANNOTATIONS, {}).get(
            "session_ext_mapper"
        ) is not None
        items = list(result.scalars().all() if single_entity else result.all())
    total = None
    if count:
        count_stmt = select(func.count()).select_from(statement.order_by(None).subquery())
        total = int(session.execute(count_stmt).scalar_one())

    def fetch(p: int) -> Pagination:
        return paginate(session, statement, page=p, per_page=per_page,
                        max_per_page=max_per_page, count=count)

    return Pagination(items, page, per_page, total, fetch)


def paginate_query(
    query: _PagedQuery,
    *,
    page: int = 1,
    per_page: int = 20,
    max_per_page: int | None = None,
    count: bool = True,
) -> Pagination:
    """Paginate a legacy :class:`~session_ext.query.Query`."""
    page, per_page = _check(page, per_page, max_per_page)
    offset = (page - 1) * per_page
    items = query.limit(per_page).offset(offset).all() if offset <= MAX_OFFSET else []
    total = query.order_by(None).count() if count else None

    def fetch(p: int) -> Pagination:
        return paginate_query(query, page=p, per_page=per_page,
                              max_per_page=max_per_page, count=count)

    return Pagination(items, page, per_page, total, fetch)
