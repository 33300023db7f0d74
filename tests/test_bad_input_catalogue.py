"""The bad-input catalogue of docs/errors.md: each misuse it lists raises what
it says, with a message naming what is wrong, and leaves the session usable.

Every catalogue row has an id; ``test_the_documented_catalogue_is_tested``
keeps the table and :data:`CATALOGUE` in step.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, ForeignKey, Integer, String, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from session_ext import (
    DeclarativeBase,
    Session,
    exc,
    relationship,
    scoped_session,
    sessionmaker,
)

DOC = Path(__file__).resolve().parent.parent / "docs" / "errors.md"


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "catalogue_author"
    id = Column(Integer, primary_key=True)
    name = Column(String(20), nullable=False)
    books = relationship("Book", back_populates="author", lazy="raise")


class Book(Base):
    __tablename__ = "catalogue_book"
    id = Column(Integer, primary_key=True)
    author_id = Column(ForeignKey("catalogue_author.id"))
    author = relationship("Author", back_populates="books")


class NotMapped:
    pass


@dataclass
class World:
    engine: Engine
    session: Session
    ada: Author  # persistent in ``session``


def _add_unmapped(w: World) -> None:
    w.session.add(NotMapped())


def _add_all_with_unmapped(w: World) -> None:
    try:
        w.session.add_all([Author(name="x"), NotMapped()])
    finally:
        assert not w.session.new  # all or nothing


def _delete_transient(w: World) -> None:
    w.session.delete(Author(name="x"))


def _get_unmapped(w: World) -> None:
    w.session.get(NotMapped, 1)


def _get_wrong_arity(w: World) -> None:
    w.session.get(Author, (1, 2))


def _get_wrong_names(w: World) -> None:
    w.session.get(Author, {"pk": 1})


def _get_identity_token(w: World) -> None:
    w.session.get(Author, 1, identity_token="shard2")


def _no_bind(w: World) -> None:
    Session().execute(select(Author))


def _add_to_second_session(w: World) -> None:
    with Session(w.engine) as other:
        other.add(w.ada)


def _work_after_failed_flush(w: World) -> None:
    w.session.add(Author(name=None))
    with pytest.raises(sa_exc.DBAPIError):
        w.session.flush()
    w.session.execute(select(Author))


def _refresh_transient(w: World) -> None:
    w.session.refresh(Author(name="x"))


def _expire_detached(w: World) -> None:
    w.session.expunge(w.ada)
    w.session.expire(w.ada)


def _merge_transient_without_load(w: World) -> None:
    w.session.merge(Author(id=7, name="x"), load=False)


def _begin_twice(w: World) -> None:
    w.session.begin()
    w.session.begin()


def _raise_loader(w: World) -> None:
    w.session.expire(w.ada, ["books"])
    w.ada.books  # noqa: B018


def _detached_expired_attribute(w: World) -> None:
    w.session.commit()  # expires ada
    w.session.expunge(w.ada)
    w.ada.name  # noqa: B018


def _relationship_compared_to_a_number(w: World) -> None:
    select(Book).where(Book.author == 5)


def _collection_compared_to_an_object(w: World) -> None:
    select(Author).where(Author.books == Book())


def _query_property_on_unmapped(w: World) -> None:
    registry = scoped_session(sessionmaker(bind=w.engine))

    class Plain:
        query = registry.query_property()

    Plain.query  # noqa: B018


def _session_kept_after_remove(w: World) -> None:
    registry = scoped_session(sessionmaker(bind=w.engine))
    kept = registry()
    registry.remove()
    kept.execute(select(Author))


def _scoped_session_arguments_twice(w: World) -> None:
    registry = scoped_session(sessionmaker(bind=w.engine))
    registry()
    try:
        registry(autoflush=False)
    finally:
        registry.remove()


def _session_unknown_argument(w: World) -> None:
    Session(w.engine, autoflsh=False)


@dataclass(frozen=True)
class Entry:
    misuse: Callable[[World], Any]
    raises: type[BaseException]
    message: str  # a regular expression the message matches


CATALOGUE: dict[str, Entry] = {
    "add-unmapped": Entry(_add_unmapped, exc.UnmappedInstanceError, "NotMapped"),
    "add-all-unmapped": Entry(_add_all_with_unmapped, exc.UnmappedInstanceError, "NotMapped"),
    "delete-transient": Entry(_delete_transient, exc.InvalidRequestError, "not persisted"),
    "get-unmapped": Entry(_get_unmapped, exc.UnmappedClassError, "NotMapped"),
    "get-key-arity": Entry(_get_wrong_arity, exc.InvalidRequestError,
                           "Incorrect number of values"),
    "get-key-names": Entry(_get_wrong_names, exc.InvalidRequestError, "Incorrect names"),
    "get-identity-token": Entry(_get_identity_token, exc.ArgumentError, "identity_token"),
    "no-bind": Entry(_no_bind, exc.UnboundExecutionError, "Could not locate a bind"),
    "add-other-session": Entry(_add_to_second_session, exc.InvalidRequestError,
                               "already attached to session"),
    "after-failed-flush": Entry(_work_after_failed_flush, exc.PendingRollbackError,
                                "rolled back"),
    "refresh-transient": Entry(_refresh_transient, exc.InvalidRequestError, "not persistent"),
    "expire-detached": Entry(_expire_detached, exc.InvalidRequestError, "not persistent"),
    "merge-load-false-transient": Entry(_merge_transient_without_load, exc.InvalidRequestError,
                                        "load=False"),
    "begin-twice": Entry(_begin_twice, exc.InvalidRequestError, "already begun"),
    "raise-loader": Entry(_raise_loader, exc.InvalidRequestError, "books"),
    "detached-expired": Entry(_detached_expired_attribute, exc.DetachedInstanceError, "name"),
    "relationship-vs-number": Entry(_relationship_compared_to_a_number,
                                    exc.ArgumentError, "Book.author == 5"),
    "collection-vs-object": Entry(_collection_compared_to_an_object, exc.InvalidRequestError,
                                  "Author.books"),
    "query-property-unmapped": Entry(_query_property_on_unmapped, exc.UnmappedClassError,
                                     "Plain"),
    "session-after-remove": Entry(_session_kept_after_remove, exc.InvalidRequestError,
                                  "removed from its scoped_session"),
    "scoped-arguments-twice": Entry(_scoped_session_arguments_twice, exc.InvalidRequestError,
                                    "already present"),
    "session-unknown-argument": Entry(_session_unknown_argument, TypeError, "autoflsh"),
}


@pytest.fixture
def world(engine: Engine):
    Base.metadata.create_all(engine)
    session = Session(engine)
    ada = Author(name="ada")
    session.add(ada)
    session.commit()
    session.refresh(ada)
    yield World(engine, session, ada)
    session.close()


@pytest.mark.parametrize("entry_id", sorted(CATALOGUE))
def test_each_misuse_raises_what_the_catalogue_says(world: World, entry_id: str):
    entry = CATALOGUE[entry_id]
    with pytest.raises(entry.raises, match=entry.message):
        entry.misuse(world)
    world.session.rollback()  # the session is usable afterwards
    assert world.session.execute(text("SELECT 1")).scalar() == 1
    assert world.session.scalars(select(Author.name)).all() == ["ada"]


def _documented_ids() -> list[str]:
    section = DOC.read_text().split("## Bad input catalogue", 1)[1]
    return re.findall(r"^\| `([a-z0-9-]+)` \|", section, flags=re.MULTILINE)


def test_the_documented_catalogue_is_tested():
    assert sorted(_documented_ids()) == sorted(CATALOGUE)
