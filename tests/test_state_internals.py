"""The two ways a state is made (new object, loaded row) must set every slot."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, select

from session_ext import Session, declarative_base, inspect
from session_ext.state import InstanceState

Base = declarative_base()


class Thing(Base):
    __tablename__ = "state_things"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))


SLOTS = [s for s in InstanceState.__slots__ if s != "__weakref__"]


def _unset(state: InstanceState) -> list[str]:
    return [slot for slot in SLOTS if not hasattr(state, slot)]


def test_new_and_loaded_states_set_every_slot(engine):
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        fresh = Thing(name="a")
        session.add(fresh)
        assert _unset(inspect(fresh)) == []
        session.commit()
        session.expunge_all()
        loaded = session.scalars(select(Thing)).one()
        state = inspect(loaded)
        assert state.persistent and state.key == (Thing, (loaded.id,), None)
        assert _unset(state) == []
        assert loaded.__dict__["name"] == "a" and not state.modified and not state.expired


class ValueEqual(Base):
    """A model with value equality and no hash: its states must still be distinct."""

    __tablename__ = "state_value_equal"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValueEqual) and other.name == self.name

    __hash__ = None  # type: ignore[assignment]


def test_states_compare_by_identity_whatever_the_model_defines(engine):
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        a, b = ValueEqual(name="same"), ValueEqual(name="same")
        assert a == b
        session.add_all([a, b])
        assert len(session.new) == 2
        session.commit()
        assert a.id != b.id
        sa, sb = inspect(a), inspect(b)
        assert sa != sb and len({sa, sb}) == 2
        assert sa.obj() is a and sb.obj() is b
        session.expunge_all()
        loaded = session.scalars(select(ValueEqual).order_by(ValueEqual.id)).all()
        assert [o.id for o in loaded] == [a.id, b.id]
        assert loaded[0] is not loaded[1]


def test_a_collected_object_leaves_the_identity_map(engine):
    import gc

    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Thing(name="gone"))
        session.commit()
        session.expunge_all()
        obj = session.scalars(select(Thing).where(Thing.name == "gone")).one()
        key = inspect(obj).key
        assert key in session.identity_map
        del obj
        gc.collect()
        assert key not in session.identity_map
        assert len(session.identity_map) == 0


def test_collected_objects_are_swept_in_batches_before_the_next_query(engine):
    import gc

    from session_ext import state as state_module

    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Thing(name=f"t{i}") for i in range(50)])
        session.commit()
        session.expunge_all()
        kept = session.scalars(select(Thing).where(Thing.id <= 10)).all()
        dropped = session.scalars(select(Thing).where(Thing.id > 10)).all()
        dropped_keys = [inspect(o).key for o in dropped]
        assert len(session.identity_map._dict) == 50
        del dropped
        gc.collect()
        # the 40 dead entries wait in the sweep list, and lookups already miss
        assert len(state_module._dead) >= 40
        assert all(session.identity_map.get(k) is None for k in dropped_keys)
        session.scalars(select(Thing).where(Thing.id == 1)).all()
        assert state_module._dead == []
        assert len(session.identity_map._dict) == 10
        assert sorted(o.id for o in session.identity_map.values()) == [o.id for o in kept]


def test_get_only_sessions_leave_no_dead_entries_behind(engine):
    """Objects of closed sessions and of a get()-only session are swept too:
    nothing accumulates in a process that never runs a query."""
    import gc

    from session_ext import state as state_module

    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Thing(id=i, name=f"g{i}") for i in range(1, 31)])
        session.commit()
    for _ in range(5):
        with Session(engine) as session:
            for i in range(1, 31):
                session.get(Thing, i)  # each object dropped at once
            gc.collect()
            assert len(session.identity_map._dict) <= 2  # swept on each miss
    gc.collect()
    with Session(engine) as session:
        pass  # closing sweeps
    assert len(state_module._dead) == 0
