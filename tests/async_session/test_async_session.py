"""AsyncSession, async_sessionmaker, AsyncAttrs on aiosqlite and psycopg async."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from async_support import Address, User, async_engine, create_schema
from sqlalchemy import create_engine, func, select, text
from sqlalchemy import exc as sa_exc

from session_ext import exc, selectinload
from session_ext.asyncio import (
    AsyncConnection,
    AsyncResult,
    AsyncSession,
    async_object_session,
    async_sessionmaker,
    close_all_sessions,
)


@contextlib.asynccontextmanager
async def database(url: str, **kw) -> AsyncIterator:
    engine = async_engine(url, **kw)
    try:
        await create_schema(engine)
        yield engine
    finally:
        await engine.dispose()


def checked_out(engine) -> int:
    return engine.sync_engine.pool.checkedout()


async def count_users(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(User.__table__))).scalar()


def test_write_read_roundtrip(async_url):
    async def main():
        async with database(async_url) as engine:
            async with AsyncSession(engine) as session:
                session.add(User(name="ann", addresses=[Address(email="a@x")]))
                session.add_all([User(name="bob"), User(name="cid")])
                assert len(session.new) == 4
                await session.commit()
                assert session.new == []

                ann = await session.scalar(select(User).where(User.name == "ann"))
                assert ann.name == "ann"
                assert await session.get(User, ann.id) is ann  # identity map
                names = (await session.scalars(select(User.name).order_by(User.name))).all()
                assert names == ["ann", "bob", "cid"]
                rows = (await session.execute(select(User.id, User.name))).all()
                assert len(rows) == 3
                assert (await session.get_one(User, ann.id)) is ann
                with pytest.raises(exc.NoResultFound):
                    await session.get_one(User, 10_000)

                ann.name = "anne"
                assert ann in session.dirty
                await session.flush()
                await session.rollback()
                await session.refresh(ann)
                assert ann.name == "ann"

                detached = User(id=ann.id, name="merged")
                merged = await session.merge(detached)
                assert merged is ann and ann.name == "merged"
                bob = await session.scalar(select(User).where(User.name == "bob"))
                await session.delete(bob)
                await session.commit()
            assert await count_users(engine) == 2
            assert checked_out(engine) == 0

    asyncio.run(main())


def test_begin_blocks_commit_and_roll_back(async_url):
    async def main():
        async with database(async_url) as engine:
            maker = async_sessionmaker(engine, expire_on_commit=False)
            async with maker.begin() as session:
                session.add(User(name="kept"))
            with pytest.raises(RuntimeError):
                async with maker.begin() as session:
                    session.add(User(name="lost"))
                    await session.flush()
                    raise RuntimeError("boom")
            async with maker() as session:
                async with session.begin():
                    session.add(User(name="outer"))
                    async with session.begin_nested():
                        session.add(User(name="savepoint kept"))
                    with pytest.raises(RuntimeError):
                        async with session.begin_nested():
                            session.add(User(name="savepoint lost"))
                            await session.flush()
                            raise RuntimeError("inner")
                    assert session.in_transaction()
                assert not session.in_transaction()
                tx = await session.begin()
                assert tx.is_active
                session.add(User(name="awaited begin"))
                await tx.commit()
                names = (await session.scalars(select(User.name).order_by(User.name))).all()
            assert names == ["awaited begin", "kept", "outer", "savepoint kept"]
            assert checked_out(engine) == 0

    asyncio.run(main())


def test_sessionmaker_configure_and_overrides(async_url):
    async def main():
        async with database(async_url) as engine:
            maker = async_sessionmaker(engine, info={"a": 1})
            maker.configure(expire_on_commit=False)
            session = maker(info={"b": 2})
            assert session.sync_session.expire_on_commit is False
            assert session.info == {"a": 1, "b": 2}
            session.add(User(name="x"))
            await session.commit()
            user = (await session.scalars(select(User))).one()
            await session.commit()
            assert user.name == "x"  # not expired: no SQL needed
            await session.close()

    asyncio.run(main())


def test_stream_reads_a_server_side_cursor(async_url):
    async def main():
        async with database(async_url) as engine:
            async with AsyncSession(engine) as session:
                session.add_all([User(name=f"u{i:03}") for i in range(250)])
                await session.commit()
                result = await session.stream(select(User.id, User.name).order_by(User.id))
                assert isinstance(result, AsyncResult)
                assert result._real_result.context._is_server_side
                rows = [row async for row in result]
                assert len(rows) == 250
                objs = await session.stream_scalars(
                    select(User).order_by(User.name), execution_options={"yield_per": 40}
                )
                seen = []
                async for partition in objs.partitions():
                    assert len(partition) <= 40
                    seen.extend(u.name for u in partition)
                assert seen == [f"u{i:03}" for i in range(250)]
                with pytest.raises(exc.InvalidRequestError, match="stream"):
                    await session.execute(select(User), execution_options={"yield_per": 10})
            assert checked_out(engine) == 0

    asyncio.run(main())


def test_run_sync_may_lazy_load(async_url):
    async def main():
        async with database(async_url) as engine:
            async with AsyncSession(engine) as session:
                session.add(User(name="ann", addresses=[Address(email="a"), Address(email="b")]))
                await session.commit()
                user = await session.scalar(select(User))

                def emails(sync_session, obj):
                    assert sync_session is session.sync_session
                    return sorted(a.email for a in obj.addresses)  # a lazy load

                assert await session.run_sync(emails, user) == ["a", "b"]

    asyncio.run(main())


def test_lazy_load_outside_await_is_a_clear_error(async_url):
    async def main():
        async with database(async_url) as engine:
            async with AsyncSession(engine) as session:
                session.add(User(name="ann", addresses=[Address(email="a")]))
                await session.commit()
                user = await session.scalar(select(User))
                with pytest.raises(exc.MissingGreenlet) as info:
                    user.addresses  # noqa: B018
                message = str(info.value)
                assert "'User.addresses'" in message
                assert "selectinload(User.addresses)" in message
                assert "await session.refresh(obj, ['addresses'])" in message
                assert "await obj.awaitable_attrs.addresses" in message
                assert isinstance(info.value, sa_exc.MissingGreenlet)
                # nothing was attempted: the session goes on working
                assert [a.email for a in await user.awaitable_attrs.addresses] == ["a"]
                assert [a.email for a in user.addresses] == ["a"]  # loaded now
                loaded = await session.scalar(
                    select(User).options(selectinload(User.addresses)).execution_options(
                        populate_existing=True)
                )
                assert [a.email for a in loaded.addresses] == ["a"]
            assert checked_out(engine) == 0

    asyncio.run(main())


def test_expired_attribute_outside_await_is_a_clear_error(async_url):
    async def main():
        async with database(async_url) as engine:
            async with AsyncSession(engine) as session:
                session.add(User(name="ann"))
                await session.commit()
                user = await session.scalar(select(User))
                await session.commit()  # expires it
                with pytest.raises(exc.MissingGreenlet, match=r"'User\.name'") as info:
                    user.name  # noqa: B018
                assert "await session.refresh(obj, ['name'])" in str(info.value)
                assert "expire_on_commit=False" in str(info.value)
                assert await user.awaitable_attrs.name == "ann"
                session.expire(user, ["name"])
                await session.refresh(user, ["name"])
                assert user.name == "ann"
                # a many-to-one already in the identity map needs no SQL: no error
                address = Address(email="e", user=user)
                session.add(address)
                await session.commit()
                await session.refresh(address, ["email", "user_id"])
                assert address.user is user or (await address.awaitable_attrs.user) is user
                # an object whose session closed: the sync session's own error
                await session.close()
            with pytest.raises(exc.DetachedInstanceError):
                user.addresses  # noqa: B018

    asyncio.run(main())


def test_many_to_one_in_identity_map_loads_without_await(async_url):
    async def main():
        async with database(async_url) as engine:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                session.add(User(name="ann", addresses=[Address(email="a")]))
                await session.commit()
                session.expunge_all()
                user = await session.scalar(select(User))
                address = await session.scalar(select(Address))
                assert address.user is user  # from the identity map, no SQL

    asyncio.run(main())


def test_cancelled_inside_begin_rolls_back_and_returns_the_connection(async_url):
    async def main():
        async with database(async_url) as engine:
            session = AsyncSession(engine)
            flushed = asyncio.Event()

            async def work():
                async with session.begin():
                    session.add(User(name="never"))
                    await session.flush()
                    flushed.set()
                    await asyncio.Event().wait()  # until cancelled

            task = asyncio.create_task(work())
            await flushed.wait()
            assert checked_out(engine) == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert checked_out(engine) == 0
            assert not session.in_transaction()
            await session.close()
            assert await count_users(engine) == 0
            session.add(User(name="after"))  # still usable
            await session.commit()
            await session.close()
            assert await count_users(engine) == 1
            assert checked_out(engine) == 0

    asyncio.run(main())


def test_cancelled_between_awaits_then_close_rolls_back(async_url):
    async def main():
        async with database(async_url) as engine:
            session = AsyncSession(engine)
            flushed = asyncio.Event()

            async def work():
                session.add(User(name="never"))
                await session.flush()  # autobegun: the connection is held
                flushed.set()
                await asyncio.Event().wait()

            task = asyncio.create_task(work())
            await flushed.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert checked_out(engine) == 1
            await session.close()
            assert checked_out(engine) == 0
            assert await count_users(engine) == 0

    asyncio.run(main())


@pytest.mark.parametrize("async_backend", ["postgresql"])
def test_cancelled_during_a_statement_rolls_back(async_url):
    """Cancelled while the driver waits for the server: the connection (its
    state unknown) is invalidated by Core, the transaction is gone, and the
    session's close() returns cleanly."""

    async def main():
        async with database(async_url) as engine:
            session = AsyncSession(engine)

            async def work():
                async with session.begin():
                    session.add(User(name="never"))
                    await session.flush()
                    await session.execute(text("SELECT pg_sleep(30)"))

            task = asyncio.create_task(work())
            async with engine.connect() as watcher:
                while not (await watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' "
                    "AND state = 'active'"
                ))).scalar():
                    await watcher.rollback()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await session.close()
            assert checked_out(engine) == 0
            assert await count_users(engine) == 0

    asyncio.run(asyncio.wait_for(main(), 60))


def test_connection_object_session_and_close_all(async_url):
    async def main():
        async with database(async_url) as engine:
            session = AsyncSession(engine)
            conn = await session.connection()
            assert isinstance(conn, AsyncConnection)
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
            user = User(name="x")
            session.add(user)
            assert async_object_session(user) is session
            assert async_object_session(User(name="y")) is None
            assert checked_out(engine) == 1
            await close_all_sessions()
            assert checked_out(engine) == 0
            assert user not in session

    asyncio.run(main())


def test_a_blocking_bind_is_refused(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(exc.ArgumentError, match="asyncio driver"):
        AsyncSession(engine)
    with pytest.raises(exc.ArgumentError, match="AsyncEngine"):
        AsyncSession(object())


def test_importing_session_ext_asyncio_loads_no_orm():
    import subprocess
    import sys

    probe = (
        "import sys, session_ext.asyncio as a; "
        "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy.orm', "
        "'sqlalchemy.ext'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_a_large_insert_takes_the_async_path(async_url):
    """Above the size where the sync session COPYs on PostgreSQL: psycopg's
    async connection has no blocking COPY, so the batched INSERTs are used."""
    from session_ext.persistence import COPY_THRESHOLD

    n = COPY_THRESHOLD + 10

    async def main():
        async with database(async_url) as engine:
            users = [User(name=f"u{i}") for i in range(n)]
            async with AsyncSession(engine, expire_on_commit=False) as session:
                session.add_all(users)
                await session.commit()
            assert len({u.id for u in users}) == n
            assert await count_users(engine) == n

    asyncio.run(main())
