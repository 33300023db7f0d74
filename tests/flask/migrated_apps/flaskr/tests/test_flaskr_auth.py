"""flaskr's registration, login and logout."""

import pytest
from flask import g, session
from flaskr import db
from flaskr.auth.models import User


def test_register_adds_the_user_and_redirects_to_login(client, app):
    assert client.get("/auth/register").status_code == 200
    response = client.post("/auth/register", data={"username": "a", "password": "a"})
    assert response.headers["Location"] == "/auth/login"
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="a")).scalar()
        assert user is not None
        assert user.check_password("a") and user.password_hash != "a"


def test_password_is_stored_hashed(app):
    user = User(username="a", password="a")
    assert user.password_hash != "a"
    assert user.check_password("a")
    assert not user.check_password("b")


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [("", "", "Username is required."),
     ("a", "", "Password is required."),
     ("test", "test", "already registered")],
)
def test_register_validates_its_input(client, username, password, message):
    response = client.post("/auth/register", data={"username": username, "password": password})
    assert message in response.text


def test_login_keeps_the_user_in_the_session(client, auth):
    assert client.get("/auth/login").status_code == 200
    assert auth.login().headers["Location"] == "/"
    with client:
        client.get("/")
        assert session["user_id"] == 1
        assert g.user.username == "test"


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [("a", "test", "Incorrect username."), ("test", "a", "Incorrect password.")],
)
def test_login_validates_its_input(auth, username, password, message):
    assert message in auth.login(username, password).text


def test_logout_forgets_the_user(client, auth):
    auth.login()
    with client:
        auth.logout()
        assert "user_id" not in session
