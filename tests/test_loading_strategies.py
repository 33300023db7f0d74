"""Relationship loading: lazy loading, loader options (selectinload, joinedload,
lazyload, raiseload, noload, chained), per-relationship ``lazy=`` defaults,
relationship criteria (any/has, join) and the N+1 detector.

Every test runs on all backends (``engine`` fixture).  Statement counts come
from ``count_statements`` (BEGIN/SAVEPOINT excluded), so "exactly N SELECTs"
is exactly N round trips of work.
"""

from __future__ import annotations

import warnings

import pytest
from library_models import Author, Book, create_library
from sqlalchemy import Column, ForeignKey, Integer, String, Table, func, insert, select, text

from session_ext import (
    DeclarativeBase,
    NPlusOneError,
    NPlusOneWarning,
    Session,
    declarative_base,
    joinedload,
    lazyload,
    noload,
    raiseload,
    relationship,
    selectinload,
)
from session_ext import exc as se_exc


class Base(DeclarativeBase):
    pass


# --------------------------------------------------------------------------- models
class User(Base):
    __tablename__ = "ls_users"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    addresses = relationship("Address", back_populates="user", order_by="Address.id")
    posts = relationship("Post", back_populates="author", order_by="Post.id")
    profile = relationship("Profile", back_populates="user", uselist=False)
    # custom primaryjoin: only the addresses whose email starts with "1"
    ones = relationship(
        "Address",
        primaryjoin="and_(User.id == Address.user_id, Address.email.like('1%'))",
        viewonly=True,
        order_by="Address.id",
    )


class Address(Base):
    __tablename__ = "ls_addresses"
    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("ls_users.id"))
    email = Column(String(80))
    user = relationship("User", back_populates="addresses")


class Profile(Base):
    __tablename__ = "ls_profiles"
    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("ls_users.id"))
    bio = Column(String(80))
    user = relationship("User", back_populates="profile")


post_tags = Table(
    "ls_post_tags",
    Base.metadata,
    Column("post_id", ForeignKey("ls_posts.id"), primary_key=True),
    Column("tag_id", ForeignKey("ls_tags.id"), primary_key=True),
)


class Post(Base):
    __tablename__ = "ls_posts"
    id = Column(Integer, primary_key=True)
    author_id = Column(ForeignKey("ls_users.id"))
    title = Column(String(50))
    author = relationship("User", back_populates="posts")
    comments = relationship("Comment", back_populates="post", order_by="Comment.id")
    tags = relationship("Tag", secondary=post_tags, back_populates="posts", order_by="Tag.id")


class Comment(Base):
    __tablename__ = "ls_comments"
    id = Column(Integer, primary_key=True)
    post_id = Column(ForeignKey("ls_posts.id"))
    body = Column(String(50))
    post = relationship("Post", back_populates="comments")


class Tag(Base):
    __tablename__ = "ls_tags"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    posts = relationship("Post", secondary=post_tags, back_populates="tags", order_by="Post.id")


class Node(Base):
    __tablename__ = "ls_nodes"
    id = Column(Integer, primary_key=True)
    parent_id = Column(ForeignKey("ls_nodes.id"))
    name = Column(String(50))
    children = relationship("Node", back_populates="parent", order_by="Node.id")
    parent = relationship("Node", back_populates="children", remote_side="Node.id")


# per-relationship default strategies
class Team(Base):
    __tablename__ = "ls_teams"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    players = relationship("Player", lazy="selectin", order_by="Player.id")
    badges = relationship("Badge", lazy="joined", order_by="Badge.id")
    secrets = relationship("Secret", lazy="raise")
    notes = relationship("Note", lazy="noload")


class Player(Base):
    __tablename__ = "ls_players"
    id = Column(Integer, primary_key=True)
    team_id = Column(ForeignKey("ls_teams.id"))
    name = Column(String(50))


class Badge(Base):
    __tablename__ = "ls_badges"
    id = Column(Integer, primary_key=True)
    team_id = Column(ForeignKey("ls_teams.id"))
    name = Column(String(50))


class Secret(Base):
    __tablename__ = "ls_secrets"
    id = Column(Integer, primary_key=True)
    team_id = Column(ForeignKey("ls_teams.id"))
    text = Column(String(50))


class Note(Base):
    __tablename__ = "ls_notes"
    id = Column(Integer, primary_key=True)
    team_id = Column(ForeignKey("ls_teams.id"))
    text = Column(String(50))


class Ticket(Base):
    __tablename__ = "ls_tickets"
    id = Column(Integer, primary_key=True)
    team_id = Column(ForeignKey("ls_teams.id"))
    team = relationship("Team", lazy="joined")


T = {cls.__name__: cls.__table__ for cls in Base.__subclasses__() if hasattr(cls, "__table__")}


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def db(engine):
    Base.metadata.create_all(engine)
    return engine


ADDRESSES = {1: [10, 11, 12], 2: [20, 21], 3: [30], 4: []}


@pytest.fixture
def data(db):
    """ann(1): addresses 10-12, profile, posts p1 (comments 1, 2; tags python, sql)
    and p2 (comment 3; tag sql); bob(2): addresses 20-21, post p3; cat(3): address
    30; dan(4): nothing.  Address 99 has no user.  Nodes: 1 -> (2, 3), 2 -> 4 -> 5.
    Teams: red(1) with players 1-2, badges 1-2, a secret and a note; blue(2) with
    player 3.  Tickets 1 -> red, 2 -> blue, 3 -> no team."""
    with db.begin() as conn:
        conn.execute(
            insert(T["User"]),
            [{"id": i, "name": n} for i, n in ((1, "ann"), (2, "bob"), (3, "cat"), (4, "dan"))],
        )
        rows = [
            {"id": aid, "user_id": uid, "email": f"{aid}@x"}
            for uid, aids in ADDRESSES.items()
            for aid in aids
        ]
        conn.execute(insert(T["Address"]), [*rows, {"id": 99, "user_id": None, "email": "99@x"}])
        conn.execute(insert(T["Profile"]), [{"id": 1, "user_id": 1, "bio": "hi"}])
        conn.execute(
            insert(T["Post"]),
            [
                {"id": 1, "author_id": 1, "title": "p1"},
                {"id": 2, "author_id": 1, "title": "p2"},
                {"id": 3, "author_id": 2, "title": "p3"},
            ],
        )
        conn.execute(
            insert(T["Comment"]),
            [
                {"id": 1, "post_id": 1, "body": "c1"},
                {"id": 2, "post_id": 1, "body": "c2"},
                {"id": 3, "post_id": 2, "body": "c3"},
            ],
        )
        conn.execute(
            insert(T["Tag"]),
            [{"id": 1, "name": "python"}, {"id": 2, "name": "sql"}, {"id": 3, "name": "misc"}],
        )
        conn.execute(
            insert(post_tags),
            [
                {"post_id": 1, "tag_id": 1},
                {"post_id": 1, "tag_id": 2},
                {"post_id": 2, "tag_id": 2},
            ],
        )
        conn.execute(
            insert(T["Node"]),
            [
                {"id": 1, "parent_id": None, "name": "n1"},
                {"id": 2, "parent_id": 1, "name": "n2"},
                {"id": 3, "parent_id": 1, "name": "n3"},
                {"id": 4, "parent_id": 2, "name": "n4"},
                {"id": 5, "parent_id": 4, "name": "n5"},
            ],
        )
        conn.execute(insert(T["Team"]), [{"id": 1, "name": "red"}, {"id": 2, "name": "blue"}])
        conn.execute(
            insert(T["Player"]),
            [
                {"id": 1, "team_id": 1, "name": "r1"},
                {"id": 2, "team_id": 1, "name": "r2"},
                {"id": 3, "team_id": 2, "name": "b1"},
            ],
        )
        conn.execute(
            insert(T["Badge"]),
            [{"id": 1, "team_id": 1, "name": "gold"}, {"id": 2, "team_id": 1, "name": "silver"}],
        )
        conn.execute(insert(T["Secret"]), [{"id": 1, "team_id": 1, "text": "s"}])
        conn.execute(insert(T["Note"]), [{"id": 1, "team_id": 1, "text": "n"}])
        conn.execute(
            insert(T["Ticket"]),
            [{"id": 1, "team_id": 1}, {"id": 2, "team_id": 2}, {"id": 3, "team_id": None}],
        )
    return db


def all_selects(log) -> bool:
    return all(s.lstrip().upper().startswith("SELECT") for s in log.statements)


def emails(user) -> list[str]:
    return [a.email for a in user.addresses]


def check_users_addresses(users_list) -> None:
    """Each user carries exactly its own addresses (no SQL if loaded)."""
    assert [u.id for u in users_list] == [1, 2, 3, 4]
    for u in users_list:
        assert [a.id for a in u.addresses] == ADDRESSES[u.id]
        assert all(a.user_id == u.id for a in u.addresses)


def run_select(session, api, entity, *options, order_by=None):
    """All ``entity`` objects with loader ``options``, through the 2.0 API
    (``session.scalars(select(...))``) or the legacy ``session.query()``."""
    if api == "select":
        stmt = select(entity).options(*options)
        if order_by is not None:
            stmt = stmt.order_by(order_by)
        return session.scalars(stmt).unique().all()
    q = session.query(entity).options(*options)
    if order_by is not None:
        q = q.order_by(order_by)
    return q.all()


# =========================================================================== lazy loading
def test_lazy_collection_loads_on_first_access_with_one_select(data, count_statements):
    with Session(data) as s:
        u = s.get(User, 1)
        with count_statements(data) as log:
            assert emails(u) == ["10@x", "11@x", "12@x"]
        assert log.count == 1 and all_selects(log)
        with count_statements(data) as log:
            assert len(u.addresses) == 3
            assert u.addresses[0].user is u  # many-to-one back: in the identity map
        assert log.count == 0


def test_lazy_many_to_one_in_identity_map_costs_no_sql(data, count_statements):
    with Session(data) as s:
        ann = s.get(User, 1)
        a = s.get(Address, 11)
        with count_statements(data) as log:
            assert a.user is ann
        assert log.count == 0


def test_lazy_many_to_one_not_in_identity_map_one_select(data, count_statements):
    with Session(data) as s:
        a10, a11 = s.get(Address, 10), s.get(Address, 11)
        with count_statements(data) as log:
            assert a10.user.name == "ann"
        assert log.count == 1
        with count_statements(data) as log:
            assert a11.user is a10.user
        assert log.count == 0


def test_lazy_many_to_one_with_null_foreign_key_is_none_without_sql(data, count_statements):
    with Session(data) as s:
        orphan = s.get(Address, 99)
        with count_statements(data) as log:
            assert orphan.user is None
        assert log.count == 0


def test_lazy_one_to_one(data, count_statements):
    with Session(data) as s:
        ann, bob = s.get(User, 1), s.get(User, 2)
        with count_statements(data) as log:
            assert ann.profile.bio == "hi"
            assert bob.profile is None
        assert log.count == 2
        assert ann.profile.user is ann


def test_lazy_many_to_many_both_directions(data, count_statements):
    with Session(data) as s:
        p1 = s.get(Post, 1)
        with count_statements(data) as log:
            assert [t.name for t in p1.tags] == ["python", "sql"]
        assert log.count == 1
        sql_tag = p1.tags[1]
        assert [p.title for p in sql_tag.posts] == ["p1", "p2"]
        assert s.get(Tag, 3).posts == []


def test_lazy_self_referential_both_directions(data, count_statements):
    with Session(data) as s:
        n5 = s.get(Node, 5)
        chain = []
        node = n5
        while node is not None:
            chain.append(node.name)
            node = node.parent
        assert chain == ["n5", "n4", "n2", "n1"]
        root = s.get(Node, 1)
        with count_statements(data) as log:
            assert [c.name for c in root.children] == ["n2", "n3"]
        assert log.count == 1
        assert root.children[1].children == []


def test_lazy_load_autoflushes_pending_changes(data):
    with Session(data) as s:
        ann = s.get(User, 1)
        s.add(Address(id=13, user_id=1, email="13@x"))
        assert [a.id for a in ann.addresses] == [10, 11, 12, 13]


def test_pending_object_relationships_are_empty_without_sql(db, count_statements):
    with Session(db) as s:
        u = User(name="new")
        s.add(u)
        with count_statements(db) as log:
            assert u.addresses == [] and u.profile is None and u.posts == []
        assert log.count == 0


def test_detached_object_unloaded_collection_raises(data):
    with Session(data) as s:
        u = s.get(User, 1)
    with pytest.raises(se_exc.DetachedInstanceError, match="addresses"):
        u.addresses  # noqa: B018


def test_detached_object_unloaded_many_to_one_raises(data):
    with Session(data) as s:
        a = s.get(Address, 10)
        s.expunge(a)
    with pytest.raises(se_exc.DetachedInstanceError, match="user"):
        a.user  # noqa: B018


def test_detached_object_loaded_relationships_stay_usable(data, count_statements):
    with Session(data) as s:
        users = s.scalars(
            select(User).order_by(User.id).options(selectinload(User.addresses))
        ).all()
    with count_statements(data) as log:
        check_users_addresses(users)
    assert log.count == 0


def test_relationship_reloads_after_commit_expiry(data):
    with Session(data) as s:
        u = s.get(User, 4)
        assert u.addresses == []
        s.add(Address(id=40, user_id=4, email="40@x"))
        s.commit()
        assert [a.id for a in u.addresses] == [40]


# =========================================================================== loader options
@pytest.mark.parametrize("api", ["select", "query"])
def test_selectinload_collection_two_selects(data, count_statements, api):
    with Session(data) as s:
        with count_statements(data) as log:
            users = run_select(s, api, User, selectinload(User.addresses), order_by=User.id)
            check_users_addresses(users)
        assert log.count == 2 and all_selects(log), log


@pytest.mark.parametrize("api", ["select", "query"])
def test_joinedload_collection_one_select_and_each_parent_once(data, count_statements, api):
    with Session(data) as s:
        with count_statements(data) as log:
            users = run_select(s, api, User, joinedload(User.addresses), order_by=User.id)
            assert len(users) == 4 and len({id(u) for u in users}) == 4
            check_users_addresses(users)
        assert log.count == 1 and all_selects(log), log


def test_joinedload_collection_without_order_by_returns_each_parent_once(data):
    with Session(data) as s:
        users = s.scalars(select(User).options(joinedload(User.addresses))).unique().all()
        assert sorted(u.id for u in users) == [1, 2, 3, 4]
        for u in users:
            assert sorted(a.id for a in u.addresses) == ADDRESSES[u.id]


def test_joinedload_collection_with_where_clause(data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            users = s.scalars(
                select(User)
                .where(User.name.in_(["ann", "cat"]))
                .order_by(User.id)
                .options(joinedload(User.addresses))
            ).unique().all()
            assert [(u.name, len(u.addresses)) for u in users] == [("ann", 3), ("cat", 1)]
        assert log.count == 1


def test_joinedload_collection_with_limit_limits_parents(data):
    """As in SQLAlchemy, LIMIT applies to the parent rows, not to the joined rows:
    each returned parent still gets its whole collection."""
    with Session(data) as s:
        users = s.scalars(
            select(User).order_by(User.id).limit(2).options(joinedload(User.addresses))
        ).unique().all()
        assert [u.name for u in users] == ["ann", "bob"]
        assert [len(u.addresses) for u in users] == [3, 2]


def test_joinedload_many_to_one_with_null_foreign_key_gives_none(data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            addrs = s.scalars(
                select(Address).order_by(Address.id).options(joinedload(Address.user))
            ).all()
            by_id = {a.id: a for a in addrs}
            assert by_id[99].user is None
            assert by_id[10].user.name == "ann" and by_id[30].user.name == "cat"
            assert by_id[10].user is by_id[11].user
        assert log.count == 1


def test_selectinload_many_to_one(data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            addrs = s.scalars(
                select(Address).order_by(Address.id).options(selectinload(Address.user))
            ).all()
            assert {a.id: (a.user.name if a.user else None) for a in addrs} == {
                10: "ann",
                11: "ann",
                12: "ann",
                20: "bob",
                21: "bob",
                30: "cat",
                99: None,
            }
        assert log.count == 2


def test_selectinload_many_to_one_skips_targets_in_identity_map(data, count_statements):
    with Session(data) as s:
        users = s.scalars(select(User)).all()
        with count_statements(data) as log:
            addrs = s.scalars(select(Address).options(selectinload(Address.user))).all()
            assert all(a.user is None or a.user in users for a in addrs)
        assert log.count == 1


def test_selectinload_and_joinedload_one_to_one(data, count_statements):
    with Session(data) as s:
        for opt, expected in ((selectinload, 2), (joinedload, 1)):
            s.expunge_all()
            with count_statements(data) as log:
                users = s.scalars(select(User).order_by(User.id).options(opt(User.profile))).all()
                assert [u.profile.bio if u.profile else None for u in users] == [
                    "hi",
                    None,
                    None,
                    None,
                ]
            assert log.count == expected, opt


@pytest.mark.parametrize("opt,expected", [(selectinload, 2), (joinedload, 1)])
def test_many_to_many_eager_loading(data, count_statements, opt, expected):
    with Session(data) as s:
        with count_statements(data) as log:
            ps = s.scalars(select(Post).order_by(Post.id).options(opt(Post.tags))).unique().all()
            assert [[t.name for t in p.tags] for p in ps] == [["python", "sql"], ["sql"], []]
            assert ps[0].tags[1] is ps[1].tags[0]  # one Tag object per row
        assert log.count == expected
        with count_statements(data) as log:
            tags = s.scalars(select(Tag).order_by(Tag.id).options(opt(Tag.posts))).unique().all()
            assert [[p.title for p in t.posts] for t in tags] == [["p1"], ["p1", "p2"], []]
        assert log.count == expected


@pytest.mark.parametrize("api", ["select", "query"])
def test_chained_selectinload(data, count_statements, api):
    with Session(data) as s:
        opt = selectinload(User.posts).selectinload(Post.comments)
        with count_statements(data) as log:
            users = run_select(s, api, User, opt, order_by=User.id)
            assert {
                u.name: {p.title: [c.body for c in p.comments] for p in u.posts} for u in users
            } == {
                "ann": {"p1": ["c1", "c2"], "p2": ["c3"]},
                "bob": {"p3": []},
                "cat": {},
                "dan": {},
            }
        assert log.count == 3, log


def test_chained_joinedload_many_to_one(data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            comments = s.scalars(
                select(Comment)
                .order_by(Comment.id)
                .options(joinedload(Comment.post).joinedload(Post.author))
            ).all()
            assert [(c.body, c.post.title, c.post.author.name) for c in comments] == [
                ("c1", "p1", "ann"),
                ("c2", "p1", "ann"),
                ("c3", "p2", "ann"),
            ]
        assert log.count == 1


def test_chained_joinedload_collections(data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            users = s.scalars(
                select(User)
                .order_by(User.id)
                .options(joinedload(User.posts).joinedload(Post.comments))
            ).unique().all()
            assert [u.name for u in users] == ["ann", "bob", "cat", "dan"]
            assert [[(p.title, [c.body for c in p.comments]) for p in u.posts] for u in users] == [
                [("p1", ["c1", "c2"]), ("p2", ["c3"])],
                [("p3", [])],
                [],
                [],
            ]
        assert log.count == 1


def test_joinedload_then_selectinload(data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            users = s.scalars(
                select(User)
                .order_by(User.id)
                .options(joinedload(User.posts).selectinload(Post.comments))
            ).unique().all()
            assert [c.body for c in users[0].posts[0].comments] == ["c1", "c2"]
            assert users[1].posts[0].comments == []
        assert log.count == 2


def test_selectinload_then_joinedload(data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            users = s.scalars(
                select(User)
                .order_by(User.id)
                .options(selectinload(User.posts).joinedload(Post.tags))
            ).all()
            assert [t.name for t in users[0].posts[0].tags] == ["python", "sql"]
            assert users[1].posts[0].tags == []
        assert log.count == 2


def test_several_options_on_one_statement(data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            users = s.scalars(
                select(User)
                .order_by(User.id)
                .options(
                    selectinload(User.addresses),
                    joinedload(User.profile),
                    selectinload(User.posts),
                )
            ).all()
            check_users_addresses(users)
            assert users[0].profile.bio == "hi"
            assert [len(u.posts) for u in users] == [2, 1, 0, 0]
        assert log.count == 3


def test_self_referential_chained_eager_loading(data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            root = s.scalars(
                select(Node)
                .where(Node.id == 1)
                .options(
                    selectinload(Node.children)
                    .selectinload(Node.children)
                    .selectinload(Node.children)
                )
            ).one()
            assert [c.name for c in root.children] == ["n2", "n3"]
            assert [c.name for c in root.children[0].children] == ["n4"]
            assert [c.name for c in root.children[0].children[0].children] == ["n5"]
        assert log.count == 4
    with Session(data) as s:
        with count_statements(data) as log:
            root = s.scalars(
                select(Node)
                .where(Node.id == 1)
                .options(joinedload(Node.children).joinedload(Node.children))
            ).unique().one()
            assert [[g.name for g in c.children] for c in root.children] == [["n4"], []]
        assert log.count == 1


@pytest.mark.parametrize("opt", [None, selectinload, joinedload])
def test_primaryjoin_criteria_apply_to_every_strategy(data, opt):
    """Every loader honours the extra criteria of a custom primaryjoin:
    ann's addresses 10-12 match email LIKE '1%', bob's 20-21 don't."""
    with Session(data) as s:
        stmt = select(User).order_by(User.id)
        if opt is not None:
            stmt = stmt.options(opt(User.ones))
        users = s.scalars(stmt).all()
        assert [[a.id for a in u.ones] for u in users] == [[10, 11, 12], [], [], []]


def test_eager_loading_fills_in_objects_already_in_identity_map(data, count_statements):
    with Session(data) as s:
        ann = s.get(User, 1)
        assert "addresses" not in ann.__dict__
        users = s.scalars(select(User).options(selectinload(User.addresses))).all()
        assert ann in users
        with count_statements(data) as log:
            assert emails(ann) == ["10@x", "11@x", "12@x"]
        assert log.count == 0


def test_selectinload_with_yield_per(data, count_statements):
    with Session(data) as s:
        result = s.scalars(
            select(User)
            .order_by(User.id)
            .options(selectinload(User.addresses))
            .execution_options(yield_per=2)
        )
        users = list(result)
        with count_statements(data) as log:
            check_users_addresses(users)
        assert log.count == 0


def test_joinedload_collection_with_yield_per_raises(data):
    with Session(data) as s:
        with pytest.raises(se_exc.InvalidRequestError, match="yield_per"):
            s.scalars(
                select(User).options(joinedload(User.addresses)).execution_options(yield_per=2)
            ).all()


# ------------------------------------------------------------- lazyload / raiseload / noload
def test_lazyload_option_overrides_selectin_default(data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            teams = s.scalars(
                select(Team).order_by(Team.id).options(lazyload(Team.players))
            ).unique().all()
        assert log.count == 1  # badges are still joined by default; players are not loaded
        assert all("players" not in t.__dict__ for t in teams)
        with count_statements(data) as log:
            assert [p.name for p in teams[0].players] == ["r1", "r2"]
        assert log.count == 1


@pytest.mark.parametrize("api", ["select", "query"])
def test_raiseload_collection(data, count_statements, api):
    with Session(data) as s:
        users = run_select(s, api, User, raiseload(User.addresses), order_by=User.id)
        with count_statements(data) as log:
            with pytest.raises(se_exc.InvalidRequestError, match=r"User\.addresses"):
                users[0].addresses  # noqa: B018
        assert log.count == 0
        assert [p.title for p in users[0].posts] == ["p1", "p2"]  # others still lazy


def test_raiseload_many_to_one(data):
    with Session(data) as s:
        a = s.scalars(
            select(Address).where(Address.id == 10).options(raiseload(Address.user))
        ).one()
        with pytest.raises(se_exc.InvalidRequestError, match=r"Address\.user"):
            a.user  # noqa: B018


def test_noload_option(data, count_statements):
    with Session(data) as s:
        users = s.scalars(
            select(User).order_by(User.id).options(noload(User.addresses), noload(User.profile))
        ).all()
        with count_statements(data) as log:
            assert all(u.addresses == [] for u in users)
            assert users[0].profile is None
        assert log.count == 0
    with data.connect() as conn:  # the rows are still there
        assert conn.execute(select(func.count()).select_from(T["Address"])).scalar_one() == 7


def test_chained_raiseload_and_noload(data, count_statements):
    with Session(data) as s:
        users = s.scalars(
            select(User)
            .order_by(User.id)
            .options(
                selectinload(User.posts).raiseload(Post.comments),
                selectinload(User.addresses).noload(Address.user),
            )
        ).all()
        p1 = users[0].posts[0]
        with pytest.raises(se_exc.InvalidRequestError, match=r"Post\.comments"):
            p1.comments  # noqa: B018
        with count_statements(data) as log:
            assert users[0].addresses[0].user is None
        assert log.count == 0


def test_chained_lazyload(data, count_statements):
    with Session(data) as s:
        users = s.scalars(
            select(User).order_by(User.id).options(selectinload(User.posts).lazyload(Post.comments))
        ).all()
        with count_statements(data) as log:
            assert [c.body for c in users[0].posts[0].comments] == ["c1", "c2"]
        assert log.count == 1


def test_loader_option_argument_errors():
    with pytest.raises(se_exc.ArgumentError, match="relationship"):
        selectinload("addresses")
    with pytest.raises(se_exc.ArgumentError, match="relationship"):
        joinedload(User.name)
    with pytest.raises(se_exc.ArgumentError, match=r"Address\.user"):
        selectinload(User.posts).selectinload(Address.user)


# --------------------------------------------------------------------------- lazy= defaults
def test_relationship_defaults_selectin_joined(data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            teams = s.scalars(select(Team).order_by(Team.id)).unique().all()
        assert log.count == 2  # teams JOIN badges, then players IN (...)
        assert [t.name for t in teams] == ["red", "blue"]  # no duplicate from the join
        with count_statements(data) as log:
            assert [[p.name for p in t.players] for t in teams] == [["r1", "r2"], ["b1"]]
            assert [[b.name for b in t.badges] for t in teams] == [["gold", "silver"], []]
        assert log.count == 0


def test_relationship_default_raise(data, count_statements):
    with Session(data) as s:
        team = s.scalars(select(Team).where(Team.id == 1)).unique().one()
        with count_statements(data) as log:
            with pytest.raises(se_exc.InvalidRequestError, match=r"Team\.secrets"):
                team.secrets  # noqa: B018
        assert log.count == 0


def test_relationship_default_noload(data, count_statements):
    with Session(data) as s:
        team = s.scalars(select(Team).where(Team.id == 1)).unique().one()
        with count_statements(data) as log:
            assert team.notes == []
        assert log.count == 0


def test_options_override_raise_and_noload_defaults(data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            team = s.scalars(
                select(Team)
                .where(Team.id == 1)
                .options(selectinload(Team.notes), joinedload(Team.secrets))
            ).unique().one()
            assert [n.text for n in team.notes] == ["n"]
            assert [x.text for x in team.secrets] == ["s"]
        assert log.count == 3  # teams+badges+secrets, players, notes


def test_noload_option_overrides_selectin_default(data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            team = s.scalars(
                select(Team).where(Team.id == 1).options(noload(Team.players))
            ).unique().one()
            assert team.players == []
        assert log.count == 1


def test_defaults_apply_through_a_joined_many_to_one(data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            tickets = s.scalars(select(Ticket).order_by(Ticket.id)).unique().all()
            assert [t.team.name if t.team else None for t in tickets] == ["red", "blue", None]
            assert [b.name for b in tickets[0].team.badges] == ["gold", "silver"]
            assert [p.name for p in tickets[1].team.players] == ["b1"]
        assert log.count == 2


def test_relationship_defaults_apply_to_session_get(data, count_statements):
    """Session.get() loads like a query: lazy="selectin"/"joined" relationships
    are loaded with the object (SQLAlchemy runs get() as a SELECT with the
    mapper's default loader strategies)."""
    with Session(data) as s:
        with count_statements(data) as log:
            team = s.get(Team, 1)
        with count_statements(data) as later:
            assert [p.name for p in team.players] == ["r1", "r2"]
            assert [b.name for b in team.badges] == ["gold", "silver"]
        assert later.count == 0 and log.count == 2


def test_refresh_and_expired_load_run_the_eager_relationship_defaults(data, count_statements):
    """As SQLAlchemy: refresh(obj) and the load of an object expired as a whole
    load its lazy="selectin"/"joined" relationships too (not the lazy ones);
    expiring some names loads only those."""
    with Session(data) as s:
        team = s.get(Team, 1)
        s.refresh(team)
        loaded = {"players", "badges"}
        assert loaded <= team.__dict__.keys() and "secrets" not in team.__dict__
        s.expire(team)
        assert not loaded & team.__dict__.keys()
        assert team.name == "red"
        assert loaded <= team.__dict__.keys()
        s.expire(team, ["name"])
        with count_statements(data) as log:
            assert team.name == "red"
        assert log.count == 1


# --------------------------------------------------------------------------- unflushed changes
@pytest.mark.parametrize("opt", [selectinload, joinedload])
def test_eager_load_does_not_overwrite_unflushed_collection_change(data, opt):
    with Session(data, autoflush=False) as s:
        ann = s.get(User, 1)
        a10 = ann.addresses[0]
        ann.addresses.remove(a10)
        new = Address(id=15, email="15@x")
        ann.addresses.append(new)
        stmt = select(User).order_by(User.id).options(opt(User.addresses))
        users = s.scalars(stmt).unique().all()
        assert users[0] is ann
        assert [a.id for a in ann.addresses] == [11, 12, 15]
        assert [a.id for a in users[1].addresses] == [20, 21]
        s.commit()
    with data.connect() as conn:
        rows = conn.execute(
            select(T["Address"].c.id).where(T["Address"].c.user_id == 1).order_by("id")
        ).all()
    assert [r.id for r in rows] == [11, 12, 15]


# =========================================================================== criteria
def test_any_on_one_to_many(data):
    with Session(data) as s:
        names = s.scalars(
            select(User.name).where(User.addresses.any(Address.email == "20@x"))
        ).all()
        assert names == ["bob"]
        with_any = s.scalars(select(User.name).where(User.addresses.any()).order_by(User.id))
        assert with_any.all() == ["ann", "bob", "cat"]
        without = s.scalars(select(User).where(~User.addresses.any())).all()
        assert [u.name for u in without] == ["dan"]


def test_has_on_many_to_one(data):
    with Session(data) as s:
        addrs = s.scalars(
            select(Address).where(Address.user.has(User.name == "bob")).order_by(Address.id)
        ).all()
        assert [a.id for a in addrs] == [20, 21]
        no_user = s.scalars(select(Address.id).where(~Address.user.has())).all()
        assert no_user == [99]


def test_any_on_many_to_many(data):
    with Session(data) as s:
        titles = s.scalars(
            select(Post.title).where(Post.tags.any(Tag.name == "sql")).order_by(Post.id)
        ).all()
        assert titles == ["p1", "p2"]
        tag_names = s.scalars(select(Tag.name).where(Tag.posts.any(Post.title == "p2"))).all()
        assert tag_names == ["sql"]


def test_nested_any_and_query_filter(data):
    with Session(data) as s:
        q = s.query(User).filter(User.posts.any(Post.comments.any(Comment.body == "c3")))
        assert [u.name for u in q.all()] == ["ann"]


def test_query_join_along_relationship(data):
    with Session(data) as s:
        users = s.query(User).join(User.addresses).filter(Address.email == "21@x").all()
        assert [u.name for u in users] == ["bob"]
        titles = (
            s.query(Post.title)
            .join(Post.comments)
            .filter(Comment.body.in_(["c1", "c3"]))
            .order_by(Post.title)
            .all()
        )
        assert [t for (t,) in titles] == ["p1", "p2"]
        chained = (
            s.query(User).join(User.posts).join(Post.comments).filter(Comment.body == "c2").all()
        )
        assert [u.name for u in chained] == ["ann"]


def test_select_join_along_relationship(data):
    """SQLAlchemy 2.x: ``select(User).join(User.addresses)``."""
    with Session(data) as s:
        users = s.scalars(select(User).join(User.addresses).where(Address.email == "30@x")).all()
        assert [u.name for u in users] == ["cat"]


# =========================================================================== N+1 detector
def nplus_one_warnings(caught) -> list[warnings.WarningMessage]:
    return [w for w in caught if issubclass(w.category, NPlusOneWarning)]


@pytest.mark.parametrize("api", ["select", "query"])
def test_n_plus_one_warns_naming_model_attribute_and_fix(data, api):
    with Session(data, n_plus_one="warn") as s:
        users = run_select(s, api, User, order_by=User.id)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for u in users:
                u.addresses  # noqa: B018
        found = nplus_one_warnings(caught)
        assert found, [str(w.message) for w in caught]
        message = str(found[0].message)
        assert "User" in message and "addresses" in message
        assert "selectinload(User.addresses)" in message
        check_users_addresses(users)  # the loads themselves still worked


def test_n_plus_one_raise_mode(data):
    with Session(data, n_plus_one="raise") as s:
        users = s.scalars(select(User).order_by(User.id)).all()
        users[0].addresses  # noqa: B018
        users[1].addresses  # noqa: B018
        with pytest.raises(NPlusOneError, match=r"selectinload\(User\.addresses\)") as info:
            users[2].addresses  # noqa: B018
        assert isinstance(info.value, se_exc.InvalidRequestError)


def test_n_plus_one_is_off_by_default(data):
    with Session(data) as s:
        users = s.scalars(select(User).order_by(User.id)).all()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for u in users:
                u.addresses  # noqa: B018
                u.posts  # noqa: B018
        assert nplus_one_warnings(caught) == []
        check_users_addresses(users)


def test_n_plus_one_below_threshold_is_quiet(data):
    with Session(data, n_plus_one="raise") as s:
        users = s.scalars(select(User).order_by(User.id)).all()
        assert len(users) == 4
        users[0].addresses  # noqa: B018
        users[1].addresses  # noqa: B018
        users[0].posts  # noqa: B018 - another relationship has its own count
        users[1].posts  # noqa: B018


def test_n_plus_one_custom_threshold(data):
    with Session(data, n_plus_one="raise", n_plus_one_threshold=4) as s:
        users = s.scalars(select(User).order_by(User.id)).all()
        for u in users[:3]:
            u.addresses  # noqa: B018
        with pytest.raises(NPlusOneError, match=r"selectinload\(User\.addresses\)"):
            users[3].addresses  # noqa: B018


def test_n_plus_one_objects_of_different_queries_do_not_add_up(data):
    with Session(data, n_plus_one="raise") as s:
        for uid in (1, 2, 3, 4):
            u = s.scalars(select(User).where(User.id == uid)).one()
            assert [a.id for a in u.addresses] == ADDRESSES[uid]
        for uid in (1, 2, 3, 4):
            s.expunge_all()
            assert [a.id for a in s.get(User, uid).addresses] == ADDRESSES[uid]


def test_n_plus_one_not_reported_for_eager_loaded_relationships(data):
    with Session(data, n_plus_one="raise") as s:
        users = s.scalars(
            select(User).order_by(User.id).options(selectinload(User.addresses))
        ).all()
        check_users_addresses(users)
        teams = s.scalars(select(Team)).unique().all()
        assert all(t.players is not None and t.badges is not None for t in teams)


def test_n_plus_one_many_to_one(data):
    with Session(data, n_plus_one="warn") as s:
        addrs = s.scalars(select(Address).where(Address.id.in_([10, 20, 30]))).all()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert sorted(a.user.name for a in addrs) == ["ann", "bob", "cat"]
        found = nplus_one_warnings(caught)
        assert found
        message = str(found[0].message)
        assert "Address.user" in message
        assert "joinedload(Address.user)" in message or "selectinload(Address.user)" in message


def test_n_plus_one_not_reported_when_many_to_one_needs_no_sql(data, count_statements):
    """Many-to-one targets already in the identity map cost no SQL: no N+1."""
    with Session(data, n_plus_one="raise") as s:
        users = s.scalars(select(User)).all()
        addrs = s.scalars(select(Address).where(Address.user_id.is_not(None))).all()
        with count_statements(data) as log:
            assert all(a.user in users for a in addrs)
        assert log.count == 0


def test_n_plus_one_among_objects_loaded_by_a_selectin_load(data):
    with Session(data, n_plus_one="warn") as s:
        users = s.scalars(select(User).options(selectinload(User.posts))).all()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for u in users:
                for p in u.posts:
                    p.comments  # noqa: B018
        found = nplus_one_warnings(caught)
        assert found and "Post.comments" in str(found[0].message)


def test_n_plus_one_invalid_mode_raises_argument_error(db):
    with pytest.raises(se_exc.ArgumentError, match="n_plus_one"):
        Session(db, n_plus_one="loud")


# =========================================================================== DONE-WHEN
N_PARENTS = 1000
N_CHILDREN = 10


@pytest.fixture
def big(db):
    """1,000 users with 10 addresses each."""
    with db.begin() as conn:
        conn.execute(
            insert(T["User"]), [{"id": i, "name": f"u{i}"} for i in range(1, N_PARENTS + 1)]
        )
        conn.execute(
            insert(T["Address"]),
            [
                {"id": i * 100 + j, "user_id": i, "email": f"{i}-{j}@x"}
                for i in range(1, N_PARENTS + 1)
                for j in range(N_CHILDREN)
            ],
        )
    return db


def check_big(users_list) -> None:
    assert len(users_list) == N_PARENTS
    assert len({id(u) for u in users_list}) == N_PARENTS
    assert sorted(u.id for u in users_list) == list(range(1, N_PARENTS + 1))
    for u in users_list:
        assert len(u.addresses) == N_CHILDREN
        assert sorted(a.id for a in u.addresses) == [u.id * 100 + j for j in range(N_CHILDREN)]
        for a in u.addresses:
            assert a.user_id == u.id
            assert a.user is u  # many-to-one back: identity map, no SQL


@pytest.mark.parametrize("api", ["select", "query"])
def test_done_when_selectinload_1000_parents_exactly_two_selects(big, count_statements, api):
    with Session(big) as s:
        with count_statements(big) as log:
            users = run_select(s, api, User, selectinload(User.addresses))
            check_big(users)
        assert log.count == 2, log
        assert all_selects(log)


@pytest.mark.parametrize("api", ["select", "query"])
def test_done_when_joinedload_1000_parents_exactly_one_select(big, count_statements, api):
    with Session(big) as s:
        with count_statements(big) as log:
            users = run_select(s, api, User, joinedload(User.addresses))
            check_big(users)
        assert log.count == 1, log
        assert all_selects(log)


def test_joined_collection_has_no_duplicates_when_the_query_repeats_rows(data):
    """A join of the query itself (User x Post) repeats each user's rows; the
    joined-in addresses must still be listed once each, in order."""
    with Session(data) as s:
        expected = {
            u.id: [a.id for a in u.addresses]
            for u in s.scalars(select(User).options(selectinload(User.addresses))).all()
        }
    with Session(data) as s:
        users = s.scalars(
            select(User).join(Post, Post.author_id == User.id)
            .options(joinedload(User.addresses)).order_by(User.id)
        ).unique().all()
        assert users, "the fixture has users with posts"
        repeated = [u for u in users if len(u.posts) > 1 and len(u.addresses) >= 1]
        assert repeated, "the fixture has a user whose rows the join repeats"
        for u in users:
            assert [a.id for a in u.addresses] == expected[u.id]


# --------------------------------------------------------------------------- lazy load + autoflush


@pytest.fixture
def library_db(engine):
    return create_library(engine)


def test_many_to_one_lazy_load_autoflushes_pending_target(library_db):
    """strategies.lazy_load runs the many-to-one get under no_autoflush, so a
    foreign key that points at a pending object loads None; the None is cached
    in the object's __dict__ and is still returned after the flush. SQLAlchemy
    autoflushes before the lazy load and returns the new Author."""
    with Session(library_db) as s:
        s.add(Book(id=1, title="t"))
        s.commit()
        book = s.get(Book, 1)
        new_author = Author(id=2, name="b")
        s.add(new_author)
        book.author_id = 2
        assert book.author is new_author
        s.flush()
        assert book.author is new_author


# ----------------------------------------------------------- joined eager: parents spread over rows
JBase = declarative_base()


class Parent(JBase):
    __tablename__ = "rv3_parents"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))
    kids = relationship("Kid", back_populates="parent", order_by="Kid.id")


class Kid(JBase):
    __tablename__ = "rv3_kids"
    id = Column(Integer, primary_key=True)
    parent_id = Column(ForeignKey("rv3_parents.id"))
    name = Column(String(20))
    parent = relationship("Parent", back_populates="kids")


def _fill(engine):
    JBase.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([Parent(id=i, name=f"p{i}") for i in range(1, 5)])
        s.flush()
        s.add_all([Kid(id=10 * p + k, parent_id=p, name=f"k{p}{k}") for p in (1, 2, 4)
                   for k in range(3)])
        s.commit()


def test_joined_eager_non_adjacent_parents_and_childless(engine):
    _fill(engine)
    with Session(engine) as s:
        # order by kid name desc interleaves parents; parent 3 has no kids
        stmt = (select(Parent).options(joinedload(Parent.kids))
                .order_by(Parent.id % 2, Parent.id))
        parents = s.scalars(stmt).unique().all()
        assert [p.id for p in parents] == [2, 4, 1, 3]
        assert {p.id: [k.id for k in p.kids] for p in parents} == {
            1: [10, 11, 12], 2: [20, 21, 22], 3: [], 4: [40, 41, 42]}


def test_joined_eager_many_to_one_keeps_every_row(engine):
    _fill(engine)
    with Session(engine) as s:
        kids = s.scalars(select(Kid).options(joinedload(Kid.parent)).order_by(Kid.id)).all()
        assert [k.id for k in kids] == [10, 11, 12, 20, 21, 22, 40, 41, 42]
        assert all(k.parent.id == k.parent_id for k in kids)


def test_joined_eager_populate_existing_refreshes_collection(engine):
    _fill(engine)
    with Session(engine) as s:
        p = s.get(Parent, 1)
        assert len(p.kids) == 3
        s.connection().execute(text("DELETE FROM rv3_kids WHERE id = 11"))
        got = s.scalars(select(Parent).where(Parent.id == 1).options(joinedload(Parent.kids))
                        .execution_options(populate_existing=True)).unique().all()
        assert got == [p]
        assert [k.id for k in p.kids] == [10, 12]


# =========================================================================== option features
# defaultload, Load, "*" wildcards, .and_() criteria, sticky options below lazy
# loads, subqueryload / immediateload, populate_existing resetting relationships


def _loaded_keys(obj) -> list[str]:
    return sorted(k for k in ("addresses", "posts", "profile") if k in obj.__dict__)


def test_defaultload_reaches_options_below_a_lazy_relationship(data, count_statements):
    from session_ext import defaultload

    with Session(data) as s:
        with count_statements(data) as log:
            users = s.scalars(select(User).order_by(User.id).options(
                defaultload(User.posts).selectinload(Post.comments))).all()
        assert log.count == 1 and "posts" not in users[0].__dict__
        posts = users[0].posts  # lazy, with its comments loaded by the same load
        assert all("comments" in p.__dict__ for p in posts)
        assert [len(p.comments) for p in posts] == [2, 1]


def test_load_options_groups_several_sub_options(data, count_statements):
    from session_ext import defaultload

    with Session(data) as s:
        users = s.scalars(select(User).where(User.id == 1).options(
            defaultload(User.posts).options(selectinload(Post.comments),
                                            selectinload(Post.tags)))).all()
        with count_statements(data) as log:
            posts = users[0].posts  # the posts, then their comments and tags
            assert [(len(p.comments), len(p.tags)) for p in posts] == [(2, 2), (1, 1)]
        assert log.count == 3


def test_wildcard_raiseload_and_bound_wildcards(data):
    from session_ext import Load

    with Session(data) as s:
        user = s.scalars(select(User).where(User.id == 1).options(
            selectinload(User.posts), raiseload("*"))).one()
        assert len(user.posts) == 2
        with pytest.raises(se_exc.InvalidRequestError):
            _ = user.addresses
        with pytest.raises(se_exc.InvalidRequestError):
            _ = user.posts[0].comments  # unbound "*" applies below too
        s.expunge_all()
        user = s.scalars(select(User).where(User.id == 1).options(
            selectinload(User.posts), Load(User).raiseload("*"))).one()
        with pytest.raises(se_exc.InvalidRequestError):
            _ = user.addresses
        assert len(user.posts[0].comments) == 2  # bound to User only
        s.expunge_all()
        user = s.scalars(select(User).where(User.id == 1).options(
            selectinload(User.posts).raiseload("*"))).one()
        assert len(user.addresses) == 3
        with pytest.raises(se_exc.InvalidRequestError):
            _ = user.posts[0].comments


def test_wildcard_lazyload_overrides_eager_defaults_but_not_explicit_options(
        data, count_statements):
    with Session(data) as s:
        with count_statements(data) as log:
            teams = s.scalars(select(Team).order_by(Team.id).options(lazyload("*"))).all()
        assert log.count == 1
        assert all("players" not in t.__dict__ and "badges" not in t.__dict__ for t in teams)
        s.expunge_all()
        teams = s.scalars(select(Team).order_by(Team.id).options(
            lazyload("*"), joinedload(Team.badges))).unique().all()
        assert all("badges" in t.__dict__ and "players" not in t.__dict__ for t in teams)


def test_loader_option_criteria(data):
    with Session(data) as s:
        for opt in (selectinload, joinedload, lazyload):
            users = s.scalars(select(User).order_by(User.id).options(
                opt(User.addresses.and_(Address.id > 10)))
                .execution_options(populate_existing=True)).unique().all()
            assert [[a.id for a in u.addresses] for u in users] == [
                [11, 12], [20, 21], [30], []], opt


def test_sticky_lazy_options_survive_expiry(data, count_statements):
    with Session(data) as s:
        user = s.scalars(select(User).where(User.id == 1).options(
            lazyload(User.posts).selectinload(Post.comments))).one()
        assert all("comments" in p.__dict__ for p in user.posts)
        s.expire_all()
        with count_statements(data) as log:
            posts = user.posts
        assert all("comments" in p.__dict__ for p in posts)
        assert log.count == 3  # the user's columns, the posts, their comments


def test_subqueryload_and_immediateload(data, count_statements):
    from session_ext import immediateload, subqueryload

    with Session(data) as s:
        users = s.scalars(select(User).order_by(User.id).options(
            subqueryload(User.addresses))).all()
        check_users_addresses(users)
        s.expunge_all()
        addresses = s.scalars(select(Address).where(Address.id < 20).order_by(Address.id)
                              .options(immediateload(Address.user))).all()
        with count_statements(data) as log:
            assert [a.user.name for a in addresses] == ["ann"] * 3
        assert log.count == 0


def test_populate_existing_resets_loaded_lazy_relationships(data):
    with Session(data) as s:
        user = s.get(User, 1)
        assert len(user.addresses) == 3
        s.connection().execute(text("DELETE FROM ls_addresses WHERE id = 12"))
        s.scalars(select(User).where(User.id == 1)).all()
        assert len(user.addresses) == 3  # loaded values are kept ...
        s.scalars(select(User).where(User.id == 1)
                  .execution_options(populate_existing=True)).all()
        assert [a.id for a in user.addresses] == [10, 11]  # ... unless populate_existing


def test_inner_joined_load_below_an_outer_one_is_nested(data):
    with Session(data) as s:
        users = s.scalars(select(User).order_by(User.id).options(
            joinedload(User.posts).joinedload(Post.tags, innerjoin=True))).unique().all()
        # every user is kept; only posts that have tags are in the collections
        assert [(u.id, [p.id for p in u.posts]) for u in users] == [
            (1, [1, 2]), (2, []), (3, []), (4, [])]


def test_relationship_join_starts_at_its_parent_after_select_from(data):
    with Session(data) as s:
        stmt = select(Address).select_from(User).join(Address.user).where(User.name == "bob")
        assert [a.id for a in s.scalars(stmt.order_by(Address.id))] == [20, 21]


def test_relationship_innerjoin_makes_joined_loads_inner(engine):
    class IBase(DeclarativeBase):
        pass

    class Owner(IBase):
        __tablename__ = "ls_inner_owners"
        id = Column(Integer, primary_key=True)

    class Pet(IBase):
        __tablename__ = "ls_inner_pets"
        id = Column(Integer, primary_key=True)
        owner_id = Column(ForeignKey("ls_inner_owners.id"))
        owner = relationship(Owner, lazy="joined", innerjoin=True)

    IBase.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([Pet(id=1, owner=Owner(id=1)), Pet(id=2)])
        s.commit()
        assert [p.id for p in s.scalars(select(Pet))] == [1]  # the INNER JOIN drops pet 2
        assert [p.id for p in s.scalars(select(Pet).options(
            joinedload(Pet.owner, innerjoin=False)).order_by(Pet.id))] == [1, 2]


def test_unloaded_lists_unloaded_relationships(data):
    from session_ext import inspect

    with Session(data) as s:
        user = s.get(User, 1)
        assert {"addresses", "posts", "profile"} <= inspect(user).unloaded
        _ = user.addresses
        assert "addresses" not in inspect(user).unloaded
        assert "name" not in inspect(user).unloaded


def test_default_eager_loading_stops_at_a_class_already_on_the_path(engine):

    from session_ext import Mapped, inspect, mapped_column

    class PBase(DeclarativeBase):
        pass

    class Node(PBase):
        __tablename__ = "ls_path_nodes"
        id: Mapped[int] = mapped_column(primary_key=True)
        parent_id: Mapped[int | None] = mapped_column(ForeignKey("ls_path_nodes.id"))
        children = relationship("Node", lazy="selectin")

    class Box(PBase):
        __tablename__ = "ls_path_boxes"
        id: Mapped[int] = mapped_column(primary_key=True)
        items = relationship("Thing", lazy="selectin", back_populates="box")

    class Thing(PBase):
        __tablename__ = "ls_path_things"
        id: Mapped[int] = mapped_column(primary_key=True)
        box_id: Mapped[int] = mapped_column(ForeignKey("ls_path_boxes.id"))
        box = relationship(Box, lazy="selectin", back_populates="items")

    PBase.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([Node(children=[Node()]), Box(items=[Thing()])])
        s.commit()
    with Session(engine) as s:
        nodes = s.scalars(select(Node)).all()
        assert all("children" in inspect(n).unloaded for n in nodes)  # as SQLAlchemy's
        [thing] = s.scalars(select(Thing)).all()
        assert "box" not in inspect(thing).unloaded
        assert "items" in inspect(thing.box).unloaded  # Thing is on the path already


def test_lazy_loaded_objects_do_not_eager_load_back_to_their_parent(engine):
    from session_ext import Mapped, inspect, mapped_column

    class LBase(DeclarativeBase):
        pass

    class Shelf(LBase):
        __tablename__ = "ls_path_shelves"
        id: Mapped[int] = mapped_column(primary_key=True)
        books = relationship("Book", back_populates="shelf")

    class Book(LBase):
        __tablename__ = "ls_path_books"
        id: Mapped[int] = mapped_column(primary_key=True)
        shelf_id: Mapped[int] = mapped_column(ForeignKey("ls_path_shelves.id"))
        shelf = relationship(Shelf, lazy="selectin", back_populates="books")

    LBase.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(Shelf(books=[Book(), Book()]))
        s.commit()
    with Session(engine) as s:
        shelf = s.scalars(select(Shelf)).one()
        assert all("shelf" in inspect(b).unloaded for b in shelf.books)  # as SQLAlchemy's
        assert shelf.books[0].shelf is shelf
