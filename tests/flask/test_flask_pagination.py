"""db.paginate / Model.query.paginate: request arguments and their edge cases."""

from __future__ import annotations

import pytest
from flask_support import User, db, on_databases
from sqlalchemy import select
from werkzeug.exceptions import NotFound


def _add_users(count: int) -> None:
    db.session.add_all([User(name=f"user{n:03d}") for n in range(1, count + 1)])
    db.session.commit()


@pytest.fixture
def users(app):
    _add_users(45)


@on_databases
def test_defaults_and_request_arguments(users, client):
    first = client.get("/users").json
    assert first == {"names": [f"user{n:03d}" for n in range(1, 21)], "page": 1,
                     "per_page": 20, "total": 45, "pages": 3}
    last = client.get("/users?page=3").json
    assert last["names"] == [f"user{n:03d}" for n in range(41, 46)]
    small = client.get("/users?page=2&per_page=5").json
    assert small["names"] == [f"user{n:03d}" for n in range(6, 11)]
    assert small["pages"] == 9
    legacy = client.get("/users/query?page=2&per_page=10").json
    assert legacy["names"] == [f"user{n:03d}" for n in range(11, 21)]
    assert legacy["total"] == 45


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=-1", "page=abc", "page=1.5", "page=", "per_page=0", "per_page=-5",
     "per_page=many", "page=4", "page=99"],
)
def test_invalid_or_past_the_end_is_404(users, client, query):
    assert client.get(f"/users?{query}").status_code == 404
    assert client.get(f"/users/query?{query}").status_code == 404


def test_error_out_false_falls_back_to_defaults(users, app):
    statement = select(User).order_by(User.id)
    with app.test_request_context("/?page=abc&per_page=-3"):
        page = db.paginate(statement, error_out=False)
        assert (page.page, page.per_page, len(page.items)) == (1, 20, 20)
    with app.test_request_context("/?page=9"):
        page = db.paginate(statement, error_out=False)
        assert page.page == 9 and page.items == [] and page.total == 45
    with app.test_request_context("/?page=0"):
        assert User.query.paginate(error_out=False).page == 1


def test_empty_first_page_is_not_an_error(app, client):
    assert client.get("/users").json == {"names": [], "page": 1, "per_page": 20, "total": 0,
                                         "pages": 0}
    assert client.get("/users?page=2").status_code == 404


def test_per_page_caps(users, app):
    statement = select(User).order_by(User.id)
    with app.test_request_context("/?per_page=1000"):
        assert db.paginate(statement).per_page == 100  # a client cannot ask for everything
        assert db.paginate(statement, max_per_page=10).per_page == 10
    with app.test_request_context("/"):
        assert db.paginate(statement, per_page=1000).per_page == 1000  # the code's choice
        assert db.paginate(statement, per_page=30, max_per_page=25).per_page == 25
        with pytest.raises(ValueError, match="max_per_page"):
            db.paginate(statement, max_per_page=0)


def test_explicit_arguments_win_over_the_request(users, app):
    with app.test_request_context("/?page=3&per_page=2"):
        page = db.paginate(select(User).order_by(User.id), page=1, per_page=4)
        assert [u.name for u in page.items] == ["user001", "user002", "user003", "user004"]
        with pytest.raises(NotFound):
            db.paginate(select(User), page=0)


def test_outside_a_request_defaults_apply(users, app):
    with app.app_context():  # a new app context, no request
        page = db.paginate(select(User).order_by(User.id))
        assert (page.page, page.per_page, page.total) == (1, 20, 45)


def test_rows_count_false_and_navigation(users, app):
    with app.test_request_context("/?page=2&per_page=10"):
        rows = db.paginate(select(User.id, User.name).order_by(User.id), count=False)
        assert rows.total is None
        assert rows.items[0] == (11, "user011")
        assert rows.has_next and rows.has_prev
        assert rows.next().items[0] == (21, "user021")
        assert rows.prev().page == 1
        page = db.paginate(select(User).order_by(User.id), page=5, per_page=5)
        assert list(page.iter_pages()) == [1, 2, 3, 4, 5, 6, 7, 8, 9]
        assert (page.first, page.last, page.prev_num, page.next_num) == (21, 25, 4, 6)
