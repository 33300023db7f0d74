"""Async workloads: insert N objects, load N objects, K primary-key gets, through
session_ext's ``AsyncSession``, SQLAlchemy's own ``AsyncSession`` and Core's
``AsyncConnection`` (the baseline), on the same database through its asyncio
driver (aiosqlite, psycopg async), in the same run.

Every case runs on one event loop (an ``asyncio.Runner`` kept for the
workload), where the async engine and its pool live.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlalchemy.ext.asyncio import create_async_engine

from session_ext import instance_state
from session_ext.asyncio import AsyncSession
from session_ext.asyncio._engine import async_url

from .harness import Case, Workload
from .models import OrmItem, SEItem, items, rows

SE = "session_ext AsyncSession"
SA = "sqlalchemy ORM AsyncSession"
CORE = "core AsyncConnection"


class AsyncBench:
    """One event loop and one async engine on ``engine``'s database."""

    def __init__(self, engine: Engine) -> None:
        self.runner = asyncio.Runner()
        self.url = async_url(engine.url)
        self.engine = self.run(self._create())

    async def _create(self) -> Any:
        return create_async_engine(self.url)

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.runner.run(coro)

    def case(self, name: str, fn: Callable[[], Coroutine[Any, Any, Any]],
             setup: Callable[[], Any] | None = None, peer: str | None = None) -> Case:
        return Case(name, lambda: self.run(fn()), setup=setup, peer=peer)

    def reset(self, n: int = 0) -> None:
        async def refill() -> None:
            async with self.engine.begin() as conn:
                await conn.execute(delete(items))
                if n:
                    await conn.execute(insert(items), rows(n))

        self.run(refill())

    def ids(self) -> list[int]:
        async def read() -> list[int]:
            async with self.engine.connect() as conn:
                return list((await conn.execute(select(items.c.id).order_by(items.c.id)))
                            .scalars())

        return self.run(read())

    def close(self) -> None:
        self.run(self.engine.dispose())
        self.runner.close()


def _title(what: str, engine: Engine, bench: AsyncBench) -> str:
    return f"async: {what} [{engine.dialect.name}+{bench.url.get_driver_name()}]"


def async_insert_workload(engine: Engine, bench: AsyncBench, n: int) -> Workload:
    data = rows(n)
    ae = bench.engine

    async def se_insert() -> None:
        objs = [SEItem(name=d["name"], value=d["value"]) for d in data]
        async with AsyncSession(ae) as s:
            s.add_all(objs)
            await s.commit()
        assert instance_state(objs[-1]).key is not None  # keys assigned back

    async def sa_insert() -> None:
        objs = [OrmItem(name=d["name"], value=d["value"]) for d in data]
        async with SAAsyncSession(ae) as s:
            s.add_all(objs)
            await s.commit()
        assert sa_inspect(objs[-1]).key is not None

    async def core_executemany() -> None:
        async with ae.begin() as conn:
            await conn.execute(insert(items), data)

    async def core_returning() -> None:
        stmt = insert(items).returning(items.c.id, sort_by_parameter_order=True)
        async with ae.begin() as conn:
            assert len((await conn.execute(stmt, data)).scalars().all()) == n

    reset = bench.reset
    cases = [
        bench.case(f"{SE} add_all+commit", se_insert, reset,
                   peer=f"{SA} add_all+commit"),
        bench.case(f"{SA} add_all+commit", sa_insert, reset),
        bench.case(f"{CORE} executemany", core_executemany, reset),
        bench.case(f"{CORE} insert..returning", core_returning, reset),
    ]
    return Workload(_title(f"insert {n:,} objects", engine, bench), n, cases,
                    baseline=f"{CORE} executemany")


def async_load_workload(engine: Engine, bench: AsyncBench, n: int) -> Workload:
    bench.reset(n)
    ae = bench.engine

    async def se_load() -> None:
        async with AsyncSession(ae) as s:
            assert len((await s.scalars(select(SEItem))).all()) == n

    async def sa_load() -> None:
        async with SAAsyncSession(ae) as s:
            assert len((await s.scalars(select(OrmItem))).all()) == n

    async def core_load() -> None:
        async with ae.connect() as conn:
            assert len((await conn.execute(select(items))).all()) == n

    cases = [
        bench.case(f"{SE} scalars(select(M)).all()", se_load,
                   peer=f"{SA} scalars(select(M)).all()"),
        bench.case(f"{SA} scalars(select(M)).all()", sa_load),
        bench.case(f"{CORE} select().all()", core_load),
    ]
    return Workload(_title(f"load {n:,} rows as objects", engine, bench), n, cases,
                    baseline=f"{CORE} select().all()")


def async_get_workload(engine: Engine, bench: AsyncBench, n: int) -> Workload:
    bench.reset(n)
    ids = bench.ids()
    ae = bench.engine
    by_pk = select(items).where(items.c.id == bindparam("pk"))

    async def se_get() -> None:
        async with AsyncSession(ae) as s:
            for i in ids:
                await s.get(SEItem, i)

    async def sa_get() -> None:
        async with SAAsyncSession(ae) as s:
            for i in ids:
                await s.get(OrmItem, i)

    async def core_get() -> None:
        async with ae.connect() as conn:
            for i in ids:
                (await conn.execute(by_pk, {"pk": i})).first()

    cases = [
        bench.case(f"{SE} get() (identity-map misses)", se_get,
                   peer=f"{SA} get()"),
        bench.case(f"{SA} get()", sa_get),
        bench.case(f"{CORE} select by pk", core_get),
    ]
    return Workload(_title(f"{n:,} primary-key gets", engine, bench), n, cases,
                    baseline=f"{CORE} select by pk")
