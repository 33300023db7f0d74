"""Workload 5: 1,000 parents with 10 children each, eager loaded."""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import joinedload as orm_joinedload
from sqlalchemy.orm import selectinload as orm_selectinload

import session_ext

from .harness import Case, Workload
from .models import OrmParent, SEParent, children, parents


def _fill(engine: Engine, n_parents: int, per_parent: int) -> None:
    with engine.begin() as conn:
        conn.execute(delete(children))
        conn.execute(delete(parents))
        conn.execute(insert(parents), [{"id": i + 1, "name": f"p{i}"} for i in range(n_parents)])
        conn.execute(
            insert(children),
            [
                {"parent_id": i + 1, "name": f"c{i}.{j}"}
                for i in range(n_parents)
                for j in range(per_parent)
            ],
        )


def eager_workload(engine: Engine, n_parents: int = 1000, per_parent: int = 10) -> Workload:
    _fill(engine, n_parents, per_parent)
    total = n_parents * per_parent

    def check(ps: list) -> None:  # type: ignore[type-arg]
        assert len(ps) == n_parents and sum(len(p.children) for p in ps) == total

    def se_selectin() -> None:
        with session_ext.Session(engine) as s:
            check(s.scalars(select(SEParent).options(
                session_ext.selectinload(SEParent.children))).all())

    def se_joined() -> None:
        with session_ext.Session(engine) as s:
            check(s.scalars(select(SEParent).options(
                session_ext.joinedload(SEParent.children))).unique().all())

    def core_two_selects() -> None:
        with engine.connect() as conn:
            ps = conn.execute(select(parents)).all()
            grouped: dict[int, list] = {}  # type: ignore[type-arg]
            for c in conn.execute(
                select(children).where(children.c.parent_id.in_([p.id for p in ps]))
                .order_by(children.c.id)
            ):
                grouped.setdefault(c.parent_id, []).append(c)
            assert sum(len(grouped.get(p.id, ())) for p in ps) == total

    def core_join() -> None:
        with engine.connect() as conn:
            grouped: dict[int, list] = {}  # type: ignore[type-arg]
            stmt = select(parents, children).outerjoin(
                children, children.c.parent_id == parents.c.id
            ).order_by(children.c.id)
            for row in conn.execute(stmt):
                grouped.setdefault(row[0], []).append(row[2:])
            assert sum(len(v) for v in grouped.values()) == total

    def orm_selectin() -> None:
        with OrmSession(engine) as s:
            check(s.scalars(select(OrmParent).options(
                orm_selectinload(OrmParent.children))).all())

    def orm_joined() -> None:
        with OrmSession(engine) as s:
            check(s.scalars(select(OrmParent).options(
                orm_joinedload(OrmParent.children))).unique().all())

    cases = [
        Case("session_ext selectinload (2 SELECTs)", se_selectin),
        Case("session_ext joinedload (1 SELECT)", se_joined,
             peer="core: 1 join + group in Python"),
        Case("core: 2 selects + group in Python", core_two_selects),
        Case("core: 1 join + group in Python", core_join),
        Case("sqlalchemy ORM selectinload", orm_selectin),
        Case("sqlalchemy ORM joinedload", orm_joined),
    ]
    return Workload(
        f"{n_parents:,} parents x {per_parent} children, eager [{engine.dialect.name}]",
        total, cases, baseline="core: 2 selects + group in Python",
    )
