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
