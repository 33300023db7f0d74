"""``session_ext.django.mapped()``: Django models mapped onto session_ext classes.

The models are ``library.models`` (foreign keys, a self-reference, many-to-many
with an auto-created and an explicit through table, ``db_table``, ``db_column``,
a string primary key, Python and database-side defaults).  On SQLite they live
in Django's test database (pytest-django's ``django_db(transaction=True)``:
Django's ORM commits, so the two ORMs' connections see each other's rows); on PostgreSQL in
a Django database alias ``pg`` that a router sends the ``library`` app to.
Rows written by one ORM are read by the other.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from library.models import MODELS, Author, Book, Edition, Favourite, Reader, Tag
from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, func, select

from session_ext.django import DjangoModels, db, mapped, registry

# Django's ORM commits (a transactional test database, flushed after each test),
# so session_ext's connections see its rows and it sees theirs
pytestmark = [pytest.mark.django_db(transaction=True, databases="__all__"),
              pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")]


class LibraryToPg:
    """Routes the ``library`` app to the ``pg`` alias."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return "pg" if model._meta.app_label == "library" else None

    db_for_write = db_for_read

    def allow_relation(self, *args: Any, **hints: Any) -> bool:
        return True


def _pg_entry(url: Any) -> dict[str, Any]:
    return {"ENGINE": "django.db.backends.postgresql", "NAME": url.database,
            "USER": url.username or "", "PASSWORD": url.password or "",
            "HOST": url.query.get("host") or url.host or "",
            "PORT": str(url.query.get("port") or url.port or "")}


@pytest.fixture(params=["sqlite", "postgresql"])
def django_database(request: pytest.FixtureRequest, settings: Any, databases: dict[str, str],
                    django_db_blocker: Any) -> Iterator[str]:
    """The Django alias holding the library tables; SESSION_EXT derives its
    databases from Django's."""
    if request.param == "sqlite":
        settings.SESSION_EXT = {"DATABASES": {"default": {"DJANGO_DATABASE": "default"},
                                              "audit": databases["audit"]}}
        yield "default"
        db.session.remove()
        return
    from django.db import connections

    pg = request.getfixturevalue("pg_engine")
    entry = _pg_entry(pg.url)
    connections.settings["pg"] = connections.configure_settings(
        {**connections.settings, "pg": entry})["pg"]
    settings.DATABASES = {**settings.DATABASES, "pg": entry}
    settings.DATABASE_ROUTERS = [LibraryToPg()]
    settings.SESSION_EXT = {"DATABASES": {"default": databases["default"],
                                          "library": {"DJANGO_DATABASE": "pg"},
                                          "audit": databases["audit"]}}
    with django_db_blocker.unblock():
        with connections["pg"].schema_editor() as editor:
            for model in MODELS:
                editor.create_model(model)
        try:
            yield "pg"
        finally:
            db.session.remove()
            with connections["pg"].schema_editor() as editor:
                for model in reversed(MODELS):
                    editor.delete_model(model)
            connections["pg"].close()
            del connections.settings["pg"]


def test_columns_types_keys_and_names_come_from_meta(django_database):
    author, book, tag = mapped(Author), mapped(Book), mapped(Tag)
    assert issubclass(book, DjangoModels) and book.django_model is Book
    assert mapped(Book) is book  # made once
    assert book.__table__.name == "library_books"  # Meta.db_table
    assert book.__table__.c.isbn.name == "isbn_code"  # db_column; the attribute is the field's
    assert [c.name for c in book.__table__.primary_key] == ["id"]
    assert tag.__table__.c.code.primary_key and isinstance(tag.__table__.c.code.type, String)
    assert tag.__table__.c.label.name == "tag_label"
    columns = author.__table__.c
    assert isinstance(columns.name.type, String) and columns.name.type.length == 100
    assert not columns.name.nullable and columns.born.nullable
    assert isinstance(columns.born.type, Date) and isinstance(columns.active.type, Boolean)
    assert columns.score.server_default is not None  # db_default
    assert columns.active.default is not None and columns.active.server_default is None
    assert isinstance(columns.mentor_id.type, Integer)
    (fk,) = book.__table__.c.author_id.foreign_keys
    assert fk.target_fullname == "library_author.id"
    assert isinstance(book.__table__.c.price.type, Numeric)
    assert book.__table__.c.price.type.scale == 2
    assert isinstance(book.__table__.c.published.type, DateTime)
    assert "library_author" not in db.metadata.tables  # db.create_all() leaves Django's tables


def test_rows_django_wrote_are_read_with_relationships(django_database):
    ada = Author.objects.create(name="Ada", born=dt.date(1815, 12, 10))
    pupil = Author.objects.create(name="Pupil", mentor=ada)
    sf, cs = Tag.objects.create(code="sf", label="Science fiction"), Tag.objects.create(
        code="cs", label="Computing")
    notes = Book.objects.create(title="Notes", isbn="111", author=ada,
                                price=decimal.Decimal("12.50"))
    notes.tags.add(sf, cs)
    reader = Reader.objects.create(name="Rita")
    Favourite.objects.create(reader=reader, book=notes, stars=4)

    SAuthor, SBook, STag, SReader = (mapped(m) for m in (Author, Book, Tag, Reader))  # noqa: N806
    book = db.session.scalars(select(SBook).where(SBook.isbn == "111")).one()
    assert book.title == "Notes" and book.price == decimal.Decimal("12.50")
    assert book.author.name == "Ada" and book.author.score == 7  # db_default filled by the DB
    assert sorted(t.code for t in book.tags) == ["cs", "sf"]
    assert [b.title for b in db.session.get(STag, "sf").books] == ["Notes"]
    assert [b.isbn for b in db.session.get(SAuthor, ada.pk).books] == ["111"]
    assert db.session.get(SAuthor, pupil.pk).mentor.name == "Ada"
    assert [a.name for a in db.session.get(SAuthor, ada.pk).mentees] == ["Pupil"]
    assert [b.title for b in db.session.get(SReader, reader.pk).favourites] == ["Notes"]
    assert [f.stars for f in db.session.get(SReader, reader.pk).favourite_set] == [4]
    assert SBook.query.filter_by(author_id=ada.pk).count() == 1
    assert db.session.scalar(select(func.count()).select_from(SBook.__table__)) == 1


def test_rows_session_ext_writes_are_seen_by_django(django_database):
    SAuthor, SBook, STag, SReader, SFavourite = (  # noqa: N806
        mapped(m) for m in (Author, Book, Tag, Reader, Favourite))
    grace = SAuthor(name="Grace", born=dt.date(1906, 12, 9))
    book = SBook(title="Compilers", isbn="222", author=grace, price=decimal.Decimal("9.99"),
                 published=dt.datetime(1952, 5, 1, 12, 0, tzinfo=dt.UTC))
    book.tags.append(STag(code="cs", label="Computing"))
    reader = SReader(name="Rob")
    db.session.add_all([book, reader])
    db.session.flush()
    db.session.add(SFavourite(reader_id=reader.id, book_id=book.id))
    db.session.commit()
    assert grace.active is True  # the field's Python default
    assert grace.score == 7  # read back from the database default

    django_book = Book.objects.get(isbn="222")
    assert django_book.author.name == "Grace" and django_book.author.score == 7
    assert django_book.author.active is True
    assert django_book.price == decimal.Decimal("9.99")
    assert django_book.published == dt.datetime(1952, 5, 1, 12, 0, tzinfo=dt.UTC)
    assert [t.label for t in django_book.tags.all()] == ["Computing"]
    assert list(Reader.objects.get(name="Rob").favourites.values_list("title", flat=True)) == [
        "Compilers"]
    assert Favourite.objects.get().stars == 5  # the Python default

    db.session.delete(db.session.get(STag, "cs"))  # the through row goes first
    db.session.commit()
    assert list(django_book.tags.all()) == []


def test_each_model_goes_to_the_database_its_router_names(django_database):
    engine = db.session.get_bind(mapped(Book))
    expected = db.engine if django_database == "default" else db.get_engine("library")
    assert engine is expected
    assert db.session.get_bind(mapper=None, clause=select(mapped(Tag).__table__)) is expected


def test_a_model_whose_database_session_ext_lacks_is_refused(settings, databases):
    from library import models as library_models

    class Other(library_models.models.Model):  # a fresh model: not mapped yet
        name = library_models.models.CharField(max_length=10)

        class Meta:
            app_label = "library"

    settings.SESSION_EXT = {"DATABASES": databases}  # URLs: nothing derives from Django's
    with pytest.raises(ImproperlyConfigured, match=r"DJANGO_DATABASE.*default"):
        mapped(Other)
    with pytest.raises(TypeError, match="Django model"):
        mapped(object)
    assert registry.settings is not None


def test_a_composite_primary_key(django_database):
    SEdition, SBook = mapped(Edition), mapped(Book)  # noqa: N806
    assert [c.name for c in SEdition.__table__.primary_key] == ["book_id", "number"]
    author = Author.objects.create(name="Ada")
    book = Book.objects.create(title="Notes", isbn="333", author=author)
    Edition.objects.create(book=book, number=1, year=1843)
    first = db.session.get(SEdition, (book.pk, 1))
    assert first.year == 1843 and first.book.title == "Notes"
    db.session.add(SEdition(book_id=book.pk, number=2, year=1953))
    db.session.commit()
    assert sorted(e.year for e in db.session.get(SBook, book.pk).editions) == [1843, 1953]
    assert list(Edition.objects.order_by("number").values_list("year", flat=True)) == [
        1843, 1953]
