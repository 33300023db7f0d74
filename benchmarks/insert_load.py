"""Workloads 1 and 2: insert N new objects (keys assigned back), load N rows as objects."""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession

import session_ext

from .harness import Case, Workload
from .models import OrmItem, SEItem, items, rows


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(items))


def insert_workload(engine: Engine, n: int) -> Workload:
    data = rows(n)
    raw_sql = "INSERT INTO bench_items (name, value) VALUES (%s, %s)"
    if engine.dialect.name == "sqlite":
        raw_sql = "INSERT INTO bench_items (name, value) VALUES (?, ?)"

    def session_ext_insert() -> None:
        objs = [SEItem(name=d["name"], value=d["value"]) for d in data]
        with session_ext.Session(engine) as s:
            s.add_all(objs)
            s.commit()
            assert objs[-1].__dict__.get("id") is not None or objs[-1].id is not None

    def core_executemany() -> None:
        with engine.begin() as conn:
            conn.execute(insert(items), data)

    def core_returning() -> None:
        stmt = insert(items).returning(items.c.id, sort_by_parameter_order=True)
        with engine.begin() as conn:
            ids = conn.execute(stmt, data).scalars().all()
            assert len(ids) == n

    def raw_executemany() -> None:
        conn = engine.raw_connection()
        try:
            cur = conn.cursor()
            cur.executemany(raw_sql, [(d["name"], d["value"]) for d in data])
            conn.commit()
        finally:
            conn.close()

    def orm_insert() -> None:
        objs = [OrmItem(name=d["name"], value=d["value"]) for d in data]
        with OrmSession(engine) as s:
            s.add_all(objs)
            s.commit()
            assert objs[-1].id is not None

    def reset() -> None:
        _empty(engine)

    cases = [
        Case("session_ext add_all+commit (keys back)", session_ext_insert, reset),
        Case("core executemany (no keys)", core_executemany, reset),
        Case("core insert..returning sorted (keys)", core_returning, reset),
        Case("raw DB-API executemany", raw_executemany, reset),
        Case("sqlalchemy ORM add_all+commit", orm_insert, reset),
    ]
    cases += peewee_insert_cases(engine, data, reset)
    return Workload(f"insert {n:,} objects [{engine.dialect.name}]", n, cases,
                    baseline="core executemany (no keys)")


def load_workload(engine: Engine, n: int) -> Workload:
    _empty(engine)
    with engine.begin() as conn:
        conn.execute(insert(items), rows(n))

    def session_ext_load() -> None:
        with session_ext.Session(engine) as s:
            objs = s.scalars(select(SEItem)).all()
            assert len(objs) == n

    def core_load() -> None:
        with engine.connect() as conn:
            assert len(conn.execute(select(items)).all()) == n

    def raw_load() -> None:
        conn = engine.raw_connection()
        try:
            cur = conn.cursor()
            cur.execute("SELECT id, name, value FROM bench_items")
            assert len(cur.fetchall()) == n
        finally:
            conn.close()

    def orm_load() -> None:
        with OrmSession(engine) as s:
            assert len(s.scalars(select(OrmItem)).all()) == n

    cases = [
        Case("session_ext scalars(select(M)).all()", session_ext_load),
        Case("core select().all()", core_load),
        Case("raw DB-API fetchall", raw_load),
        Case("sqlalchemy ORM scalars(select(M)).all()", orm_load),
    ]
    cases += peewee_load_cases(engine, n)
    return Workload(f"load {n:,} rows as objects [{engine.dialect.name}]", n, cases,
                    baseline="core select().all()")


# -- peewee (optional peer: installed by the `bench` extra) ---------------------
def _peewee_model(engine: Engine):  # type: ignore[no-untyped-def]
    try:
        import peewee
    except ImportError:
        return None
    url = engine.url
    if engine.dialect.name == "sqlite":
        db = peewee.SqliteDatabase(url.database)
    elif engine.dialect.name == "postgresql":
        db = peewee.PostgresqlDatabase(
            url.database, user=url.username, host=url.query.get("host"),
            port=int(url.query.get("port", 5432)),
        )
    else:
        return None

    class Item(peewee.Model):
        name = peewee.CharField(max_length=50)
        value = peewee.IntegerField()

        class Meta:
            database = db
            table_name = "bench_items"

    return Item


def peewee_insert_cases(engine: Engine, data: list[dict[str, object]], reset) -> list[Case]:  # type: ignore[no-untyped-def]
    model = _peewee_model(engine)
    if model is None:
        return []

    import peewee

    def run() -> None:
        db = model._meta.database
        with db.atomic():
            for batch in peewee.chunked(data, 1000):  # bind parameter limits
                model.insert_many(batch).execute()
        db.close()

    return [Case("peewee insert_many (no keys)", run, reset)]


def peewee_load_cases(engine: Engine, n: int) -> list[Case]:
    model = _peewee_model(engine)
    if model is None:
        return []

    def run() -> None:
        objs = list(model.select())
        assert len(objs) == n
        model._meta.database.close()

    return [Case("peewee list(Model.select())", run)]
