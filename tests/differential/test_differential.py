"""The differential test: random programs on SQLAlchemy's ORM and on session_ext.

Hypothesis draws programs (program.py), each runs on both libraries with the
same models (models.py) on two fresh databases of the current backend, and
after every step everything a user can observe is compared (compare.py).  A
difference fails with the shrunk program as a script that runs on either
library.  Kept differences and pending fixes are tolerated (tolerances.py).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sqlalchemy
from hypothesis import event, given

from .compare import Judge, run_program
from .conftest import SqliteMemoryDatabases
from .program import New, Program, Runner, Select, SetAttr, Simple, programs
from .tolerances import TOLERANCES, Tolerances

#: a directory: each difference found is also written there, one file per kind
ENV_REPORTS = "SESSION_EXT_DIFFERENTIAL_REPORTS"
DIFFERENCES_DOC = Path(__file__).resolve().parents[2] / "docs" / "differences.md"


def run_both(databases, models, program):
    with databases.example() as dbs:
        sa = Runner("sqlalchemy", models["sqlalchemy"], dbs["sqlalchemy"].engine,
                    program.session_kwargs)
        se = Runner("session_ext", models["session_ext"], dbs["session_ext"].engine,
                    program.session_kwargs)
        try:
            return run_program(program, sa, se, dbs["sqlalchemy"], dbs["session_ext"],
                               databases.may_keep_old, Tolerances())
        finally:
            sa.close()
            se.close()


_errors: dict[str, type[AssertionError]] = {}


def difference_error(signature: str) -> type[AssertionError]:
    """One AssertionError subclass per kind of difference, so that Hypothesis
    shrinks and reports each distinct difference it finds separately."""
    cls = _errors.get(signature)
    if cls is None:
        name = "Difference_" + re.sub(r"\W+", "_", signature).strip("_")
        cls = _errors[signature] = type(name, (AssertionError,), {})
    return cls


@pytest.mark.skipif(
    sqlalchemy.__version__.startswith("2.0."),
    reason="the programs and tolerances are written against SQLAlchemy 2.1's ORM (2.0's takes "
    "no plain-string SQL in Session.execute, among others): the oracle, not session_ext, differs",
)
def test_programs_behave_the_same(databases, models, budget, backend):
    hypothesis_settings, max_steps = budget

    @hypothesis_settings
    @given(program=programs(max_steps))
    def check(program):
        outcome = run_both(databases, models, program)
        for signature in outcome.masked:
            event(f"masked, fix pending: {signature}")
        if outcome.tolerated is not None:
            event(f"ended, fix pending: {outcome.tolerated}")
        if outcome.difference is not None:
            signature = outcome.difference.signature()
            report = outcome.difference.report()
            if os.environ.get(ENV_REPORTS):  # the last write of each kind is the shrunk one
                name = re.sub(r"\W+", "_", f"{backend}_{signature}")[:120]
                Path(os.environ[ENV_REPORTS], f"{name}.txt").write_text(report)
            raise difference_error(signature)(report)

    check()


def test_every_tolerance_is_documented():
    headings = set(re.findall(r"^## (.+?)\s*$", DIFFERENCES_DOC.read_text(), re.M))
    missing = {key: heading for key, heading in TOLERANCES.items() if heading not in headings}
    assert not missing, f"tolerances without a heading in {DIFFERENCES_DOC}: {missing}"


# -- the harness itself ---------------------------------------------------------------------

PLANTED = Program(
    "",
    (
        (New("User", (("name", "ann"),), add=True), True),
        (Select("User", None, 0, None, unique=True), True),
        (SetAttr("User", "age", 2, 0), True),
        (Simple("session.commit()"), True),
    ),
)


def _run_sqlalchemy_twice(models, program, second_kwargs):
    """The same library on both sides; the second session made with other arguments."""
    databases = SqliteMemoryDatabases(models)
    with databases.example() as dbs:
        first = Runner("sqlalchemy", models["sqlalchemy"], dbs["sqlalchemy"].engine,
                       program.session_kwargs)
        second = Runner("sqlalchemy", models["sqlalchemy"], dbs["session_ext"].engine,
                        second_kwargs)
        try:
            return run_program(program, first, second, dbs["sqlalchemy"], dbs["session_ext"],
                               False, Judge())
        finally:
            first.close()
            second.close()


def test_the_same_library_twice_shows_no_difference(models):
    assert _run_sqlalchemy_twice(models, PLANTED, "").difference is None


def test_a_difference_is_found_and_reported_as_a_runnable_script(models):
    # without autoflush the SELECT does not INSERT the new user
    outcome = _run_sqlalchemy_twice(models, PLANTED, ", autoflush=False")
    difference = outcome.difference
    assert difference is not None
    assert difference.step.kind == "select"
    assert difference.diffs["outcome of the step"] == (["u0"], [])
    script = difference.script.replace('LIBRARY = "session_ext"', 'LIBRARY = "sqlalchemy"')
    assert "_r = session.scalars(select(User).order_by(User.id)).unique().all()" in script
    namespace = {}
    exec(compile(script, "<differential script>", "exec"), namespace)  # runs as printed
    assert namespace["_r"] == [namespace["u0"]]
