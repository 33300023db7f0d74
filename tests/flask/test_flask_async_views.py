"""``async def`` views get ``db.async_session``, removed at app-context teardown."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import Column, ForeignKey, Integer, String, func, select

from session_ext import selectinload
from session_ext.flask import SessionExt

db = SessionExt()


class Author(db.Model):
    __tablename__ = "async_author"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    books = db.relationship("Book", back_populates="author")


class Book(db.Model):
    __tablename__ = "async_book"
    id = Column(Integer, primary_key=True)
    author_id = Column(ForeignKey("async_author.id"))
    title = Column(String(50))
    author = db.relationship("Author", back_populates="books")


SEEN: list = []


def make_app(uri: str, **config) -> Flask:
    app = Flask(__name__)
    app.config.update(SESSION_EXT_DATABASE_URI=uri, **config)
    db.init_app(app)

    @app.get("/authors/<int:pk>")
    async def show(pk: int):
        session = db.async_session()
        SEEN.append(session)
        author = await session.scalar(
            select(Author).where(Author.id == pk).options(selectinload(Author.books))
        )
        return {"name": author.name, "books": [b.title for b in author.books]}

    @app.post("/authors")
    async def create():
        db.async_session.add(Author(name="new", books=[Book(title="t")]))
        await db.async_session.flush()
        count = await db.async_session.scalar(select(func.count(Author.id)))
        return {"count": count}

    @app.post("/authors/commit")
    async def create_commit():
        db.async_session.add(Author(name="kept"))
        await db.async_session.commit()
        return {"ok": True}

    @app.get("/lazy/<int:pk>")
    async def lazy(pk: int):
        author = await db.async_session.get(Author, pk)
        return {"books": len(author.books)}  # a lazy load outside an await

    with app.app_context():
        db.create_all()
        db.session.add(Author(name="ann", books=[Book(title="a"), Book(title="b")]))
        db.session.commit()
    return app


@pytest.fixture(params=["sqlite_file", "postgresql"])
def uri(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "postgresql":
        engine = request.getfixturevalue("pg_engine")
        url = engine.url.set(drivername="postgresql+psycopg_async")
        return url.render_as_string(hide_password=False)
    return f"sqlite+aiosqlite:///{tmp_path / 'app.sqlite3'}"


def authors(app: Flask) -> list[str]:
    with app.app_context():
        return db.session.scalars(select(Author.name).order_by(Author.id)).all()


def test_async_views_on_an_async_uri(uri: str):
    SEEN.clear()
    app = make_app(uri)
    client = app.test_client()
    assert client.get("/authors/1").json == {"name": "ann", "books": ["a", "b"]}
    assert client.get("/authors/1").status_code == 200
    assert len(SEEN) == 2 and SEEN[0] is not SEEN[1]
    assert all(not s.in_transaction() and not list(s) for s in SEEN)  # removed, closed
    assert client.post("/authors").json == {"count": 2}  # its own flush: seen
    assert authors(app) == ["ann"]  # not committed: rolled back at teardown
    assert client.post("/authors/commit").json == {"ok": True}
    assert authors(app) == ["ann", "kept"]
    with app.app_context():
        assert db.engine.dialect.is_async is False  # db.engine: the blocking driver
        assert not db.async_session.has()


def test_lazy_load_in_an_async_view_is_a_clear_error(uri: str):
    app = make_app(uri)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(Exception, match=r"'Author\.books'.*awaitable_attrs"):
        app.test_client().get("/lazy/1")
    with app.app_context():
        assert not db.async_session.has()


def test_commit_on_teardown(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'sync-uri.sqlite3'}",
                   SESSION_EXT_COMMIT_ON_TEARDOWN=True)  # a blocking URI: its async twin
    assert app.test_client().post("/authors").json == {"count": 2}
    assert authors(app) == ["ann", "new"]


def test_the_example_apps_async_route(tmp_path):
    from example_apps.flask_app import create_app

    app = create_app({"SESSION_EXT_DATABASE_URI": f"sqlite:///{tmp_path / 'ex.sqlite3'}",
                      "SEED_DEMO_DATA": True})
    client = app.test_client()
    sync = client.get("/api/posts/1").json
    assert client.get("/api/async/posts/1").json == sync
    missing = client.get("/api/async/posts/9999")
    assert missing.status_code == 404 and missing.json["error"] == "Not Found"
