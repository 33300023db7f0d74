"""flaskr's blog pages: the index, and creating, editing and deleting posts
with their login, author and existence checks."""

import pytest
from flaskr import db
from flaskr.auth.models import User
from flaskr.blog.models import Post


def test_index_lists_posts_and_the_edit_link_for_their_author(client, auth):
    text = client.get("/").text
    assert "Log In" in text and "Register" in text
    auth.login()
    text = client.get("/").text
    assert "test title" in text
    assert "by test on 2018-01-01" in text
    assert "test\nbody" in text
    assert 'href="/1/update"' in text
    assert "Log Out" in text


@pytest.mark.parametrize("path", ["/create", "/1/update", "/1/delete"])
def test_writing_requires_login(client, path):
    assert client.post(path).headers["Location"] == "/auth/login"


def test_only_the_author_may_change_a_post(app, client, auth):
    with app.app_context():
        db.session.get(Post, 1).author = db.session.get(User, 2)
        db.session.commit()
    auth.login()
    assert client.post("/1/update").status_code == 403
    assert client.post("/1/delete").status_code == 403
    assert 'href="/1/update"' not in client.get("/").text


@pytest.mark.parametrize("path", ["/2/update", "/2/delete"])
def test_a_missing_post_is_404_with_its_description(client, auth, path):
    auth.login()
    response = client.post(path)
    assert response.status_code == 404
    assert "Post id 2 doesn" in response.text


def test_create_adds_a_post(client, auth, app):
    auth.login()
    assert client.get("/create").status_code == 200
    client.post("/create", data={"title": "created", "body": ""})
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Post.id))).scalar() == 2
        post = db.session.execute(db.select(Post).filter_by(title="created")).scalar_one()
        assert post.author.username == "test"


def test_update_changes_the_post(client, auth, app):
    auth.login()
    assert client.get("/1/update").status_code == 200
    client.post("/1/update", data={"title": "updated", "body": ""})
    with app.app_context():
        assert db.session.get(Post, 1).title == "updated"


@pytest.mark.parametrize("path", ["/create", "/1/update"])
def test_create_and_update_require_a_title(client, auth, path):
    auth.login()
    response = client.post(path, data={"title": "", "body": ""})
    assert "Title is required." in response.text


def test_delete_removes_the_post(client, auth, app):
    auth.login()
    assert client.post("/1/delete").headers["Location"] == "/"
    with app.app_context():
        assert db.session.get(Post, 1) is None
