"""Client input that names no row or no page is a 404, never a 500, on
SQLite and PostgreSQL (where a bad value would abort the transaction)."""

from __future__ import annotations

import pytest
from flask_support import User, db, on_databases
from werkzeug.exceptions import NotFound


@pytest.fixture
def ada(app):
    user = User(name="ada")
    db.session.add(user)
    db.session.commit()
    return user


@on_databases
@pytest.mark.parametrize("ident", ["abc", "1.5", "", 2**70, "99999999999999999999", 1.5, None])
def test_get_or_404_of_a_value_no_key_can_have_is_404(ada, ident):
    with pytest.raises(NotFound):
        db.get_or_404(User, ident)
    with pytest.raises(NotFound):
        User.query.get_or_404(ident)
    # nothing reached the database: its transaction is still usable
    assert db.session.get(User, ada.id) is ada
    assert db.session.scalar(User.__table__.select().with_only_columns(User.name)) == "ada"


@on_databases
def test_get_or_404_converts_text_to_the_key_type(ada):
    assert db.get_or_404(User, str(ada.id)) is ada
    assert User.query.get_or_404(f" {ada.id} ") is ada


@on_databases
@pytest.mark.parametrize("query", ["page=99999999999999999999",
                                   "page=9223372036854775807&per_page=100",
                                   "per_page=99999999999999999999&page=2"])
def test_huge_page_numbers_are_404(ada, client, query):
    assert client.get(f"/users?{query}").status_code == 404
    assert client.get(f"/users/query?{query}").status_code == 404
    assert client.get("/users").json["names"] == ["ada"]
