"""Misuse gets an error that says what is wrong, and leaves nothing half-done."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Column, ForeignKey, Integer, String, func, select

from session_ext import Session, declarative_base, exc, relationship

Base = declarative_base()
started, release = threading.Event(), threading.Event()


def slow_default() -> str:
    """A column default that holds its flush until the test lets it go."""
    started.set()
    assert release.wait(10)
    return "slow"


class Note(Base):
    __tablename__ = "misuse_note"
    id = Column(Integer, primary_key=True)
    text = Column(String(20), default=slow_default)


class Owner(Base):
    __tablename__ = "misuse_owner"
    id = Column(Integer, primary_key=True)
    pets = relationship("Pet", cascade="all")


class Pet(Base):
    __tablename__ = "misuse_pet"
    id = Column(Integer, primary_key=True)
    owner_id = Column(ForeignKey("misuse_owner.id"))


def test_a_session_flushed_from_two_threads_says_it_is_not_thread_safe(engine):
    Base.metadata.create_all(engine)
    started.clear()
    release.clear()
    session = Session(engine)
    session.add(Note())
    first = threading.Thread(target=session.flush)
    first.start()
    try:
        assert started.wait(10)  # the first thread is inside its flush
        with pytest.raises(exc.InvalidRequestError, match="another thread.*not thread-safe"):
            session.flush()
    finally:
        release.set()
        first.join()
    session.commit()
    assert session.scalars(select(Note.text)).all() == ["slow"]
    session.close()


def test_add_all_is_all_or_nothing(engine):
    Base.metadata.create_all(engine)
    with Session(engine) as setup:
        setup.add(Owner(id=1, pets=[Pet(id=1)]))
        setup.commit()
    with Session(engine) as first:
        detached = first.get(Owner, 1)
        first.expunge(detached)
    with Session(engine) as session:
        kept = Note(text="kept")
        session.add(kept)
        new_owner = Owner(pets=[Pet()])
        with pytest.raises(exc.UnmappedInstanceError):
            session.add_all([Note(text="a"), new_owner, detached, object()])
        assert list(session.new) == [kept]
        assert detached not in session and new_owner not in session
        assert new_owner.pets[0] not in session
        session.commit()
        assert session.scalar(select(func.count()).select_from(Note)) == 1
        assert session.scalar(select(func.count()).select_from(Owner)) == 1
        session.add_all([detached])  # the undone objects can be added again
        assert detached in session
