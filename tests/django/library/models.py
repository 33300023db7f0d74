"""Django models of the mapping tests (app ``library``): foreign keys (one
self-referential), a many-to-many with an auto-created through table and one
with an explicit through model, ``db_table``, ``db_column``, a non-integer
primary key, a composite primary key, Python and database-side defaults."""

from __future__ import annotations

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)
    born = models.DateField(null=True)
    active = models.BooleanField(default=True)
    score = models.IntegerField(db_default=7)
    mentor = models.ForeignKey("self", null=True, on_delete=models.SET_NULL,
                               related_name="mentees")


class Tag(models.Model):
    code = models.CharField(max_length=20, primary_key=True)
    label = models.CharField(max_length=50, db_column="tag_label")


class Book(models.Model):
    title = models.CharField(max_length=200)
    isbn = models.CharField(max_length=20, db_column="isbn_code", unique=True)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    price = models.DecimalField(max_digits=8, decimal_places=2, null=True)
    published = models.DateTimeField(null=True)
    tags = models.ManyToManyField(Tag, related_name="books")

    class Meta:
        db_table = "library_books"


class Reader(models.Model):
    name = models.CharField(max_length=100)
    favourites = models.ManyToManyField(Book, through="Favourite", related_name="fans")


class Favourite(models.Model):
    reader = models.ForeignKey(Reader, on_delete=models.CASCADE)
    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    stars = models.IntegerField(default=5)


class Edition(models.Model):
    pk = models.CompositePrimaryKey("book", "number")
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="editions")
    number = models.IntegerField()
    year = models.IntegerField(null=True)


MODELS = [Author, Tag, Book, Reader, Favourite, Edition]
