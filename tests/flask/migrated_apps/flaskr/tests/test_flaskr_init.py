"""flaskr's application factory and its init-db command."""

from flaskr import create_app


def test_testing_flag_comes_from_the_test_config():
    assert not create_app().testing
    assert create_app({"TESTING": True}).testing


def test_database_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///environ")
    app = create_app()
    assert app.config["SESSION_EXT_DATABASE_URI"] == "sqlite:///environ"
    state = app.extensions["session_ext"]
    assert state.engines[None].url.database.endswith("environ")


def test_init_db_command_calls_init_db(runner, monkeypatch):
    calls = []
    monkeypatch.setattr("flaskr.init_db", lambda: calls.append(True))
    result = runner.invoke(args=["init-db"])
    assert "Initialized" in result.output
    assert calls == [True]
