"""async_scoped_session: one AsyncSession per task, removed without leaks."""

from __future__ import annotations

import asyncio

import pytest
from async_support import User, async_engine, create_schema
from sqlalchemy import func, select

from session_ext import current_scope, exc, scope
from session_ext.asyncio import (
    AsyncSession,
    async_scoped_session,
    async_sessionmaker,
)

TASKS = 1_000

def test_1000_concurrent_tasks_get_their_own_sessions(async_url):
    async def main():
        # under a loaded machine a SQLite writer may queue longer than the
        # driver's default 5 s busy timeout behind the other 14 connections
        lock_wait = {"connect_args": {"timeout": 60}} if async_url.startswith("sqlite") else {}
        engine = async_engine(async_url, pool_timeout=60, **lock_wait)
        try:
            await create_schema(engine)
            registry = async_scoped_session(
                async_sessionmaker(engine, expire_on_commit=False), asyncio.current_task
            )
            sessions: dict[int, AsyncSession] = {}

            async def task(i: int) -> None:
                session = registry()
                sessions[i] = session
                registry.add(User(name=f"t{i}"))
                await registry.commit()
                mine = await registry.scalar(select(User).where(User.name == f"t{i}"))
                assert mine in registry and registry() is session
                assert len(registry.identity_map) == 1  # no other task's objects
                await registry.remove()
                assert not registry.has()

            await asyncio.gather(*(task(i) for i in range(TASKS)))
            assert len({id(s) for s in sessions.values()}) == TASKS
            assert len(registry.registry) == 0
            assert engine.sync_engine.pool.checkedout() == 0
            async with engine.connect() as conn:
                count = await conn.scalar(select(func.count()).select_from(User.__table__))
            assert count == TASKS
        finally:
            await engine.dispose()

    asyncio.run(main())

def test_remove_rolls_back_and_forgets(async_url):
    async def main():
        engine = async_engine(async_url)
        try:
            await create_schema(engine)
            registry = async_scoped_session(async_sessionmaker(engine), asyncio.current_task)
            first = registry()
            registry.add(User(name="uncommitted"))
            await registry.flush()
            assert engine.sync_engine.pool.checkedout() == 1
            await registry.remove()
            assert engine.sync_engine.pool.checkedout() == 0
            assert not registry.has()
            await registry.remove()  # nothing to remove: a no-op
            second = registry()
            assert second is not first
            assert await registry.scalar(select(func.count()).select_from(User.__table__)) == 0
            await registry.remove()
        finally:
            await engine.dispose()

    asyncio.run(main())

def test_arguments_configure_and_query_property(async_url):
    async def main():
        engine = async_engine(async_url)
        try:
            await create_schema(engine)
            maker = async_sessionmaker(engine)
            registry = async_scoped_session(maker, current_scope)
            async with scope():
                session = registry(expire_on_commit=False)
                assert session.sync_session.expire_on_commit is False
                with pytest.raises(exc.InvalidRequestError, match="already present"):
                    registry(autoflush=False)
                with pytest.warns(exc.SAWarning):
                    registry.configure(autoflush=False)
                query = registry.query_property()
                User.query = query
                try:
                    registry.add(User(name="q"))
                    await registry.commit()
                    stmt = User.query.filter_by(name="q").statement
                    assert (await registry.scalars(stmt)).one().name == "q"
                finally:
                    del User.query
                await registry.remove()
            async with scope():
                assert registry().autoflush is False
                await registry.remove()
            assert len(registry.registry) == 0
            with pytest.raises(exc.ArgumentError, match="scopefunc"):
                async_scoped_session(maker, None)
        finally:
            await engine.dispose()

    asyncio.run(main())
