"""get_or_404 / first_or_404 / one_or_404 on db and on Model.query."""

from __future__ import annotations

import pytest
from flask_support import BlogPost, User, db
from sqlalchemy import select
from werkzeug.exceptions import NotFound


@pytest.fixture
def people(app):
    ada, bob = User(name="ada"), User(name="bob")
    db.session.add_all([ada, bob])
    db.session.commit()
    return ada, bob


def test_db_get_or_404(people):
    ada, _ = people
    assert db.get_or_404(User, ada.id) is ada
    with pytest.raises(NotFound) as info:
        db.get_or_404(User, 999, description="no such user")
    assert info.value.description == "no such user"


def test_db_first_or_404(people):
    ada, _ = people
    assert db.first_or_404(select(User).order_by(User.name)) is ada
    assert db.first_or_404(select(User.name).order_by(User.name.desc())) == "bob"
    with pytest.raises(NotFound):
        db.first_or_404(select(User).where(User.name == "zed"))


def test_db_one_or_404(people):
    _, bob = people
    assert db.one_or_404(select(User).where(User.name == "bob")) is bob
    with pytest.raises(NotFound, match="none"):
        db.one_or_404(select(User).where(User.name == "zed"), description="none")
    with pytest.raises(NotFound):
        db.one_or_404(select(User))  # two rows


def test_query_404_helpers(people):
    ada, bob = people
    assert User.query.get_or_404(bob.id) is bob
    assert User.query.order_by(User.id).first_or_404() is ada
    assert User.query.filter_by(name="ada").one_or_404() is ada
    with pytest.raises(NotFound) as info:
        User.query.get_or_404(404, description="gone")
    assert info.value.description == "gone"
    with pytest.raises(NotFound):
        BlogPost.query.first_or_404()
    with pytest.raises(NotFound):
        User.query.one_or_404()  # two rows
    with pytest.raises(NotFound):
        User.query.filter_by(name="zed").one_or_404()


def test_404_response_from_a_view(client, people):
    ada, _ = people
    assert client.get(f"/users/{ada.id}").json == {"id": ada.id, "name": "ada"}
    response = client.get("/users/999")
    assert response.status_code == 404
    assert "No user 999." in response.text
