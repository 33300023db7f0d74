"""``with_loader_criteria()``: criteria added to every occurrence of a class in a
statement (WHERE for a selected entity, ON for joins and joined eager loads,
UPDATE/DELETE WHERE) and to the later relationship loads of the objects it
loaded; each program runs on ``sqlalchemy.orm`` and on session_ext alike."""

from __future__ import annotations

from typing import Any

from doc_programs import same_on_both
from sqlalchemy import select

import session_ext
from session_ext.loader_criteria import options_of

PROGRAM = '''
from sqlalchemy import ForeignKey, select, update, delete, event
from sqlalchemy.orm import (DeclarativeBase, Mapped, mapped_column, relationship, Session,
                            with_loader_criteria, selectinload, joinedload, aliased)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    addresses: Mapped[list["Address"]] = relationship(back_populates="user", order_by="Address.id")


class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str]
    user: Mapped["User"] = relationship(back_populates="addresses")


def run(engine):
    out = {}
    with Session(engine) as s:
        s.add_all([User(id=1, name="a",
                        addresses=[Address(id=1, email="x"), Address(id=2, email="y")]),
                   User(id=2, name="b", addresses=[Address(id=3, email="x")]),
                   User(id=3, name="c")])
        s.commit()
    crit = with_loader_criteria(Address, Address.email != "x")
    with Session(engine) as s:
        out["where"] = len(s.scalars(select(Address).options(crit)).all())
        out["cols"] = s.scalars(select(Address.id).options(crit).order_by(Address.id)).all()
        out["join_rel"] = s.execute(select(User.name, Address.email).join(User.addresses)
                                    .options(crit).order_by(Address.id)).all()
        out["join_explicit"] = s.execute(
            select(User.name, Address.email).join(Address, User.id == Address.user_id)
            .options(crit).order_by(Address.id)).all()
        out["join_inferred"] = s.execute(select(User.name, Address.email).join(Address)
                                         .options(crit).order_by(Address.id)).all()
        out["outerjoin"] = s.execute(select(User.name, Address.email).outerjoin(User.addresses)
                                     .options(crit).order_by(User.id, Address.id)).all()
    with Session(engine) as s:
        users = s.scalars(select(User).options(crit).order_by(User.id)).all()
        out["lazy"] = [[a.email for a in u.addresses] for u in users]
    with Session(engine) as s:
        users = s.scalars(select(User).options(selectinload(User.addresses), crit)
                          .order_by(User.id)).all()
        out["selectin"] = [[a.email for a in u.addresses] for u in users]
    with Session(engine) as s:
        users = s.scalars(select(User).options(joinedload(User.addresses), crit)
                          .order_by(User.id)).unique().all()
        out["joined"] = [[a.email for a in u.addresses] for u in users]
    with Session(engine) as s:
        aa = aliased(Address)
        out["alias_no"] = len(s.scalars(select(aa).options(crit)).all())
        out["alias_yes"] = len(s.scalars(select(aa).options(
            with_loader_criteria(Address, Address.email != "x", include_aliases=True))).all())
        out["lambda"] = len(s.scalars(select(Address).options(
            with_loader_criteria(Address, lambda cls: cls.email == "x"))).all())
    with Session(engine) as s:
        r = s.execute(update(Address).values(email="z").options(crit))
        out["update"] = r.rowcount
        r = s.execute(delete(Address).options(with_loader_criteria(Address, Address.email == "z")))
        out["delete"] = r.rowcount
        s.rollback()
    with Session(engine) as s:
        seen = []
        @event.listens_for(s, "do_orm_execute")
        def hook(st):
            if not st.is_column_load:  # session_ext runs no column load through execute()
                seen.append((st.is_select, st.is_relationship_load))
            if st.is_select and not st.is_column_load and not st.is_relationship_load:
                st.statement = st.statement.options(
                    with_loader_criteria(Address, Address.email != "x"))
        users = s.scalars(select(User).order_by(User.id)).all()
        out["hook_lazy"] = [[a.email for a in u.addresses] for u in users]
        out["hook_seen"] = seen
        s.expire(users[0])
        out["hook_after_expire"] = [a.email for a in users[0].addresses]
    with Session(engine) as s:
        q = s.query(User.name, Address.email).join(User.addresses).options(crit)
        out["query"] = q.order_by(Address.id).all()
        out["query_entities"] = [a.id for a in s.query(Address).options(crit)]
        users = s.query(User).options(crit).order_by(User.id).all()
        out["query_lazy"] = [[a.email for a in u.addresses] for u in users]
    with Session(engine) as s:
        users = s.scalars(select(User).options(
            with_loader_criteria(Address, Address.email != "x", propagate_to_loaders=False))
            .order_by(User.id)).all()
        out["no_propagation"] = [[a.email for a in u.addresses] for u in users]
        users = s.scalars(select(User).options(
            with_loader_criteria(Address, Address.email != "x", loader_only=True))
            .order_by(User.id).execution_options(populate_existing=True)).all()
        out["loader_only_rows"] = len(s.scalars(select(Address).options(
            with_loader_criteria(Address, Address.email != "x", loader_only=True))).all())
    return out
'''


def test_loader_criteria_apply_everywhere_as_in_sqlalchemy(engine: Any) -> None:
    out = same_on_both(PROGRAM, engine, name="loader_criteria")
    # Address rows: 1 "x" (user a), 2 "y" (user a), 3 "x" (user b)
    assert out["where"] == 1 and out["cols"] == [2]
    assert out["join_rel"] == out["join_explicit"] == out["join_inferred"] == [("a", "y")]
    # in the ON clause of an outer join: users without a matching address stay
    assert out["outerjoin"] == [("a", "y"), ("b", None), ("c", None)]
    assert out["lazy"] == out["selectin"] == out["joined"] == [["y"], [], []]
    assert out["alias_no"] == 3 and out["alias_yes"] == 1
    assert out["lambda"] == 2
    assert out["update"] == 1 and out["delete"] == 1
    assert out["hook_lazy"] == [["y"], [], []]
    assert out["hook_after_expire"] == ["y"]
    # the listener's own SELECT, then three relationship loads (one after expiry)
    assert out["hook_seen"][0] == (True, False)
    assert all(rel for _sel, rel in out["hook_seen"][1:])
    assert out["query"] == [("a", "y")] and out["query_entities"] == [2]
    assert out["query_lazy"] == [["y"], [], []]
    assert out["no_propagation"] == [["x", "y"], ["x"], []]
    assert out["loader_only_rows"] == 1  # SQLAlchemy ignores loader_only


def test_statements_without_the_option_are_left_alone() -> None:
    class Base(session_ext.DeclarativeBase):
        pass

    class Thing(Base):
        __tablename__ = "thing"
        id = session_ext.mapped_column(primary_key=True)

    stmt = select(Thing)
    assert options_of(stmt) == ()
    opt = session_ext.with_loader_criteria(Thing, Thing.id > 1)
    assert options_of(stmt.options(opt)) == (opt,)
