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


# -- parents with children (workload 5) -------------------------------------
from sqlalchemy import ForeignKey  # noqa: E402
from sqlalchemy.orm import relationship as orm_relationship  # noqa: E402

parents = Table(
    "bench_parents",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False),
)
children = Table(
    "bench_children",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("parent_id", ForeignKey("bench_parents.id"), nullable=False, index=True),
    Column("name", String(50), nullable=False),
)


class SEParent(SEBase):
    __table__ = parents
    children = session_ext.relationship("SEChild", order_by=lambda: SEChild.id)


class SEChild(SEBase):
    __table__ = children


class OrmParent(_Orm):
    __table__ = parents
    children = orm_relationship("OrmChild", order_by=lambda: OrmChild.id)


class OrmChild(_Orm):
    __table__ = children
