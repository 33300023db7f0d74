"""Batched INSERTs and UPDATEs: the SQLite driver-level executemany must write
the same rows as Core would (bind processors, key/attribute names, SQL
defaults, rowcount checks, events)."""

from __future__ import annotations

import datetime
import decimal

import pytest
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    event,
    func,
    select,
    text,
)
from sqlalchemy import exc as sa_exc
from user_types import JSONText

from session_ext import (
    DeclarativeBase,
    Session,
    declarative_base,
    exc,
    joinedload,
    relationship,
    selectinload,
)
from session_ext._gc import BULK_THRESHOLD
from session_ext.persistence import COPY_THRESHOLD

Base = declarative_base()


class Reading(Base):
    __tablename__ = "insert_path_readings"
    id = Column(Integer, primary_key=True)
    taken_at = Column(DateTime, nullable=False)
    amount = Column(Numeric(10, 2), nullable=False)
    payload = Column(JSONText)
    # attribute name differs from the column name
    label = Column("label_text", String(40))


class Stamped(Base):
    """A SQL expression default: its value comes back from the database."""

    __tablename__ = "insert_path_stamped"
    id = Column(Integer, primary_key=True)
    name = Column(String(20), nullable=False)
    created = Column(String(40), default=func.upper("x"))


def _rows(n: int) -> list[Reading]:
    base = datetime.datetime(2026, 1, 1, 12, 0, 0)
    return [
        Reading(
            taken_at=base + datetime.timedelta(minutes=i),
            amount=decimal.Decimal(i) / 4,
            payload={"i": i, "even": i % 2 == 0} if i % 3 else None,
            label=f"r{i}",
        )
        for i in range(n)
    ]


def test_batched_insert_applies_bind_processors_and_names(engine, count_statements):
    Base.metadata.create_all(engine)
    objs = _rows(50)
    with count_statements(engine) as log:
        with Session(engine) as session:
            session.add_all(objs)
            session.commit()
            ids = [o.id for o in objs]
    assert len(set(ids)) == 50 and None not in ids
    inserts = [s for s in log.statements if s.lstrip().upper().startswith("INSERT")]
    # one batch for the 17 rows without payload, one for the 33 with: two INSERTs
    # at most per shape (PostgreSQL may page RETURNING), never one per row
    assert 1 <= len(inserts) <= 4, inserts
    with Session(engine) as session:
        loaded = session.scalars(select(Reading).order_by(Reading.id)).all()
        assert [r.id for r in loaded] == sorted(ids)
        by_label = {r.label: r for r in loaded}
    for i, original in enumerate(objs):
        row = by_label[f"r{i}"]
        assert row.id == original.id
        assert row.taken_at == datetime.datetime(2026, 1, 1, 12) + datetime.timedelta(minutes=i)
        assert row.amount == decimal.Decimal(i) / 4
        assert row.payload == ({"i": i, "even": i % 2 == 0} if i % 3 else None)
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT payload FROM insert_path_readings WHERE label_text = 'r1'"))
        assert raw.scalar() == '{"even": false, "i": 1}'


def test_batched_insert_without_generated_keys(engine):
    """Explicit keys: the plain executemany branch (no keys to fetch)."""
    Base.metadata.create_all(engine)
    objs = _rows(30)
    for i, o in enumerate(objs):
        o.id = 1000 + i
    with Session(engine) as session:
        session.add_all(objs)
        session.commit()
    with Session(engine) as session:
        got = session.execute(
            select(Reading.id, Reading.amount, Reading.payload).order_by(Reading.id)
        ).all()
    assert [g[0] for g in got] == list(range(1000, 1030))
    assert got[7][1] == decimal.Decimal(7) / 4 and got[7][2] == {"i": 7, "even": False}


def test_failed_batched_insert_rolls_back_and_leaves_objects_transient_keys(engine):
    Base.metadata.create_all(engine)
    objs = _rows(20)
    objs[15].amount = None  # NOT NULL: the batch fails
    with Session(engine) as session:
        session.add_all(objs)
        try:
            session.commit()
        except Exception as error:  # IntegrityError wrapped by the driver
            assert "amount" in str(error).lower() or "null" in str(error).lower()
        else:
            raise AssertionError("the NOT NULL violation was not reported")
        assert all(o.__dict__.get("id") is None for o in objs)
        session.rollback()
        objs[15].amount = decimal.Decimal("1.50")
        session.add_all(objs)
        session.commit()
        assert session.scalar(select(func.count()).select_from(Reading)) == 20


def test_batched_insert_with_sql_expression_default(engine):
    Base.metadata.create_all(engine)
    objs = [Stamped(name=f"s{i}") for i in range(10)]
    with Session(engine) as session:
        session.add_all(objs)
        session.commit()
        assert [o.created for o in objs] == ["X"] * 10
        assert len({o.id for o in objs}) == 10


def _stored(engine):
    with Session(engine) as session:
        return {
            r.label: (r.taken_at, r.amount, r.payload)
            for r in session.scalars(select(Reading)).all()
        }


def test_batched_update_applies_bind_processors(engine, count_statements):
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(_rows(40))
        session.commit()
    with count_statements(engine) as log:
        with Session(engine) as session:
            loaded = session.scalars(select(Reading)).all()
            for r in loaded:
                n = int(r.label[1:])
                r.amount = r.amount + decimal.Decimal("0.25")
                r.payload = {"n": n, "tags": ["a", "b"]}
                if n % 2:
                    r.taken_at = datetime.datetime(2030, 5, 6, 7, 8, 9)
            session.commit()
    updates = [s for s in log.statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 2, updates  # two shapes of change, one batch each
    stored = _stored(engine)
    for i in range(40):
        taken, amount, payload = stored[f"r{i}"]
        assert amount == decimal.Decimal(i) / 4 + decimal.Decimal("0.25")
        assert payload == {"n": i, "tags": ["a", "b"]}
        if i % 2:
            assert taken == datetime.datetime(2030, 5, 6, 7, 8, 9)
        else:
            assert taken == datetime.datetime(2026, 1, 1, 12) + datetime.timedelta(minutes=i)


def test_batched_update_of_a_vanished_row_is_stale_and_rolls_back(engine):
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(_rows(10))
        session.commit()
    before = _stored(engine)
    with Session(engine) as session:
        loaded = session.scalars(select(Reading)).all()
        for r in loaded:
            r.label = r.label + "-renamed"
        victim = loaded[3].id
        # behind the session's back, on its own connection (SQLite has one writer)
        session.connection().exec_driver_sql(
            f"DELETE FROM insert_path_readings WHERE id = {victim}"
        )
        with pytest.raises(exc.StaleDataError, match="expected to update 10 row"):
            session.commit()
        session.rollback()
    after = _stored(engine)
    assert set(after) == set(before)  # nothing renamed, nothing deleted: all rolled back


class Shelf(Base):
    __tablename__ = "insert_path_shelves"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))
    readings = relationship("ShelfItem", order_by=lambda: ShelfItem.id)


class ShelfItem(Base):
    __tablename__ = "insert_path_shelf_items"
    id = Column(Integer, primary_key=True)
    shelf_id = Column(Integer, ForeignKey("insert_path_shelves.id"), nullable=False)
    payload = Column(JSONText)
    at = Column(DateTime)


def test_eager_loads_decode_processed_columns_of_both_tables(engine):
    """Rows skip Core's Row objects only when no column needs processing: a
    joined-in table with a JSON and a DateTime column must still be decoded."""
    Base.metadata.create_all(engine)
    when = datetime.datetime(2026, 3, 4, 5, 6, 7)
    with Session(engine) as session:
        for s in range(3):
            session.add(Shelf(name=f"s{s}", readings=[
                ShelfItem(payload={"s": s, "i": i}, at=when) for i in range(4)
            ]))
        session.commit()
    for option in (joinedload, selectinload):
        with Session(engine) as session:
            shelves = session.scalars(
                select(Shelf).options(option(Shelf.readings)).order_by(Shelf.id)
            ).unique().all()
            assert [s.name for s in shelves] == ["s0", "s1", "s2"]
            for s, shelf in enumerate(shelves):
                assert [r.payload for r in shelf.readings] == [{"s": s, "i": i} for i in range(4)]
                assert all(r.at == when for r in shelf.readings)


class Note(Base):
    """Attribute names equal to column names: new objects' own ``__dict__``
    can go to the driver as they are."""

    __tablename__ = "insert_path_notes"
    id = Column(Integer, primary_key=True)
    title = Column(String(20), nullable=False)
    body = Column(String(20))


def test_new_objects_of_every_shape_go_in_once_in_add_order(engine, count_statements):
    Base.metadata.create_all(engine)
    objs = []
    for i in range(40):
        if i % 5 == 0:
            o = Note(body=f"b{i}", title=f"t{i}")  # the other key order
        elif i % 5 == 1:
            o = Note(title=f"t{i}", id=None)  # None for a generated key: its default
        elif i % 5 == 2:
            o = Note(title=f"t{i}", body=f"b{i}")
            o.scratch = {"not": "a column"}  # an attribute of the application's own
        else:
            o = Note(title=f"t{i}", body=f"b{i}")
        objs.append(o)
    with count_statements(engine) as log:
        with Session(engine) as session:
            session.add_all(objs)
            session.flush()
            ids = [o.id for o in objs]
            session.commit()
    assert None not in ids and len(set(ids)) == 40
    inserts = [s for s in log.statements if s.lstrip().upper().startswith("INSERT")]
    # a batch per run of objects giving the same columns (the order of the
    # keywords, or an attribute of the application's own, starts none): only the
    # objects without a body interrupt the runs -- never one statement per row
    shapes = ["no body" if i % 5 == 1 else "title and body" for i in range(40)]
    runs = 1 + sum(a != b for a, b in zip(shapes, shapes[1:]))
    assert runs == 17 and len(inserts) == runs, inserts
    assert ids == sorted(ids)  # generated keys follow the order objects were added in
    assert objs[2].scratch == {"not": "a column"}  # the object's own dict is untouched
    with Session(engine) as session:
        rows = dict(session.execute(select(Note.id, Note.body)).all())
    for i, ident in enumerate(ids):
        assert rows[ident] == (None if i % 5 == 1 else f"b{i}")


def test_a_failed_batch_of_plain_new_objects_leaves_them_as_they_were(engine):
    Base.metadata.create_all(engine)
    objs = [Note(title=f"t{i}", body="b") for i in range(30)]
    objs[20].title = None  # NOT NULL: the batch fails
    with Session(engine) as session:
        session.add_all(objs)
        with pytest.raises(Exception, match="(?i)null|title"):
            session.flush()
        session.rollback()
        assert all("id" not in o.__dict__ for o in objs)
        assert objs[3].__dict__.get("title") == "t3"
        objs[20].title = "fixed"
        session.add_all(objs)
        session.commit()
        assert session.scalar(select(func.count()).select_from(Note)) == 30


# -------------------------------------------------------------------- COPY: names that need quoting
class QuotedBase(DeclarativeBase):
    pass


class MixedCase(QuotedBase):
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


def test_large_batch_into_table_whose_name_needs_quoting(engine):
    """>= COPY_THRESHOLD rows on PostgreSQL go through _copy_insert, which calls
    pg_get_serial_sequence('ReviewThings', 'id'): the unquoted name is folded to
    lower case and the relation is not found, so the whole flush fails (999
    rows work). SQLAlchemy's ORM inserts these rows like any others."""
    QuotedBase.metadata.create_all(engine)
    n = COPY_THRESHOLD + 10
    objs = [
        MixedCase(name=None if i % 7 == 0 else f"nämé {i}",
                  day=None if i % 2 else datetime.date(2024, 1, 1 + i % 28))
        for i in range(n)
    ]
    with Session(engine, expire_on_commit=False) as s:
        s.add_all(objs)
        s.commit()
        assert s.scalar(select(func.count()).select_from(MixedCase)) == n
    with engine.connect() as conn:
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


# --------------------------------------------------------------- parameter dicts of batched INSERTs
IBase = declarative_base()


class Item(IBase):
    __tablename__ = "rv3_items"
    id = Column(Integer, primary_key=True)
    title = Column(String(20), nullable=False)
    body = Column(String(20))


def test_mixed_shapes_one_and_two_row_groups_and_listener_params(engine):
    """Disproves for one/two-row groups, mixed key orders, extra attributes,
    explicit id=None: each object gets its own row and the dicts keep only what
    the application put there plus the key."""
    IBase.metadata.create_all(engine)
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT"):
            seen.append(parameters)

    objs = [
        Item(title="a", body="1"),
        Item(body="2", title="b"),
        Item(body="3", title="c"),
        Item(title="d", id=None),
        Item(title="e"),
    ]
    objs[4].scratch = 1
    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as s:
            s.add_all(objs)
            s.commit()
            got = {o.id: (o.title, o.body) for o in objs}
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(got) == 5
    with Session(engine) as s:
        rows = {r.id: (r.title, r.body) for r in s.scalars(select(Item))}
    assert rows == got
    assert set(objs[0].__dict__) - {"_sa_instance_state", "_se_state"} >= {"id", "title", "body"}
    assert objs[4].scratch == 1
    flat = repr(seen)
    assert "_se_state" not in flat and "InstanceState" not in flat


def test_a_failed_two_row_raw_batch_leaves_dicts_as_they_were(engine):
    IBase.metadata.create_all(engine)
    objs = [Item(title="ok", body="x"), Item(title=None, body="y")]
    before = [dict(o.__dict__) for o in objs]
    with Session(engine) as s:
        s.add_all(objs)
        with pytest.raises(sa_exc.IntegrityError):
            s.flush()
        s.rollback()
    after = [{k: v for k, v in o.__dict__.items() if k in before[i]} for i, o in enumerate(objs)]
    for b, a in zip(before, after):
        assert {k: v for k, v in b.items() if not k.startswith("_")} == {
            k: v for k, v in a.items() if not k.startswith("_")
        }
    assert all("id" not in o.__dict__ for o in objs)


def test_batched_insert_honours_schema_translate_map(sqlite_engine):
    """The SQLite driver-tuple path compiles the INSERT once per dialect and
    runs the string with exec_driver_sql; an engine sharing that dialect via
    ``execution_options(schema_translate_map=...)`` gets the untranslated
    table name (a single-row insert goes through Core and works)."""
    with sqlite_engine.begin() as conn:
        conn.execute(text("CREATE TABLE rv3_logical (id INTEGER PRIMARY KEY, name VARCHAR(20))"))
    TBase = declarative_base()

    class InSchema(TBase):
        __table__ = Table("rv3_logical", TBase.metadata, Column("id", Integer, primary_key=True),
                          Column("name", String(20)), schema="logical")

    translated = sqlite_engine.execution_options(schema_translate_map={"logical": None})
    with Session(translated) as s:
        s.add(InSchema(name="one"))
        s.flush()
        s.add_all([InSchema(name="two"), InSchema(name="three")])
        s.flush()
        assert s.scalar(select(func.count()).select_from(InSchema)) == 3


def test_postgresql_batched_insert_gets_copies(pg_engine):
    """Disproves: on PostgreSQL (RETURNING / COPY) the dicts are copied;
    objects' dicts hold no stray keys afterwards and keys are right."""
    IBase.metadata.create_all(pg_engine)
    objs = [Item(title=f"t{i}", body="b") for i in range(BULK_THRESHOLD + 5)]
    with Session(pg_engine) as s:
        s.add_all(objs)
        s.commit()
        ids = [o.id for o in objs]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert set(k for k in objs[0].__dict__ if not k.startswith("_")) == {"id", "title", "body"}
