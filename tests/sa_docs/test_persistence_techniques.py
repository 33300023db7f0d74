"""SQLAlchemy's "Additional Persistence Techniques" page
(doc/build/orm/persistence_techniques.rst) as programs of our own text, run on
``sqlalchemy.orm`` and on session_ext with only the import lines changed (see
tests/doc_programs.py).

Sections covered, in page order: embedding SQL expressions into a flush (an
UPDATE ``value = value + 1``, INSERTs of subquery values, a primary key from a
``coalesce(max(pk) + 1, 1)`` subquery; the attribute expired and reloaded);
SQL expressions with sessions (``text()`` and Core selects through
``execute()``, ``connection()``, ``bind_arguments={"mapper": ...}``); forcing
NULL on a column with a default (``None`` left out, ``null()``,
``evaluates_none()``); fetching server-generated defaults (case 1:
``eager_defaults=True`` with ``server_default=func.now()`` and a
``FetchedValue`` filled by a trigger; case 2: ``implicit_returning=False`` and
a trigger; case 3: no eager defaults; case 4: ``Identity()``, ``Sequence`` and,
on PostgreSQL, a trigger-made primary key; case 5: a ``default=func.now()``
primary key; client-invoked ``default=``/``onupdate=func.now()`` with
``FetchedValue`` fetched by INSERT and UPDATE); INSERT / UPDATE / upsert with
RETURNING of objects (``on_conflict_do_update`` of the backend's dialect);
partitioning (``binds=`` by class and by declarative base on two engines, a
``get_bind`` override routing flushes, UPDATE/DELETE and bulk operations to a
leader); the legacy bulk operations (``bulk_save_objects``,
``bulk_insert_mappings``, ``bulk_update_mappings``).

Left out: horizontal sharding (an ``sqlalchemy.ext`` extension, out of
session_ext's scope) and two-phase commit across engines (covered by the
session transaction page's tests; PostgreSQL needs ``max_prepared_transactions``).
"""

from __future__ import annotations

from typing import Any

from doc_programs import same_on_both
from sqlalchemy import create_engine

PROGRAM = '''
from __future__ import annotations

from typing import Optional

from sqlalchemy import DDL, DateTime, FetchedValue, Identity, Integer, Sequence, String
from sqlalchemy import event, func, insert, inspect, null, select, sql, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class SomeClass(Base):
    __tablename__ = "pt_some_table"

    id = mapped_column(Integer, primary_key=True)
    value = mapped_column(Integer)


class Foo(Base):
    __tablename__ = "pt_foo"

    pk = mapped_column(Integer, primary_key=True)
    bar = mapped_column(Integer)


class PlainObject(Base):
    __tablename__ = "pt_null_plain"

    id = mapped_column(Integer, primary_key=True)
    data = mapped_column(String(50), nullable=True)


class DefaultObject(Base):
    __tablename__ = "pt_null_default"

    id = mapped_column(Integer, primary_key=True)
    data = mapped_column(String(50), nullable=True, server_default="default")


class NoneObject(Base):
    __tablename__ = "pt_null_evaluates"

    id = mapped_column(Integer, primary_key=True)
    data = mapped_column(String(50).evaluates_none(), nullable=True, server_default="default")


class EagerModel(Base):
    __tablename__ = "pt_eager"

    id = mapped_column(Integer, primary_key=True)
    timestamp = mapped_column(DateTime(), server_default=func.now())
    special_identifier = mapped_column(String(50), server_default=FetchedValue())

    __mapper_args__ = {"eager_defaults": True}


class NoReturningModel(Base):
    __tablename__ = "pt_no_returning"

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[str] = mapped_column(String(50))
    special_identifier = mapped_column(String(50), server_default=FetchedValue())

    __table_args__ = {"implicit_returning": False}


class LazyDefaultsModel(Base):
    __tablename__ = "pt_lazy_defaults"

    id = mapped_column(Integer, primary_key=True)
    timestamp = mapped_column(DateTime(), server_default=func.now())
    special_identifier = mapped_column(String(50), server_default=FetchedValue())


class IdentityModel(Base):
    __tablename__ = "pt_identity"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    data: Mapped[str] = mapped_column(String(50))


class SequenceModel(Base):
    __tablename__ = "pt_sequence"

    id: Mapped[int] = mapped_column(Sequence("pt_sequence_seq"), primary_key=True)
    data: Mapped[str] = mapped_column(String(50))


class TriggerKeyModel(Base):
    __tablename__ = "pt_trigger_key"

    code: Mapped[str] = mapped_column(String(20), server_default=FetchedValue(), primary_key=True)
    data: Mapped[str] = mapped_column(String(50))


class TimestampKeyModel(Base):
    __tablename__ = "pt_timestamp_key"

    timestamp = mapped_column(DateTime(), default=func.now(), primary_key=True)


class StampedModel(Base):
    __tablename__ = "pt_stamped"

    id = mapped_column(Integer, primary_key=True)
    data = mapped_column(String(20))
    created = mapped_column(DateTime(), default=func.now(), server_default=FetchedValue())
    updated = mapped_column(
        DateTime(),
        onupdate=func.now(),
        server_default=FetchedValue(),
        server_onupdate=FetchedValue(),
    )

    __mapper_args__ = {"eager_defaults": True}


class User(Base):
    __tablename__ = "pt_user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30), unique=True)
    fullname: Mapped[Optional[str]] = mapped_column(String(50))

    def __repr__(self) -> str:
        return f"User(name={self.name!r}, fullname={self.fullname!r})"


# the triggers the page assumes: SQLite's run after the INSERT (RETURNING does
# not see what they write), PostgreSQL's before it (RETURNING does)
event.listen(Base.metadata, "before_create", DDL(
    "CREATE OR REPLACE FUNCTION pt_special() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN NEW.special_identifier := 'trigger-' || NEW.id; RETURN NEW; END $$"
).execute_if(dialect="postgresql"))
event.listen(Base.metadata, "before_create", DDL(
    "CREATE OR REPLACE FUNCTION pt_key() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN NEW.code := 'K-' || NEW.data; RETURN NEW; END $$"
).execute_if(dialect="postgresql"))
for _table in ("pt_eager", "pt_no_returning", "pt_lazy_defaults"):
    event.listen(Base.metadata.tables[_table], "after_create", DDL(
        f"CREATE TRIGGER {_table}_special AFTER INSERT ON {_table} BEGIN "
        f"UPDATE {_table} SET special_identifier = 'trigger-' || NEW.id "
        "WHERE id = NEW.id; END"
    ).execute_if(dialect="sqlite"))
    event.listen(Base.metadata.tables[_table], "after_create", DDL(
        f"CREATE TRIGGER {_table}_special BEFORE INSERT ON {_table} "
        "FOR EACH ROW EXECUTE FUNCTION pt_special()"
    ).execute_if(dialect="postgresql"))
event.listen(Base.metadata.tables["pt_trigger_key"], "after_create", DDL(
    "CREATE TRIGGER pt_trigger_key_code BEFORE INSERT ON pt_trigger_key "
    "FOR EACH ROW EXECUTE FUNCTION pt_key()"
).execute_if(dialect="postgresql"))


def state(obj):
    insp = inspect(obj)
    for name in ("transient", "pending", "persistent", "deleted", "detached"):
        if getattr(insp, name):
            return name
    return "?"


def unloaded(obj):
    return sorted(inspect(obj).unloaded)


def raised(fn):
    try:
        fn()
    except Exception as err:
        return type(err).__name__
    return "ok"


def embedded_expressions(engine, seen):
    with Session(engine) as session:
        session.add_all([SomeClass(id=5, value=10), SomeClass(id=6, value=20)])
        session.commit()

    with Session(engine) as session:
        someobject = session.get(SomeClass, 5)
        someobject.value = SomeClass.value + 1
        seen["expr.dirty"] = someobject in session.dirty
        session.flush()
        seen["expr.unloaded_after_flush"] = unloaded(someobject)
        seen["expr.reloaded"] = someobject.value
        other = session.get(SomeClass, 6)
        someobject.value = SomeClass.value * 2
        other.value = 21
        session.commit()
        seen["expr.after_commit"] = [someobject.value, other.value]

    with Session(engine) as session:
        biggest = select(func.max(SomeClass.value)).scalar_subquery()
        objs = [SomeClass(id=7, value=biggest + 100), SomeClass(id=8, value=3),
                SomeClass(id=9, value=biggest + 1000)]
        session.add_all(objs)
        session.flush()
        seen["expr.insert_unloaded"] = [unloaded(o) for o in objs]
        seen["expr.insert_values"] = [o.value for o in objs]
        session.commit()

    with Session(engine) as session:
        foo = Foo(pk=sql.select(sql.func.coalesce(sql.func.max(Foo.pk) + 1, 1)).scalar_subquery())
        session.add(foo)
        session.commit()
        foo2 = Foo(pk=sql.select(sql.func.coalesce(sql.func.max(Foo.pk) + 1, 1)).scalar_subquery(),
                   bar=5)
        session.add(foo2)
        session.flush()
        seen["expr.pk_unloaded"] = unloaded(foo2)
        seen["expr.pk"] = [foo.pk, foo2.pk, inspect(foo2).identity, state(foo2), foo2.bar]
        session.commit()


def sql_with_sessions(engine, seen):
    Session_ = sessionmaker(bind=engine)
    session = Session_()
    result = session.execute(text("select * from pt_some_table where id=:id"), {"id": 7})
    seen["sql.text"] = [tuple(r) for r in result]
    mytable = SomeClass.__table__
    result = session.execute(select(mytable).where(mytable.c.id == 7))
    seen["sql.core"] = [tuple(r) for r in result]
    connection = session.connection()
    seen["sql.connection"] = [connection is session.connection(), connection.engine is engine,
                              session.in_transaction()]
    session.close()

    Session_ = sessionmaker(binds={SomeClass: engine})
    session = Session_()
    seen["sql.without_mapper"] = raised(lambda: session.execute(text("select 1")))
    result = session.execute(
        text("select * from pt_some_table where id=:id"),
        {"id": 7},
        bind_arguments={"mapper": SomeClass},
    )
    seen["sql.text_mapper"] = [tuple(r) for r in result]
    result = session.execute(
        select(mytable).where(mytable.c.id == 7), bind_arguments={"mapper": SomeClass}
    )
    seen["sql.core_mapper"] = [tuple(r) for r in result]
    connection = session.connection(bind_arguments={"mapper": SomeClass})
    seen["sql.connection_mapper"] = connection.engine is engine
    session.close()


def forcing_null(engine, seen):
    with Session(engine) as session:
        session.add(PlainObject(id=1))
        session.commit()
        seen["null.plain"] = session.scalars(select(PlainObject.data)).all()

    with Session(engine) as session:
        objs = [DefaultObject(id=1), DefaultObject(id=2, data=None),
                DefaultObject(id=3, data=null()), DefaultObject(id=4, data="given")]
        session.add_all(objs)
        session.flush()
        seen["null.default_unloaded"] = [unloaded(o) for o in objs]
        seen["null.default_values"] = [o.data for o in objs]
        session.commit()
        rows = session.execute(select(DefaultObject.id, DefaultObject.data)
                               .order_by(DefaultObject.id))
        seen["null.default_rows"] = [tuple(r) for r in rows]

    with Session(engine) as session:
        objs = [NoneObject(id=1, data=None), NoneObject(id=2)]
        session.add_all(objs)
        session.flush()
        seen["null.evaluates_none_unloaded"] = [unloaded(o) for o in objs]
        session.commit()
        rows = session.execute(select(NoneObject.id, NoneObject.data).order_by(NoneObject.id))
        seen["null.evaluates_none_rows"] = [tuple(r) for r in rows]


def server_defaults(engine, seen):
    with Session(engine) as session:
        obj = EagerModel()
        session.add(obj)
        session.flush()
        seen["case1.unloaded"] = unloaded(obj)
        seen["case1.values"] = [type(obj.timestamp).__name__, obj.special_identifier]
        session.commit()
        seen["case1.in_db"] = session.scalars(select(EagerModel.special_identifier)).all()

    with Session(engine) as session:
        objs = [NoReturningModel(data="a"), NoReturningModel(data="b")]
        session.add_all(objs)
        session.flush()
        seen["case2.unloaded"] = [unloaded(o) for o in objs]
        seen["case2.values"] = [[o.id, o.data, o.special_identifier] for o in objs]
        session.commit()

    with Session(engine) as session:
        objs = [LazyDefaultsModel(), LazyDefaultsModel()]
        session.add_all(objs)
        session.flush()
        seen["case3.unloaded"] = [unloaded(o) for o in objs]
        seen["case3.values"] = [type(objs[0].timestamp).__name__,
                                [o.special_identifier for o in objs]]
        session.commit()

    with Session(engine) as session:
        objs = [IdentityModel(data="i1"), IdentityModel(data="i2"),
                SequenceModel(data="s1"), SequenceModel(data="s2")]
        session.add_all(objs)
        session.flush()
        seen["case4.keys"] = [[inspect(o).identity, unloaded(o)] for o in objs]
        if engine.dialect.name == "postgresql":
            keyed = [TriggerKeyModel(data="x"), TriggerKeyModel(data="y")]
            session.add_all(keyed)
            session.flush()
            seen["case4.trigger_keys"] = [[inspect(o).identity, o.code, state(o)] for o in keyed]
        session.commit()

    with Session(engine) as session:
        obj = TimestampKeyModel()
        session.add(obj)
        session.flush()
        seen["case5"] = [unloaded(obj), type(obj.timestamp).__name__, state(obj),
                         inspect(obj).identity == (obj.timestamp,)]
        session.commit()

    with Session(engine) as session:
        obj = StampedModel(data="x")
        session.add(obj)
        session.flush()
        seen["stamped.insert"] = [unloaded(obj), type(obj.created).__name__, obj.updated]
        obj.data = "y"
        session.flush()
        seen["stamped.update"] = [unloaded(obj), type(obj.updated).__name__]
        session.commit()


def dml_returning(engine, seen):
    with Session(engine) as session:
        users = session.scalars(
            insert(User).returning(User),
            [
                {"name": "spongebob", "fullname": "Spongebob Squarepants"},
                {"name": "sandy", "fullname": "Sandy Cheeks"},
            ],
        ).all()
        seen["dml.inserted"] = [repr(u) for u in users] + [state(u) for u in users]
        updated = session.scalars(
            update(User).where(User.name == "sandy").values(fullname="Sandy Squirrel")
            .returning(User)
        ).all()
        seen["dml.updated"] = [updated[0] is users[1], users[1].fullname]
        if engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        stmt = dialect_insert(User).values(
            [
                {"name": "spongebob", "fullname": "Spongebob S."},
                {"name": "patrick", "fullname": "Patrick Star"},
            ]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[User.name], set_=dict(fullname=stmt.excluded.fullname)
        )
        result = session.scalars(stmt.returning(User),
                                 execution_options={"populate_existing": True})
        upserted = result.all()
        seen["dml.upserted"] = [repr(u) for u in upserted] + [upserted[0] is users[0]]
        session.commit()


def bulk_operations(engine, seen):
    with Session(engine) as session:
        objs = [User(name=f"bulk{i}", fullname=None) for i in range(3)]
        session.bulk_save_objects(objs)
        seen["bulk.save"] = [[state(o), o.__dict__.get("id"), o in session] for o in objs]
        more = [User(name="b3"), User(name="b4", fullname="Bee Four")]
        session.bulk_save_objects(more, return_defaults=True)
        seen["bulk.save_defaults"] = [[state(o), o.id is not None, o in session, o.name]
                                      for o in more]
        seen["bulk.count"] = session.scalar(
            select(func.count()).select_from(User).where(User.name.like("b%")))
        loaded = session.scalars(select(User).where(User.name == "b3")).one()
        more[0].fullname = "Bee Three"
        more[1].name = "b4-renamed"
        session.bulk_save_objects(more)
        seen["bulk.save_update_stale"] = [loaded.fullname, loaded is more[0],
                                          state(more[0])]
        session.refresh(loaded)
        seen["bulk.save_update"] = [loaded.fullname, tuple(session.execute(
            select(User.name, User.fullname).where(User.id == more[1].id)).one())]
        more[1].fullname = "changed only"
        session.bulk_save_objects([more[1]], update_changed_only=False)
        seen["bulk.save_all_columns"] = tuple(session.execute(
            select(User.name, User.fullname).where(User.id == more[1].id)).one())

        mappings = [{"name": "m1", "fullname": "Em One"}, {"name": "m2"}]
        session.bulk_insert_mappings(User, mappings)
        seen["bulk.mappings_untouched"] = mappings
        given = [{"name": "m3"}, {"name": "m4", "fullname": None}]
        session.bulk_insert_mappings(User, given, return_defaults=True)
        seen["bulk.mappings_defaults"] = [[sorted(m), isinstance(m.get("id"), int)]
                                          for m in given]
        session.bulk_insert_mappings(DefaultObject, [{"id": 10, "data": None}])
        session.bulk_insert_mappings(DefaultObject, [{"id": 11, "data": None}],
                                     render_nulls=True)
        seen["bulk.render_nulls"] = session.scalars(
            select(DefaultObject.data).where(DefaultObject.id >= 10)
            .order_by(DefaultObject.id)).all()

        m3 = session.scalars(select(User).where(User.name == "m3")).one()
        session.bulk_update_mappings(User, [
            {"id": given[0]["id"], "fullname": "Em Three"},
            {"id": given[1]["id"], "fullname": "Em Four", "name": "m4b"},
        ])
        seen["bulk.update_mappings_stale"] = m3.fullname
        seen["bulk.update_mappings"] = [tuple(r) for r in session.execute(
            select(User.name, User.fullname).where(User.name.like("m%")).order_by(User.id))]
        session.commit()

        seen["bulk.update_missing_row"] = raised(
            lambda: session.bulk_update_mappings(User, [{"id": 9999, "fullname": "nobody"}]))
        seen["bulk.after_failure"] = raised(lambda: session.execute(select(User.id)))
        session.rollback()
        seen["bulk.total"] = session.scalar(select(func.count()).select_from(User))


def run(engine):
    seen = {}
    for section in (embedded_expressions, sql_with_sessions, forcing_null, server_defaults,
                    dml_returning, bulk_operations):
        section(engine, seen)
    return seen
'''


PARTITION_PROGRAM = '''
from __future__ import annotations

import random
from typing import List

from sqlalchemy import ForeignKey, String, event, func, select, text, update
from sqlalchemy.sql import Delete, Update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.orm import sessionmaker


class BaseA(DeclarativeBase):
    pass


class BaseB(DeclarativeBase):
    pass


class MyOtherClass:
    pass


class User(BaseA):
    __tablename__ = "pt_part_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    addresses: Mapped[List[Address]] = relationship(back_populates="user")


class Address(BaseA):
    __tablename__ = "pt_part_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(50))
    user_id: Mapped[int] = mapped_column(ForeignKey("pt_part_user.id"))
    user: Mapped[User] = relationship(back_populates="addresses")


class GameInfo(MyOtherClass, BaseB):
    __tablename__ = "pt_part_game"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(30))
    stats: Mapped[List[GameStats]] = relationship()


class GameStats(MyOtherClass, BaseB):
    __tablename__ = "pt_part_stats"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("pt_part_game.id"))
    score: Mapped[int]


ENGINES = []


def setup(engine1, engine2):
    ENGINES[:] = [engine1, engine2]
    BaseA.metadata.drop_all(engine1)
    BaseB.metadata.drop_all(engine2)
    BaseA.metadata.create_all(engine1)
    BaseB.metadata.create_all(engine2)


def counting(engines):
    counts = [0 for _ in engines]
    listeners = []
    for i, engine in enumerate(engines):
        def count(*args, i=i):
            counts[i] += 1
        event.listen(engine, "before_cursor_execute", count)
        listeners.append((engine, count))
    return counts, listeners


def stop(listeners):
    for engine, fn in listeners:
        event.remove(engine, "before_cursor_execute", fn)


def in_table(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def simple_vertical(engine1, engine2, seen):
    Session_ = sessionmaker()
    Session_.configure(binds={User: engine1, GameInfo: engine2})
    with Session_() as session:
        seen["binds.classes"] = [session.get_bind(User) is engine1,
                                 session.get_bind(GameInfo) is engine2]
        counts, listeners = counting([engine1, engine2])
        try:
            session.add(User(name="u1"))
            session.flush()
            on_user_flush = [n > 0 for n in counts]
            counts[:] = [0, 0]
            session.add(GameInfo(title="g1"))
            session.flush()
            on_game_flush = [n > 0 for n in counts]
        finally:
            stop(listeners)
        session.commit()
        seen["binds.flushes"] = [on_user_flush, on_game_flush]
    seen["binds.rows"] = [in_table(engine1, User.__table__), in_table(engine2, GameInfo.__table__)]

    Session_ = sessionmaker()
    Session_.configure(binds={BaseA: engine1, BaseB: engine2})
    with Session_() as session:
        seen["binds.bases"] = [session.get_bind(Address) is engine1,
                               session.get_bind(GameStats) is engine2]
        user = session.scalars(select(User)).one()
        user.addresses.append(Address(email="u1@example.com"))
        game = session.scalars(select(GameInfo)).one()
        game.stats.append(GameStats(score=7))
        counts, listeners = counting([engine1, engine2])
        try:
            session.commit()
        finally:
            stop(listeners)
        seen["binds.both_flushed"] = [n > 0 for n in counts]
        counts, listeners = counting([engine1, engine2])
        try:
            scores = session.scalars(select(GameStats.score)).all()
            emails = [a.email for a in session.scalars(select(User)).one().addresses]
        finally:
            stop(listeners)
        seen["binds.reads"] = [scores, emails, [n > 0 for n in counts]]
    seen["binds.rows_after"] = [in_table(engine1, Address.__table__),
                                in_table(engine2, GameStats.__table__)]


def custom_vertical(engine1, engine2, seen):
    engines = {"leader": engine1, "other": engine2, "follower1": engine1, "follower2": engine1}
    chosen = []
    pick = random.Random(7)

    class RoutingSession(Session):
        def get_bind(self, mapper=None, clause=None):
            if mapper and issubclass(mapper.class_, MyOtherClass):
                chosen.append("other")
                return engines["other"]
            elif self._flushing or isinstance(clause, (Update, Delete)):
                chosen.append("leader")
                return engines["leader"]
            else:
                chosen.append("follower")
                return engines[pick.choice(["follower1", "follower2"])]

    Session_ = sessionmaker(class_=RoutingSession)
    with Session_() as session:
        seen["routing.flushing_outside"] = session._flushing
        session.add(User(name="u2", addresses=[Address(email="u2@example.com")]))
        session.add(GameInfo(title="g2"))
        del chosen[:]
        session.commit()
        seen["routing.flush"] = sorted(set(chosen))
        del chosen[:]
        users = session.scalars(select(User).order_by(User.id)).all()
        emails = [a.email for a in users[1].addresses]
        seen["routing.read"] = [sorted(set(chosen)), [u.name for u in users], emails]
        del chosen[:]
        session.execute(update(User).where(User.name == "u2").values(name="u2b"))
        seen["routing.update"] = [sorted(set(chosen)), users[1].name]
        del chosen[:]
        titles = session.scalars(select(GameInfo.title).order_by(GameInfo.id)).all()
        seen["routing.other"] = [sorted(set(chosen)), titles]
        del chosen[:]
        session.execute(text("select 1"))
        seen["routing.text"] = sorted(set(chosen))
        del chosen[:]
        session.bulk_insert_mappings(User, [{"name": "u3"}])
        seen["routing.bulk"] = sorted(set(chosen))
        session.commit()
        seen["routing.users"] = session.scalars(select(User.name).order_by(User.id)).all()


def run(engine):
    engine1, engine2 = ENGINES
    seen = {}
    try:
        simple_vertical(engine1, engine2, seen)
        custom_vertical(engine1, engine2, seen)
    finally:
        BaseA.metadata.drop_all(engine1)
        BaseB.metadata.drop_all(engine2)
    return seen
'''


def test_persistence_techniques_run_the_same_on_both(engine: Any) -> None:
    # SQLAlchemy 2.0's bulk_insert_mappings(return_defaults=True) writes no keys back
    seen = same_on_both(PROGRAM, engine, name="persistence_techniques",
                        oracle_since=(2, 1))
    assert seen["expr.dirty"] is True
    assert seen["expr.unloaded_after_flush"] == ["value"]
    assert seen["expr.reloaded"] == 11
    assert seen["expr.after_commit"] == [22, 21]
    assert seen["expr.insert_unloaded"] == [["value"], [], ["value"]]
    assert seen["expr.insert_values"] == [122, 3, 1122]
    assert seen["expr.pk"][:2] == [1, 2] and seen["expr.pk"][3] == "persistent"
    assert seen["sql.text"] == [(7, 122)] and seen["sql.core_mapper"] == [(7, 122)]
    assert seen["sql.without_mapper"] == "UnboundExecutionError"
    assert seen["null.default_rows"] == [(1, "default"), (2, "default"), (3, None),
                                         (4, "given")]
    assert seen["null.default_unloaded"] == [[], [], [], []]  # null() came back by RETURNING
    assert seen["null.evaluates_none_rows"] == [(1, None), (2, "default")]
    assert seen["case2.values"] == [[1, "a", "trigger-1"], [2, "b", "trigger-2"]]
    assert seen["case3.values"][0] == "datetime"
    assert seen["stamped.update"] == [[], "datetime"]
    assert seen["dml.updated"] == [True, "Sandy Squirrel"]
    assert seen["dml.upserted"][-1] is True
    assert seen["bulk.save"] == [["transient", None, False]] * 3
    assert seen["bulk.save_defaults"][0][:3] == ["detached", True, False]
    assert seen["bulk.save_update_stale"][0] is None
    assert seen["bulk.save_update"] == ["Bee Three", ("b4-renamed", "Bee Four")]
    assert seen["bulk.save_all_columns"] == ("b4-renamed", "changed only")
    assert seen["bulk.mappings_untouched"] == [{"name": "m1", "fullname": "Em One"},
                                               {"name": "m2"}]
    assert seen["bulk.mappings_defaults"] == [[["id", "name"], True],
                                              [["fullname", "id", "name"], True]]
    assert seen["bulk.render_nulls"] == ["default", None]
    assert seen["bulk.update_mappings_stale"] is None
    assert seen["bulk.update_missing_row"] == "StaleDataError"
    if engine.dialect.name == "postgresql":
        assert seen["case1.values"][1] == "trigger-1"
        assert [k[0] for k in seen["case4.trigger_keys"]] == [("K-x",), ("K-y",)]
    else:  # SQLite's RETURNING does not see what an AFTER INSERT trigger writes
        assert seen["case1.values"][1] is None and seen["case1.in_db"] == ["trigger-1"]


def test_partitioning_runs_the_same_on_both(engine: Any, tmp_path: Any) -> None:
    if engine.dialect.name == "sqlite":
        engine2 = create_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    else:
        engine2 = create_engine(engine.url)
    try:
        seen = same_on_both(PARTITION_PROGRAM, engine, name="partitioning",
                            create=lambda module, eng: module.setup(eng, engine2))
    finally:
        engine2.dispose()
    assert seen["binds.classes"] == [True, True]
    assert seen["binds.flushes"] == [[True, False], [False, True]]
    assert seen["binds.rows"] == [1, 1] and seen["binds.rows_after"] == [1, 1]
    assert seen["binds.reads"][:2] == [[7], ["u1@example.com"]]
    assert seen["routing.flushing_outside"] is False
    assert seen["routing.flush"] == ["leader", "other"]
    assert seen["routing.read"][0] == ["follower"]
    assert seen["routing.update"] == [["leader"], "u2b"]
    assert seen["routing.other"] == [["other"], ["g1", "g2"]]
    assert seen["routing.bulk"] == ["leader"]
