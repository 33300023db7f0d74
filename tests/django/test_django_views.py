"""db.Model and Model.query, the 404 helpers and pagination, in views and out."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import Client, RequestFactory
from django_support import AuditEntry, Item
from sqlalchemy import Column, Integer, select

from session_ext.django import (
    Query,
    db,
    first_or_404,
    get_object_or_404,
    one_or_404,
    paginate,
)
from session_ext.django.model import snake_case


@pytest.fixture
def items() -> list[int]:
    db.session.add_all([Item(name=f"item{i:02d}") for i in range(1, 46)])
    db.session.commit()
    return list(range(1, 46))


# -- models ------------------------------------------------------------------------


def test_default_table_names_are_snake_case():
    assert Item.__table__.name == "item"
    assert AuditEntry.__table__.name == "audit_entry"
    assert snake_case("HTTPRequestLog") == "http_request_log"
    assert [snake_case(n) for n in ("V2Thing", "Thing2Go", "mixedCase", "ABC", "_Private")] == [
        "v2_thing", "thing2_go", "mixed_case", "abc", "_private"]


def test_table_names_are_the_flask_adapters_with_leading_underscores_kept(temporary_models):
    from session_ext.flask.model import snake_case as flask_snake_case

    class Order_Item(db.Model):  # noqa: N801 - the name under test
        id = Column(Integer, primary_key=True)

    temporary_models.append(Order_Item)
    assert Order_Item.__table__.name == "order__item" == flask_snake_case("Order_Item")
    for name in ("HTTPResponse", "User2Group", "ABCThing", "Snake_case_Name"):
        assert snake_case(name) == flask_snake_case(name)
    assert (snake_case("_Private"), flask_snake_case("_Private")) == ("_private", "private")


def test_explicit_tablename_and_abstract_bases_are_kept(temporary_models):
    class Base(db.Model):
        __abstract__ = True
        id = Column(Integer, primary_key=True)

    class Named(Base):
        __tablename__ = "custom_named"

    class Inherited(Base):
        pass

    temporary_models.extend([Named, Inherited])
    assert Named.__table__.name == "custom_named"
    assert Inherited.__table__.name == "inherited"
    assert "base" not in db.metadata.tables


def test_bind_key_is_stored_on_the_table():
    assert AuditEntry.__table__.info["bind_key"] == "audit"
    assert "bind_key" not in Item.__table__.info


def test_model_query_uses_the_current_session(items):
    query = Item.query
    assert isinstance(query, Query)
    assert query.session is db.session()
    assert Item.query.filter(Item.name == "item03").one().id == 3
    assert Item.query.count() == 45


def test_model_query_on_the_base_is_not_a_query():
    assert not isinstance(db.Model.query, Query)


def test_session_query_uses_the_adapter_query_class(items):
    assert isinstance(db.session.query(Item), Query)
    assert db.session.query(Item).get_or_404(2).name == "item02"


# -- 404 helpers ---------------------------------------------------------------------


def test_get_object_or_404(items):
    assert get_object_or_404(Item, 5).name == "item05"
    with pytest.raises(Http404, match="No Item with primary key 999"):
        get_object_or_404(Item, 999)
    with pytest.raises(Http404, match="gone"):
        db.get_object_or_404(Item, 999, message="gone")


def test_first_and_one_or_404(items):
    assert first_or_404(select(Item).order_by(Item.id.desc())).id == 45
    with pytest.raises(Http404):
        first_or_404(select(Item).where(Item.name == "nope"))
    assert one_or_404(select(Item).where(Item.id == 7)).name == "item07"
    with pytest.raises(Http404):
        one_or_404(select(Item))  # several
    with pytest.raises(Http404):
        db.one_or_404(select(Item).where(Item.id == 999))


def test_query_404_helpers(items):
    assert Item.query.get_or_404(1).id == 1
    assert Item.query.order_by(Item.id).first_or_404().id == 1
    for call in (lambda: Item.query.get_or_404(0),
                 lambda: Item.query.filter_by(name="none").first_or_404(),
                 lambda: Item.query.one_or_404()):
        with pytest.raises(Http404):
            call()


def test_404_helpers_in_views(items):
    client = Client()
    assert client.get("/items/4").json() == {"id": 4, "name": "item04"}
    assert client.get("/items/4/query").json()["name"] == "item04"
    assert client.get("/items/first/item09").json() == {"id": 9}
    assert client.get("/items/999").status_code == 404
    assert client.get("/items/999/query").status_code == 404
    assert client.get("/items/first/missing").status_code == 404


# -- pagination ----------------------------------------------------------------------


def get(query: str = "") -> dict:
    response = Client().get(f"/items/{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_paginate_defaults_and_request_arguments(items):
    first = get()
    assert first["ids"] == list(range(1, 21)) and first["page"] == 1
    assert first["per_page"] == 20 and first["total"] == 45 and first["pages"] == 3
    third = get("?page=3")
    assert third["ids"] == list(range(41, 46))
    assert get("?page=2&per_page=10")["ids"] == list(range(11, 21))


def test_request_per_page_is_capped_at_100(items):
    assert get("?per_page=5000")["per_page"] == 100


@pytest.mark.parametrize("query", ["?page=0", "?page=-1", "?page=abc", "?page=1.5",
                                   "?per_page=0", "?per_page=x", "?page=4"])
def test_bad_page_input_is_404(items, query):
    assert Client().get(f"/items/{query}").status_code == 404


def test_empty_first_page_is_not_404():
    assert get() ["ids"] == [] and get()["total"] == 0


@pytest.mark.parametrize("query", ["?page=abc", "?page=0&per_page=-3"])
def test_error_out_false_falls_back_to_defaults(items, query):
    response = Client().get(f"/items/query{query}")
    assert response.json()["page"] == 1 and response.json()["per_page"] == 20


def test_paginate_outside_a_request_and_with_explicit_arguments(items):
    page = paginate(None, select(Item).order_by(Item.id), page=2, per_page=5)
    assert [i.id for i in page.items] == [6, 7, 8, 9, 10]
    assert page.has_next and page.has_prev and page.next().page == 3
    request = RequestFactory().get("/", {"page": "2", "per_page": "50"})
    capped = db.paginate(request, select(Item).order_by(Item.id), max_per_page=30)
    assert capped.per_page == 30 and [i.id for i in capped.items] == list(range(31, 46))
    rows = paginate(None, select(Item.id, Item.name).order_by(Item.id), per_page=2)
    assert [tuple(r) for r in rows.items] == [(1, "item01"), (2, "item02")]
    assert paginate(None, select(Item), count=False).total is None


def test_paginate_rejects_a_bad_max_per_page(items):
    with pytest.raises(ValueError, match="max_per_page"):
        paginate(None, select(Item), max_per_page=0)
