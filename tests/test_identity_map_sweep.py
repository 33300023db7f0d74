"""Found by the reliability suite (flask-gunicorn-gthread on PostgreSQL, full
budget): a request failed with ``KeyError`` in ``sweep_dead()``.

Objects that die are queued in one process-wide list, and whichever session
next runs a query sweeps the queue, removing entries from the identity maps
of *other* sessions, which may live in other threads.  ``sweep_dead`` checks
``imap.get(key) is state`` and then runs ``del imap[key]``; when the owning
thread removes that key in between (its ``close()`` at the end of its
request), the ``del`` raises ``KeyError`` inside an unrelated request's query.

The test makes that interleaving deterministic: the mapped class's metaclass
hashes the identity key, so a hook can remove the entry (as the owning
thread would) between the check and the delete.  SQLAlchemy's weak identity
map tolerates exactly this ("gc removed the key after we just checked for
it"), and so does ``sweep_dead`` now (``imap.pop(key, None)``).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable

from sqlalchemy import Column, Integer, String, select
from sqlalchemy.engine import Engine

from session_ext import DeclarativeBase, Session, declarative_base
from session_ext.state import instance_state, sweep_dead


class _HashHookMeta(type(DeclarativeBase)):  # type: ignore[misc]
    """Calls ``cls._on_hash`` (when set) each time the class is hashed."""

    _on_hash: Callable[[], None] | None = None

    def __hash__(cls) -> int:
        hook = cls.__dict__.get("_on_hash")
        if hook is not None:
            hook()
        return type.__hash__(cls)


class Base(DeclarativeBase, metaclass=_HashHookMeta):
    pass


class Gauge(Base):
    __tablename__ = "gauges"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))


def test_sweep_tolerates_an_entry_removed_by_its_own_session_meanwhile(
    sqlite_engine: Engine,
) -> None:
    Base.metadata.create_all(sqlite_engine)
    with Session(sqlite_engine) as setup:
        setup.add(Gauge(id=1, name="a"))
        setup.commit()

    owner = Session(sqlite_engine)  # "thread B": its objects die, it lives on
    gauge = owner.get(Gauge, 1)
    key = instance_state(gauge).key
    imap = owner.identity_map._dict
    del gauge
    gc.collect()  # the state is now queued for sweeping
    assert key in imap

    hashes = 0

    def owner_closes_meanwhile() -> None:
        nonlocal hashes
        hashes += 1
        if hashes == 2:  # after sweep_dead's check, before its delete
            imap.pop(key, None)  # what owner.close() in its own thread does

    Gauge._on_hash = owner_closes_meanwhile
    try:
        sweep_dead()  # "thread A": any session's next query does this
    finally:
        del Gauge._on_hash
    assert hashes >= 2, "the hook never ran between the check and the delete"
    assert key not in imap
    owner.close()


# --------------------------------------------------------------------------- sweeps racing closes
HBase = declarative_base()


class Hit(HBase):
    __tablename__ = "rv3_hits"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))


def test_concurrent_sweeps_and_closes(tmp_path):
    """Disproves: several threads sweeping while sessions close drop every
    dead entry exactly once and leave live ones."""
    from sqlalchemy import create_engine

    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    setup = create_engine(url)
    HBase.metadata.create_all(setup)
    with Session(setup) as s:
        s.add_all([Hit(id=i, name="x") for i in range(1, 401)])
        s.commit()
    setup.dispose()
    errors = []

    def work():
        eng = create_engine(url)
        try:
            for _ in range(5):
                s = Session(eng)
                keep = s.scalars(select(Hit).where(Hit.id <= 10)).all()
                s.scalars(select(Hit)).all()  # all but `keep` die at once
                for _ in range(3):
                    sweep_dead()
                assert len(s.identity_map) == 10, len(s.identity_map)
                assert all(s.get(Hit, o.id) is o for o in keep)
                s.close()
        except Exception as e:  # pragma: no cover
            errors.append(e)
        finally:
            eng.dispose()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
