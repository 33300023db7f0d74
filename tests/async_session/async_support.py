"""Mapped classes shared by the asyncio tests."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String

from session_ext import DeclarativeBase, relationship
from session_ext.asyncio import AsyncAttrs


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
