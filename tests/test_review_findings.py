"""Failing tests for bugs found in review (each checked against SQLAlchemy's ORM).

* The PostgreSQL COPY path (>= COPY_THRESHOLD new rows) passes the table name
  unquoted to ``pg_get_serial_sequence``, so tables (or schemas) whose names
  need quoting cannot take a large batch insert at all.
* Rolling back a SAVEPOINT leaves relationship attributes changed in it as
  they were (the object is only expired when one of its *columns* was
  UPDATEd), so collections keep showing objects whose rows are gone, or miss
  objects whose rows are back.
* ``relationship(secondary="table_name")`` crashes when mappings are
  configured: ``Table.__bool__`` raises inside ``tables.get(name) or ...``.
* A many-to-one lazy load runs with autoflush off: a foreign key pointing at
  a pending object loads None, and that None stays cached after the flush.
"""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import Column, Date, ForeignKey, Integer, String, Table, func, select, text

from session_ext import DeclarativeBase, Session, inspect, relationship
from session_ext.persistence import COPY_THRESHOLD


class Base(DeclarativeBase):
    pass


# --------------------------------------------------------------------------- models
class Author(Base):
    __tablename__ = "rf_authors"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    books = relationship("Book", back_populates="author", order_by="Book.id")


class Book(Base):
    __tablename__ = "rf_books"
    id = Column(Integer, primary_key=True)
    title = Column(String(50))
    author_id = Column(ForeignKey("rf_authors.id"))
    author = relationship("Author", back_populates="books")
    labels = relationship("Label", secondary=lambda: book_labels, back_populates="books",
                          order_by="Label.id")


book_labels = Table(
    "rf_book_labels",
    Base.metadata,
    Column("book_id", ForeignKey("rf_books.id"), primary_key=True),
    Column("label_id", ForeignKey("rf_labels.id"), primary_key=True),
)


class Label(Base):
    __tablename__ = "rf_labels"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    books = relationship("Book", secondary=book_labels, back_populates="labels",
                         order_by="Book.id")


class MixedCase(Base):
    """A table whose name must be quoted on PostgreSQL."""

    __tablename__ = "ReviewThings"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    day = Column(Date)


class CopyBase(DeclarativeBase):
    pass


class InQuotedSchema(CopyBase):
    """A table in a schema whose name must be quoted on PostgreSQL."""

    __tablename__ = "things"
    __table_args__ = {"schema": "Review"}
    id = Column(Integer, primary_key=True)
    name = Column(String(50))


@pytest.fixture
def db(engine):
    Base.metadata.create_all(engine)
    return engine


# --------------------------------------------------------------------------- COPY path
def test_large_batch_into_table_whose_name_needs_quoting(db):
    """>= COPY_THRESHOLD rows on PostgreSQL go through _copy_insert, which calls
    pg_get_serial_sequence('ReviewThings', 'id'): the unquoted name is folded to
    lower case and the relation is not found, so the whole flush fails (999
    rows work). SQLAlchemy's ORM inserts these rows like any others."""
    n = COPY_THRESHOLD + 10
    objs = [
        MixedCase(name=None if i % 7 == 0 else f"nämé {i}",
                  day=None if i % 2 else datetime.date(2024, 1, 1 + i % 28))
        for i in range(n)
    ]
    with Session(db, expire_on_commit=False) as s:
        s.add_all(objs)
        s.commit()
        assert s.scalar(select(func.count()).select_from(MixedCase)) == n
    with db.connect() as conn:
        rows = dict(conn.execute(select(MixedCase.id, MixedCase.name)).all())
    assert {o.id: o.name for o in objs} == rows


def test_large_batch_into_schema_whose_name_needs_quoting(pg_engine):
    """Same with a schema name that needs quoting: pg_get_serial_sequence gets
    'Review.things' and fails with 'schema "review" does not exist'."""
    with pg_engine.begin() as conn:
        conn.exec_driver_sql('CREATE SCHEMA "Review"')
    CopyBase.metadata.create_all(pg_engine)
    n = COPY_THRESHOLD + 10
    objs = [InQuotedSchema(name=f"n{i}") for i in range(n)]
    with Session(pg_engine, expire_on_commit=False) as s:
        s.add_all(objs)
        s.commit()
    with pg_engine.connect() as conn:
        rows = dict(conn.execute(select(InQuotedSchema.id, InQuotedSchema.name)).all())
    assert {o.id: o.name for o in objs} == rows


# --------------------------------------------------------------------------- SAVEPOINT rollback
def test_savepoint_rollback_forgets_child_appended_to_collection(db):
    """The child's INSERT is undone, but the parent (whose columns did not
    change) is not in tx._dirty (unitofwork._settle only records states that
    had an UPDATE), so it is not expired and author.books still holds the now
    transient child. SQLAlchemy expires every object the flush touched:
    author.books reloads as []."""
    with Session(db) as s:
        author = Author(id=1, name="a")
        s.add(author)
        s.commit()
        assert author.books == []
        sp = s.begin_nested()
        book = Book(title="draft")
        author.books.append(book)
        s.flush()
        sp.rollback()
        assert inspect(book).transient
        assert author.books == []
        s.commit()
        assert s.scalar(select(func.count()).select_from(Book)) == 0


def test_savepoint_rollback_restores_collection_a_child_was_removed_from(db):
    """A child moved to another parent in a SAVEPOINT: the child's UPDATE is
    undone and the child is expired, but both parents' loaded collections keep
    the rolled-back move (SQLAlchemy: a.books == [book], b.books == [])."""
    with Session(db) as s:
        a, b = Author(id=1, name="a"), Author(id=2, name="b")
        s.add_all([a, b, Book(id=1, title="t", author=a)])
        s.commit()
        book = s.get(Book, 1)
        assert [x.id for x in a.books] == [1] and b.books == []
        sp = s.begin_nested()
        book.author = b
        s.flush()
        sp.rollback()
        assert book.author is a
        assert [x.id for x in a.books] == [1]
        assert b.books == []


def test_savepoint_rollback_undoes_many_to_many_append(db):
    """The association row's INSERT is rolled back, yet book.labels and
    label.books still contain each other (SQLAlchemy: both [])."""
    with Session(db) as s:
        s.add_all([Book(id=1, title="t"), Label(id=1, name="l")])
        s.commit()
        book, label = s.get(Book, 1), s.get(Label, 1)
        assert book.labels == [] and label.books == []
        sp = s.begin_nested()
        book.labels.append(label)
        s.flush()
        sp.rollback()
        assert s.scalar(text("SELECT count(*) FROM rf_book_labels")) == 0
        assert book.labels == []
        assert label.books == []


# --------------------------------------------------------------------------- lazy load + autoflush
def test_many_to_one_lazy_load_autoflushes_pending_target(db):
    """strategies.lazy_load runs the many-to-one get under no_autoflush, so a
    foreign key that points at a pending object loads None; the None is cached
    in the object's __dict__ and is still returned after the flush. SQLAlchemy
    autoflushes before the lazy load and returns the new Author."""
    with Session(db) as s:
        s.add(Book(id=1, title="t"))
        s.commit()
        book = s.get(Book, 1)
        new_author = Author(id=2, name="b")
        s.add(new_author)
        book.author_id = 2
        assert book.author is new_author
        s.flush()
        assert book.author is new_author


# --------------------------------------------------------------------------- secondary by name
class NameBase(DeclarativeBase):
    pass


class Course(NameBase):
    __tablename__ = "rf_courses"
    id = Column(Integer, primary_key=True)
    students = relationship("Student", secondary="rf_enrolments", backref="courses")


class Student(NameBase):
    __tablename__ = "rf_students"
    id = Column(Integer, primary_key=True)


Table(
    "rf_enrolments",
    NameBase.metadata,
    Column("course_id", ForeignKey("rf_courses.id"), primary_key=True),
    Column("student_id", ForeignKey("rf_students.id"), primary_key=True),
)


def test_secondary_given_as_table_name(engine):
    """relationship.configure() resolves a string secondary with
    ``metadata.tables.get(secondary) or self._resolve(secondary)``
    (mapping/relationships.py:229); a found Table is then tested for truth and
    ``ClauseElement.__bool__`` raises "TypeError: Boolean value of this clause
    is not defined". SQLAlchemy accepts the table's name as ``secondary``."""
    NameBase.metadata.create_all(engine)
    with Session(engine) as s:
        course = Course(id=1, students=[Student(id=1), Student(id=2)])
        s.add(course)
        s.commit()
        assert s.scalar(text("SELECT count(*) FROM rf_enrolments")) == 2
        assert [st.id for st in s.get(Course, 1).students] == [1, 2]


# --------------------------------------------------------------------------- follow-ups
def test_get_of_expired_object_whose_row_is_gone_marks_it_deleted(db):
    """As in SQLAlchemy: get() returns None and the object is *deleted* (not
    detached); rollback() makes it persistent again."""
    with Session(db) as s:
        s.add(Author(id=7, name="gone"))
        s.commit()
        author = s.get(Author, 7)
        s.commit()  # ends the transaction (SQLite allows one writer) and expires author
        with db.begin() as conn:
            conn.execute(Author.__table__.delete().where(Author.__table__.c.id == 7))
        assert s.get(Author, 7) is None
        assert inspect(author).deleted and not inspect(author).detached
        s.rollback()
        assert inspect(author).persistent


def test_repeated_sessions_in_one_scope_register_one_exit_callback(db):
    from session_ext import current_scope, scope, scoped_session, sessionmaker

    registry = scoped_session(sessionmaker(bind=db), scopefunc=current_scope)
    with scope() as block:
        for _ in range(5):
            registry().get(Author, 1)
            registry.remove()
        registry()
        assert len(block._on_exit) == 1
    assert len(registry.registry) == 0
