"""models_committed / before_models_committed with SESSION_EXT_TRACK_MODIFICATIONS,
reported as Flask-SQLAlchemy 3.1 reports them."""

from __future__ import annotations

import pytest
from flask_support import AuditLog, User, db, on_databases

from session_ext.flask import signals
from session_ext.flask.signals import before_models_committed, models_committed


@pytest.fixture
def received(make_app):
    """``(app, log)``: every signal the app sent, as (signal, [(repr, op), ...])."""
    app = make_app(SESSION_EXT_TRACK_MODIFICATIONS=True)
    log: list[tuple[str, list[tuple[object, str]]]] = []

    def before(sender, changes):
        assert sender is app
        log.append(("before", list(changes)))

    def after(sender, changes):
        assert sender is app
        log.append(("after", list(changes)))

    before_models_committed.connect(before, sender=app)
    models_committed.connect(after, sender=app)
    yield app, log
    before_models_committed.disconnect(before, sender=app)
    models_committed.disconnect(after, sender=app)


@on_databases
def test_commit_reports_inserts_updates_and_deletes(received):
    app, log = received
    with app.app_context():
        ada, bob = User(name="ada"), User(name="bob")
        db.session.add_all([ada, bob])
        db.session.commit()
        assert log == [("before", [(ada, "insert"), (bob, "insert")]),
                       ("after", [(ada, "insert"), (bob, "insert")])]
        log.clear()
        ada.name = "ada lovelace"
        db.session.delete(bob)
        db.session.commit()
        assert log == [("before", [(ada, "update"), (bob, "delete")]),
                       ("after", [(ada, "update"), (bob, "delete")])]


@on_databases
def test_changes_of_earlier_flushes_are_reported_once_per_identity(received):
    app, log = received
    with app.app_context():
        ada = User(name="ada")
        db.session.add(ada)
        db.session.flush()            # noted as an insert while ada had no key
        ada.name = "ada2"
        db.session.flush()            # noted as an update of ada's identity
        ada.name = "ada3"
        db.session.flush()            # the same identity: still one update
        cy = User(name="cy")
        db.session.add(cy)            # unflushed at commit(): noted when it starts
        db.session.commit()
    assert [op for _, op in log[0][1]] == ["insert", "update", "insert"]
    assert [obj for obj, _ in log[0][1]] == [ada, ada, cy]
    assert log[1] == ("after", log[0][1])


def test_nothing_is_sent_when_nothing_changed_or_after_a_rollback(received):
    app, log = received
    with app.app_context():
        db.session.commit()
        db.session.add(User(name="ada"))
        db.session.flush()
        db.session.rollback()
        db.session.commit()
    assert log == []


def test_receivers_of_before_may_still_change_objects(received):
    app, log = received

    def stamp(sender, changes):
        for obj, operation in changes:
            if operation == "insert":
                obj.name = obj.name.upper()

    before_models_committed.connect(stamp, sender=app)
    try:
        with app.app_context():
            db.session.add(User(name="ada"))
            db.session.commit()
            assert db.session.scalars(db.select(User.name)).all() == ["ADA"]
    finally:
        before_models_committed.disconnect(stamp, sender=app)


def test_begin_block_and_bound_models_are_reported(received):
    app, log = received
    with app.app_context():
        with db.session.begin():
            db.session.add(AuditLog(message="hello"))
    assert [(type(obj).__name__, op) for obj, op in log[1][1]] == [("AuditLog", "insert")]


def test_a_savepoint_commit_sends_nothing_until_the_outer_commit(received):
    app, log = received
    with app.app_context():
        nested = db.session.begin_nested()
        db.session.add(User(name="ada"))
        nested.commit()
        assert log == []
        db.session.commit()
    assert [kind for kind, _ in log] == ["before", "after"]


def test_a_failed_commit_sends_no_models_committed(received):
    app, log = received
    with app.app_context():
        db.session.add(User(name="ada"))
        db.session.commit()
        log.clear()
        db.session.add(User(name="ada"))  # unique name: the flush fails
        with pytest.raises(Exception, match="(?i)unique"):
            db.session.commit()
        db.session.rollback()
        db.session.commit()
    assert [kind for kind, _ in log] == ["before"]


def test_off_by_default_and_sessions_do_no_tracking(make_app):
    app = make_app()
    log = []

    def after(sender, changes):
        log.append(changes)

    models_committed.connect(after)
    try:
        with app.app_context():
            assert db.session().model_changes is None
            db.session.add(User(name="ada"))
            db.session.commit()
    finally:
        models_committed.disconnect(after)
    assert log == []


def test_flask_sqlalchemy_key_turns_it_on(make_app):
    app = make_app(SQLALCHEMY_TRACK_MODIFICATIONS=True)
    with app.app_context():
        assert isinstance(db.session().model_changes, signals.ModelChanges)


def test_close_forgets_what_was_noted(received):
    app, log = received
    with app.app_context():
        db.session.add(User(name="ada"))
        db.session.flush()
        db.session.close()  # the transaction is rolled back: nothing was committed
        db.session.commit()
    assert log == []
