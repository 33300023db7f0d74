"""A small library schema (authors, books, labels) for the tests of SAVEPOINT
rollbacks, lazy loads, ``get()`` of vanished rows and scopes that use it.

Its own declarative base and ``rf_`` tables, so it can share a database with
each test module's own models."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table

from session_ext import DeclarativeBase, relationship


class LibraryBase(DeclarativeBase):
    pass


class Author(LibraryBase):
    __tablename__ = "rf_authors"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    books = relationship("Book", back_populates="author", order_by="Book.id")


class Book(LibraryBase):
    __tablename__ = "rf_books"
    id = Column(Integer, primary_key=True)
    title = Column(String(50))
    author_id = Column(ForeignKey("rf_authors.id"))
    author = relationship("Author", back_populates="books")
    labels = relationship("Label", secondary=lambda: book_labels, back_populates="books",
                          order_by="Label.id")


book_labels = Table(
    "rf_book_labels",
    LibraryBase.metadata,
    Column("book_id", ForeignKey("rf_books.id"), primary_key=True),
    Column("label_id", ForeignKey("rf_labels.id"), primary_key=True),
)


class Label(LibraryBase):
    __tablename__ = "rf_labels"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    books = relationship("Book", secondary=book_labels, back_populates="labels",
                         order_by="Book.id")


def create_library(engine):
    """Create the library's tables on ``engine``; returns ``engine``."""
    LibraryBase.metadata.create_all(engine)
    return engine
