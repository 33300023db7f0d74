"""The examples SQLAlchemy's documentation gives for Session, sessionmaker and
create_session, run unchanged (but for the imports) on session_ext, against an
embedded SQLite file.

    ./dev run                      # or: python examples/seeds_demo.py [--db PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sqlalchemy import Column, ForeignKey, Integer, String, create_engine, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from session_ext import (  # noqa: E402
    Session,
    create_session,
    declarative_base,
    inspect,
    sessionmaker,
)

Base = declarative_base()


class Astronaut(Base):
    __tablename__ = "astronauts"
    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)
    agency = Column(String(20), default="NASA")


class Mission(Base):
    __tablename__ = "missions"
    id = Column(Integer, primary_key=True)
    # a foreign key with no relationship(): the flush still orders the INSERTs
    astronaut_id = Column(ForeignKey("astronauts.id"), nullable=False)
    name = Column(String(50))


def step(title: str) -> None:
    print(f"\n== {title}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    default_db = Path(os.environ.get("SESSION_EXT_DEMO_DB", "instance/seeds_demo.sqlite3"))
    parser.add_argument("--db", type=Path, default=default_db, help="SQLite file to use")
    args = parser.parse_args(argv)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    if args.db.exists():
        args.db.unlink()
    engine = create_engine(f"sqlite:///{args.db}")
    Base.metadata.create_all(engine)
    print(f"database: {args.db}")

    step("2.0 style: sessionmaker(engine), with Session() as session: ... commit()")
    SessionFactory = sessionmaker(engine)
    with SessionFactory() as session:
        session.add(Astronaut(name="Mark Watney"))
        session.add(Astronaut(name="Melissa Lewis"))
        session.commit()
        print(session.scalars(select(Astronaut).order_by(Astronaut.id)).all())

    step("2.0 style: with Session.begin() as session (commits, closes)")
    with SessionFactory.begin() as session:
        watney = session.scalars(select(Astronaut).where(Astronaut.name == "Mark Watney")).one()
        # children added before nothing else orders them: the FK graph does
        session.add(Mission(astronaut_id=watney.id, name="Ares III"))
        watney.agency = "NASA/JPL"
        print("dirty before commit:", session.dirty)

    step("with Session(engine) as session, session.begin(): ...")
    with Session(engine) as session, session.begin():
        session.add(Astronaut(name="Rick Martinez", agency="USAF"))

    step("explicit begin / rollback / commit")
    with Session(engine) as session:
        session.begin()
        try:
            session.add(Astronaut(name="Beth Johanssen"))
        except Exception:
            session.rollback()
            raise
        else:
            session.commit()

    step("1.x style: sessionmaker(bind=engine)() and Session.configure(bind=...)")
    session = sessionmaker(bind=engine)()
    print("count:", len(session.scalars(select(Astronaut)).all()))
    session.close()
    Legacy = sessionmaker()
    Legacy.configure(bind=engine)
    sess = Legacy()
    print("get(1):", sess.get(Astronaut, 1))
    sess.close()

    step("the seeds' db.execute('SELECT * FROM astronauts').all()")
    session = sessionmaker(bind=engine)
    with session.begin() as db:
        result = db.execute("SELECT * FROM astronauts").all()
        for row in result:
            print(tuple(row))

    step("identity map and object states")
    with Session(engine) as session:
        a = session.get(Astronaut, 1)
        b = session.scalars(select(Astronaut).where(Astronaut.id == 1)).one()
        print("same object for the same row:", a is b)
        new = Astronaut(name="Chris Beck")
        print("transient:", inspect(new).transient)
        session.add(new)
        print("pending:", inspect(new).pending)
        session.flush()
        print("persistent:", inspect(new).persistent, "key:", inspect(new).key)
        session.rollback()
        print("after rollback, transient again:", inspect(new).transient)

    step("create_session(): autoflush=False, expire_on_commit=False")
    session = create_session(bind=engine)
    session.add(Astronaut(name="Alex Vogel", agency="ESA"))
    session.commit()
    print("still readable after commit:", session.scalars(select(Astronaut.name)).all()[-1])
    session.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
