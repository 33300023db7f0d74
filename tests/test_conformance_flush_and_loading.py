"""Flush and loading behaviour compared with SQLAlchemy's ORM (issue 11).

Most tests run one small program twice on the same database, once with
``sqlalchemy.orm`` and once with ``session_ext`` (only the imports differ, see
:func:`orm_models`), and compare what each observes.
"""

from __future__ import annotations

import functools
import warnings
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy.orm as sa_orm
from conformance import lifecycle as object_lifecycle
from conformance import raised_name, run_each
from sqlalchemy import Column, ForeignKey, Integer, String, delete, func, select
from sqlalchemy import __version__ as _sa_version
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect

import session_ext as se
from session_ext import exc as se_exc

#: SQLAlchemy 2.0's ORM differs from 2.1's (the reference) in a few places
_SA_2_0 = _sa_version.startswith("2.0.")


@functools.cache
def orm_models(kind: str) -> SimpleNamespace:
    """The same models declared with SQLAlchemy's ORM ("sa") or session_ext ("se")."""
    orm: Any = sa_orm if kind == "sa" else se

    class Base(orm.DeclarativeBase):
        pass

    class Todo(Base):
        __tablename__ = "todo"
        id = Column(Integer, primary_key=True)
        title = Column(String(50), default=None)

    class ServerTodo(Base):
        __tablename__ = "server_todo"
        id = Column(Integer, primary_key=True)
        title = Column(String(50), server_default="untitled")

    class Tag(Base):
        __tablename__ = "tag"
        name = Column(String(20), primary_key=True)
        label = Column(String(20), nullable=False)

    class Post(Base):
        __tablename__ = "post"
        id = Column(Integer, primary_key=True)
        tags = orm.relationship("PostTag", cascade="all, delete-orphan")

    class PostTag(Base):
        __tablename__ = "post_tag"
        post_id = Column(ForeignKey("post.id"), primary_key=True)
        name = Column(String(20), primary_key=True)
        label = Column(String(20), nullable=False)

    class User(Base):
        __tablename__ = "users"
        id = Column(Integer, primary_key=True)
        name = Column(String(50))
        addresses = orm.relationship("Address", back_populates="user")

    class Address(Base):
        __tablename__ = "addresses"
        id = Column(Integer, primary_key=True)
        user_id = Column(ForeignKey("users.id"))
        email = Column(String(50))
        user = orm.relationship("User", back_populates="addresses")

    return SimpleNamespace(
        kind=kind,
        orm=orm,
        Session=orm.Session,
        inspect=sa_inspect if kind == "sa" else se.inspect,
        exc=sa_orm.exc if kind == "sa" else se_exc,
        Base=Base,
        Todo=Todo,
        ServerTodo=ServerTodo,
        Tag=Tag,
        Post=Post,
        PostTag=PostTag,
        User=User,
        Address=Address,
    )


def run_both(engine: Any, program: Any) -> dict[str, Any]:
    """``program(models, engine)`` with each ORM on freshly created tables."""
    return run_each(orm_models, engine, program, drop_first=True)


def lifecycle(m: SimpleNamespace, obj: object) -> str:
    return object_lifecycle(m.inspect, obj)








# --------------------------------------------------------------------------- 1. empty rows


@pytest.mark.parametrize("model", ["Todo", "ServerTodo"])
@pytest.mark.parametrize("count", [2, 7, 1100])
def test_new_rows_without_any_column_value_insert_in_a_batch(engine, model, count):
    """Rows with no column set are INSERTed with the table's defaults (DEFAULT
    VALUES): two or more used to crash the SQLite driver-tuple batch; 1,100
    takes PostgreSQL's COPY path, a handful its multi-row RETURNING path."""

    def program(m, engine):
        cls = getattr(m, model)
        with m.Session(engine) as session:
            objs = [cls() for _ in range(count)]
            session.add_all(objs)
            session.commit()
            ids = [o.id for o in objs]
            titles = {o.title for o in objs}
            stored = session.scalar(select(func.count()).select_from(cls))
        return sorted(ids), titles, stored

    result = run_both(engine, program)
    assert result["se"] == result["sa"]
    ids, titles, stored = result["se"]
    assert ids == list(range(1, count + 1))
    assert titles == ({None} if model == "Todo" else {"untitled"})
    assert stored == count


def test_generated_keys_follow_the_order_objects_were_added(engine):
    """Rows with different column sets go in different batches, in the order
    they were added: each object gets the key SQLAlchemy's ORM gives it."""

    def program(m, engine):
        with m.Session(engine) as session:
            session.add(m.Todo(title="first"))
            session.flush()
            objs = [m.Todo(), m.Todo(), m.Todo(title="x"), m.Todo(), m.Todo(title="y"),
                    m.Todo(title="z"), m.Todo()]
            session.add_all(objs)
            session.commit()
            by_id = session.execute(select(m.Todo.id, m.Todo.title).order_by(m.Todo.id)).all()
            return [o.id for o in objs], [tuple(r) for r in by_id]

    result = run_both(engine, program)
    assert result["se"] == result["sa"]
    ids, rows = result["se"]
    assert ids == [2, 3, 4, 5, 6, 7, 8]
    assert [title for _, title in rows] == ["first", None, None, "x", None, "y", "z", None]


@functools.cache
def independent_models(kind: str) -> SimpleNamespace:
    """Six classes on six tables that do not reference each other."""
    orm: Any = sa_orm if kind == "sa" else se

    class Base(orm.DeclarativeBase):
        pass

    classes = [
        type(name, (Base,), {
            "__tablename__": f"indep_{name.lower()}",
            "id": Column(Integer, primary_key=True),
            "label": Column(String(20), nullable=False),
        })
        for name in ("Apple", "Berry", "Cherry", "Date", "Elder", "Fig")
    ]
    return SimpleNamespace(Base=Base, Session=orm.Session, classes=classes)


@pytest.mark.parametrize("failing", [0, 5])
def test_independent_tables_flush_in_class_name_order(engine, failing):
    """Where foreign keys leave the order open, tables are written in the order of
    their classes' names, as SQLAlchemy does: a flush failing on one table leaves
    the objects of the tables after it without keys. Before: set order."""

    def program(m, engine):
        objs = [cls(label=None if i == failing else "x") for i, cls in enumerate(m.classes)]
        with m.Session(engine) as session, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            session.add_all(reversed(objs))
            raised = raised_name(session.flush)
            return raised, [o.__dict__.get("id") for o in objs]

    result = run_each(independent_models, engine, program)
    assert result["se"] == result["sa"]
    assert result["se"] == ("IntegrityError", [None] * 6 if failing == 0 else [1] * 5 + [None])


# --------------------------------------------------------------------------- 2. same key again


def _seed_tag(m, engine):
    with m.Session(engine) as session:
        session.add(m.Tag(name="a", label="old"))
        session.commit()


def test_duplicate_key_insert_warns_and_raises_integrity_error_for_retry(engine):
    """A new object with the key of a persistent one: SQLAlchemy warns and lets
    the INSERT fail with IntegrityError, so the usual ``except IntegrityError:
    rollback(); retry`` pattern works; it used to be a FlushError."""

    def program(m, engine):
        _seed_tag(m, engine)
        with m.Session(engine) as session:
            held = session.get(m.Tag, "a")
            session.add(m.Tag(name="a", label="dup"))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    session.commit()
                    first = "ok"
                except sa_exc.IntegrityError:
                    first = "IntegrityError"
                    session.rollback()
            warned = [str(w.message) for w in caught if issubclass(w.category, sa_exc.SAWarning)]
            # the retry: update the existing row instead
            session.merge(m.Tag(name="a", label="merged"))
            session.commit()
            labels = session.scalars(select(m.Tag.label)).all()
            assert held.label == "merged"
        return first, len(warned), "conflicts" in " ".join(warned), labels

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == ("IntegrityError", 1, True, ["merged"])


def test_expired_holder_of_the_key_whose_row_is_gone_gives_way(engine):
    """The session still holds an expired object for key 'a' whose row another
    connection deleted: adding a new 'a' reloads the old one, finds it gone and
    INSERTs (SQLAlchemy's behaviour) instead of raising."""

    def program(m, engine):
        _seed_tag(m, engine)
        with m.Session(engine) as session:
            old = session.get(m.Tag, "a")
            session.commit()  # expires old
            with engine.begin() as conn:
                conn.execute(delete(m.Tag.__table__))
            new = m.Tag(name="a", label="new")
            session.add(new)
            session.commit()
            states = lifecycle(m, old), lifecycle(m, new)
            labels = session.scalars(select(m.Tag.label)).all()
            again = session.get(m.Tag, "a") is new
        return states, labels, again

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == (("detached", "persistent"), ["new"], True)


def test_live_holder_of_the_key_whose_row_is_gone_is_detached(engine):
    """A detached object whose INSERT was rolled back is added again after
    merge() made a new copy with its key: the copy's INSERT succeeds and owns
    the key.  Kept difference (docs/differences.md, "An object whose key a new
    object's INSERT took over is detached"): session_ext detaches the old
    object; SQLAlchemy still calls it persistent though the session no longer
    contains it."""

    def program(m, engine):
        with m.Session(engine) as session:
            old = m.Tag(name="a", label="old")
            session.add(old)
            session.flush()
            session.close()  # detached; its row rolled back
            copy = session.merge(old)
            session.add(old)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sa_exc.SAWarning)
                session.flush()
            return (lifecycle(m, old), old in session, lifecycle(m, copy),
                    session.get(m.Tag, "a") is copy)

    result = run_both(engine, program)
    assert result["sa"] == ("persistent", False, "persistent", True)
    assert result["se"] == ("detached", False, "persistent", True)


@pytest.mark.parametrize("flush_between", [False, True])
def test_rollback_after_delete_and_re_add_then_retry(engine, flush_between):
    """Delete 'a', add a new 'a' (a row switch, or DELETE then INSERT), fail
    later in the transaction, roll back, retry the same work: the retry commits,
    and objects inserted *and* deleted in the rolled back transaction are
    transient (they were reported pending with no key)."""

    def program(m, engine):
        _seed_tag(m, engine)
        seen = []
        with m.Session(engine) as session:
            for fail in (True, False):
                old = session.get(m.Tag, "a")
                session.delete(old)
                if flush_between:
                    session.flush()
                first = m.Tag(name="a", label="first")
                session.add(first)
                session.flush()
                session.delete(first)
                if flush_between:
                    session.flush()
                second = m.Tag(name="a", label="second")
                session.add(second)
                session.flush()
                session.add(m.Tag(name="b", label=None if fail else "b"))
                try:
                    session.commit()
                    seen.append("ok")
                except sa_exc.IntegrityError:
                    session.rollback()
                    seen.append(
                        (lifecycle(m, old), lifecycle(m, first), lifecycle(m, second))
                    )
            labels = session.scalars(select(m.Tag.label).order_by(m.Tag.name)).all()
        return seen, labels

    result = run_both(engine, program)
    assert result["se"] == result["sa"]
    assert result["se"] == (
        [("persistent", "transient", "transient"), "ok"],
        ["second", "b"],
    )


@pytest.mark.parametrize("flush_between", [False, True])
def test_child_replaced_in_collection_under_the_same_key(engine, flush_between, count_statements):
    """``post.tags = [PostTag(name='a')]`` replacing the loaded PostTag 'a'
    (delete-orphan): the new child's key comes from the parent at flush time;
    SQLAlchemy sees the row switch and UPDATEs. It used to INSERT first and fail
    on the duplicate key, so a rollback-and-retry failed again."""

    def program(m, engine):
        with m.Session(engine) as session:
            session.add(m.Post(id=1, tags=[m.PostTag(name="a", label="old")]))
            session.commit()
        seen = []
        with m.Session(engine) as session:
            for fail in (True, False):
                post = session.get(m.Post, 1)
                post.tags = [m.PostTag(name="a", label="new")]
                if flush_between:
                    session.flush()
                post.tags.append(m.PostTag(name="b", label=None if fail else "b"))
                try:
                    with count_statements(engine) as stmts:
                        session.commit()
                    seen.append(sorted(s.split()[0] for s in stmts.statements
                                       if not s.startswith(("COMMIT", "BEGIN"))))
                except sa_exc.IntegrityError as err:
                    seen.append(str(err.orig).split(":")[0].split()[0])
                    session.rollback()
            rows = session.execute(
                select(m.PostTag.post_id, m.PostTag.name, m.PostTag.label).order_by(m.PostTag.name)
            ).all()
        return seen, [tuple(r) for r in rows]

    result = run_both(engine, program)
    assert result["se"][1] == result["sa"][1] == [(1, "a", "new"), (1, "b", "b")]
    assert result["se"][0][1] == result["sa"][0][1]


# --------------------------------------------------------------------------- 3. misuse


def _seed_users(m, engine, count=2):
    with m.Session(engine) as session:
        for i in range(1, count + 1):
            user = m.User(id=i, name=f"u{i}")
            user.addresses = [m.Address(id=i, email=f"u{i}@x")]
            session.add(user)
        session.commit()


@pytest.mark.parametrize("how", ["add", "add_all"])
def test_add_after_delete_cancels_the_deletion(engine, how):
    """``delete(obj)`` then ``add(obj)`` before a flush: SQLAlchemy forgets the
    deletion; it used to be kept silently and the row was deleted."""

    def program(m, engine):
        _seed_users(m, engine)
        with m.Session(engine) as session:
            user = session.get(m.User, 1)
            session.delete(user)
            if how == "add":
                session.add(user)
            else:
                session.add_all([user])
            pending_deletes = len(session.deleted)
            session.commit()
            names = session.scalars(select(m.User.name).order_by(m.User.id)).all()
        return pending_deletes, names

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == (0, ["u1", "u2"])


def test_add_after_flushed_delete_raises(engine):
    def program(m, engine):
        _seed_users(m, engine)
        with m.Session(engine) as session:
            user = session.get(m.User, 1)
            session.delete(user)
            session.flush()
            return raised_name(lambda: session.add(user)), lifecycle(m, user)

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == ("InvalidRequestError", "deleted")


@pytest.mark.parametrize("method", ["expire", "expire_attr", "refresh"])
@pytest.mark.parametrize("what", ["pending", "deleted", "detached", "transient", "other_session"])
def test_expire_and_refresh_need_an_object_persistent_in_this_session(engine, method, what):
    def program(m, engine):
        _seed_users(m, engine)
        with m.Session(engine) as session, m.Session(engine) as other:
            if what == "pending":
                obj = m.User(id=9, name="new")
                session.add(obj)
            elif what == "deleted":
                obj = session.get(m.User, 1)
                session.delete(obj)
                session.flush()
            elif what == "detached":
                obj = session.get(m.User, 1)
                session.expunge(obj)
            elif what == "transient":
                obj = m.User(id=9, name="new")
            else:
                obj = other.get(m.User, 1)
            if method == "expire":
                call = lambda: session.expire(obj)  # noqa: E731
            elif method == "expire_attr":
                call = lambda: session.expire(obj, ["name"])  # noqa: E731
            else:
                call = lambda: session.refresh(obj)  # noqa: E731
            try:
                call()
            except sa_exc.InvalidRequestError as err:
                return "InvalidRequestError", (
                    "is not persistent within this Session" in str(err)
                )
            return "ok", obj.name

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == ("InvalidRequestError", True)


def test_pending_object_reads_unloaded_attribute_as_none(engine):
    """A persistent object expired, made transient and added again: its
    unloaded attributes read as None (nothing to load them from), as in
    SQLAlchemy, and the flush inserts it."""

    def program(m, engine):
        _seed_users(m, engine, count=1)
        make_transient = m.orm.make_transient
        with m.Session(engine) as session:
            user = session.get(m.User, 1)
            session.expire(user, ["name"])
            make_transient(user)
            user.id = 5
            session.add(user)
            name = user.name
            session.commit()
            rows = session.execute(select(m.User.id, m.User.name).order_by(m.User.id)).all()
        return name, [tuple(r) for r in rows]

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == (None, [(1, "u1"), (5, None)])


# --------------------------------------------------------------------------- 4. merge(load=False)


@pytest.mark.parametrize(
    "what", ["transient_with_key", "transient", "pending", "dirty_detached", "same_value_set"]
)
def test_merge_load_false_rejects_objects_with_unflushed_state(engine, what):
    """SQLAlchemy's merge(load=False) takes only objects as loaded: transient
    and pending ones (even with a primary key) and detached ones with any
    attribute set since loading raise InvalidRequestError, and nothing is
    attached."""

    def program(m, engine):
        _seed_users(m, engine)
        with m.Session(engine) as session:
            if what == "transient_with_key":
                obj = m.User(id=1, name="x")
            elif what == "transient":
                obj = m.User(name="x")
            elif what == "pending":
                obj = m.User(id=7, name="x")
                session.add(obj)
            else:
                with m.Session(engine) as loader:
                    obj = loader.get(m.User, 1)
                obj.name = "u1" if what == "same_value_set" else "changed"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sa_exc.SAWarning)  # SA: "already pending"
                raised = raised_name(lambda: session.merge(obj, load=False))
            in_map = [type(o).__name__ for o in session.identity_map.values()]
        return raised, in_map

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == ("InvalidRequestError", [])


def test_merge_load_false_accepts_clean_detached_objects(engine, count_statements):
    def program(m, engine):
        _seed_users(m, engine)
        with m.Session(engine) as loader:
            detached = loader.get(m.User, 1)
            detached.name  # noqa: B018 - loaded
        with m.Session(engine) as session:
            with count_statements(engine) as stmts:
                merged = session.merge(detached, load=False)
            return merged is not detached, merged.name, lifecycle(m, merged), len(stmts)

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == (True, "u1", "persistent", 0)


# --------------------------------------------------------------------------- 5. get() arguments


def _selects(stmts):
    return [s for s in stmts.statements if s.lstrip().upper().startswith("SELECT")]


def test_get_with_joinedload_runs_one_query(engine, count_statements):
    def program(m, engine):
        _seed_users(m, engine)
        with m.Session(engine) as session:
            with count_statements(engine) as stmts:
                user = session.get(m.User, 1, options=[m.orm.joinedload(m.User.addresses)])
                emails = [a.email for a in user.addresses]
            return emails, len(_selects(stmts)), "JOIN" in _selects(stmts)[0].upper()

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == (["u1@x"], 1, True)


def test_get_with_raiseload_raises_on_access(engine):
    def program(m, engine):
        _seed_users(m, engine)
        with m.Session(engine) as session:
            user = session.get(m.User, 1, options=[m.orm.raiseload(m.User.addresses)])
            return raised_name(lambda: user.addresses)

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == "InvalidRequestError"


def test_get_with_options_returns_identity_map_object_without_sql(engine, count_statements):
    """Options do not force a load: an object already in the identity map is
    returned as it is; populate_existing=True reloads it with the options."""

    def program(m, engine):
        _seed_users(m, engine)
        with m.Session(engine) as session:
            user = session.get(m.User, 1)
            with count_statements(engine) as stmts:
                again = session.get(m.User, 1, options=[m.orm.joinedload(m.User.addresses)])
            hit = (again is user, len(stmts))
            with count_statements(engine) as stmts:
                session.get(
                    m.User, 1, options=[m.orm.joinedload(m.User.addresses)],
                    populate_existing=True,
                )
                emails = [a.email for a in user.addresses]
            return hit, emails, len(_selects(stmts))

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == ((True, 0), ["u1@x"], 1)


@pytest.mark.parametrize("argument", [None, False])
def test_get_populate_existing_from_execution_options(engine, argument):
    """``execution_options={"populate_existing": True}`` reloads (after the
    autoflush) like the argument; an explicit ``populate_existing=False`` wins."""

    def program(m, engine):
        _seed_users(m, engine)
        with m.Session(engine) as session:
            user = session.get(m.User, 1)
            user.name = "unflushed"
            kw = {} if argument is None else {"populate_existing": argument}
            got = session.get(m.User, 1, execution_options={"populate_existing": True}, **kw)
            return got is user, user.name, user in session.dirty

    result = run_both(engine, program)
    if not _SA_2_0:  # SQLAlchemy 2.0's ORM ignores the option here; 2.1's is the reference
        assert result["se"] == result["sa"]
    assert result["se"] == (True, "unflushed", argument is False)


def test_get_execution_options_reach_the_statement(engine):
    seen = []

    def program(m, engine):
        _seed_users(m, engine)
        from sqlalchemy import event

        def listener(conn, clauseelement, multiparams, params, execution_options):
            seen.append((m.kind, execution_options.get("logging_token")))

        event.listen(engine, "before_execute", listener)
        try:
            with m.Session(engine) as session:
                session.get(m.User, 1, execution_options={"logging_token": "tok"})
        finally:
            event.remove(engine, "before_execute", listener)
        return [tok for kind, tok in seen if kind == m.kind]

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == ["tok"]


def test_get_identity_token_is_refused():
    """SQLAlchemy's identity tokens exist for horizontal sharding, which
    session_ext does not have (docs/differences.md)."""
    with se.Session() as session:
        with pytest.raises(se_exc.ArgumentError, match="identity_token"):
            session.get(orm_models("se").User, 1, identity_token="shard1")
        # None is the token every key has: accepted
        assert session.get(orm_models("se").User, None, identity_token=None) is None


@pytest.mark.parametrize(
    "lock", [True, {"nowait": True}, {"read": True}], ids=["true", "nowait", "read"]
)
def test_get_and_refresh_with_for_update_render_the_lock(pg_engine, count_statements, lock):
    from sqlalchemy.sql.selectable import ForUpdateArg

    def program(m, engine):
        _seed_users(m, engine)
        out = []
        with m.Session(engine) as session:
            for call in (
                lambda: session.get(m.User, 1, with_for_update=lock),
                lambda: session.refresh(session.get(m.User, 1), with_for_update=lock),
                lambda: session.refresh(
                    session.get(m.User, 1),
                    with_for_update=ForUpdateArg(**(lock if isinstance(lock, dict) else {})),
                ),
            ):
                with count_statements(engine) as stmts:
                    call()
                sql = " ".join(_selects(stmts)[-1].split())
                out.append(sql[sql.rindex(" FOR "):] if " FOR " in sql else "no lock")
        return out

    result = run_both(pg_engine, program)
    assert result["se"] == result["sa"]
    assert all(tail.startswith(" FOR ") for tail in result["se"])


def test_merge_options_apply_to_the_load(engine, count_statements):
    def program(m, engine):
        _seed_users(m, engine)
        with m.Session(engine) as session:
            merged = session.merge(
                m.User(id=1, name="merged"), options=[m.orm.selectinload(m.User.addresses)]
            )
            with count_statements(engine) as stmts:
                emails = [a.email for a in merged.addresses]
            return merged.name, emails, len(stmts)

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == ("merged", ["u1@x"], 0)


# --------------------------------------------------------------------------- 6. eager SQL shown


def test_eager_statement_shows_the_joined_eager_join():
    """SQLAlchemy's str(select(...).options(joinedload(...))) shows the LEFT
    OUTER JOIN; session_ext adds it at execution time, so the plain select
    does not (docs/differences.md) and ``eager_statement()`` (also used by
    ``str(Query)``) shows what will run."""
    sa_m, se_m = orm_models("sa"), orm_models("se")
    sa_sql = str(select(sa_m.Address).options(sa_orm.joinedload(sa_m.Address.user)))
    stmt = select(se_m.Address).options(se.joinedload(se_m.Address.user))
    se_sql = str(se.eager_statement(stmt))
    for sql in (sa_sql, se_sql):
        assert "LEFT OUTER JOIN users AS users_1 ON users_1.id = addresses.user_id" in sql
    plain = select(se_m.Address)
    assert se.eager_statement(plain) is plain
    with se.Session() as session:
        query = session.query(se_m.User).options(se.joinedload(se_m.User.addresses))
        assert "LEFT OUTER JOIN addresses" in str(query)


def test_eager_statement_is_what_execute_runs(engine, count_statements):
    m = orm_models("se")
    m.Base.metadata.create_all(engine)
    _seed_users(m, engine)
    stmt = select(m.Address).options(se.joinedload(m.Address.user)).order_by(m.Address.id)
    with se.Session(engine) as session, count_statements(engine) as stmts:
        rows = session.scalars(stmt).all()
        assert [a.user.name for a in rows] == ["u1", "u2"]
    shown = str(se.eager_statement(stmt).compile(dialect=engine.dialect))
    assert [" ".join(s.split()) for s in _selects(stmts)] == [" ".join(shown.split())]
    assert "LEFT OUTER JOIN" in shown


def _raised_class(fn: Any) -> str:
    try:
        fn()
    except sa_exc.SQLAlchemyError as err:
        return type(err).__name__
    return "ok"


def test_flush_loads_an_expired_object_it_updates_or_deletes(engine):
    """SQLAlchemy reads the primary key of each object it UPDATEs or DELETEs;
    an expired one is loaded first (its unchanged attributes, one SELECT), and
    a row that is gone raises ObjectDeletedError there."""

    def program(m, engine):
        with m.Session(engine) as session:
            session.add_all([m.User(name="a"), m.User(name="b"), m.User(name="c")])
            session.commit()
            one, two, three = session.scalars(select(m.User).order_by(m.User.id)).all()
            session.commit()  # expires all three
            one.name = "z"
            session.delete(two)
            session.flush()
            loaded = sorted(k for k in one.__dict__ if not k.startswith("_")), sorted(
                k for k in two.__dict__ if not k.startswith("_") and k != "addresses")
            session.commit()
            with engine.begin() as conn:
                conn.execute(delete(m.User.__table__).where(m.User.id == 3))
            three.name = "gone"
            gone = _raised_class(session.flush)
        return loaded, gone

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == ((["id", "name"], ["id", "name"]), "ObjectDeletedError")


def test_setting_an_expired_primary_key_loads_it_first(engine):
    def program(m, engine):
        _seed_tag(m, engine)
        with m.Session(engine) as session:
            tag = session.get(m.Tag, "a")
            session.commit()
            tag.name = "b"
            loaded = sorted(k for k in tag.__dict__ if not k.startswith("_"))
            session.commit()
            with engine.begin() as conn:
                conn.execute(delete(m.Tag.__table__))
            gone = _raised_class(lambda: setattr(tag, "name", "c"))
        return loaded, gone

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == (["label", "name"], "ObjectDeletedError")


def test_flush_loads_expired_objects_it_deletes_before_its_first_statement(engine):
    """An object to DELETE whose key is expired, of a class with relationships:
    SQLAlchemy's flush reads its relationships' history before any statement,
    which loads the object; a row that is gone fails the flush before the
    INSERT of a new object added with it, which so gets no key."""

    def program(m, engine):
        with m.Session(engine) as session:
            session.add(m.Address(email="e"))
            session.commit()
            address = session.get(m.Address, 1)
            session.commit()  # expires it
            with engine.begin() as conn:
                conn.execute(delete(m.Address.__table__))
            session.delete(address)
            user = m.User(name="new")
            session.add(user)
            gone = _raised_class(session.flush)
            return gone, user.__dict__.get("id"), lifecycle(m, user)

    result = run_both(engine, program)
    assert result["se"] == result["sa"] == ("ObjectDeletedError", None, "transient")
