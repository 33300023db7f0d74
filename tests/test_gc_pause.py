"""Bulk loads and flushes pause the cyclic garbage collector and hand what they
made to its oldest generation (session_ext._gc): the application's own
collector settings and frozen objects are left as they were."""

from __future__ import annotations

import gc
import weakref

import pytest
from sqlalchemy import Column, ForeignKey, Integer, String, event, insert, select

from session_ext import Session, declarative_base, relationship, selectinload
from session_ext._gc import BULK_THRESHOLD, PROMOTE_THRESHOLD

Base = declarative_base()


class Owner(Base):
    __tablename__ = "gc_owners"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))
    pets = relationship("Pet", back_populates="owner")


class Pet(Base):
    __tablename__ = "gc_pets"
    id = Column(Integer, primary_key=True)
    owner_id = Column(ForeignKey("gc_owners.id"))
    name = Column(String(20))
    owner = relationship("Owner", back_populates="pets")


N = PROMOTE_THRESHOLD + 500


@pytest.fixture
def db(sqlite_engine):
    Base.metadata.create_all(sqlite_engine)
    with sqlite_engine.begin() as conn:
        conn.execute(insert(Owner.__table__), [{"id": i, "name": f"o{i}"} for i in range(1, N + 1)])
        conn.execute(insert(Pet.__table__),
                     [{"id": i, "owner_id": i, "name": f"p{i}"} for i in range(1, N + 1)])
    gc.collect()
    return sqlite_engine


def _in_generation(obj, generation):
    return any(o is obj for o in gc.get_objects(generation=generation))


def _full_collections():
    """Record every collection of the oldest generation from now on."""
    seen = []

    def record(phase, info):
        if phase == "stop" and info["generation"] == 2:
            seen.append(info["generation"])

    gc.callbacks.append(record)
    return seen, lambda: gc.callbacks.remove(record)


def test_a_bulk_load_hands_its_objects_to_the_oldest_generation(db):
    gc.collect()
    seen, stop = _full_collections()
    try:
        with Session(db) as s:
            owners = s.scalars(select(Owner)).all()
            assert len(owners) == N
            # in the oldest generation although no full collection ran, and no young
            # collection ran since the pause (it would have moved them one step only)
            assert seen == []
            assert gc.get_count()[1] == 0
            assert _in_generation(owners[N // 2], 2)
    finally:
        stop()


def test_a_bulk_add_leaves_the_applications_young_garbage_to_the_young_collections(
    sqlite_engine,
):
    owners = [Owner(name=f"n{i}") for i in range(N)]
    marker = _Cycle()  # a cycle of the application's, made just before the pause
    marker.me = marker
    ref = weakref.ref(marker)
    del marker
    with Session(sqlite_engine) as s:
        s.add_all(owners)  # pauses at once: nothing allocated in between
        gc.collect(1)  # a young collection, not a full one, frees the cycle
        assert ref() is None


class _Cycle:
    pass


def test_a_bulk_flush_leaves_the_young_generation_empty(sqlite_engine):
    Base.metadata.create_all(sqlite_engine)
    with Session(sqlite_engine) as s:
        s.add_all([Owner(name=f"n{i}") for i in range(N)])
        s.flush()
        assert gc.get_count()[0] < gc.get_threshold()[0]
        assert s.scalar(select(Owner.id).order_by(Owner.id.desc())) == N


def _tracked_anywhere(obj):
    return any(_in_generation(obj, g) for g in range(3))


def test_the_applications_frozen_objects_stay_frozen(db):
    sentinel = [object()]  # a tracked container of the application's
    gc.freeze()
    try:
        assert not _tracked_anywhere(sentinel)  # frozen: in no generation
        with Session(db) as s:
            assert len(s.scalars(select(Owner)).all()) == N
        assert not _tracked_anywhere(sentinel)  # still frozen
    finally:
        gc.unfreeze()
    assert _tracked_anywhere(sentinel)


def test_a_collector_the_application_turned_off_stays_off(db):
    gc.disable()
    try:
        with Session(db) as s:
            assert len(s.scalars(select(Owner)).all()) == N
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert gc.isenabled()


def test_the_collector_runs_again_after_a_bulk_load(db):
    with Session(db) as s:
        s.scalars(select(Owner)).all()
    assert gc.isenabled()


def test_cycles_made_by_a_bulk_load_are_still_collected(db):
    with Session(db) as s:
        owners = s.scalars(select(Owner).options(selectinload(Owner.pets))).all()
        assert all(o.pets[0].owner is o for o in owners[:5])  # owner <-> pet cycles
        probe = weakref.ref(owners[7])
        s.expunge_all()
    del owners
    gc.collect()
    assert probe() is None


# -------------------------------------------------------------------- the application's own garbage
HBase = declarative_base()


class Hit(HBase):
    __tablename__ = "rv3_hits"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))


class _SelfCycle:
    def __init__(self):
        self.me = self


def test_the_applications_young_cyclic_garbage_is_not_aged_by_a_bulk_flush(sqlite_engine):
    """Cyclic garbage the application made just before a bulk flush used to be
    in the young generations and go at the next young collection; the
    freeze/unfreeze moves it (and everything else young) to the oldest
    generation, where only a full collection frees it."""
    HBase.metadata.create_all(sqlite_engine)
    old = gc.get_threshold()
    gc.collect()
    gc.set_threshold(10**8, 10**6, 10**6)  # no automatic collection in between
    try:
        garbage = _SelfCycle()
        probe = weakref.ref(garbage)
        del garbage
        with Session(sqlite_engine) as s:
            s.add_all([Hit(name=f"h{i}") for i in range(BULK_THRESHOLD * 2)])
            s.flush()
            s.rollback()
        gc.collect(1)  # a young collection, as the collector runs them on its own
        assert probe() is None
    finally:
        gc.set_threshold(*old)
        gc.collect()


def test_the_applications_freeze_during_a_pause_is_respected(sqlite_engine):
    """Disproves: the application freezing in a listener during the flush is
    seen at the end of the pause (freeze count checked then)."""
    HBase.metadata.create_all(sqlite_engine)
    sentinel = [object()]

    def freeze(*a):
        gc.freeze()

    with Session(sqlite_engine) as s:
        event.listen(s.connection(), "before_cursor_execute", freeze)
        try:
            s.add_all([Hit(name=f"h{i}") for i in range(BULK_THRESHOLD * 2)])
            s.flush()
            assert gc.get_freeze_count() > 0
            assert not any(o is sentinel for g in range(3) for o in gc.get_objects(g))
        finally:
            event.remove(s.connection(), "before_cursor_execute", freeze)
            gc.unfreeze()
        s.rollback()
    assert gc.isenabled()
