"""SQLAlchemy's "Contextual/Thread-local Sessions" page
(doc/build/orm/contextual.rst), as a program of our own text run on
``sqlalchemy.orm`` and on session_ext with only the import lines changed.

Sections covered, in page order: the registry (``scoped_session(factory)``
returning the same session until ``remove()``, which closes it), implicit
method access (``Session.add``, ``Session.scalars``, ``Session.commit``, the
proxied attributes), thread-local scope (another thread gets its own session,
``remove()`` only touches the calling thread's), the web-request flow
(session per request, committed and removed at its end), custom scopes
(``scopefunc=`` returning the current request) and the contextual session API
used with it (``registry.has()``, ``configure()``, keyword arguments on the
first call, ``query_property()``).
"""

from __future__ import annotations

from typing import Any

import pytest
from doc_programs import same_on_both

FUTURE = {False: "", True: "from __future__ import annotations\n"}

PROGRAM = '''
import threading

from sqlalchemy import String, exc, inspect, select
from sqlalchemy.orm import (DeclarativeBase, Mapped, Session as SessionClass, mapped_column,
                            scoped_session, sessionmaker)


class Base(DeclarativeBase):
    pass


class MyClass(Base):
    __tablename__ = "ctx_my_class"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))

    def __repr__(self) -> str:
        return f"MyClass(id={self.id!r}, name={self.name!r})"


def states(obj):
    i = inspect(obj)
    return [n for n in ("transient", "pending", "persistent", "deleted", "detached")
            if getattr(i, n)]


def registry_section(engine, seen):
    session_factory = sessionmaker(bind=engine)
    Session = scoped_session(session_factory)
    seen["has_before"] = Session.registry.has()
    some_session = Session()
    seen["is_session"] = isinstance(some_session, SessionClass)
    some_other_session = Session()
    seen["same_session"] = some_session is some_other_session
    obj = MyClass(name="before remove")
    some_session.add(obj)
    some_session.flush()
    seen["before_remove"] = (states(obj), some_session.in_transaction())
    Session.remove()
    seen["after_remove"] = (states(obj), some_session.in_transaction(),
                            Session.registry.has(), len(list(some_session)))
    new_session = Session()
    seen["new_is_old"] = new_session is some_session
    seen["rolled_back_count"] = len(new_session.scalars(select(MyClass)).all())
    Session.remove()
    return Session


def implicit_access(Session, seen):
    Session.add(MyClass(name="spongebob"))
    Session.add_all([MyClass(name="sandy"), MyClass(name="patrick")])
    seen["proxied_new"] = sorted(o.name for o in Session.new)
    Session.commit()
    seen["scalars"] = [repr(o) for o in Session.scalars(select(MyClass).order_by(MyClass.id))]
    sandy = Session.execute(select(MyClass).filter_by(name="sandy")).scalar_one()
    seen["get_same"] = Session.get(MyClass, sandy.id) is sandy
    sandy.name = "sandy cheeks"
    seen["proxied_dirty"] = ([o.name for o in Session.dirty], sandy in Session)
    Session.rollback()
    seen["rolled_back_name"] = sandy.name
    seen["proxied_bind"] = Session.bind is Session().bind
    Session.info["request_id"] = 7
    seen["proxied_info"] = Session().info.get("request_id")
    Session.remove()


def thread_local(Session, seen):
    main_session = Session()
    found = {}

    def worker():
        found["other"] = Session()
        found["same_in_thread"] = Session() is found["other"]
        Session.add(MyClass(name="from thread"))
        Session.commit()
        found["names"] = sorted(o.name for o in Session.scalars(select(MyClass)))
        Session.remove()
        found["removed_in_thread"] = Session.registry.has()

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    seen["thread_session_differs"] = found["other"] is not main_session
    seen["thread_same"] = found["same_in_thread"]
    seen["thread_names"] = found["names"]
    seen["thread_removed"] = found["removed_in_thread"]
    seen["main_kept"] = (Session.registry.has(), Session() is main_session)
    Session.remove()


def web_flow(engine, seen):
    Session = scoped_session(sessionmaker())
    Session.configure(bind=engine)
    log = []
    for request_no, name in enumerate(["squidward", "krabs"]):
        session = Session()
        existing = Session.execute(select(MyClass).order_by(MyClass.id)).scalars().all()
        Session.add(MyClass(name=name))
        Session.commit()
        log.append((request_no, len(existing), Session() is session))
        Session.remove()
    seen["web_log"] = log


class Request:
    def __init__(self, name):
        self.name = name


current = {"request": None}


def get_current_request():
    return current["request"]


def custom_scope(engine, seen):
    Session = scoped_session(sessionmaker(bind=engine), scopefunc=get_current_request)
    first, second = Request("first"), Request("second")
    current["request"] = first
    s1 = Session(autoflush=False)
    seen["kw_first_call"] = (s1.autoflush, Session() is s1)
    try:
        Session(autoflush=True)
    except exc.InvalidRequestError as err:
        seen["kw_again"] = type(err).__name__
    current["request"] = second
    s2 = Session()
    seen["per_request"] = (s2 is not s1, s2.autoflush)
    current["request"] = first
    seen["back_to_first"] = Session() is s1

    def on_request_end(req):
        current["request"] = req
        Session.remove()

    on_request_end(first)
    seen["first_removed"] = Session.registry.has()
    current["request"] = second
    seen["second_kept"] = (Session.registry.has(), Session() is s2)
    on_request_end(second)

    MyClass.query = Session.query_property()
    current["request"] = Request("third")
    seen["query_property"] = [o.name for o in MyClass.query.order_by(MyClass.id).all()]
    seen["query_property_filter"] = MyClass.query.filter_by(name="krabs").count()
    seen["query_property_session"] = MyClass.query.session is Session()
    Session.remove()
    del MyClass.query


def run(engine):
    seen = {}
    Session = registry_section(engine, seen)
    implicit_access(Session, seen)
    thread_local(Session, seen)
    web_flow(engine, seen)
    custom_scope(engine, seen)
    return seen
'''


@pytest.mark.parametrize("future", [False, True], ids=["evaluated", "string_annotations"])
def test_contextual_session_page_runs_the_same_on_both(engine: Any, future: bool) -> None:
    seen = same_on_both(FUTURE[future] + PROGRAM, engine, name="contextual_session")
    assert seen["same_session"] is True
    assert seen["after_remove"] == (["detached"], False, False, 0)
    assert seen["new_is_old"] is False
    assert seen["rolled_back_count"] == 0
    assert seen["scalars"][0].endswith("name='spongebob')")
    assert seen["rolled_back_name"] == "sandy"
    assert seen["thread_session_differs"] is True
    assert seen["main_kept"] == (True, True)
    assert seen["web_log"] == [(0, 4, True), (1, 5, True)]
    assert seen["per_request"] == (True, True)
    assert seen["first_removed"] is False
    assert seen["query_property"][-1] == "krabs"
