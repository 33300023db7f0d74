"""The same table mapped three ways: session_ext, SQLAlchemy ORM, plain Core."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase as OrmBase

import session_ext

core_metadata = MetaData()
items = Table(
    "bench_items",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False),
    Column("value", Integer, nullable=False),
)


SEBase = session_ext.declarative_base()


class SEItem(SEBase):
    __table__ = items


class _Orm(OrmBase):
    pass


class OrmItem(_Orm):
    __table__ = items


def rows(n: int) -> list[dict[str, object]]:
    return [{"name": f"item {i}", "value": i} for i in range(n)]
