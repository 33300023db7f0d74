"""Review of aa1391f (generated constructors), e066025 (GC hand-off),
2945119 (raw __dict__ insert params, driver statements on the dialect) and
b7f1b12 (batched sweep under a lock, joined-eager parent reuse)."""

from __future__ import annotations

import dataclasses
import gc
import threading
import weakref

import pytest
from sqlalchemy import Column, ForeignKey, Integer, String, Table, event, func, select, text
from sqlalchemy import exc as sa_exc

from session_ext import Session, declarative_base, joinedload, relationship
from session_ext._gc import BULK_THRESHOLD
from session_ext.state import sweep_dead

# -- generated constructors (aa1391f) -------------------------------------------------


def test_a_base_constructor_assigned_after_mapping_is_used():
    """Before aa1391f every model looked __init__ up through the MRO, so a
    constructor put on the base (or a mixin) after the models were declared
    (a plugin, a test helper) took effect; the generated __init__ in each
    class's __dict__ now shadows it."""
    LateBase = declarative_base()

    class Late(LateBase):
        __tablename__ = "rv3_late"
        id = Column(Integer, primary_key=True)
        name = Column(String(20))

    calls = []
    generic = LateBase.__init__

    def traced_init(self, **kw):
        calls.append(type(self).__name__)
        generic(self, **kw)

    LateBase.__init__ = traced_init
    try:
        obj = Late(name="x")
    finally:
        del LateBase.__init__
    assert obj.name == "x"
    assert calls == ["Late"]


def test_dataclass_decorator_on_a_model_gets_its_constructor():
    """``@dataclass`` only writes ``__init__`` when the class has none in its own
    ``__dict__``; the generated one (set during class creation, before the
    decorator runs) now suppresses the dataclass constructor: no
    ``__post_init__``, no positional fields."""
    DBase = declarative_base()
    posted = []

    @dataclasses.dataclass
    class Tagged(DBase):
        __tablename__ = "rv3_tagged"
        id = Column(Integer, primary_key=True)
        name = Column(String(20))
        extra: int = 0  # a plain dataclass field, not a column

        def __post_init__(self):
            posted.append(self.extra)

    t = Tagged(extra=3)
    assert t.extra == 3
    assert posted == [3]
    assert Tagged(4).extra == 4


def test_generated_constructor_matches_generic_for_columns_and_errors():
    """Disproves: keyword-only / unknown keyword / relationship keyword all behave
    as the generic constructor does."""
    GBase = declarative_base()

    class P(GBase):
        __tablename__ = "rv3_gp"
        id = Column(Integer, primary_key=True)
        name = Column(String(20))
        kids = relationship("K", back_populates="p")

    class K(GBase):
        __tablename__ = "rv3_gk"
        id = Column(Integer, primary_key=True)
        p_id = Column(ForeignKey("rv3_gp.id"))
        p = relationship("P", back_populates="kids")

    p = P(name="a")
    k = K(p=p)
    assert k.p is p and p.kids == [k]
    with pytest.raises(TypeError):
        P("positional")
    with pytest.raises(TypeError, match="nope"):
        P(nope=1)
    import copy

    c = copy.copy(P(name="b"))
    assert c.name == "b"


# -- GC hand-off (e066025) ------------------------------------------------------------

HBase = declarative_base()


class Hit(HBase):
    __tablename__ = "rv3_hits"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))


class _Cycle:
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
        garbage = _Cycle()
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


# -- raw __dict__ insert parameters (2945119) ----------------------------------------

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


# -- sweep under a lock (b7f1b12) ----------------------------------------------------


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


# -- joined eager (b7f1b12) ------------------------------------------------------------

JBase = declarative_base()


class Parent(JBase):
    __tablename__ = "rv3_parents"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))
    kids = relationship("Kid", back_populates="parent", order_by="Kid.id")


class Kid(JBase):
    __tablename__ = "rv3_kids"
    id = Column(Integer, primary_key=True)
    parent_id = Column(ForeignKey("rv3_parents.id"))
    name = Column(String(20))
    parent = relationship("Parent", back_populates="kids")


def _fill(engine):
    JBase.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([Parent(id=i, name=f"p{i}") for i in range(1, 5)])
        s.flush()
        s.add_all([Kid(id=10 * p + k, parent_id=p, name=f"k{p}{k}") for p in (1, 2, 4)
                   for k in range(3)])
        s.commit()


def test_joined_eager_non_adjacent_parents_and_childless(engine):
    _fill(engine)
    with Session(engine) as s:
        # order by kid name desc interleaves parents; parent 3 has no kids
        stmt = (select(Parent).options(joinedload(Parent.kids))
                .order_by(Parent.id % 2, Parent.id))
        parents = s.scalars(stmt).unique().all()
        assert [p.id for p in parents] == [2, 4, 1, 3]
        assert {p.id: [k.id for k in p.kids] for p in parents} == {
            1: [10, 11, 12], 2: [20, 21, 22], 3: [], 4: [40, 41, 42]}


def test_joined_eager_many_to_one_keeps_every_row(engine):
    _fill(engine)
    with Session(engine) as s:
        kids = s.scalars(select(Kid).options(joinedload(Kid.parent)).order_by(Kid.id)).all()
        assert [k.id for k in kids] == [10, 11, 12, 20, 21, 22, 40, 41, 42]
        assert all(k.parent.id == k.parent_id for k in kids)


def test_joined_eager_populate_existing_refreshes_collection(engine):
    _fill(engine)
    with Session(engine) as s:
        p = s.get(Parent, 1)
        assert len(p.kids) == 3
        s.connection().execute(text("DELETE FROM rv3_kids WHERE id = 11"))
        got = s.scalars(select(Parent).where(Parent.id == 1).options(joinedload(Parent.kids))
                        .execution_options(populate_existing=True)).unique().all()
        assert got == [p]
        assert [k.id for k in p.kids] == [10, 12]
