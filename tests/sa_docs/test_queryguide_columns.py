"""SQLAlchemy's ORM query guide, "Column Loading Options"
(``orm/queryguide/columns``, setup ``_deferred_setup``), as a program of our
own text run on ``sqlalchemy.orm`` and on session_ext with only the import
lines changed.

Sections covered, in page order: ``load_only()`` (one entity, several
entities, chained after ``selectinload()`` and ``defaultload()``), ``defer()``,
``raiseload=True`` of ``defer()`` and ``load_only()``, ``mapped_column(
deferred=True)``, ``undefer()``, ``deferred_group`` and ``undefer_group()``,
``undefer("*")``, ``deferred_raiseload=True`` (with ``populate_existing``),
loading SQL expressions onto objects (``query_expression()`` and
``with_expression()``, also with UNIONs).

Changes from the page's statements, for PostgreSQL: the page groups by
``Book.owner_id`` while selecting ``User`` (SQLite accepts it); here the GROUP
BY names ``User.id``.  The page's mapping sections redefine ``Book``/``User``
on a new ``Base``; here each is a function defining its classes on the page's
tables.

All doctest sections of the page are covered, the last one being
``with_expression()`` reading a column of a UNION given to ``from_statement()``
(here with a GROUP BY in each SELECT, which PostgreSQL requires).  Of its two
plain code blocks (no doctest), ``deferred()`` in ``map_imperatively()``
properties is tested in tests/test_column_loading.py; ``deferred()`` of a SQL
expression (``firstname + " " + lastname``, a deferred ``column_property``)
is not covered: session_ext has no ``column_property()``.
"""

from __future__ import annotations

from doc_programs import same_on_both

PROGRAM = '''
from typing import List, Optional

from sqlalchemy import ForeignKey, LargeBinary, Text, func, inspect, select, union_all
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.orm import defaultload, defer, load_only, selectinload
from sqlalchemy.orm import query_expression, undefer, undefer_group, with_expression

COLUMNS = ("id", "owner_id", "title", "summary", "cover_photo", "name", "fullname")


def unloaded(obj):
    state = inspect(obj)
    return sorted(k for k in COLUMNS if k in state.unloaded)


def raised(fn):
    try:
        fn()
    except Exception as err:
        # session_ext's messages end with a link into its docs/errors.md
        return (type(err).__name__, str(err).split(" (see docs/")[0])
    return None


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "qgcol_user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    fullname: Mapped[Optional[str]]
    books: Mapped[List["Book"]] = relationship(back_populates="owner", order_by="Book.id")

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, name={self.name!r}, fullname={self.fullname!r})"


class Book(Base):
    __tablename__ = "qgcol_book"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("qgcol_user_account.id"))
    title: Mapped[str]
    summary: Mapped[str] = mapped_column(Text)
    cover_photo: Mapped[bytes] = mapped_column(LargeBinary)
    owner: Mapped["User"] = relationship(back_populates="books")

    def __repr__(self) -> str:
        return f"Book(id={self.id!r}, title={self.title!r})"


def setup(engine):
    with Session(engine) as session:
        session.add_all(
            [
                User(
                    name="spongebob",
                    fullname="Spongebob Squarepants",
                    books=[
                        Book(title="100 Years of Krabby Patties",
                             summary="some long summary", cover_photo=b"binary_image_data"),
                        Book(title="Sea Catch 22",
                             summary="another long summary", cover_photo=b"binary_image_data"),
                        Book(title="The Sea Grapes of Wrath",
                             summary="yet another summary", cover_photo=b"binary_image_data"),
                    ],
                ),
                User(
                    name="sandy",
                    fullname="Sandy Cheeks",
                    books=[
                        Book(title="A Nut Like No Other",
                             summary="some long summary", cover_photo=b"binary_image_data"),
                        Book(title="Geodesic Domes: A Retrospective",
                             summary="another long summary", cover_photo=b"binary_image_data"),
                        Book(title="Rocketry for Squirrels",
                             summary="yet another summary", cover_photo=b"binary_image_data"),
                    ],
                ),
            ]
        )
        session.commit()
        return [b.id for b in session.scalars(select(Book).order_by(Book.id))]


def deferral_options(session, seen, ids):
    stmt = select(Book).options(load_only(Book.title, Book.summary)).order_by(Book.id)
    books = session.scalars(stmt).all()
    seen["load_only"] = [f"{book.title}  {book.summary}" for book in books]
    seen["load_only_unloaded"] = [unloaded(b) for b in books]
    img_data = books[0].cover_photo
    seen["lazy_loaded"] = (img_data, unloaded(books[0]), unloaded(books[1]))
    session.expunge_all()

    stmt = select(User, Book).join_from(User, Book).options(load_only(Book.title))
    rows = session.execute(stmt.order_by(Book.id)).all()
    seen["two_entities"] = [(unloaded(u), unloaded(b), b.title) for u, b in rows]
    session.expunge_all()
    stmt = (
        select(User, Book)
        .join_from(User, Book)
        .options(load_only(User.name), load_only(Book.title))
    )
    rows = session.execute(stmt.order_by(Book.id)).all()
    seen["two_load_only"] = [(unloaded(u), unloaded(b), u.name, b.title) for u, b in rows]
    session.expunge_all()

    stmt = select(User).options(selectinload(User.books).load_only(Book.title))
    seen["selectin_load_only"] = [
        (user.fullname, [b.title for b in user.books], [unloaded(b) for b in user.books])
        for user in session.scalars(stmt.order_by(User.id))]
    session.expunge_all()

    stmt = select(User).options(defaultload(User.books).load_only(Book.title))
    seen["defaultload_load_only"] = [
        (user.fullname, [b.title for b in user.books], [unloaded(b) for b in user.books])
        for user in session.scalars(stmt.order_by(User.id))]
    session.expunge_all()

    sandy_id = session.scalar(select(User.id).where(User.name == "sandy"))
    stmt = select(Book).where(Book.owner_id == sandy_id).options(defer(Book.cover_photo))
    books = session.scalars(stmt.order_by(Book.id)).all()
    seen["defer"] = [f"{book.title}: {book.summary}" for book in books]
    seen["defer_unloaded"] = [unloaded(b) for b in books]
    img_data = books[0].cover_photo
    seen["defer_lazy_loaded"] = (img_data, unloaded(books[0]))
    session.expunge_all()

    book = session.scalar(
        select(Book).options(defer(Book.cover_photo, raiseload=True)).where(Book.id == ids[3])
    )
    seen["defer_raiseload"] = raised(lambda: book.cover_photo)
    seen["defer_raiseload_others"] = (book.title, book.summary, unloaded(book))
    session.expunge_all()
    book = session.scalar(
        select(Book).options(load_only(Book.title, raiseload=True)).where(Book.id == ids[4])
    )
    seen["load_only_raiseload"] = raised(lambda: book.summary)
    seen["load_only_raiseload_cover"] = raised(lambda: book.cover_photo)
    seen["load_only_raiseload_title"] = book.title
    session.expunge_all()


def mapper_deferral(engine, seen, ids):
    class Base(DeclarativeBase):
        pass

    class Book(Base):
        __tablename__ = "qgcol_book"
        id: Mapped[int] = mapped_column(primary_key=True)
        owner_id: Mapped[int] = mapped_column(ForeignKey("qgcol_user_account.id"))
        title: Mapped[str]
        summary: Mapped[str] = mapped_column(Text, deferred=True)
        cover_photo: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

        def __repr__(self) -> str:
            return f"Book(id={self.id!r}, title={self.title!r})"

    with Session(engine) as session:
        book = session.scalar(select(Book).where(Book.id == ids[1]))
        seen["mapped_deferred"] = (repr(book), unloaded(book))
        img_data = book.cover_photo
        seen["mapped_deferred_loaded"] = (img_data, unloaded(book))

        book = session.scalar(select(Book).where(Book.id == ids[1]).options(undefer(Book.summary)))
        seen["undefer_same_object"] = (book.summary, unloaded(book))
        session.expunge_all()
        book = session.scalar(select(Book).where(Book.id == ids[1]).options(undefer(Book.summary)))
        seen["undefer"] = (book.summary, unloaded(book))
        got = session.get(Book, ids[2])
        seen["get_deferred"] = unloaded(got)


def deferred_groups(engine, seen, ids):
    class Base(DeclarativeBase):
        pass

    class Book(Base):
        __tablename__ = "qgcol_book"
        id: Mapped[int] = mapped_column(primary_key=True)
        owner_id: Mapped[int] = mapped_column(ForeignKey("qgcol_user_account.id"))
        title: Mapped[str]
        summary: Mapped[str] = mapped_column(
            Text, deferred=True, deferred_group="book_attrs"
        )
        cover_photo: Mapped[bytes] = mapped_column(
            LargeBinary, deferred=True, deferred_group="book_attrs"
        )

        def __repr__(self) -> str:
            return f"Book(id={self.id!r}, title={self.title!r})"

    with Session(engine) as session:
        book = session.scalar(select(Book).where(Book.id == ids[1]))
        seen["group_before"] = unloaded(book)
        img_data, summary = book.cover_photo, book.summary
        seen["group_after"] = (img_data, summary, unloaded(book))
        session.expunge_all()

        book = session.scalar(
            select(Book).where(Book.id == ids[1]).options(undefer_group("book_attrs"))
        )
        seen["undefer_group"] = unloaded(book)
        img_data, summary = book.cover_photo, book.summary
        seen["undefer_group_values"] = (img_data, summary)

        book = session.scalar(select(Book).where(Book.id == ids[2]).options(undefer("*")))
        seen["undefer_wildcard"] = (unloaded(book), book.summary)


def mapper_raiseload(engine, seen, ids):
    class Base(DeclarativeBase):
        pass

    class Book(Base):
        __tablename__ = "qgcol_book"
        id: Mapped[int] = mapped_column(primary_key=True)
        owner_id: Mapped[int] = mapped_column(ForeignKey("qgcol_user_account.id"))
        title: Mapped[str]
        summary: Mapped[str] = mapped_column(Text, deferred=True, deferred_raiseload=True)
        cover_photo: Mapped[bytes] = mapped_column(
            LargeBinary, deferred=True, deferred_raiseload=True
        )

        def __repr__(self) -> str:
            return f"Book(id={self.id!r}, title={self.title!r})"

    with Session(engine) as session:
        book = session.scalar(select(Book).where(Book.id == ids[1]))
        seen["mapper_raiseload"] = raised(lambda: book.summary)
        seen["mapper_raiseload_cover"] = raised(lambda: book.cover_photo)
        same = session.scalar(
            select(Book)
            .where(Book.id == ids[1])
            .options(undefer("*"))
            .execution_options(populate_existing=True)
        )
        seen["populated"] = (same is book, book.summary, unloaded(book))


def expressions(engine, seen):
    class Base(DeclarativeBase):
        pass

    class User(Base):
        __tablename__ = "qgcol_user_account"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        fullname: Mapped[Optional[str]]
        books: Mapped[List["Book"]] = relationship(back_populates="owner")

        def __repr__(self) -> str:
            return f"User(id={self.id!r}, name={self.name!r}, fullname={self.fullname!r})"

    class Book(Base):
        __tablename__ = "qgcol_book"
        id: Mapped[int] = mapped_column(primary_key=True)
        owner_id: Mapped[int] = mapped_column(ForeignKey("qgcol_user_account.id"))
        title: Mapped[str]
        summary: Mapped[str] = mapped_column(Text)
        cover_photo: Mapped[bytes] = mapped_column(LargeBinary)
        owner: Mapped["User"] = relationship(back_populates="books")

        def __repr__(self) -> str:
            return f"Book(id={self.id!r}, title={self.title!r})"

    with Session(engine) as session:
        stmt = select(User, func.count(Book.id)).join_from(User, Book).group_by(User.id)
        seen["count_rows"] = sorted(
            f"Username: {user.name}  Number of books: {book_count}"
            for user, book_count in session.execute(stmt))

    class Base(DeclarativeBase):
        pass

    class Book(Base):
        __tablename__ = "qgcol_book"
        id: Mapped[int] = mapped_column(primary_key=True)
        owner_id: Mapped[int] = mapped_column(ForeignKey("qgcol_user_account.id"))
        title: Mapped[str]
        summary: Mapped[str] = mapped_column(Text)
        cover_photo: Mapped[bytes] = mapped_column(LargeBinary)

        def __repr__(self) -> str:
            return f"Book(id={self.id!r}, title={self.title!r})"

    class User(Base):
        __tablename__ = "qgcol_user_account"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        fullname: Mapped[Optional[str]]
        book_count: Mapped[int] = query_expression()

        def __repr__(self) -> str:
            return f"User(id={self.id!r}, name={self.name!r}, fullname={self.fullname!r})"

    with Session(engine) as session:
        plain = session.scalars(select(User).order_by(User.id)).first()
        seen["expression_unset"] = plain.book_count
        session.expunge_all()
        stmt = (
            select(User)
            .join_from(User, Book)
            .group_by(User.id)
            .options(with_expression(User.book_count, func.count(Book.id)))
        )
        seen["with_expression"] = sorted(
            f"Username: {user.name}  Number of books: {user.book_count}"
            for user in session.scalars(stmt))
        seen["expression_reprs"] = sorted(repr(u) for u in session.scalars(stmt))

    with Session(engine) as session:
        s1 = (
            select(User, func.count(Book.id).label("book_count"))
            .join_from(User, Book)
            .where(User.name == "spongebob")
            .group_by(User.id)
        )
        s2 = (
            select(User, func.count(Book.id).label("book_count"))
            .join_from(User, Book)
            .where(User.name == "sandy")
            .group_by(User.id)
        )
        union_stmt = union_all(s1, s2)
        orm_stmt = (
            select(User)
            .from_statement(union_stmt)
            .options(with_expression(User.book_count, union_stmt.selected_columns.book_count))
        )
        seen["union_expression"] = sorted(
            f"Username: {user.name}  Number of books: {user.book_count}"
            for user in session.scalars(orm_stmt))


def run(engine):
    seen = {}
    ids = setup(engine)
    with Session(engine) as session:
        deferral_options(session, seen, ids)
    mapper_deferral(engine, seen, ids)
    deferred_groups(engine, seen, ids)
    mapper_raiseload(engine, seen, ids)
    expressions(engine, seen)
    return seen
'''


def test_queryguide_columns(engine):
    seen = same_on_both(PROGRAM, engine, name="queryguide_columns")
    assert seen["load_only"][1] == "Sea Catch 22  another long summary"
    assert seen["load_only_unloaded"][0] == ["cover_photo", "owner_id"]
    assert seen["lazy_loaded"][1] == ["owner_id"]
    assert seen["defer_raiseload"] == (
        "InvalidRequestError", "'Book.cover_photo' is not available due to raiseload=True")
    assert seen["mapped_deferred"][1] == ["cover_photo", "summary"]
    assert seen["group_before"] == ["cover_photo", "summary"]
    assert seen["group_after"][2] == []
    assert seen["mapper_raiseload"][0] == "InvalidRequestError"
    assert seen["populated"] == (True, "another long summary", [])
    assert seen["union_expression"] == seen["with_expression"]
    assert seen["with_expression"] == [
        "Username: sandy  Number of books: 3", "Username: spongebob  Number of books: 3"]
