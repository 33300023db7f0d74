"""``merge()`` and relationship events compared with SQLAlchemy's ORM (issue 11).

The findings of the differential test (tests/differential/FINDINGS.md) about
``merge()``, backrefs and collections, each as a small program run once with
``sqlalchemy.orm`` and once with ``session_ext`` (tables prefixed
``sa_``/``se_``); what a user can observe must agree.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from conformance import same_on_both
from sqlalchemy import Column, ForeignKey, Integer, String, Table, text

FLAVORS = ("sa", "se")


def _build(flavor: str) -> SimpleNamespace:
    if flavor == "sa":
        from sqlalchemy.orm import Session, declarative_base, relationship
    else:
        from session_ext import Session, declarative_base, relationship
    Base = declarative_base()
    p = f"{flavor}_m_"

    user_keywords = Table(
        p + "user_keywords",
        Base.metadata,
        Column("user_id", ForeignKey(p + "users.id"), primary_key=True),
        Column("keyword_word", ForeignKey(p + "keywords.word"), primary_key=True),
    )

    class User(Base):
        __tablename__ = p + "users"
        id = Column(Integer, primary_key=True)
        name = Column(String(30))
        addresses = relationship("Address", back_populates="user",
                                 cascade="all, delete-orphan", order_by="Address.id")
        notes = relationship("Note", backref="author", order_by="Note.id")
        keywords = relationship("Keyword", secondary=user_keywords, back_populates="users",
                                order_by="Keyword.word")

        def __repr__(self) -> str:
            return f"User({self.__dict__.get('id')})"

    class Address(Base):
        __tablename__ = p + "addresses"
        id = Column(Integer, primary_key=True)
        user_id = Column(ForeignKey(p + "users.id"))
        email = Column(String(30))
        user = relationship("User", back_populates="addresses")

        def __repr__(self) -> str:
            return f"Address({self.__dict__.get('id')})"

    class Note(Base):
        __tablename__ = p + "notes"
        id = Column(Integer, primary_key=True)
        user_id = Column(ForeignKey(p + "users.id"))
        text = Column(String(30))

        def __repr__(self) -> str:
            return f"Note({self.__dict__.get('id')})"

    class Keyword(Base):
        __tablename__ = p + "keywords"
        word = Column(String(20), primary_key=True)
        users = relationship("User", secondary=user_keywords, back_populates="keywords",
                             order_by="User.id")

        def __repr__(self) -> str:
            return f"Keyword({self.__dict__.get('word')})"

    return SimpleNamespace(flavor=flavor, Base=Base, Session=Session, User=User,
                           Address=Address, Note=Note, Keyword=Keyword, prefix=p)


MODELS = {f: _build(f) for f in FLAVORS}




def rows(m: SimpleNamespace, engine: Any, table: str) -> list[tuple[Any, ...]]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text(f"SELECT * FROM {m.prefix}{table} ORDER BY 1"))]


def listed(objs: Any) -> list[str]:
    return sorted(repr(o) for o in objs)


# =========================================================== #11: merge() of a collection only read
def _merge_read_collection(m: SimpleNamespace, engine: Any) -> list[Any]:
    out: list[Any] = []
    with m.Session(engine) as s:
        s.add(m.User(id=1, name="ann", addresses=[m.Address(id=1, email="e1")]))
        s.commit()
    with m.Session(engine) as s:
        t = m.User(id=1, name="bob")
        out.append(list(t.addresses))
        out.append("addresses" in t.__dict__)  # reading stores nothing
        out.append(t.addresses is t.addresses)
        s.merge(t)
        s.commit()
    out.append(rows(m, engine, "addresses"))  # the address survives (delete-orphan)
    out.append(rows(m, engine, "users"))
    with m.Session(engine) as s:
        # the empty collection becomes the object's value with its first change
        t = m.User(id=2, name="cy")
        coll = t.addresses
        coll.append(m.Address(id=2, email="e2"))
        out.append(("addresses" in t.__dict__, t.addresses is coll, len(t.addresses)))
        # a backref append lands in the collection already handed out
        k = m.Keyword(word="k")
        users = k.users
        t.keywords.append(k)
        out.append((users is k.users, listed(users)))
        s.add(t)
        s.commit()
    out.append(rows(m, engine, "addresses"))
    out.append(rows(m, engine, "user_keywords"))
    return out


def test_merge_leaves_a_collection_that_was_only_read(engine):
    """Before: reading ``t.addresses`` of a transient object stored [] in its
    ``__dict__``, and ``merge(t)`` copied that empty list onto the persistent
    user, deleting its address (delete-orphan): data loss."""
    out = same_on_both(MODELS, engine, _merge_read_collection)
    assert out[:3] == [[], False, True]
    assert out[3] == [(1, 1, "e1")]
    assert out[4] == [(1, "bob")]
    assert out[5] == (True, True, 1)
    assert out[-1] == [(2, "k")]


def _state(m: SimpleNamespace, obj: Any) -> str:
    if m.flavor == "sa":
        from sqlalchemy import inspect
    else:
        from session_ext import inspect
    insp = inspect(obj)
    return next(s for s in ("transient", "pending", "persistent", "deleted", "detached")
                if getattr(insp, s))


# =========================================================== #6: merge() of a pending object
def _merge_pending(m: SimpleNamespace, engine: Any) -> list[Any]:
    import warnings

    out: list[Any] = []
    with m.Session(engine, autoflush=False) as s:
        a = m.Address(email="e1")
        s.add(a)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            copy = s.merge(a)
        out.append([("already pending" in str(w.message)) for w in caught])
        out.append((copy is a, _state(m, copy), len(s.new)))
        s.commit()
    out.append(rows(m, engine, "addresses"))
    return out


def test_merge_of_a_pending_object_makes_a_pending_copy(engine):
    """Before: merge() returned the pending object itself (one INSERT);
    SQLAlchemy warns and merges it onto a new pending object (two INSERTs)."""
    out = same_on_both(MODELS, engine, _merge_pending)
    assert out[0] == [True]
    assert out[1] == (False, "pending", 2)
    assert out[2] == [(1, None, "e1"), (2, None, "e1")]


# =========================================================== #7, #12, #18, #2: what merge() sets
def _merge_sets(m: SimpleNamespace, engine: Any) -> list[Any]:
    out: list[Any] = []
    with m.Session(engine) as s:
        u = m.User(id=1, name="ann")
        s.add_all([u, m.Note(id=1, text="t", author=u), m.Address(id=1, email="e1")])
        s.commit()
    with m.Session(engine) as s:
        # #7: every attribute is set, even to its own value: the object is dirty
        u = s.get(m.User, 1)
        assert u.name == "ann"
        s.expunge(u)
        merged = s.merge(u)
        out.append((listed(s.dirty), s.is_modified(merged)))
        s.rollback()
        # #18: a many-to-one merged as None: set (and stored) on the session's object
        # whose backref (the user's unloaded notes) counts as a change of the user
        n = s.get(m.Note, 1)
        assert n.author.name == "ann"
        s.expunge(n)
        n.author = None
        merged = s.merge(n)
        out.append((listed(s.dirty), merged.__dict__.get("author", "unloaded")))
        s.commit()
    out.append(rows(m, engine, "notes"))
    with m.Session(engine) as s:
        # #12: load=False of the session's own object: its changes are dropped
        a = s.get(m.Address, 1)
        a.email = "e2"
        assert s.merge(a, load=False) is a
        out.append((listed(s.dirty), s.is_modified(a)))
        s.commit()
    out.append(rows(m, engine, "addresses"))
    with m.Session(engine) as s:
        # #2: merge() autoflushes before it loads
        pending = m.Note(id=2, text="p")
        s.add(pending)
        s.merge(m.User(id=1, name="ann"))
        out.append(_state(m, pending))
    return out


def test_merge_sets_attributes_as_sqlalchemy_does(engine):
    """Before: merge() set only the values that differed (``session.dirty``
    stayed empty), did not store a many-to-one merged as None, kept the unflushed
    changes of the session's own object with load=False, and did not autoflush."""
    out = same_on_both(MODELS, engine, _merge_sets)
    assert out[0] == (["User(1)"], False)
    assert out[1] == (["Note(1)", "User(1)"], None)
    assert out[2] == [(1, None, "t")]
    assert out[3] == ([], False)
    assert out[4] == [(1, None, "e1")]
    assert out[5] == "persistent"


# =========================================================== merge() and the transaction
def _merge_begins(m: SimpleNamespace, engine: Any) -> list[Any]:
    out: list[Any] = []
    with m.Session(engine) as s:
        s.add(m.User(id=1, name="ann"))
        s.commit()
    with m.Session(engine) as s:
        u = s.get(m.User, 1)
        s.expunge(u)
        first = s.merge(u, load=False)  # attached: begins
        out.append(s.in_transaction())
        s.rollback()
        again = s.merge(u, load=False)  # onto the object in the identity map: no SQL, no begin
        out.append((again is first, s.in_transaction()))
        s.rollback()
        s.merge(first)  # the session's own object
        s.merge(first, load=False)
        out.append(s.in_transaction())
        s.merge(m.User(name="new"))  # a new pending object: begins
        out.append(s.in_transaction())
    return out


def test_merge_begins_a_transaction_only_when_it_attaches_or_loads(engine):
    """Before: every merge() began a transaction, also one that only stamped
    values onto an object of the identity map (load=False) or merged the
    session's own object."""
    assert same_on_both(MODELS, engine, _merge_begins) == [True, (True, False), False, True]


# =========================================================== #14, #20, #21: relationship events
def _relationship_events(m: SimpleNamespace, engine: Any) -> list[Any]:
    out: list[Any] = []
    with m.Session(engine) as s:
        s.add_all([m.Keyword(word="a"), m.User(id=1, name="ann"), m.Address(id=1, email="e")])
        s.commit()
        # #14: remove() of a non-member runs the backref before the ValueError
        k, u = s.get(m.Keyword, "a"), s.get(m.User, 1)
        try:
            k.users.remove(u)
        except ValueError:
            out.append("ValueError")
        out.append(listed(s.dirty))
        s.rollback()
        # #21: setting None on an unloaded many-to-one is a set all the same
        a = s.get(m.Address, 1, populate_existing=True)
        a.user = None
        out.append((listed(s.dirty), "user" in a.__dict__))
        s.rollback()
        # pop() of an empty collection: modified, IndexError
        try:
            u.notes.pop()
        except IndexError:
            out.append("IndexError")
        out.append(listed(s.dirty))
        s.rollback()
    # #20: appending twice appends twice on the backref side too; removing once
    # leaves both sides with one
    k, u = m.Keyword(word="b"), m.User(name="bob")
    u.keywords.append(k)
    u.keywords.append(k)
    out.append((len(k.users), len(u.keywords)))
    u.keywords.remove(k)
    out.append((len(k.users), len(u.keywords)))
    # a collection read on a transient object and popped empty stays unloaded
    t = m.User(name="cy")
    try:
        t.notes.pop()
    except IndexError:
        out.append("IndexError")
    out.append("notes" in t.__dict__)
    return out


def test_relationship_events_match_sqlalchemy(engine):
    """Before: remove() of a non-member raised before the backref ran, ``a.user =
    None`` on an unloaded many-to-one was ignored, a backref append skipped an
    object already in the collection (then one remove() emptied it on that side
    only), and pop() of an empty collection read on a transient object stored it."""
    out = same_on_both(MODELS, engine, _relationship_events)
    assert out[:2] == ["ValueError", ["Keyword(a)", "User(1)"]]
    assert out[2] == (["Address(1)"], True)
    assert out[3:5] == ["IndexError", ["User(1)"]]
    assert out[5:] == [(2, 2), (1, 1), "IndexError", False]


def _backref_remove_of_non_member(m: SimpleNamespace, engine: Any) -> list[Any]:
    out: list[Any] = []
    with m.Session(engine) as s:
        s.add_all([m.Keyword(word="a"), m.User(id=1, name="ann")])
        s.commit()
        k, u = s.get(m.Keyword, "a"), s.get(m.User, 1)
        _ = k.users, u.keywords  # both loaded, neither lists the other
        try:
            k.users.remove(u)
        except ValueError:
            out.append("ValueError")
        out.append(listed(s.dirty))
        s.rollback()
        # the other side transient, its collection never read
        t = m.User(name="cy")
        try:
            k.users.remove(t)
        except ValueError:
            out.append("ValueError")
        out.append(t.__dict__.get("keywords", "not loaded"))
        merged = s.merge(t)
        out.append(merged.__dict__.get("keywords", "not loaded"))
        s.rollback()
    return out


def test_backref_remove_of_a_non_member_changes_the_other_side(engine):
    """Before: the backref of a remove() of a non-member left the other side
    alone when its collection was loaded (not in session.dirty) or never read on
    a transient object (SQLAlchemy stores the empty collection, which merge()
    then copies)."""
    out = same_on_both(MODELS, engine, _backref_remove_of_non_member)
    assert out == ["ValueError", ["Keyword(a)", "User(1)"], "ValueError", [], []]


# =========================================================== #17: no cascade along backrefs
def _backref_cascade(m: SimpleNamespace, engine: Any) -> list[Any]:
    import warnings

    out: list[Any] = []
    with m.Session(engine) as s:
        s.add(m.Address(id=1, email="e1", user=m.User(id=1, name="ann")))
        s.commit()
    with m.Session(engine) as s:
        a = s.get(m.Address, 1)
        u2 = m.User(id=2, name="bob")
        u2.addresses.append(a)  # a.user = u2 through the backref
        out.append((u2 in s, a.user is u2))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            s.commit()
        out.append(any("not in session" in str(w.message).replace("not in the session",
                                                                  "not in session")
                       for w in caught))
    out.append(rows(m, engine, "users"))
    out.append(rows(m, engine, "addresses"))
    with m.Session(engine) as s:
        # set from the side in the session: cascaded as usual
        a = s.get(m.Address, 1)
        a.user = m.User(id=3, name="cy")
        s.commit()
    out.append(rows(m, engine, "addresses"))
    return out


def test_an_object_attached_through_a_backref_is_not_saved(engine):
    """Before: the flush cascaded into objects reached through a backref event
    (``u2`` was INSERTed and the address pointed at it); SQLAlchemy 2.x leaves
    ``u2`` out with a warning and writes nothing along that relationship."""
    out = same_on_both(MODELS, engine, _backref_cascade)
    assert out[0] == (False, True)
    assert out[1] is True
    assert out[2] == [(1, "ann")]
    assert out[3] == [(1, 1, "e1")]
    assert out[4] == [(1, 3, "e1")]


# =========================================================== collections: refused changes
def _refused_collection_changes(m: SimpleNamespace, engine: Any) -> list[Any]:
    out: list[Any] = []
    with m.Session(engine) as s:
        s.add_all([m.User(id=1, name="ann"), m.Keyword(word="k")])
        s.commit()
    with m.Session(engine) as s:
        u = s.get(m.User, 1)
        other = m.Session(engine)
        a = m.Address(email="e")
        other.add(a)  # pending in another session: the cascade refuses it
        try:
            u.addresses.append(a)
            out.append("appended")
        except Exception as err:  # noqa: BLE001
            out.append(type(err).__name__)
        out.append((list(u.addresses), a.__dict__.get("user"), listed(s.dirty)))
        other.close()
    with m.Session(engine) as s:
        k = s.get(m.Keyword, "k")
    # detached, collection never loaded: replacing it needs the old members
    try:
        k.users = []
        out.append("replaced")
    except Exception as err:  # noqa: BLE001
        out.append(type(err).__name__)
    out.append("users" in k.__dict__)
    return out


def test_refused_collection_changes_leave_objects_unchanged(engine):
    """An append the cascade refuses runs no backref and leaves the owner
    unmodified; replacing an unloaded collection of a detached object raises
    DetachedInstanceError (the removed members cannot be known)."""
    assert same_on_both(MODELS, engine, _refused_collection_changes) == [
        "InvalidRequestError", ([], None, []), "DetachedInstanceError", False,
    ]


def _orphaned_through_backref(m: SimpleNamespace, engine: Any) -> list[Any]:
    with m.Session(engine) as s:
        u = m.User(name="ann")
        a = m.Address(email="e")
        s.add(a)
        a.user = u  # u comes along (save-update), a joins u.addresses
        a.user = None  # the backref removes a from u.addresses: a pending orphan
        return [listed(s.new), a in s, list(u.addresses)]


def test_pending_orphan_made_through_a_backref_is_expunged(engine):
    assert same_on_both(MODELS, engine, _orphaned_through_backref) == [["User(None)"], False, []]
