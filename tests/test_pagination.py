"""Pagination of legacy queries and select() statements (session_ext.pagination)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Column, Integer, String, insert, select
from sqlalchemy.engine import Row

import session_ext
from session_ext import DeclarativeBase, Pagination, Session, paginate


class Base(DeclarativeBase):
    pass


class Entry(Base):
    __tablename__ = "pg_entries"
    id = Column(Integer, primary_key=True, autoincrement=False)
    name = Column(String(50), nullable=False)
    grp = Column(Integer, nullable=False)


def _fill(engine, n):
    Base.metadata.create_all(engine)
    if n:
        with engine.begin() as conn:
            conn.execute(
                insert(Entry.__table__),
                [{"id": i, "name": f"entry-{i}", "grp": i % 3} for i in range(1, n + 1)],
            )


@pytest.fixture
def make_session(engine):
    """make_session(n): a session on a table holding entries 1..n."""
    sessions = []

    def make(n):
        _fill(engine, n)
        s = Session(engine)
        sessions.append(s)
        return s

    yield make
    for s in sessions:
        s.close()


def _query_page(session, **kw):
    return session.query(Entry).order_by(Entry.id).paginate(**kw)


def _select_page(session, **kw):
    return paginate(session, select(Entry).order_by(Entry.id), **kw)


BOTH = pytest.mark.parametrize("get_page", [_query_page, _select_page], ids=["query", "select"])


def _ids(p):
    return [e.id for e in p.items]


# ============================================================================ pages


@BOTH
def test_first_page(make_session, get_page):
    s = make_session(45)
    p = get_page(s, page=1, per_page=20)
    assert isinstance(p, Pagination)
    assert _ids(p) == list(range(1, 21))
    assert all(isinstance(e, Entry) for e in p.items)
    assert (p.page, p.per_page, p.total, p.pages) == (1, 20, 45, 3)
    assert (p.first, p.last) == (1, 20)
    assert p.has_prev is False and p.prev_num is None
    assert p.has_next is True and p.next_num == 2


@BOTH
def test_middle_page(make_session, get_page):
    s = make_session(45)
    p = get_page(s, page=2, per_page=20)
    assert _ids(p) == list(range(21, 41))
    assert (p.first, p.last) == (21, 40)
    assert p.has_prev and p.prev_num == 1
    assert p.has_next and p.next_num == 3


@BOTH
def test_last_partial_page(make_session, get_page):
    s = make_session(45)
    p = get_page(s, page=3, per_page=20)
    assert _ids(p) == [41, 42, 43, 44, 45]
    assert (p.total, p.pages) == (45, 3)
    assert (p.first, p.last) == (41, 45)
    assert p.has_prev and p.prev_num == 2
    assert p.has_next is False and p.next_num is None


@BOTH
def test_exact_multiple_of_per_page(make_session, get_page):
    s = make_session(40)
    p = get_page(s, page=2, per_page=20)
    assert _ids(p) == list(range(21, 41))
    assert (p.total, p.pages) == (40, 2)
    assert (p.first, p.last) == (21, 40)
    assert p.has_next is False and p.next_num is None
    p3 = get_page(s, page=3, per_page=20)
    assert p3.items == [] and p3.pages == 2


@BOTH
def test_empty_table(make_session, get_page):
    s = make_session(0)
    p = get_page(s, page=1, per_page=20)
    assert p.items == []
    assert (p.total, p.pages) == (0, 0)
    assert (p.first, p.last) == (0, 0)
    assert p.has_prev is False and p.has_next is False
    assert p.prev_num is None and p.next_num is None
    assert list(p.iter_pages()) == []
    assert list(p) == []


@BOTH
def test_page_beyond_end(make_session, get_page):
    s = make_session(45)
    p = get_page(s, page=7, per_page=20)
    assert p.items == []
    assert (p.page, p.total, p.pages) == (7, 45, 3)
    assert (p.first, p.last) == (0, 0)
    assert p.has_next is False and p.next_num is None
    assert p.has_prev is True


@BOTH
def test_defaults(make_session, get_page):
    s = make_session(25)
    p = get_page(s)
    assert (p.page, p.per_page, p.total, p.pages) == (1, 20, 25, 2)
    assert _ids(p) == list(range(1, 21))


@BOTH
def test_max_per_page_caps(make_session, get_page):
    s = make_session(45)
    p = get_page(s, page=2, per_page=50, max_per_page=10)
    assert p.per_page == 10
    assert _ids(p) == list(range(11, 21))
    assert p.pages == 5
    assert (p.first, p.last) == (11, 20)
    # a per_page below the cap is kept
    p = get_page(s, page=1, per_page=5, max_per_page=10)
    assert p.per_page == 5 and len(p.items) == 5
    # max_per_page=None: no cap
    p = get_page(s, page=1, per_page=45, max_per_page=None)
    assert p.per_page == 45 and len(p.items) == 45 and p.pages == 1


@BOTH
def test_count_false(make_session, get_page, engine, count_statements):
    s = make_session(45)
    with count_statements(engine) as stmts:
        p = get_page(s, page=2, per_page=20, count=False)
    assert p.total is None
    assert p.pages == 0
    assert _ids(p) == list(range(21, 41))
    assert (p.first, p.last) == (21, 40)
    assert len(stmts) == 1  # no COUNT query
    assert "count" not in stmts.statements[0].lower()


@BOTH
def test_count_true_runs_one_count(make_session, get_page, engine, count_statements):
    s = make_session(45)
    with count_statements(engine) as stmts:
        get_page(s, page=1, per_page=20)
    assert len(stmts) == 2
    assert sum("count(" in st.lower() for st in stmts.statements) == 1


@BOTH
def test_iterable_and_len(make_session, get_page):
    s = make_session(12)
    p = get_page(s, page=2, per_page=5)
    assert list(p) == p.items
    assert [e.name for e in p] == [f"entry-{i}" for i in range(6, 11)]
    assert len(p) == 5


@BOTH
def test_prev_and_next(make_session, get_page):
    s = make_session(45)
    p1 = get_page(s, page=1, per_page=20)
    p2 = p1.next()
    assert isinstance(p2, Pagination)
    assert (p2.page, p2.per_page, p2.total) == (2, 20, 45)
    assert _ids(p2) == list(range(21, 41))
    p3 = p2.next()
    assert _ids(p3) == [41, 42, 43, 44, 45]
    back = p3.prev()
    assert back.page == 2
    assert _ids(back) == _ids(p2)
    # the identity map: the same objects again
    assert all(a is b for a, b in zip(back.items, p2.items))
    assert p2.prev().page == 1 and _ids(p2.prev()) == list(range(1, 21))


@BOTH
def test_next_keeps_cap_and_count_settings(make_session, get_page):
    s = make_session(45)
    p = get_page(s, page=1, per_page=50, max_per_page=10, count=False)
    n = p.next()
    assert n.per_page == 10
    assert n.total is None
    assert _ids(n) == list(range(11, 21))


@BOTH
def test_objects_are_the_sessions(make_session, get_page):
    s = make_session(10)
    p = get_page(s, page=1, per_page=3)
    assert p.items[0] is s.get(Entry, 1)
    assert session_ext.inspect(p.items[2]).persistent


def test_filtered_total(make_session):
    s = make_session(45)
    p = s.query(Entry).filter(Entry.grp == 0).order_by(Entry.id).paginate(page=2, per_page=4)
    assert p.total == 15 and p.pages == 4
    assert _ids(p) == [15, 18, 21, 24]
    p = paginate(s, select(Entry).where(Entry.grp == 0).order_by(Entry.id), page=4, per_page=4)
    assert p.total == 15
    assert _ids(p) == [39, 42, 45]
    assert p.has_next is False


def test_total_ignores_order_by_and_sees_autoflushed_pending(make_session):
    s = make_session(10)
    s.add(Entry(id=11, name="new", grp=0))
    p = s.query(Entry).order_by(Entry.name.desc()).paginate(page=1, per_page=3)
    assert p.total == 11
    assert p.items[0].name == "new"


# ============================================================================ columns


def test_select_of_columns_gives_rows(make_session):
    s = make_session(12)
    p = paginate(s, select(Entry.id, Entry.name).order_by(Entry.id), page=2, per_page=5)
    assert all(isinstance(r, Row) for r in p.items)
    assert not any(isinstance(r, Entry) for r in p.items)
    assert [tuple(r) for r in p.items] == [(i, f"entry-{i}") for i in range(6, 11)]
    assert p.items[0].name == "entry-6"
    assert (p.total, p.pages) == (12, 3)
    assert len(s.identity_map) == 0


def test_query_of_columns_gives_rows(make_session):
    s = make_session(12)
    p = s.query(Entry.id, Entry.grp).order_by(Entry.id).paginate(page=3, per_page=5)
    assert [tuple(r) for r in p.items] == [(11, 2), (12, 0)]
    assert p.items[1].grp == 0
    assert (p.total, p.pages, p.first, p.last) == (12, 3, 11, 12)
    assert len(s.identity_map) == 0


# ============================================================================ validation


@BOTH
@pytest.mark.parametrize("page", [0, -1, -20])
def test_invalid_page(make_session, get_page, page):
    s = make_session(3)
    with pytest.raises(ValueError) as info:
        get_page(s, page=page, per_page=10)
    msg = str(info.value)
    assert re.search(r"(?<![\w])page\b", msg), msg
    assert "per_page" not in msg, msg
    assert str(page) in msg


@BOTH
@pytest.mark.parametrize("per_page", [0, -1, -5])
def test_invalid_per_page(make_session, get_page, per_page):
    s = make_session(3)
    with pytest.raises(ValueError) as info:
        get_page(s, page=1, per_page=per_page)
    msg = str(info.value)
    assert re.search(r"(?<![\w])per_page\b", msg), msg
    assert str(per_page) in msg


@BOTH
def test_invalid_max_per_page(make_session, get_page):
    s = make_session(3)
    with pytest.raises(ValueError, match="max_per_page"):
        get_page(s, page=1, per_page=10, max_per_page=0)


def test_validation_happens_before_sql(make_session, engine, count_statements):
    s = make_session(3)
    with count_statements(engine) as stmts:
        with pytest.raises(ValueError):
            paginate(s, select(Entry), page=0)
        with pytest.raises(ValueError):
            s.query(Entry).paginate(per_page=0)
    assert len(stmts) == 0


# ============================================================================ iter_pages


def _expected_iter_pages(pages, page, left_edge=2, left_current=2, right_current=4, right_edge=2):
    """Independent oracle: the union of the edge and current windows, with None
    for every gap between shown numbers."""
    shown = sorted(
        p
        for p in range(1, pages + 1)
        if p <= left_edge
        or p > pages - right_edge
        or page - left_current <= p <= page + right_current
    )
    out = []
    prev = 0
    for p in shown:
        if p != prev + 1:
            out.append(None)
        out.append(p)
        prev = p
    return out


def test_oracle_matches_documented_example():
    assert _expected_iter_pages(20, 10) == [1, 2, None, 8, 9, 10, 11, 12, 13, 14, None, 19, 20]


@pytest.fixture
def pages_session(engine):
    """A session over 30 entries; a page size of 1 gives ``pages == total``."""
    _fill(engine, 30)
    with Session(engine) as s:
        yield s


def _pagination(session, pages, page):
    stmt = select(Entry).where(Entry.id <= pages).order_by(Entry.id)
    p = paginate(session, stmt, page=page, per_page=1)
    assert p.pages == pages
    return p


@pytest.mark.parametrize(
    ("pages", "page", "expected"),
    [
        (20, 10, [1, 2, None, 8, 9, 10, 11, 12, 13, 14, None, 19, 20]),
        (20, 1, [1, 2, 3, 4, 5, None, 19, 20]),
        (20, 20, [1, 2, None, 18, 19, 20]),
        (20, 4, [1, 2, 3, 4, 5, 6, 7, 8, None, 19, 20]),
        (20, 5, [1, 2, 3, 4, 5, 6, 7, 8, 9, None, 19, 20]),
        (20, 6, [1, 2, None, 4, 5, 6, 7, 8, 9, 10, None, 19, 20]),
        (20, 15, [1, 2, None, 13, 14, 15, 16, 17, 18, 19, 20]),
        (5, 3, [1, 2, 3, 4, 5]),
        (1, 1, [1]),
    ],
)
def test_iter_pages_examples(pages_session, pages, page, expected):
    assert _expected_iter_pages(pages, page) == expected  # the oracle agrees
    p = _pagination(pages_session, pages, page)
    assert list(p.iter_pages()) == expected


def test_iter_pages_defaults_sweep(pages_session):
    for pages in range(1, 26):
        for page in range(1, pages + 1):
            p = _pagination(pages_session, pages, page)
            assert list(p.iter_pages()) == _expected_iter_pages(pages, page), (pages, page)


@pytest.mark.parametrize(
    "kw",
    [
        {"left_edge": 1, "left_current": 1, "right_current": 1, "right_edge": 1},
        {"left_edge": 3, "left_current": 0, "right_current": 2, "right_edge": 3},
        {"left_edge": 1, "left_current": 3, "right_current": 3, "right_edge": 1},
    ],
    ids=["1-1-1-1", "3-0-2-3", "1-3-3-1"],
)
def test_iter_pages_custom_windows(pages_session, kw):
    for pages in (1, 2, 7, 12, 25):
        for page in range(1, pages + 1):
            p = _pagination(pages_session, pages, page)
            assert list(p.iter_pages(**kw)) == _expected_iter_pages(pages, page, **kw), (
                pages,
                page,
            )


def test_iter_pages_never_repeats_a_number(pages_session):
    """Whatever the window sizes, each page number appears at most once."""
    for kw in (
        {"left_edge": 2, "left_current": 2, "right_current": 0, "right_edge": 2},
        {"left_edge": 3, "left_current": 0, "right_current": 0, "right_edge": 3},
    ):
        for pages in (3, 4, 6):
            for page in range(1, pages + 1):
                p = _pagination(pages_session, pages, page)
                numbers = [n for n in p.iter_pages(**kw) if n is not None]
                assert len(numbers) == len(set(numbers)), (kw, pages, page, numbers)
                assert numbers == sorted(numbers)
                assert list(p.iter_pages(**kw)) == _expected_iter_pages(pages, page, **kw)


def test_iter_pages_with_count_false_is_empty(make_session):
    s = make_session(30)
    p = paginate(s, select(Entry).order_by(Entry.id), page=2, per_page=5, count=False)
    assert list(p.iter_pages()) == []
