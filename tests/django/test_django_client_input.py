"""Client input that names no row or no page is a 404, never a 500, on
SQLite and PostgreSQL (where a bad value would abort the transaction)."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import Client
from django_support import Item

from session_ext.django import db


@pytest.fixture(params=["sqlite_file", "postgresql"])
def item(request, configure) -> Item:
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_engine").url.render_as_string(hide_password=False)
        configure(DATABASES={"default": url, "audit": "sqlite://"})
    row = Item(name="one")
    db.session.add(row)
    db.session.commit()
    return row


@pytest.mark.parametrize("pk", ["abc", "1.5", "", 2**70, "99999999999999999999", None])
def test_get_object_or_404_of_a_value_no_key_can_have_is_404(item, pk):
    with pytest.raises(Http404):
        db.get_object_or_404(Item, pk)
    with pytest.raises(Http404):
        Item.query.get_or_404(pk)
    assert db.session.get(Item, item.id) is item  # the transaction is still usable
    assert db.get_object_or_404(Item, str(item.id)) is item


@pytest.mark.parametrize("query", ["page=99999999999999999999",
                                   "page=9223372036854775807&per_page=100",
                                   "per_page=99999999999999999999&page=2"])
def test_huge_page_numbers_are_404(item, query):
    assert Client().get(f"/items/?{query}").status_code == 404
    assert Client().get("/items/").json()["ids"] == [item.id]
