"""Session constructor options not covered elsewhere: query_cls and info."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String

from session_ext import Query, Session, declarative_base

Base = declarative_base()


class Gadget(Base):
    __tablename__ = "opt_gadgets"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))


class NamedQuery(Query):
    def named(self, name: str) -> NamedQuery:
        return self.filter(Gadget.name == name)


def test_query_cls_is_used_by_session_query(engine):
    Base.metadata.create_all(engine)
    with Session(engine, query_cls=NamedQuery) as session:
        session.add_all([Gadget(name="a"), Gadget(name="b")])
        session.flush()
        query = session.query(Gadget)
        assert isinstance(query, NamedQuery)
        assert [g.name for g in query.named("b")] == ["b"]
    with Session(engine) as plain:
        assert type(plain.query(Gadget)) is Query


def test_info_is_a_private_copy():
    shared = {"tenant": "x"}
    one = Session(info=shared)
    two = Session(info=shared)
    one.info["tenant"] = "y"
    assert two.info["tenant"] == "x" and shared["tenant"] == "x"
    assert Session().info == {}
