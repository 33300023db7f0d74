"""relationship(): kinds, instrumented collections, backrefs, flush ordering
and cascades.

Every test that touches a database runs on all backends (``engine`` fixture);
SQLite engines enforce foreign keys, so rows written in the wrong order fail
loudly there as on PostgreSQL.  Database effects are checked through a fresh
Core connection after the session committed (the in-memory SQLite engine
shares one connection, and a file SQLite database would not show another
connection uncommitted rows).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Column, ForeignKey, Integer, String, Table, func, select, text, update
from sqlalchemy import inspect as sa_inspect

from session_ext import (
    DeclarativeBase,
    InstrumentedList,
    Session,
    backref,
    inspect,
    relationship,
)
from session_ext import exc as se_exc


class Base(DeclarativeBase):
    pass


# --------------------------------------------------------------------------- models
class User(Base):
    __tablename__ = "rel_users"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    # string targets: "Address"/"Profile" are declared further down
    addresses = relationship("Address", back_populates="user", order_by="Address.id")
    profile = relationship("Profile", back_populates="user", uselist=False)


class Address(Base):
    __tablename__ = "rel_addresses"
    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("rel_users.id"))
    email = Column(String(80))
    user = relationship("User", back_populates="addresses")


class Profile(Base):
    __tablename__ = "rel_profiles"
    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("rel_users.id"))
    bio = Column(String(80))
    user = relationship("User", back_populates="profile")


post_tags = Table(
    "rel_post_tags",
    Base.metadata,
    Column("post_id", ForeignKey("rel_posts.id"), primary_key=True),
    Column("tag_id", ForeignKey("rel_tags.id"), primary_key=True),
)


class Post(Base):
    __tablename__ = "rel_posts"
    id = Column(Integer, primary_key=True)
    title = Column(String(50))
    tags = relationship("Tag", secondary=post_tags, back_populates="posts", order_by="Tag.id")


class Tag(Base):
    __tablename__ = "rel_tags"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    posts = relationship("Post", secondary=post_tags, back_populates="tags", order_by="Post.id")


class Author(Base):
    __tablename__ = "rel_authors"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    books = relationship("Book", backref="author", order_by="Book.id")


class Book(Base):
    __tablename__ = "rel_books"
    id = Column(Integer, primary_key=True)
    author_id = Column(ForeignKey("rel_authors.id"))
    title = Column(String(50))


student_courses = Table(
    "rel_student_courses",
    Base.metadata,
    Column("student_id", ForeignKey("rel_students.id"), primary_key=True),
    Column("course_id", ForeignKey("rel_courses.id"), primary_key=True),
)


class Student(Base):
    __tablename__ = "rel_students"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    courses = relationship(
        "Course", secondary=student_courses, backref=backref("students"), order_by="Course.id"
    )


class Course(Base):
    __tablename__ = "rel_courses"
    id = Column(Integer, primary_key=True)
    title = Column(String(50))


class Node(Base):
    """Adjacency list, default cascade (removing a child nulls its parent_id)."""

    __tablename__ = "rel_nodes"
    id = Column(Integer, primary_key=True)
    parent_id = Column(ForeignKey("rel_nodes.id"))
    name = Column(String(50))
    children = relationship("Node", back_populates="parent", order_by="Node.id")
    parent = relationship("Node", back_populates="children", remote_side="Node.id")


class Category(Base):
    """Adjacency list owning its children (delete cascades down the tree);
    the many-to-one side comes from a backref."""

    __tablename__ = "rel_categories"
    id = Column(Integer, primary_key=True)
    parent_id = Column(ForeignKey("rel_categories.id"))
    name = Column(String(50))
    children = relationship(
        "Category", cascade="all, delete-orphan", backref="parent", order_by="Category.id"
    )


class Order(Base):
    __tablename__ = "rel_orders"
    id = Column(Integer, primary_key=True)
    label = Column(String(50))
    items = relationship(
        "OrderItem", back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )


class OrderItem(Base):
    __tablename__ = "rel_order_items"
    id = Column(Integer, primary_key=True)
    order_id = Column(ForeignKey("rel_orders.id"), nullable=False)
    name = Column(String(50))
    order = relationship("Order", back_populates="items")
    notes = relationship("ItemNote", cascade="all, delete-orphan", order_by="ItemNote.id")


class ItemNote(Base):
    __tablename__ = "rel_item_notes"
    id = Column(Integer, primary_key=True)
    item_id = Column(ForeignKey("rel_order_items.id"), nullable=False)
    text = Column(String(50))


class Folder(Base):
    __tablename__ = "rel_folders"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    files = relationship("File", cascade="all, delete-orphan", passive_deletes=True)


class File(Base):
    __tablename__ = "rel_files"
    id = Column(Integer, primary_key=True)
    folder_id = Column(ForeignKey("rel_folders.id", ondelete="CASCADE"), nullable=False)
    name = Column(String(50))


class Shelf(Base):
    """passive_deletes=True without a delete cascade: loaded books are unlinked."""

    __tablename__ = "rel_pd_shelves"
    id = Column(Integer, primary_key=True)
    books = relationship("ShelvedBook", passive_deletes=True, order_by="ShelvedBook.id")


class ShelvedBook(Base):
    __tablename__ = "rel_pd_books"
    id = Column(Integer, primary_key=True)
    shelf_id = Column(ForeignKey("rel_pd_shelves.id", ondelete="CASCADE"))
    title = Column(String(50))


# Two tables pointing at each other.  They are declared as Tables first and
# mapped with __table__, because declaring a class whose ForeignKey names a
# table that does not exist yet fails (see
# test_foreign_key_to_a_table_declared_later_is_accepted).
people = Table(
    "rel_people",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50)),
    Column("favorite_article_id", Integer, ForeignKey("rel_articles.id")),
)
articles = Table(
    "rel_articles",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(50)),
    Column("author_id", Integer, ForeignKey("rel_people.id")),
)


class Person(Base):
    __table__ = people
    favorite_article = relationship(
        "Article", foreign_keys="Person.favorite_article_id", post_update=True
    )


class Article(Base):
    __table__ = articles
    author = relationship("Person", foreign_keys="Article.author_id")


class Link(Base):
    """Self-referential "next" pointer; cycles are broken with post_update."""

    __tablename__ = "rel_links"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    next_id = Column(ForeignKey("rel_links.id"))
    next = relationship("Link", remote_side="Link.id", post_update=True)


class CycleLink(Base):
    """Same shape as Link, without post_update."""

    __tablename__ = "rel_cycle_links"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    next_id = Column(ForeignKey("rel_cycle_links.id"))
    next = relationship("CycleLink", remote_side="CycleLink.id")


class Writer(Base):
    """Custom primaryjoin (viewonly) next to the plain collection."""

    __tablename__ = "rel_writers"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    drafts = relationship("Draft", order_by="Draft.id")
    long_drafts = relationship(
        "Draft",
        primaryjoin="and_(Writer.id == Draft.writer_id, Draft.words > 1000)",
        viewonly=True,
        order_by="Draft.id",
    )


class Draft(Base):
    __tablename__ = "rel_drafts"
    id = Column(Integer, primary_key=True)
    writer_id = Column(ForeignKey("rel_writers.id"))
    words = Column(Integer)


follows = Table(
    "rel_follows",
    Base.metadata,
    Column("follower_id", ForeignKey("rel_members.id"), primary_key=True),
    Column("followed_id", ForeignKey("rel_members.id"), primary_key=True),
)


class Member(Base):
    """Self-referential many-to-many: primaryjoin/secondaryjoin tell the two
    foreign keys of the association table apart."""

    __tablename__ = "rel_members"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    following = relationship(
        "Member",
        secondary=follows,
        primaryjoin="Member.id == rel_follows.c.follower_id",
        secondaryjoin="Member.id == rel_follows.c.followed_id",
        backref="followers",
        order_by="Member.id",
    )


users = User.__table__
addresses = Address.__table__
profiles = Profile.__table__
posts = Post.__table__
tags = Tag.__table__
nodes = Node.__table__
categories = Category.__table__
orders = Order.__table__
order_items = OrderItem.__table__
item_notes = ItemNote.__table__
folders = Folder.__table__
files = File.__table__
links = Link.__table__
books = Book.__table__


# --------------------------------------------------------------------------- helpers
@pytest.fixture
def db(engine):
    Base.metadata.create_all(engine)
    # On PostgreSQL, create_all() adds the foreign keys of the rel_people <->
    # rel_articles cycle with ALTER TABLE, and SQLAlchemy marks those constraint
    # objects "not inline" for good; a later SQLite create_all() would then
    # silently leave them out.  Undo the mark so every backend gets every FK.
    for table in Base.metadata.tables.values():
        for fkc in table.foreign_key_constraints:
            fkc._create_rule = None
    return engine


def fetch(engine, stmt):
    """Rows of ``stmt`` through a fresh Core connection."""
    with engine.connect() as conn:
        return conn.execute(stmt).all()


def address_owners(engine) -> dict[str, int | None]:
    """email -> user_id of every address row."""
    return {r.email: r.user_id for r in fetch(engine, select(addresses))}


def tag_pairs(engine) -> set[tuple[str, str]]:
    """(post title, tag name) of every association row."""
    stmt = (
        select(posts.c.title, tags.c.name)
        .select_from(post_tags)
        .join(posts, posts.c.id == post_tags.c.post_id)
        .join(tags, tags.c.id == post_tags.c.tag_id)
    )
    return {tuple(r) for r in fetch(engine, stmt)}


def table_count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def dml(log, verb: str, table: str) -> list[int]:
    """Positions of the INSERT/UPDATE/DELETE statements on ``table`` in a StatementLog."""
    out = []
    for i, stmt in enumerate(log.statements):
        words = stmt.split()
        upper = [w.upper() for w in words]
        if not upper or upper[0] != verb:
            continue
        target = words[2] if verb in ("INSERT", "DELETE") else words[1]
        if target.strip('"') == table:
            out.append(i)
    return out


@pytest.fixture
def seeded_user(db):
    """User "ann" with addresses a1, a2, a3 (committed); returns (engine, user id)."""
    with Session(db) as s:
        u = User(name="ann", addresses=[Address(email=f"a{i}") for i in (1, 2, 3)])
        s.add(u)
        s.commit()
        return db, u.id


# =========================================================================== configuration
def test_string_targets_resolve_to_classes_declared_later():
    u = User(addresses=[Address()], profile=Profile())  # first use configures the registry
    assert User.addresses.mapper.class_ is Address
    assert User.profile.target_class is Profile
    with pytest.raises(TypeError, match="Address"):
        u.addresses.append(Profile())  # the resolved target is enforced


def test_relationship_directions_and_uselist():
    User()  # first instance configures the registry
    assert (User.addresses.direction, User.addresses.uselist) == ("one-to-many", True)
    assert (Address.user.direction, Address.user.uselist) == ("many-to-one", False)
    assert (User.profile.direction, User.profile.uselist) == ("one-to-many", False)
    assert (Post.tags.direction, Tag.posts.direction) == ("many-to-many", "many-to-many")
    assert (Node.children.direction, Node.parent.direction) == ("one-to-many", "many-to-one")
    assert (Category.children.direction, Category.parent.direction) == (
        "one-to-many",
        "many-to-one",
    )


def test_invalid_cascade_string_raises_argument_error():
    with pytest.raises(se_exc.ArgumentError, match="bogus"):
        relationship("Address", cascade="save-update, bogus")


def test_invalid_lazy_strategy_raises_argument_error():
    with pytest.raises(se_exc.ArgumentError, match="sometimes"):
        relationship("Address", lazy="sometimes")


def test_backref_and_back_populates_together_raise():
    with pytest.raises(se_exc.ArgumentError, match="backref"):
        relationship("Address", backref="x", back_populates="y")


def test_unknown_string_target_raises_on_configure():
    class LocalBase(DeclarativeBase):
        pass

    class Lonely(LocalBase):
        __tablename__ = "rel_lonely"
        id = Column(Integer, primary_key=True)
        friends = relationship("NoSuchClass")

    with pytest.raises(se_exc.InvalidRequestError, match="NoSuchClass"):
        Lonely()


def test_back_populates_naming_missing_attribute_raises():
    class LocalBase(DeclarativeBase):
        pass

    class Parent(LocalBase):
        __tablename__ = "rel_bp_parent"
        id = Column(Integer, primary_key=True)
        kids = relationship("Kid", back_populates="nope")

    class Kid(LocalBase):
        __tablename__ = "rel_bp_kid"
        id = Column(Integer, primary_key=True)
        parent_id = Column(ForeignKey("rel_bp_parent.id"))

    with pytest.raises(se_exc.ArgumentError, match="nope"):
        Parent()


def test_ambiguous_foreign_keys_need_foreign_keys_argument():
    class LocalBase(DeclarativeBase):
        pass

    class Account(LocalBase):
        __tablename__ = "rel_amb_accounts"
        id = Column(Integer, primary_key=True)

    class Transfer(LocalBase):
        __tablename__ = "rel_amb_transfers"
        id = Column(Integer, primary_key=True)
        src_id = Column(ForeignKey("rel_amb_accounts.id"))
        dst_id = Column(ForeignKey("rel_amb_accounts.id"))
        src = relationship("Account")

    with pytest.raises(se_exc.ArgumentError, match="foreign_keys"):
        Transfer()


def test_foreign_key_to_a_table_declared_later_is_accepted():
    """SQLAlchemy resolves ForeignKey("table.col") lazily: a model may point at
    a table that is declared after it (needed for any two-table cycle)."""

    class LocalBase(DeclarativeBase):
        pass

    class Hen(LocalBase):
        __tablename__ = "rel_fwd_hens"
        id = Column(Integer, primary_key=True)
        egg_id = Column(ForeignKey("rel_fwd_eggs.id"))
        egg = relationship("Egg", foreign_keys="Hen.egg_id")

    class Egg(LocalBase):
        __tablename__ = "rel_fwd_eggs"
        id = Column(Integer, primary_key=True)

    hen = Hen(egg=Egg())
    assert Hen.egg.direction == "many-to-one"
    assert isinstance(hen.egg, Egg)


# =========================================================================== collections
def test_collections_are_instrumented_lists_on_new_and_loaded_objects(seeded_user):
    engine, uid = seeded_user
    u = User()
    assert isinstance(u.addresses, InstrumentedList) and u.addresses == []
    assert User().profile is None
    with Session(engine) as s:
        loaded = s.get(User, uid)
        assert isinstance(loaded.addresses, InstrumentedList)
        assert [a.email for a in loaded.addresses] == ["a1", "a2", "a3"]


def test_assigning_a_non_list_to_a_collection_raises_type_error():
    with pytest.raises(TypeError, match="collection"):
        User().addresses = Address()


def _op_append(u, a, new):
    u.addresses.append(new[0])


def _op_remove(u, a, new):
    u.addresses.remove(a[1])


def _op_extend(u, a, new):
    u.addresses.extend(new)


def _op_iadd(u, a, new):
    u.addresses += new


def _op_insert(u, a, new):
    u.addresses.insert(0, new[0])


def _op_pop_last(u, a, new):
    assert u.addresses.pop() is a[2]


def _op_pop_first(u, a, new):
    assert u.addresses.pop(0) is a[0]


def _op_slice_assign(u, a, new):
    u.addresses[0:2] = [new[0]]


def _op_index_assign(u, a, new):
    u.addresses[1] = new[0]


def _op_del_item(u, a, new):
    del u.addresses[0]


def _op_del_slice(u, a, new):
    del u.addresses[1:]


def _op_clear(u, a, new):
    u.addresses.clear()


def _op_reassign(u, a, new):
    u.addresses = [a[2], new[0]]


def _op_reassign_empty(u, a, new):
    u.addresses = []


# (operation, emails owned by ann afterwards, emails left with no owner)
COLLECTION_OPS = {
    "append": (_op_append, {"a1", "a2", "a3", "n1"}, {"n2"}),
    "extend": (_op_extend, {"a1", "a2", "a3", "n1", "n2"}, set()),
    "iadd": (_op_iadd, {"a1", "a2", "a3", "n1", "n2"}, set()),
    "insert": (_op_insert, {"a1", "a2", "a3", "n1"}, {"n2"}),
    "remove": (_op_remove, {"a1", "a3"}, {"a2", "n2"}),
    "pop_last": (_op_pop_last, {"a1", "a2"}, {"a3", "n2"}),
    "pop_first": (_op_pop_first, {"a2", "a3"}, {"a1", "n2"}),
    "slice_assign": (_op_slice_assign, {"a3", "n1"}, {"a1", "a2", "n2"}),
    "index_assign": (_op_index_assign, {"a1", "a3", "n1"}, {"a2", "n2"}),
    "del_item": (_op_del_item, {"a2", "a3"}, {"a1", "n2"}),
    "del_slice": (_op_del_slice, {"a1"}, {"a2", "a3", "n2"}),
    "clear": (_op_clear, set(), {"a1", "a2", "a3", "n2"}),
    "reassign": (_op_reassign, {"a3", "n1"}, {"a1", "a2", "n2"}),
    "reassign_empty": (_op_reassign_empty, set(), {"a1", "a2", "a3", "n2"}),
}


@pytest.mark.parametrize("op_name", sorted(COLLECTION_OPS))
def test_one_to_many_collection_operation_flushes(seeded_user, op_name):
    op, owned, orphans = COLLECTION_OPS[op_name]
    engine, uid = seeded_user
    with Session(engine) as s:
        u = s.get(User, uid)
        a = list(u.addresses)
        new = [Address(email="n1"), Address(email="n2")]
        s.add(new[1])  # stays without an owner unless the operation adopts it
        op(u, a, new)
        assert {x.email for x in u.addresses} == owned
        s.commit()
    db_owners = address_owners(engine)
    assert {e for e, owner in db_owners.items() if owner == uid} == owned
    assert {e for e, owner in db_owners.items() if owner is None} == orphans


@pytest.mark.parametrize("op_name", sorted(COLLECTION_OPS))
def test_one_to_many_collection_operation_updates_many_to_one_in_python(op_name):
    """back_populates: the many-to-one side follows every collection change in
    Python, before any flush (objects built in Python, both sides set)."""
    op, owned, _orphans = COLLECTION_OPS[op_name]
    a = [Address(email=f"a{i}") for i in (1, 2, 3)]
    u = User(name="ann", addresses=a)
    assert all(x.user is u for x in a)
    new = [Address(email="n1"), Address(email="n2")]
    op(u, list(a), new)
    assert {x.email for x in u.addresses} == owned
    for x in a + new:
        assert (x.user is u) == (x.email in owned), x.email


def test_removing_a_loaded_child_sets_its_many_to_one_to_none_before_flush(seeded_user):
    """``u.addresses.remove(a)`` sets ``a.user`` to None in Python, also when the
    objects were loaded from the database (a.user not accessed before)."""
    engine, uid = seeded_user
    with Session(engine, autoflush=False) as s:
        u = s.get(User, uid)
        a1, a2, a3 = u.addresses
        u.addresses.remove(a2)
        assert a2.user is None
        u.addresses.pop(0)
        assert a1.user is None
        assert a3.user is u


def test_appending_a_child_of_another_parent_moves_it(db):
    with Session(db) as s:
        ann = User(name="ann", addresses=[Address(email="x")])
        bob = User(name="bob")
        s.add_all([ann, bob])
        s.commit()
        x = ann.addresses[0]
        bob.addresses.append(x)
        assert x.user is bob
        s.commit()
        bob_id = bob.id
        assert [a.email for a in bob.addresses] == ["x"]
        assert ann.addresses == []
    assert address_owners(db) == {"x": bob_id}


def test_moving_a_loaded_child_updates_the_old_parents_loaded_collection(db):
    """Appending x to bob's collection (or setting x.user = bob) removes x from
    ann's loaded collection in Python, before any flush, also when x.user was
    never accessed (SQLAlchemy finds the old parent in the identity map)."""
    with Session(db) as s:
        ann = User(name="ann", addresses=[Address(email="x"), Address(email="y")])
        bob = User(name="bob")
        s.add_all([ann, bob])
        s.commit()
        x, y = ann.addresses
        bob.addresses.append(x)
        assert x not in ann.addresses
        y.user = bob
        assert y not in ann.addresses
        assert bob.addresses == [x, y]


def test_collection_change_history(seeded_user):
    engine, uid = seeded_user
    with Session(engine) as s:
        u = s.get(User, uid)
        a1, a2, a3 = u.addresses
        u.addresses.remove(a2)
        n = Address(email="n")
        u.addresses.append(n)
        hist = inspect(u).attrs.addresses.history
        assert list(hist.added) == [n]
        assert list(hist.deleted) == [a2]
        assert list(hist.unchanged) == [a1, a3]
        assert u in s.dirty


def test_sort_and_reverse_do_not_change_ownership(seeded_user, count_statements):
    engine, uid = seeded_user
    with Session(engine) as s:
        u = s.get(User, uid)
        u.addresses.reverse()
        u.addresses.sort(key=lambda x: x.email)
        with count_statements(engine) as log:
            s.flush()
        assert not any(st.lstrip().upper().startswith("UPDATE") for st in log.statements)
        s.commit()
    assert set(address_owners(engine).values()) == {uid}


# --------------------------------------------------------------------------- many-to-many
@pytest.fixture
def seeded_post(db):
    """Post "p" tagged t1, t2, t3 and an untagged tag t4; returns (engine, post id)."""
    with Session(db) as s:
        p = Post(title="p", tags=[Tag(name=f"t{i}") for i in (1, 2, 3)])
        s.add_all([p, Tag(name="t4")])
        s.commit()
        return db, p.id


M2M_OPS = {
    "append": (lambda p, t, t4, n: p.tags.append(t4), {"t1", "t2", "t3", "t4"}),
    "append_new": (lambda p, t, t4, n: p.tags.append(n), {"t1", "t2", "t3", "tn"}),
    "remove": (lambda p, t, t4, n: p.tags.remove(t[0]), {"t2", "t3"}),
    "extend": (lambda p, t, t4, n: p.tags.extend([t4, n]), {"t1", "t2", "t3", "t4", "tn"}),
    "insert": (lambda p, t, t4, n: p.tags.insert(1, t4), {"t1", "t2", "t3", "t4"}),
    "pop": (lambda p, t, t4, n: p.tags.pop(), {"t1", "t2"}),
    "slice": (lambda p, t, t4, n: p.tags.__setitem__(slice(0, 2), [t4]), {"t3", "t4"}),
    "del": (lambda p, t, t4, n: p.tags.__delitem__(1), {"t1", "t3"}),
    "clear": (lambda p, t, t4, n: p.tags.clear(), set()),
    "reassign": (lambda p, t, t4, n: setattr(p, "tags", [t[1], n]), {"t2", "tn"}),
}


@pytest.mark.parametrize("op_name", sorted(M2M_OPS))
def test_many_to_many_collection_operation_flushes(seeded_post, op_name):
    op, expected = M2M_OPS[op_name]
    engine, pid = seeded_post
    with Session(engine) as s:
        p = s.get(Post, pid)
        t = list(p.tags)
        t4 = s.scalars(select(Tag).where(Tag.name == "t4")).one()
        n = Tag(name="tn")
        op(p, t, t4, n)
        assert {x.name for x in p.tags} == expected
        # the other side follows in Python (loaded collections)
        for tag in [*t, t4, n]:
            assert (p in tag.posts) == (tag.name in expected), tag.name
        s.commit()
    assert tag_pairs(engine) == {("p", name) for name in expected}
    new_tag_kept = op_name in ("append_new", "extend", "reassign")
    assert table_count(engine, tags) == (5 if new_tag_kept else 4)


def test_many_to_many_change_seen_from_both_sides_writes_one_row(db):
    with Session(db) as s:
        p = Post(title="p")
        t = Tag(name="t")
        p.tags.append(t)  # back_populates puts p in t.posts too: both sides changed
        assert t.posts == [p]
        s.add(p)
        assert t in s
        s.commit()
    assert tag_pairs(db) == {("p", "t")}


def test_many_to_many_append_to_persistent_objects_from_other_side(db):
    with Session(db) as s:
        p = Post(title="p")
        t = Tag(name="t")
        s.add_all([p, t])
        s.commit()
        t.posts.append(p)
        assert [x.name for x in p.tags] == ["t"]
        s.commit()
    assert tag_pairs(db) == {("p", "t")}


def test_many_to_many_new_objects_on_both_sides(db, count_statements):
    with Session(db) as s:
        p = Post(title="p", tags=[Tag(name="a"), Tag(name="b")])
        s.add(p)
        with count_statements(db) as log:
            s.flush()
        ins_posts = dml(log, "INSERT", "rel_posts")
        ins_tags = dml(log, "INSERT", "rel_tags")
        ins_assoc = dml(log, "INSERT", "rel_post_tags")
        assert ins_posts and ins_tags and ins_assoc
        assert max(ins_posts + ins_tags) < min(ins_assoc)
        s.commit()
    assert tag_pairs(db) == {("p", "a"), ("p", "b")}


def test_deleting_many_to_many_parent_deletes_association_rows_first(seeded_post, count_statements):
    engine, pid = seeded_post
    with Session(engine) as s:
        p = s.get(Post, pid)
        s.delete(p)
        with count_statements(engine) as log:
            s.flush()
        del_assoc = dml(log, "DELETE", "rel_post_tags")
        del_post = dml(log, "DELETE", "rel_posts")
        assert del_assoc and del_post and max(del_assoc) < min(del_post)
        s.commit()
    assert tag_pairs(engine) == set()
    assert table_count(engine, tags) == 4  # tags themselves are not deleted
    assert table_count(engine, posts) == 0


def test_deleting_many_to_many_child_side_deletes_its_association_rows(
    seeded_post, count_statements
):
    engine, pid = seeded_post
    with Session(engine) as s:
        t2 = s.scalars(select(Tag).where(Tag.name == "t2")).one()
        s.delete(t2)
        with count_statements(engine) as log:
            s.flush()
        del_assoc = dml(log, "DELETE", "rel_post_tags")
        del_tag = dml(log, "DELETE", "rel_tags")
        assert del_assoc and del_tag and max(del_assoc) < min(del_tag)
        s.commit()
    assert tag_pairs(engine) == {("p", "t1"), ("p", "t3")}


def test_many_to_many_backref_keeps_both_sides_in_sync(db):
    s1, s2 = Student(name="s1"), Student(name="s2")
    c = Course(title="c")
    s1.courses.append(c)
    s2.courses = [c]
    assert c.students == [s1, s2]
    c.students.remove(s1)
    assert s1.courses == []
    with Session(db) as s:
        s.add_all([s1, s2])
        s.commit()
        assert [x.name for x in c.students] == ["s2"]
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(student_courses)).scalar_one() == 1


def test_self_referential_many_to_many_with_secondaryjoin(db):
    with Session(db) as s:
        a, b, c = Member(name="a"), Member(name="b"), Member(name="c")
        a.following = [b, c]
        b.following.append(c)
        assert b.followers == [a]  # backref with the joins swapped
        assert c.followers == [a, b]
        s.add(a)
        s.commit()
        ids = {m.name: m.id for m in (a, b, c)}
    with db.connect() as conn:
        rows = {tuple(r) for r in conn.execute(select(follows))}
    assert rows == {(ids["a"], ids["b"]), (ids["a"], ids["c"]), (ids["b"], ids["c"])}
    with Session(db) as s:
        a, b, c = (s.get(Member, ids[n]) for n in "abc")
        assert [m.name for m in a.following] == ["b", "c"]
        assert [m.name for m in c.followers] == ["a", "b"]
        assert a.followers == [] and c.following == []
        c.followers.remove(a)
        s.commit()
    with db.connect() as conn:
        rows = {tuple(r) for r in conn.execute(select(follows))}
    assert rows == {(ids["a"], ids["b"]), (ids["b"], ids["c"])}


def test_primaryjoin_viewonly_relationship_loads_filtered_rows(db):
    with Session(db) as s:
        w = Writer(name="w", drafts=[Draft(words=10), Draft(words=5000), Draft(words=2000)])
        s.add(w)
        s.commit()
        assert [d.words for d in w.long_drafts] == [5000, 2000]
        assert [d.words for d in w.drafts] == [10, 5000, 2000]


def test_viewonly_relationship_changes_are_not_flushed(db, count_statements):
    with Session(db) as s:
        w = Writer(name="w", drafts=[Draft(words=5000)])
        s.add(w)
        s.commit()
        stray = Draft(words=9000)
        w.long_drafts.append(stray)
        assert stray not in s  # no save-update cascade along a viewonly relationship
        kept = w.long_drafts[0]
        w.long_drafts.remove(kept)
        with count_statements(db) as log:
            s.commit()
        assert dml(log, "UPDATE", "rel_drafts") == [] and dml(log, "INSERT", "rel_drafts") == []
    assert [(r.words, r.writer_id is not None) for r in fetch(db, select(Draft.__table__))] == [
        (5000, True)
    ]


# =========================================================================== backrefs
def test_many_to_one_assignment_adds_to_collection_before_flush():
    u = User(name="u")
    a = Address(email="a")
    a.user = u
    assert u.addresses == [a]
    u2 = User(name="u2")
    a.user = u2
    assert u.addresses == [] and u2.addresses == [a]
    a.user = None
    assert u2.addresses == []


def test_collection_remove_sets_many_to_one_to_none():
    u = User(name="u")
    a = Address(email="a")
    u.addresses.append(a)
    assert a.user is u
    u.addresses.remove(a)
    assert a.user is None


def test_constructor_keywords_fire_backrefs():
    u = User(name="u")
    a = Address(email="a", user=u)
    assert u.addresses == [a]
    u3 = User(addresses=[Address(email="b")])
    assert u3.addresses[0].user is u3


def test_backref_string_creates_the_other_side(db):
    author = Author(name="w")
    b = Book(title="t")
    author.books.append(b)
    assert b.author is author
    b2 = Book(title="t2", author=author)
    assert author.books == [b, b2]
    with Session(db) as s:
        s.add(author)
        s.commit()
        aid = author.id
    assert {r.title: r.author_id for r in fetch(db, select(books))} == {"t": aid, "t2": aid}


def test_backref_to_persistent_parent_with_unloaded_collection(seeded_user, count_statements):
    engine, uid = seeded_user
    with Session(engine) as s:
        u = s.get(User, uid)
        with count_statements(engine) as log:
            a = Address(email="late", user=u)
        assert log.count == 0  # the unloaded collection is not loaded by the backref
        s.add(a)
        assert [x.email for x in u.addresses] == ["a1", "a2", "a3", "late"]
        s.commit()
    assert address_owners(engine)["late"] == uid


def test_one_to_one_assignment_and_replacement(db):
    with Session(db, expire_on_commit=False) as s:
        u = User(name="u")
        p1 = Profile(bio="first")
        u.profile = p1
        assert p1.user is u
        s.add(u)
        s.commit()
        uid = u.id
        p2 = Profile(bio="second")
        u.profile = p2
        assert p1.user is None and p2.user is u
        s.commit()
    assert {r.bio: r.user_id for r in fetch(db, select(profiles))} == {
        "first": None,
        "second": uid,
    }


def test_one_to_one_setting_many_to_one_side_updates_scalar():
    u = User()
    p = Profile(user=u)
    assert u.profile is p
    p.user = None
    assert u.profile is None


def test_self_referential_backref_sync():
    root = Node(name="root")
    kid = Node(name="kid", parent=root)
    assert root.children == [kid]
    cat = Category(name="c")
    sub = Category(name="s")
    cat.children.append(sub)
    assert sub.parent is cat


# =========================================================================== flush ordering
def test_parent_inserted_before_children_and_key_copied(db, count_statements):
    with Session(db) as s:
        u = User(name="u", addresses=[Address(email="x"), Address(email="y")])
        s.add(u)
        with count_statements(db) as log:
            s.flush()
        assert u.id is not None
        assert [a.user_id for a in u.addresses] == [u.id, u.id]
        assert max(dml(log, "INSERT", "rel_users")) < min(dml(log, "INSERT", "rel_addresses"))
        s.commit()
        uid = u.id
    assert address_owners(db) == {"x": uid, "y": uid}


def test_adding_only_the_child_inserts_the_new_parent_first(db):
    with Session(db) as s:
        a = Address(email="x", user=User(name="new"))
        s.add(a)  # the pending parent follows through the many-to-one's save-update cascade
        s.commit()
        uid = a.user.id
        assert a.user_id == uid
    assert fetch(db, select(users.c.name).where(users.c.id == uid)) == [("new",)]
    assert address_owners(db) == {"x": uid}


def test_changing_many_to_one_updates_foreign_key(db):
    with Session(db) as s:
        a = Address(email="x", user=User(name="u1"))
        u2 = User(name="u2")
        s.add_all([a, u2])
        s.commit()
        a.user = u2  # a is expired after the commit: its old user was never loaded
        s.commit()
        u2_id = u2.id
    assert address_owners(db) == {"x": u2_id}


def test_setting_loaded_many_to_one_to_none_nulls_foreign_key(db):
    with Session(db, expire_on_commit=False) as s:
        a = Address(email="x", user=User(name="u1"))
        s.add(a)
        s.commit()
        a.user = None
        s.commit()
    assert address_owners(db) == {"x": None}


def test_setting_unloaded_many_to_one_to_none_nulls_foreign_key(db):
    """``a.user = None`` must clear the foreign key also when a.user was not loaded
    (here: expired by the commit), as in SQLAlchemy."""
    with Session(db) as s:
        a = Address(email="x", user=User(name="u1"))
        s.add(a)
        s.commit()
        a.user = None
        s.commit()
    assert address_owners(db) == {"x": None}


def test_self_referential_tree_of_depth_five_inserts_parents_first(db):
    def grow(parent, depth):
        if depth == 0:
            return
        for i in range(2):
            kid = Node(name=f"{parent.name}.{i}")
            parent.children.append(kid)
            grow(kid, depth - 1)

    root = Node(name="r")
    grow(root, 4)  # root + 4 levels below = depth 5, 31 nodes

    def walk(n):
        yield n
        for c in n.children:
            yield from walk(c)

    all_nodes = list(walk(root))
    assert len(all_nodes) == 31
    expected = {n.name: (n.parent.name if n.parent else None) for n in all_nodes}
    assert max(n.name.count(".") for n in all_nodes) == 4
    with Session(db) as s:
        s.add_all(list(reversed(all_nodes)))  # leaves first: order must come from the graph
        s.commit()
    rows = fetch(db, select(nodes))
    by_id = {r.id: r for r in rows}
    got = {r.name: (by_id[r.parent_id].name if r.parent_id else None) for r in rows}
    assert got == expected
    # every row's parent exists with a generated key
    assert all(r.parent_id is None or r.parent_id in by_id for r in rows)


def test_self_referential_child_added_to_persistent_tree(db):
    with Session(db) as s:
        root = Node(name="r", children=[Node(name="a")])
        s.add(root)
        s.commit()
        a = root.children[0]
        deep = Node(name="b", children=[Node(name="c", children=[Node(name="d")])])
        a.children.append(deep)
        s.commit()
    rows = {r.name: r for r in fetch(db, select(nodes))}
    assert rows["d"].parent_id == rows["c"].id
    assert rows["c"].parent_id == rows["b"].id
    assert rows["b"].parent_id == rows["a"].id
    assert rows["a"].parent_id == rows["r"].id


def test_cyclic_foreign_keys_exist_on_every_backend(db):
    """The post_update tests below are only meaningful if the database enforces both
    foreign keys of the cycle."""
    insp = sa_inspect(db)
    assert [fk["referred_table"] for fk in insp.get_foreign_keys("rel_people")] == ["rel_articles"]
    assert [fk["referred_table"] for fk in insp.get_foreign_keys("rel_articles")] == ["rel_people"]


def test_post_update_breaks_two_table_cycle(db, count_statements):
    with Session(db) as s:
        p = Person(name="ann")
        art = Article(title="t", author=p)
        p.favorite_article = art
        s.add(p)
        s.add(art)
        with count_statements(db) as log:
            s.flush()
        assert p.favorite_article_id == art.id and art.author_id == p.id
        ins_people = dml(log, "INSERT", "rel_people")
        ins_articles = dml(log, "INSERT", "rel_articles")
        upd_people = dml(log, "UPDATE", "rel_people")
        assert ins_people and ins_articles and upd_people
        assert max(ins_people) < min(ins_articles) < min(upd_people)
        s.commit()
        pid, aid = p.id, art.id
    assert fetch(db, select(people.c.favorite_article_id).where(people.c.id == pid)) == [(aid,)]
    assert fetch(db, select(articles.c.author_id).where(articles.c.id == aid)) == [(pid,)]


def test_post_update_cycle_can_be_deleted(db):
    with Session(db) as s:
        p = Person(name="ann")
        art = Article(title="t", author=p)
        p.favorite_article = art
        s.add_all([p, art])
        s.commit()
        s.delete(art)
        s.delete(p)
        s.commit()
    assert table_count(db, people) == 0 and table_count(db, articles) == 0


def test_post_update_cycle_of_loaded_objects_can_be_deleted(db):
    with Session(db, expire_on_commit=False) as s:
        p = Person(name="ann")
        art = Article(title="t", author=p)
        p.favorite_article = art
        s.add_all([p, art])
        s.commit()
        s.delete(art)
        s.delete(p)
        s.commit()
    assert table_count(db, people) == 0 and table_count(db, articles) == 0


def test_post_update_breaks_self_referential_cycle(db):
    with Session(db) as s:
        a, b, c = Link(name="a"), Link(name="b"), Link(name="c")
        a.next = b
        b.next = c
        c.next = a
        s.add_all([a, b, c])
        s.commit()
    rows = {r.name: r for r in fetch(db, select(links))}
    assert rows["a"].next_id == rows["b"].id
    assert rows["b"].next_id == rows["c"].id
    assert rows["c"].next_id == rows["a"].id


def test_post_update_two_row_self_referential_cycle(db):
    with Session(db) as s:
        a, b = Link(name="a"), Link(name="b")
        a.next = b
        b.next = a
        s.add_all([a, b])
        s.commit()
        s.delete(a)
        s.delete(b)
        s.commit()
    assert table_count(db, links) == 0


def test_post_update_two_row_cycle_of_loaded_objects_can_be_deleted(db):
    with Session(db, expire_on_commit=False) as s:
        a, b = Link(name="a"), Link(name="b")
        a.next = b
        b.next = a
        s.add_all([a, b])
        s.commit()
        s.delete(a)
        s.delete(b)
        s.commit()
    assert table_count(db, links) == 0


def test_self_referential_cycle_without_post_update_raises_flush_error(db):
    with Session(db) as s:
        a, b = CycleLink(name="a"), CycleLink(name="b")
        a.next = b
        b.next = a
        s.add_all([a, b])
        with pytest.raises(se_exc.FlushError, match="post_update"):
            s.flush()
        s.rollback()
    assert table_count(db, CycleLink.__table__) == 0


def test_one_parent_with_10000_children_flushes_in_few_statements(db, count_statements):
    with Session(db) as s:
        u = User(name="big", addresses=[Address(email=f"e{i}") for i in range(10_000)])
        s.add(u)
        with count_statements(db) as log:
            s.flush()
        assert log.count <= 20, log
        assert len(dml(log, "INSERT", "rel_users")) == 1
        s.commit()
        uid = u.id
    rows = fetch(db, select(addresses.c.user_id, func.count()).group_by(addresses.c.user_id))
    assert rows == [(uid, 10_000)]


def test_1000_parents_with_10_children_each_flush_in_few_statements(db, count_statements):
    with Session(db) as s:
        all_users = [
            User(name=f"u{i}", addresses=[Address(email=f"u{i}-{j}") for j in range(10)])
            for i in range(1000)
        ]
        s.add_all(all_users)
        with count_statements(db) as log:
            s.flush()
        assert log.count <= 20, log
        expected = {a.email: u.id for u in all_users for a in u.addresses}
        s.commit()
    assert len(expected) == 10_000
    assert address_owners(db) == expected
    assert len({v for v in expected.values()}) == 1000


# =========================================================================== cascades
def test_save_update_cascade_adds_children_and_grandchildren(db):
    with Session(db) as s:
        note = ItemNote(text="n")
        item = OrderItem(name="i", notes=[note])
        order = Order(label="o", items=[item])
        s.add(order)
        assert item in s and note in s
        assert set(s.new) == {order, item, note}
        s.commit()
        oid = order.id
    rows = fetch(db, select(item_notes.c.text, order_items.c.order_id).join(order_items))
    assert rows == [("n", oid)]


def test_appending_to_persistent_parent_adds_child_to_session(seeded_user):
    engine, uid = seeded_user
    with Session(engine) as s:
        u = s.get(User, uid)
        a = Address(email="new")
        u.addresses.append(a)
        assert a in s
        assert inspect(a).pending
        s.commit()
    assert address_owners(engine)["new"] == uid


def test_setting_scalar_on_persistent_object_adds_target(seeded_user):
    engine, uid = seeded_user
    with Session(engine) as s:
        u = s.get(User, uid)
        p = Profile(bio="b")
        u.profile = p
        assert p in s
        s.commit()
    assert fetch(engine, select(profiles.c.user_id)) == [(uid,)]


def test_without_save_update_cascade_children_are_not_added():
    class LocalBase(DeclarativeBase):
        pass

    class Box(LocalBase):
        __tablename__ = "rel_nc_boxes"
        id = Column(Integer, primary_key=True)
        things = relationship("Thing", cascade="merge")

    class Thing(LocalBase):
        __tablename__ = "rel_nc_things"
        id = Column(Integer, primary_key=True)
        box_id = Column(ForeignKey("rel_nc_boxes.id"))

    s = Session()
    box = Box(things=[Thing()])
    s.add(box)
    assert box in s
    assert box.things[0] not in s


def test_delete_cascade_deletes_children_and_grandchildren(db, count_statements):
    with Session(db) as s:
        order = Order(
            label="o",
            items=[OrderItem(name=f"i{i}", notes=[ItemNote(text=f"n{i}")]) for i in range(3)],
        )
        other = Order(label="keep", items=[OrderItem(name="k", notes=[ItemNote(text="kn")])])
        s.add_all([order, other])
        s.commit()
        oid = order.id
    with Session(db) as s:
        order = s.get(Order, oid)  # children not loaded: the cascade loads them
        s.delete(order)
        assert all(i in s.deleted for i in order.items)
        assert all(n in s.deleted for i in order.items for n in i.notes)
        s.commit()
    assert [r.label for r in fetch(db, select(orders))] == ["keep"]
    assert [r.name for r in fetch(db, select(order_items))] == ["k"]
    assert [r.text for r in fetch(db, select(item_notes))] == ["kn"]


def test_delete_orphan_deletes_removed_child(db):
    with Session(db) as s:
        order = Order(label="o", items=[OrderItem(name="a"), OrderItem(name="b")])
        s.add(order)
        s.commit()
        b = order.items[1]
        order.items.remove(b)
        s.commit()
        assert inspect(b).detached and b not in s
    assert [r.name for r in fetch(db, select(order_items))] == ["a"]


def test_delete_orphan_on_reassignment_and_clear(db):
    with Session(db) as s:
        order = Order(label="o", items=[OrderItem(name="a"), OrderItem(name="b")])
        s.add(order)
        s.commit()
        order.items = [OrderItem(name="c")]
        s.commit()
        assert [r.name for r in fetch(db, select(order_items))] == ["c"]
        order.items.clear()
        s.commit()
    assert fetch(db, select(order_items)) == []


def test_delete_orphan_pending_child_removed_before_flush_is_never_inserted(db, count_statements):
    with Session(db) as s:
        order = Order(label="o")
        s.add(order)
        s.commit()
        item = OrderItem(name="temp")
        order.items.append(item)
        assert item in s
        order.items.remove(item)
        with count_statements(db) as log:
            s.commit()
        assert dml(log, "INSERT", "rel_order_items") == []
    assert fetch(db, select(order_items)) == []


def test_delete_orphan_moving_child_to_other_parent_keeps_it(db):
    with Session(db) as s:
        o1 = Order(label="o1", items=[OrderItem(name="a")])
        o2 = Order(label="o2")
        s.add_all([o1, o2])
        s.commit()
        item = o1.items[0]
        item.order = o2
        s.commit()
        o2_id = o2.id
        assert o2.items == [item] and o1.items == []
    assert fetch(db, select(order_items.c.name, order_items.c.order_id)) == [("a", o2_id)]


def test_delete_without_delete_cascade_nulls_children_foreign_keys(seeded_user):
    engine, uid = seeded_user
    with Session(engine) as s:
        u = s.get(User, uid)  # addresses not loaded
        s.delete(u)
        s.commit()
    assert fetch(engine, select(users)) == []
    assert address_owners(engine) == {"a1": None, "a2": None, "a3": None}


def test_delete_without_cascade_nulls_loaded_and_modified_children(seeded_user):
    engine, uid = seeded_user
    with Session(engine) as s:
        u = s.get(User, uid)
        u.addresses[0].email = "changed"
        s.delete(u)
        s.commit()
    assert address_owners(engine) == {"changed": None, "a2": None, "a3": None}


def test_passive_deletes_leaves_unloaded_children_to_the_database(db, count_statements):
    with Session(db) as s:
        f = Folder(name="f", files=[File(name=f"x{i}") for i in range(5)])
        keep = Folder(name="keep", files=[File(name="k")])
        s.add_all([f, keep])
        s.commit()
        fid = f.id
    with Session(db) as s:
        f = s.get(Folder, fid)
        with count_statements(db) as log:
            s.delete(f)
            s.commit()
        assert "files" not in f.__dict__  # never loaded
        assert not any(st.lstrip().upper().startswith("SELECT") for st in log.statements), log
        assert dml(log, "DELETE", "rel_files") == []
        assert len(dml(log, "DELETE", "rel_folders")) == 1
        assert log.count == 1, log
    assert [r.name for r in fetch(db, select(files))] == ["k"]
    assert [r.name for r in fetch(db, select(folders))] == ["keep"]


def test_passive_deletes_with_loaded_children_deletes_them(db):
    with Session(db) as s:
        f = Folder(name="f", files=[File(name="a"), File(name="b")])
        s.add(f)
        s.commit()
        loaded = list(f.files)
        s.delete(f)
        assert all(x in s.deleted for x in loaded)
        s.commit()
    assert fetch(db, select(files)) == []


def test_passive_deletes_without_delete_cascade_unlinks_loaded_children(db):
    # as SQLAlchemy: passive_deletes=True only spares the SELECT of an unloaded
    # collection; children in memory still get their key set to NULL
    with Session(db) as s:
        s.add_all([Shelf(id=1, books=[ShelvedBook(title="a"), ShelvedBook(title="b")]),
                   Shelf(id=2, books=[ShelvedBook(title="c")])])
        s.commit()
    with Session(db) as s:
        loaded, unloaded = s.get(Shelf, 1), s.get(Shelf, 2)
        books = list(loaded.books)
        s.delete(loaded)
        s.delete(unloaded)
        s.commit()
        assert [b.shelf_id for b in books] == [None, None]
        rows = select(ShelvedBook.title, ShelvedBook.shelf_id).order_by(ShelvedBook.title)
        assert s.execute(rows).all() == [("a", None), ("b", None)]  # "c": ON DELETE CASCADE


def test_self_referential_delete_cascade_removes_whole_subtree(db):
    with Session(db) as s:
        root = Category(name="root")
        a = Category(name="a", children=[Category(name="a1", children=[Category(name="a11")])])
        root.children = [a, Category(name="b")]
        s.add(root)
        s.commit()
        s.delete(a)
        s.commit()
    assert sorted(r.name for r in fetch(db, select(categories))) == ["b", "root"]


def test_self_referential_delete_without_cascade_nulls_children(db):
    with Session(db) as s:
        root = Node(name="r", children=[Node(name="a"), Node(name="b")])
        s.add(root)
        s.commit()
        s.delete(root)
        s.commit()
    assert {r.name: r.parent_id for r in fetch(db, select(nodes))} == {"a": None, "b": None}


def test_expunge_cascade(db):
    with Session(db) as s:
        order = Order(label="o", items=[OrderItem(name="i", notes=[ItemNote(text="n")])])
        u = User(name="u", addresses=[Address(email="e")])
        s.add_all([order, u])
        s.commit()
        item = order.items[0]
        note = item.notes[0]
        addr = u.addresses[0]
        s.expunge(order)
        assert order not in s and item not in s and note not in s
        assert inspect(item).detached
        s.expunge(u)  # default cascade has no "expunge"
        assert u not in s and addr in s


def test_refresh_expire_cascade_on_expire(db):
    with Session(db, expire_on_commit=False) as s:
        order = Order(label="o", items=[OrderItem(name="old")])
        s.add(order)
        s.commit()
        item = order.items[0]
        assert item.name == "old"
        s.commit()  # no transaction left open while the row changes below
        with db.begin() as conn:
            conn.execute(update(order_items).values(name="new"))
        s.expire(order)
        assert "name" in inspect(item).expired_attributes
        assert item.name == "new"


def test_refresh_expire_cascade_on_refresh(db, count_statements):
    with Session(db, expire_on_commit=False) as s:
        order = Order(label="o", items=[OrderItem(name="old")])
        s.add(order)
        s.commit()
        item = order.items[0]
        with db.begin() as conn:
            conn.execute(update(order_items).values(name="new"))
            conn.execute(update(orders).values(label="o2"))
        s.refresh(order)
        assert order.label == "o2"
        # as SQLAlchemy (and its cascades page): the cascade expires the children,
        # it does not refresh them; they load when next read
        assert "name" not in item.__dict__
        with count_statements(db) as log:
            assert item.name == "new"
        assert log.count == 1


def test_unloaded_names_relationships_too(db):
    # as SQLAlchemy's InstanceState.unloaded; expired_attributes stays columns only
    with Session(db) as s:
        u = User(name="u", addresses=[Address(email="a")])
        s.add(u)
        s.commit()
        assert {"name", "addresses"} <= inspect(u).unloaded
        assert u.name == "u"
        assert "name" not in inspect(u).unloaded and "addresses" in inspect(u).unloaded
        assert len(u.addresses) == 1
        assert "addresses" not in inspect(u).unloaded
        s.expire(u)
        assert "addresses" in inspect(u).unloaded
        assert "addresses" not in inspect(u).expired_attributes


def test_without_refresh_expire_cascade_children_keep_values(db):
    with Session(db, expire_on_commit=False) as s:
        u = User(name="u", addresses=[Address(email="old")])
        s.add(u)
        s.commit()
        a = u.addresses[0]
        with db.begin() as conn:
            conn.execute(update(addresses).values(email="new"))
        s.expire(u)
        assert inspect(a).expired_attributes == set()
        assert a.email == "old"


def test_merge_cascade_copies_a_detached_graph(seeded_user):
    engine, uid = seeded_user
    with Session(engine) as s1:
        u = s1.get(User, uid)
        assert len(u.addresses) == 3
    # u and its addresses are detached now
    u.name = "renamed"
    u.addresses[0].email = "a1-changed"
    u.addresses.append(Address(email="a4"))
    with Session(engine) as s2:
        merged = s2.merge(u)
        assert merged is not u
        assert merged in s2 and all(a in s2 for a in merged.addresses)
        assert [a.email for a in merged.addresses] == ["a1-changed", "a2", "a3", "a4"]
        assert all(a is not b for a, b in zip(merged.addresses, u.addresses))
        s2.commit()
    assert fetch(engine, select(users.c.name)) == [("renamed",)]
    assert address_owners(engine) == {"a1-changed": uid, "a2": uid, "a3": uid, "a4": uid}


def test_merge_cascade_with_removed_child(seeded_user):
    engine, uid = seeded_user
    with Session(engine) as s1:
        u = s1.get(User, uid)
        u.addresses  # noqa: B018 - load
    u.addresses.pop(0)
    with Session(engine) as s2:
        merged = s2.merge(u)
        assert [a.email for a in merged.addresses] == ["a2", "a3"]
        s2.commit()
    assert address_owners(engine) == {"a1": None, "a2": uid, "a3": uid}


def test_cascade_all_includes_every_operation(db):
    """cascade="all" means save-update, merge, refresh-expire, expunge and delete
    (checked by effect; refresh-expire has its own tests above)."""
    with Session(db, expire_on_commit=False) as s:
        order = Order(label="o", items=[OrderItem(name="i")])
        s.add(order)  # save-update
        assert order.items[0] in s
        s.commit()
        oid = order.id
        item = order.items[0]
        s.expunge(order)  # expunge
        assert item not in s
    detached = order
    detached.label = "o-merged"
    detached.items[0].name = "i-merged"
    with Session(db) as s:
        merged = s.merge(detached)  # merge
        assert merged.items[0].name == "i-merged"
        s.commit()
        s.delete(s.get(Order, oid))  # delete
        s.commit()
    assert fetch(db, select(orders)) == [] and fetch(db, select(order_items)) == []


# -------------------------------------------------------------------- secondary given by table name
class NameBase(DeclarativeBase):
    pass


class NamedCourse(NameBase):
    __tablename__ = "rf_courses"
    id = Column(Integer, primary_key=True)
    students = relationship("NamedStudent", secondary="rf_enrolments", backref="courses")


class NamedStudent(NameBase):
    __tablename__ = "rf_students"
    id = Column(Integer, primary_key=True)



Table(
    "rf_enrolments",
    NameBase.metadata,
    Column("course_id", ForeignKey("rf_courses.id"), primary_key=True),
    Column("student_id", ForeignKey("rf_students.id"), primary_key=True),
)


def test_secondary_given_as_table_name(engine):
    """relationship.configure() resolves a string secondary with
    ``metadata.tables.get(secondary) or self._resolve(secondary)``
    (mapping/relationships.py:229); a found Table is then tested for truth and
    ``ClauseElement.__bool__`` raises "TypeError: Boolean value of this clause
    is not defined". SQLAlchemy accepts the table's name as ``secondary``."""
    NameBase.metadata.create_all(engine)
    with Session(engine) as s:
        course = NamedCourse(id=1, students=[NamedStudent(id=1), NamedStudent(id=2)])
        s.add(course)
        s.commit()
        assert s.scalar(text("SELECT count(*) FROM rf_enrolments")) == 2
        assert [st.id for st in s.get(NamedCourse, 1).students] == [1, 2]
