"""Workloads 3 and 4: primary-key gets (misses and identity-map hits), and
changing one column on many loaded objects then committing."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession

import session_ext

from .harness import Case, Workload
from .models import OrmItem, SEItem, items, rows


def _fill(engine: Engine, n: int) -> list[int]:
    with engine.begin() as conn:
        conn.execute(delete(items))
        conn.execute(insert(items), rows(n))
        return list(conn.execute(select(items.c.id).order_by(items.c.id)).scalars())


def get_workload(engine: Engine, n: int) -> Workload:
    ids = _fill(engine, n)
    by_pk = select(items).where(items.c.id == bindparam("pk"))
    raw_sql = "SELECT id, name, value FROM bench_items WHERE id = " + (
        "?" if engine.dialect.name == "sqlite" else "%s"
    )

    def se_miss_same_session() -> None:
        with session_ext.Session(engine) as s:
            get = s.get
            for i in ids:
                get(SEItem, i)

    def se_miss_fresh_session() -> None:
        for i in ids:
            with session_ext.Session(engine) as s:
                s.get(SEItem, i)

    hit_session: dict[str, object] = {}

    def se_hit_setup() -> None:
        s = session_ext.Session(engine)
        hit_session["s"] = s
        hit_session["objs"] = s.scalars(select(SEItem)).all()

    def se_hit() -> None:
        get = hit_session["s"].get  # type: ignore[attr-defined]
        for i in ids:
            get(SEItem, i)

    def se_hit_teardown() -> None:
        hit_session["s"].close()  # type: ignore[attr-defined]
        hit_session.clear()

    def core_get() -> None:
        with engine.connect() as conn:
            for i in ids:
                conn.execute(by_pk, {"pk": i}).first()

    def core_get_fresh_connection() -> None:
        for i in ids:
            with engine.connect() as conn:
                conn.execute(by_pk, {"pk": i}).first()

    def raw_get() -> None:
        conn = engine.raw_connection()
        try:
            cur = conn.cursor()
            for i in ids:
                cur.execute(raw_sql, (i,))
                cur.fetchone()
        finally:
            conn.close()

    def orm_miss() -> None:
        with OrmSession(engine) as s:
            for i in ids:
                s.get(OrmItem, i)

    orm_hit_session: dict[str, object] = {}

    def orm_hit_setup() -> None:
        s = OrmSession(engine)
        orm_hit_session["s"] = s
        orm_hit_session["objs"] = s.scalars(select(OrmItem)).all()

    def orm_hit() -> None:
        get = orm_hit_session["s"].get  # type: ignore[attr-defined]
        for i in ids:
            get(OrmItem, i)

    def orm_hit_teardown() -> None:
        orm_hit_session["s"].close()  # type: ignore[attr-defined]
        orm_hit_session.clear()

    cases = [
        Case("session_ext get, miss (one session)", se_miss_same_session),
        Case("session_ext get, miss (session per get)", se_miss_fresh_session),
        Case("session_ext get, identity-map hit", se_hit, se_hit_setup, se_hit_teardown),
        Case("core select by pk .first()", core_get),
        Case("core, connection per get", core_get_fresh_connection),
        Case("raw DB-API execute+fetchone", raw_get),
        Case("sqlalchemy ORM get, miss", orm_miss),
        Case("sqlalchemy ORM get, identity-map hit", orm_hit, orm_hit_setup, orm_hit_teardown),
    ]
    return Workload(f"{n:,} primary-key gets [{engine.dialect.name}]", n, cases,
                    baseline="core select by pk .first()")


def update_workload(engine: Engine, n: int) -> Workload:
    ids = _fill(engine, n)
    state: dict[str, object] = {}
    counter = [0]

    def se_setup() -> None:
        s = session_ext.Session(engine)
        state["s"] = s
        state["objs"] = s.scalars(select(SEItem)).all()
        counter[0] += 1

    def se_update() -> None:
        s = state["s"]
        v = counter[0]
        for obj in state["objs"]:  # type: ignore[attr-defined]
            obj.value = v
        s.commit()  # type: ignore[attr-defined]

    def se_teardown() -> None:
        state["s"].close()  # type: ignore[attr-defined]
        state.clear()

    stmt = update(items).where(items.c.id == bindparam("b_id")).values(value=bindparam("b_v"))

    def core_update() -> None:
        counter[0] += 1
        with engine.begin() as conn:
            conn.execute(stmt, [{"b_id": i, "b_v": counter[0]} for i in ids])

    orm_state: dict[str, object] = {}

    def orm_setup() -> None:
        s = OrmSession(engine)
        orm_state["s"] = s
        orm_state["objs"] = s.scalars(select(OrmItem)).all()
        counter[0] += 1

    def orm_update() -> None:
        v = counter[0]
        for obj in orm_state["objs"]:  # type: ignore[attr-defined]
            obj.value = v
        orm_state["s"].commit()  # type: ignore[attr-defined]

    def orm_teardown() -> None:
        orm_state["s"].close()  # type: ignore[attr-defined]
        orm_state.clear()

    cases = [
        Case("session_ext change 1 column + commit", se_update, se_setup, se_teardown),
        Case("core executemany UPDATE", core_update),
        Case("sqlalchemy ORM change 1 column + commit", orm_update, orm_setup, orm_teardown),
    ]
    return Workload(f"update {n:,} loaded objects [{engine.dialect.name}]", n, cases,
                    baseline="core executemany UPDATE")
