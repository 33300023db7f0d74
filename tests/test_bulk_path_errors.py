"""Errors from the statements the flush runs on the driver itself (COPY on
PostgreSQL, driver-tuple batches on SQLite) reach the application as
SQLAlchemy's own exception classes, exactly as Core raises them."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, String, func, select
from sqlalchemy import exc as sa_exc

from session_ext import Session, declarative_base, exc

Base = declarative_base()


class Code(Base):
    __tablename__ = "bulk_error_code"
    id = Column(Integer, primary_key=True)
    code = Column(String(20), unique=True, nullable=False)


@pytest.mark.parametrize("rows", [999, 1000, 5000])
def test_a_duplicate_in_a_large_flush_is_an_integrity_error(engine, rows):
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Code(code="taken"))
        session.commit()
        objs = [Code(code=f"c{i}") for i in range(rows)]
        objs[rows // 2].code = "taken"
        session.add_all(objs)
        with pytest.raises(sa_exc.IntegrityError) as info:
            session.flush()
        assert info.value.statement  # the statement that failed is attached
        orig = info.value.orig  # the driver's own error, wrapped once
        assert orig is not None and not isinstance(orig, sa_exc.SQLAlchemyError)
        with pytest.raises(exc.PendingRollbackError):
            session.execute(select(Code.id))
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Code)) == 1  # nothing of it
        session.add(Code(code="after"))
        session.commit()
        assert session.scalar(select(func.count()).select_from(Code)) == 2
    if hasattr(engine.pool, "checkedout"):  # StaticPool (in-memory SQLite) has no count
        assert engine.pool.checkedout() == 0
