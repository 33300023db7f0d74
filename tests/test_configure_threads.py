"""Relationship configuration under threads: a web server's first requests
reach a registry's relationships at the same time; a thread arriving while
another configures waits for it instead of using half-built relationships."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, create_engine

from session_ext import Session, declarative_base, relationship
from session_ext.mapping.relationships.joins import JoinAnalysis


def test_a_thread_waits_for_relationships_another_thread_is_configuring(monkeypatch, tmp_path):
    Base = declarative_base()

    class Post(Base):
        __tablename__ = "post"
        id = Column(Integer, primary_key=True)
        comments = relationship("Comment", back_populates="post")

    class Comment(Base):
        __tablename__ = "comment"
        id = Column(Integer, primary_key=True)
        text = Column(String(20))
        post_id = Column(ForeignKey("post.id"))
        post = relationship("Post", back_populates="comments")

    engine = create_engine(f"sqlite:///{tmp_path / 'configure.sqlite3'}")
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(Post.__table__.insert(), [{"id": 1}])
        conn.execute(Comment.__table__.insert(), [{"id": 1, "text": "hi", "post_id": 1}])

    inside, release = threading.Event(), threading.Event()
    build = JoinAnalysis._build_lazy_clause

    def slow_build(self: Any) -> None:
        # the first relationship's configuration pauses half way (configured,
        # its lazy-load clause not built yet) until the test lets it go on
        if not inside.is_set():
            inside.set()
            assert release.wait(30)
        build(self)

    monkeypatch.setattr(JoinAnalysis, "_build_lazy_clause", slow_build)
    outcomes: dict[str, Any] = {}

    def configure() -> None:
        Base.registry.configure()

    def read() -> None:
        try:
            with Session(engine) as s:
                outcomes["read"] = [c.text for c in s.get(Post, 1).comments]
        except Exception as error:  # the failure to report
            outcomes["read"] = error

    first = threading.Thread(target=configure)
    first.start()
    assert inside.wait(30)
    second = threading.Thread(target=read)
    second.start()
    second.join(1)  # bounded: before the fix it finished (failing) at once
    release.set()
    first.join(30)
    second.join(30)
    assert outcomes["read"] == ["hi"]
