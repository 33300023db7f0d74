"""mypy on typed models: tests/typed_models_example.py type-checks cleanly
under ``--strict``, and a module with deliberate mistakes gets exactly the
errors it should (so a typing that let everything through would fail here).

session_ext is read as an installed package is (``--follow-imports=silent``:
its own modules are analysed, only the checked files' errors are reported)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tests" / "typed_models_example.py"

MISTAKES = '''
from sqlalchemy import select

from typed_models_example import Address, Note, User


def mistakes(user: User) -> None:
    user.name = 5  # E: assignment
    count: int = user.name  # E: assignment
    user.nmae  # E: attr-defined
    first: User = user.addresses[0]  # E: assignment
    owner: Address = user.addresses[0].user  # E: assignment
    select(User).where(User.name == "x").order_by(User.id)
    maybe: str = user.fullname  # E: assignment
    Note(5)  # E: arg-type
    Note("text", id=3)  # E: call-arg


def fine(user: User) -> None:
    name: str = user.name
    ids = select(User.id).where(User.fullname.is_(None), User.name.like("s%"))
    print(name, ids, Note("a", pinned=True), User(name="x"))
'''


def run_mypy(*files: Path, cache: Path) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--no-error-summary", "--show-error-codes", "--cache-dir", str(cache),
         *map(str, files)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "MYPYPATH": str(ROOT / "tests")},
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    pytest.importorskip("mypy", reason="mypy is in the test extras: pip install -e '.[test]'")
    tmp = tmp_path_factory.mktemp("mypy")
    bad = tmp / "typed_models_mistakes.py"
    bad.write_text(MISTAKES)
    code, out = run_mypy(EXAMPLE, bad, cache=tmp / "cache")
    return code, out, bad


def test_typed_example_passes_mypy_strict(mypy_output: tuple[int, str, Path]) -> None:
    code, out, _ = mypy_output
    assert "typed_models_example.py" not in out, out
    assert code == 1, out  # the mistakes module, and only it, has errors


def test_mypy_reports_each_deliberate_mistake(mypy_output: tuple[int, str, Path]) -> None:
    _, out, bad = mypy_output
    expected = {
        i: line.split("# E: ")[1].strip()
        for i, line in enumerate(MISTAKES.splitlines(), 1) if "# E: " in line
    }
    reported: dict[int, set[str]] = {}
    for match in re.finditer(rf"{re.escape(bad.name)}:(\d+): error: .*\[([\w-]+)\]", out):
        reported.setdefault(int(match.group(1)), set()).add(match.group(2))
    assert {line: {code} for line, code in expected.items()} == reported, out
