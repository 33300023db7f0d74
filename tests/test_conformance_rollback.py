"""Objects around failed flushes and rollbacks behave as in SQLAlchemy's ORM (issue 11).

Each test runs one small program on ``sqlalchemy.orm`` and on ``session_ext``
(the models of the differential test, declared once for both libraries) on
fresh tables, and compares what it observes; each also checks the key facts
directly, so a test cannot pass by both sides doing the same wrong thing.

Covered (tests/differential/FINDINGS.md): a failed flush restores objects at
once (#1); ``is_modified()`` of an object whose INSERT was rolled back (#4);
rollback of an object INSERTed and DELETEd in the transaction (#13); a
rollback keeps restored deleted objects loaded and a SAVEPOINT rollback
expires only what it changed (#23); a DELETE matching no row warns (#9); two
new objects with one key (#19); ``delete()``/``add()`` of an object whose
DELETE was flushed, also in a session since closed (#8); objects expired
before their INSERT was rolled back stay expired.
"""

from __future__ import annotations

import gc
import warnings
from typing import Any

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from tests.differential.models import build_models

SA_MODELS = build_models("sqlalchemy")
SE_MODELS = build_models("session_ext")


def _api(models: Any) -> dict[str, Any]:
    if models.library == "sqlalchemy":
        import sqlalchemy.orm as orm
        from sqlalchemy import inspect
    else:
        import session_ext as orm
        from session_ext import inspect
    return {"Session": orm.Session, "inspect": inspect, "m": models,
            "make_transient": orm.make_transient}


def on_both(engine: Engine, program: Any) -> tuple[Any, Any]:
    """Run ``program(api, engine)`` on each library, on fresh tables; return
    both results (warnings raised inside are recorded in ``api["warnings"]``)."""
    results = []
    for models in (SA_MODELS, SE_MODELS):
        models.metadata.drop_all(engine)
        models.metadata.create_all(engine)
        api = _api(models)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results.append(program(api, engine))
        api["warnings"] = caught
    return results[0], results[1]


def state(api: Any, obj: Any) -> str:
    insp = api["inspect"](obj)
    return next(s for s in ("transient", "pending", "persistent", "deleted", "detached")
                if getattr(insp, s))


def loaded(obj: Any, names: tuple[str, ...]) -> list[str]:
    return sorted(k for k in names if k in obj.__dict__)


def outcome(fn: Any) -> Any:
    """("ok", result) or ("raised", the error's class name: session_ext's
    classes are named as SQLAlchemy's)."""
    try:
        return ("ok", fn())
    except sa_exc.SQLAlchemyError as err:
        return ("raised", type(err).__name__)


USER_COLUMNS = ("id", "name", "nickname", "age", "status")


# ------------------------------------------------------------------ 1. a failed flush


def program_failed_flush(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    u = m.User(name="ann")
    session.add(u)
    session.commit()
    _ = u.name  # loaded
    a = m.Address(email=None)  # NOT NULL: its INSERT fails
    v = m.User(name="bob")  # INSERTed before the address in the same flush
    session.add_all([a, v])
    u.nickname = "z"
    raised = outcome(session.flush)
    seen = {
        "raised": raised,
        "a": state(api, a),
        "v": state(api, v),
        "u": state(api, u),
        "new": len(session.new),
        "dirty": len(session.dirty),
        "u loaded": loaded(u, USER_COLUMNS),
        "v loaded": {k: v.__dict__.get(k) for k in loaded(v, USER_COLUMNS)},
        "a loaded": loaded(a, ("id", "user_id", "email")),
        "active": session.is_active,
        "in transaction": session.in_transaction(),
    }
    session.rollback()
    seen["after rollback"] = (state(api, a), state(api, v), session.in_transaction())
    # the objects can be added again: v's INSERT runs with the key it was given
    a.email = "e1"
    session.add_all([a, v])
    session.commit()
    seen["rows"] = session.execute(select(m.User.id, m.User.name).order_by(m.User.id)).all()
    session.close()
    return seen


def test_failed_flush_restores_objects_at_once(engine):
    sa, se = on_both(engine, program_failed_flush)
    assert se == sa
    assert se["raised"] == ("raised", "IntegrityError")
    # pending -> transient at once, the changed persistent object is expired
    assert (se["a"], se["v"], se["u"]) == ("transient", "transient", "persistent")
    assert se["new"] == 0 and se["dirty"] == 0 and se["u loaded"] == []
    # v's INSERT had succeeded: it keeps its generated key and its default
    assert se["v loaded"] == {"id": 2, "name": "bob", "status": "new"}
    assert se["a loaded"] == ["email"]
    assert not se["active"] and se["in transaction"]
    assert [tuple(r) for r in se["rows"]] == [(1, "ann"), (2, "bob")]


def program_failed_insert_in_one_table(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    first, second = m.User(name="ann"), m.User(name="bob")
    bad = m.User(name=None, age=0)  # other columns set, and NOT NULL name
    session.add_all([first, second, bad])
    raised = outcome(session.flush)
    return raised, [sorted(k for k in o.__dict__ if k in USER_COLUMNS)
                    for o in (first, second, bad)]


def test_failed_insert_leaves_no_keys_on_the_rows_of_its_table(engine):
    # SQLAlchemy INSERTs the table's rows in one statement: none of them got a key
    sa, se = on_both(engine, program_failed_insert_in_one_table)
    assert se == sa
    assert se == (("raised", "IntegrityError"), [["name"], ["name"], ["age", "name"]])


def program_update_before_insert(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    old = m.User(name="ann")
    session.add(old)
    session.commit()
    _ = old.name
    session.execute(text("DELETE FROM users"))  # behind the session's back
    old.name = "bob"
    fresh = m.User(name="x")
    session.add(fresh)
    # the UPDATE runs first (as in SQLAlchemy) and matches no row; INSERT first
    # would give the new row the freed key 1, and the UPDATE would change it
    raised = outcome(session.flush)
    kept = sorted(k for k in fresh.__dict__ if k in USER_COLUMNS)
    session.rollback()
    session.close()
    return raised, kept


def test_a_table_updates_before_it_inserts(engine):
    sa, se = on_both(engine, program_update_before_insert)
    assert se == sa
    assert se == (("raised", "StaleDataError"), ["name"])


def program_failed_flush_in_savepoint(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    u, w = m.User(name="ann"), m.User(name="wes")
    session.add_all([u, w])
    session.commit()
    _ = u.name, w.name  # both loaded
    session.begin_nested()
    w.age = 5
    session.flush()  # w is UPDATEd in the SAVEPOINT
    session.add(m.Address(email=None))
    raised = outcome(session.flush)
    seen = {
        "raised": raised,
        "u loaded": loaded(u, USER_COLUMNS),
        "w loaded": loaded(w, USER_COLUMNS),
        "nested": session.in_nested_transaction(),
    }
    session.rollback()
    seen["after"] = (session.in_transaction(), loaded(u, USER_COLUMNS))
    session.close()
    return seen


def test_failed_flush_in_a_savepoint_expires_what_it_changed(engine):
    sa, se = on_both(engine, program_failed_flush_in_savepoint)
    assert se == sa
    assert se["u loaded"] == list(sorted(USER_COLUMNS))  # untouched: still loaded
    assert se["w loaded"] == []  # updated in the SAVEPOINT: expired
    assert se["nested"]


def program_changes_after_failed_flush(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    session.add(m.Address(email=None))
    outcome(session.flush)
    late = m.Note(text="late")
    session.add(late)  # changed after the failure: discarded by rollback(), with a warning
    session.rollback()
    warned = [str(w.message) for w in api.get("warnings", [])]
    return state(api, late), len(session.new), warned


def test_changes_after_a_failed_flush_are_discarded_by_rollback(engine):
    sa, se = on_both(engine, program_changes_after_failed_flush)
    assert se[:2] == sa[:2] == ("transient", 0)


def test_rollback_after_failed_flush_warns_about_later_changes(engine):
    import session_ext

    m = SE_MODELS
    m.metadata.drop_all(engine)
    m.metadata.create_all(engine)
    session = session_ext.Session(engine)
    session.add(m.Address(email=None))
    with pytest.raises(sa_exc.IntegrityError):
        session.flush()
    session.add(m.Note(text="late"))
    with pytest.warns(sa_exc.SAWarning, match="non-active transaction"):
        session.rollback()
    assert session.new == []
    session.add(m.Address(email=None))
    with pytest.raises(sa_exc.IntegrityError):
        session.flush()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        session.rollback()  # nothing changed since: no warning
    session.close()


# ------------------------------------------------------------------ 4. is_modified()


def program_is_modified_after_rollback(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    u = m.User(name="bob")
    session.add(u)
    session.flush()
    session.rollback()
    seen = [state(api, u), u.id, session.is_modified(u)]
    u.name = "bob"
    seen.append(session.is_modified(u))
    u.name = "carl"
    seen.append(session.is_modified(u))
    u.name = "bob"
    u.age = 3
    seen.append(session.is_modified(u))
    fresh = m.User(name="x")
    seen.append(session.is_modified(fresh))
    session.add(u)
    session.commit()
    seen.append(session.execute(select(m.User.id, m.User.name, m.User.age)).all())
    session.close()
    return seen


def test_is_modified_of_an_object_whose_insert_was_rolled_back(engine):
    sa, se = on_both(engine, program_is_modified_after_rollback)
    assert se == sa
    assert se[:7] == ["transient", 1, False, False, True, True, True]
    assert [tuple(r) for r in se[7]] == [(1, "bob", 3)]


# ------------------------------------------------------------------ 13. inserted and deleted


def program_inserted_and_deleted(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    a = m.Address(email="e1")
    session.add(a)
    session.flush()
    session.delete(a)
    session.flush()
    b = m.Address(email="e2")
    session.add(b)
    session.flush()
    session.execute(delete(m.Address).where(m.Address.email == "e2"),
                    execution_options={"synchronize_session": "fetch"})
    seen = [state(api, a), state(api, b)]
    session.rollback()
    seen += [state(api, a), state(api, b), len(session.new),
             loaded(a, ("id", "email")), loaded(b, ("id", "email"))]
    session.add(a)
    session.commit()
    seen.append(session.execute(select(m.Address.id, m.Address.email)).all())
    session.close()
    return seen


def test_rollback_of_inserted_and_deleted_objects(engine):
    sa, se = on_both(engine, program_inserted_and_deleted)
    assert se == sa
    assert se[:5] == ["deleted", "deleted", "transient", "transient", 0]
    assert se[5] == se[6] == ["email", "id"]
    assert [tuple(r) for r in se[7]] == [(1, "e1")]


# ------------------------------------------------------------------ 23. restored ones stay loaded


def program_rollback_restores_loaded(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    u, w, x = m.User(name="ann"), m.User(name="wes"), m.User(name="xi")
    session.add_all([u, w, x])
    session.commit()
    _ = u.name, w.name, x.name
    session.begin_nested()
    session.delete(u)
    w.age = 7
    session.flush()
    session.get_nested_transaction().rollback()
    seen = [state(api, u), loaded(u, USER_COLUMNS), loaded(w, USER_COLUMNS),
            loaded(x, USER_COLUMNS), u in session]
    session.delete(x)
    session.flush()
    session.rollback()  # the root: everything expired, x restored
    seen += [state(api, x), loaded(x, USER_COLUMNS), x in session]
    session.close()
    return seen


def test_rollback_keeps_restored_objects_loaded(engine):
    sa, se = on_both(engine, program_rollback_restores_loaded)
    assert se == sa
    everything = sorted(USER_COLUMNS)
    assert se[:5] == ["persistent", everything, [], everything, True]
    assert se[5:] == ["persistent", [], True]


def program_expunged_deleted(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    u, v = m.User(name="ann"), m.User(name="bo")
    session.add_all([u, v])
    session.commit()
    _ = u.name, v.name
    session.delete(u)
    session.delete(v)
    session.flush()
    session.expunge(v)
    session.expunge_all()
    seen = [state(api, u), state(api, v)]
    session.rollback()
    seen += [state(api, u), u in session, state(api, v), v in session]
    session.close()
    return seen


def test_rollback_restores_deleted_objects_unless_expunged(engine):
    sa, se = on_both(engine, program_expunged_deleted)
    assert se == sa
    # expunge_all() leaves the deleted ones with the session, as SQLAlchemy does
    assert se == ["deleted", "detached", "persistent", True, "detached", False]


# ------------------------------------------------------------------ 9. a DELETE matching no row


def program_delete_matching_no_row(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    u = m.User(name="ann")
    session.add(u)
    session.flush()
    session.close()  # the INSERT is rolled back; u is detached
    session.delete(u)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raised = outcome(session.flush)
    seen = [raised, state(api, u),
            [w.category.__name__ for w in caught if "DELETE statement" in str(w.message)]]
    session.commit()
    seen.append(state(api, u))
    return seen


def test_flushed_delete_matching_no_row_warns(engine):
    sa, se = on_both(engine, program_delete_matching_no_row)
    assert se == sa
    assert se == [("ok", None), "deleted", ["SAWarning"], "detached"]


# ------------------------------------------------------------------ 19. two new objects, one key


def program_duplicate_new_keys(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    session.add_all([m.User(id=5, name="x"), m.User(id=5, name="y")])
    first = outcome(session.commit)
    session.rollback()
    u = m.User(name="ann")
    session.add(u)
    session.commit()
    _ = u.name
    session.expunge(u)
    session.add(m.User(id=1, name="bob"))
    session.add(u)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "conflicts with persistent instance"
        second = outcome(session.commit)
    session.rollback()
    rows = session.execute(select(m.User.id, m.User.name)).all()
    session.close()
    return first, second, rows


def test_two_new_objects_with_one_key_fail_in_the_database(engine):
    sa, se = on_both(engine, program_duplicate_new_keys)
    assert se == sa
    assert se[:2] == (("raised", "IntegrityError"), ("raised", "IntegrityError"))
    assert [tuple(r) for r in se[2]] == [(1, "ann")]


# ------------------------------------------------------------------ 8. deleted in a closed session


def program_deleted_in_closed_session(api: Any, engine: Engine) -> Any:
    m = api["m"]
    Session = api["Session"]
    s1 = Session(engine)
    u = m.User(name="ann")
    s1.add(u)
    s1.flush()
    s1.delete(u)
    s1.flush()
    s1.close()  # rolls back; u stays with s1, deleted
    seen = [state(api, u)]
    s2 = Session(engine)
    seen.append(outcome(lambda: s2.delete(u)))  # still attached to s1
    del s1
    gc.collect()
    s3 = Session(engine)
    s3.delete(u)
    seen += [state(api, u), len(s3.deleted), u in s3]
    seen.append(outcome(lambda: s3.add(u)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the DELETE matches no row (the INSERT was rolled back)
        s3.flush()
    seen += [state(api, u), u in s3]
    s3.commit()
    seen.append(state(api, u))
    s4 = Session(engine)
    seen.append(outcome(lambda: s4.add(u)))  # deleted and committed: still "deleted"
    s4.close()
    s3.close()
    s2.close()
    return seen


def test_delete_of_an_object_deleted_in_a_closed_session(engine):
    sa, se = on_both(engine, program_deleted_in_closed_session)
    assert se == sa
    assert se == [
        "deleted", ("raised", "InvalidRequestError"),
        "deleted", 1, True, ("raised", "InvalidRequestError"),
        "deleted", False, "detached", ("raised", "InvalidRequestError"),
    ]


def program_delete_again(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    u = m.User(name="ann")
    session.add(u)
    session.commit()
    _ = u.name
    session.delete(u)
    session.flush()
    session.delete(u)  # marked again, as SQLAlchemy does
    seen = [state(api, u), len(session.deleted), u in session]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        session.flush()
    seen += [state(api, u), len(session.deleted), u in session]
    session.commit()
    seen.append(state(api, u))
    return seen


def test_delete_of_an_object_whose_delete_was_flushed(engine):
    sa, se = on_both(engine, program_delete_again)
    assert se == sa
    assert se == ["deleted", 1, True, "deleted", 0, False, "detached"]


# ------------------------------------------------------------------ expired, then rolled back


def program_expired_then_rolled_back(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    a = m.Address(email="e1")
    session.add(a)
    session.flush()
    session.expire(a)
    session.rollback()
    seen = [state(api, a), loaded(a, ("id", "email")), outcome(lambda: a.email)]
    session.add(a)
    seen.append(outcome(session.flush))
    session.rollback()
    b = m.Address(email="e2")
    session.add(b)
    session.flush()
    session.expire(b)
    session.rollback()
    b.email = "e3"
    session.add(b)
    seen.append(outcome(session.flush))  # its key is still expired
    session.rollback()
    api["make_transient"](b)  # forgets what was expired
    b.email = "e3"
    session.add(b)
    session.commit()
    seen.append(session.execute(select(m.Address.id, m.Address.email)).all())
    session.close()
    return seen


def test_an_object_expired_before_its_insert_was_rolled_back_stays_expired(engine):
    sa, se = on_both(engine, program_expired_then_rolled_back)
    assert se == sa
    assert se[:5] == ["transient", [], ("raised", "DetachedInstanceError"),
                      ("raised", "InvalidRequestError"), ("raised", "InvalidRequestError")]
    assert [r[1] for r in se[5]] == ["e3"]  # a new key (PostgreSQL's sequence moved on)


def program_key_expired_then_rolled_back(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    k = m.Keyword(word="a")  # weight: left out of the INSERT, known to be None
    session.add(k)
    session.flush()
    session.expire(k, ["word"])
    session.rollback()
    seen = [state(api, k), outcome(lambda: k.weight), outcome(lambda: k.word),
            outcome(lambda: session.merge(k))]
    u = m.User(name="ann", nickname="x")  # age: left out of the INSERT
    session.add(u)
    session.flush()
    session.expire(u, ["nickname"])
    session.rollback()
    session.add(u)
    seen.append(outcome(session.flush))  # only its key counts: INSERTed, nickname NULL
    session.commit()
    seen.append(session.execute(select(m.User.name, m.User.nickname, m.User.age)).all())
    session.close()
    return seen


def test_only_the_attributes_expired_before_the_rollback_stay_expired(engine):
    """Before: every unloaded attribute counted as expired (k.weight raised, the
    flush refused u although its key was loaded) and merge() ignored the expired
    key (a new copy)."""
    sa, se = on_both(engine, program_key_expired_then_rolled_back)
    assert se == sa
    assert se[:5] == ["transient", ("ok", None), ("raised", "DetachedInstanceError"),
                      ("raised", "DetachedInstanceError"), ("ok", None)]
    assert [tuple(r) for r in se[5]] == [("ann", None, None)]


def program_flush_of_nothing_after_failed_flush(api: Any, engine: Engine) -> Any:
    m = api["m"]
    session = api["Session"](engine)
    session.add(m.User(name=None))  # NOT NULL violation
    seen = [outcome(session.flush), outcome(lambda: session.execute(select(m.User)).all())]
    seen.append(outcome(session.flush))  # nothing left to write
    session.add(m.User(name="ann"))
    seen.append(outcome(session.flush))
    session.rollback()
    session.close()
    return seen


def test_flush_with_nothing_to_write_after_a_failed_flush_does_nothing(engine):
    """Before: PendingRollbackError although there was nothing to flush."""
    sa, se = on_both(engine, program_flush_of_nothing_after_failed_flush)
    assert se == sa
    assert se == [("raised", "IntegrityError"), ("raised", "PendingRollbackError"),
                  ("ok", None), ("raised", "PendingRollbackError")]


# ------------------------------------------------------------------ a session nothing refers to


def program_deleted_then_session_dropped(api: Any, engine: Engine) -> Any:
    m = api["m"]
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the session must go by reference counting alone, as SQLAlchemy's
    try:
        session = api["Session"](engine)
        u, other = m.User(name="ann"), m.User(name="bob")
        session.add_all([u, other])
        session.commit()
        _ = u.name
        session.close()
        session.get(m.User, 2)  # the session's get() loaders
        session.get(m.User, 2, populate_existing=True)
        session.delete(u)
        session.scalars(select(m.Note)).all()  # autoflush: DELETE
        session.close()
        seen = [state(api, u), api["inspect"](u).session is session]
        session = api["Session"](engine)  # the closed session's last reference goes
        seen += [state(api, u), api["inspect"](u).session]
    finally:
        if gc_was_enabled:
            gc.enable()
    session.close()
    return seen


def test_a_closed_session_nothing_refers_to_lets_its_deleted_objects_go(engine):
    """A closed session is freed as soon as nothing refers to it; the objects
    whose DELETE it flushed are then detached (no reference cycle keeps the
    session alive until the garbage collector runs).  After a failed flush the
    error's traceback keeps it in a cycle, as in SQLAlchemy: the differential
    test collects garbage when a program replaces its session."""
    sa, se = on_both(engine, program_deleted_then_session_dropped)
    assert se == sa
    assert se == ["deleted", True, "detached", None]
