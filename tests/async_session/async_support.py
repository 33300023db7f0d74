"""Mapped classes and the engine maker shared by the asyncio tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.pool import AsyncAdaptedQueuePool

from session_ext import DeclarativeBase, relationship
from session_ext.asyncio import AsyncAttrs, AsyncEngine, create_async_engine


def async_engine(url: str, **kw: Any) -> AsyncEngine:
    """``create_async_engine(url, **kw)`` with a queue pool on every backend.

    SQLAlchemy 2.0 gives aiosqlite file databases a NullPool (2.1 a queue pool);
    these tests count checked-out connections and bound the pool's wait, so they
    name the pool class rather than depend on the version's default.
    """
    kw.setdefault("poolclass", AsyncAdaptedQueuePool)
    return create_async_engine(url, **kw)


class Base(AsyncAttrs, DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "async_users"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    addresses = relationship("Address", back_populates="user", cascade="all, delete-orphan")


class Address(Base):
    __tablename__ = "async_addresses"
    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("async_users.id"))
    email = Column(String(80))
    user = relationship("User", back_populates="addresses")


async def create_schema(engine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
