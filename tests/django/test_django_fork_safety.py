"""The Django adapter's engines give a forked child a pool of its own."""

from __future__ import annotations

import os

import pytest
from django_support import Item
from forking import in_child

from session_ext.django import db

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def test_a_forked_child_starts_with_an_empty_pool():
    db.session.add(Item(name="parent"))
    db.session.commit()
    db.session.remove()
    engine = db.engine
    assert engine.pool.checkedin() >= 1  # the parent's connection waits in its pool

    def child() -> list[int]:
        idle_inherited = engine.pool.checkedin()
        names = [i.name for i in db.session.query(Item).all()]
        db.session.remove()
        return [idle_inherited, len(names)]

    assert in_child(child) == [0, 1]
    assert engine.pool.checkedin() >= 1
