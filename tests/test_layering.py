"""The core's structure rules (docs/architecture.md), checked on the source.

* No module but ``session.py`` touches a private member of ``Session`` (nor of
  the identity map or a transaction outside their own modules): the layers
  below the façade use the session core (``session.objects``,
  ``session.transactions``) and the Protocols of ``session_ext.protocols``.
* The import layers hold, type-only imports included (the import-linter
  contract in pyproject.toml, which ``./dev test`` also runs on its own).
* No class longer than 400 lines and no function longer than 80 in any
  module of the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "session_ext"
ROOT = PACKAGE.parent


def _private_members(module: str, class_name: str) -> set[str]:
    """Names ``_x`` (not dunder) a class defines or assigns on ``self``."""
    tree = ast.parse((PACKAGE / module).read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for n in ast.walk(node):
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.add(n.name)
                elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
                    names.add(n.target.id)
                elif (isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                      and n.value.id == "self"):
                    names.add(n.attr)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def _foreign_private_uses(owner_module: str, names: set[str]) -> list[str]:
    """``something._name`` for ``_name`` in ``names``, outside ``owner_module``
    (``self._name``/``cls._name`` in other classes are their own members)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == owner_module:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            own = isinstance(getattr(node, "value", None), ast.Name) and node.value.id in (
                "self", "cls")
            if isinstance(node, ast.Attribute) and node.attr in names and not own:
                found.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize(
    ("module", "classes"),
    [
        ("session.py", ("Session", "_TransactionControl")),
        ("identity.py", ("IdentityMap",)),  # _dict: the older name of by_key
        ("transaction.py", ("SessionTransaction", "TransactionStack")),
    ],
)
def test_no_module_uses_private_members_of_the_session_core(module, classes):
    names: set[str] = set()
    for cls in classes:
        names |= _private_members(module, cls)
    assert names, "the scan found no private members: it is broken"
    assert _foreign_private_uses(module, names) == []


def test_the_scan_sees_a_private_use():
    tree = ast.parse("def f(session):\n    return session._new\n")
    attr = next(n for n in ast.walk(tree) if isinstance(n, ast.Attribute))
    assert attr.attr == "_new" and attr.value.id == "session"
    assert "_add_with_cascade" in _private_members("session.py", "Session")


def test_import_layers_contract_holds_counting_type_only_imports():
    from importlinter.application import use_cases
    from importlinter.configuration import configure

    configure()
    passed = use_cases.lint_imports(
        config_filenames=(str(ROOT / "pyproject.toml"),), cache_dir=None, no_logo=True,
    )
    assert passed == use_cases.SUCCESS


def test_the_contract_places_every_module_of_the_package():
    """A new module or subpackage must be given a layer, or nothing checks it."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = config["contracts"]
    listed = set()
    for layer in contract["layers"]:
        for name in layer.replace("|", ":").split(":"):
            listed.add(name.strip().strip("()"))
    present = {
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    assert present - listed == set()


def test_the_contract_lists_no_exceptions():
    text = (ROOT / "pyproject.toml").read_text()
    section = text[text.index("[tool.importlinter]"):]
    assert "ignore_imports" not in section
    assert "exclude_type_checking_imports" not in section


ALL_MODULES = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("module", ALL_MODULES)
def test_no_long_classes_or_functions(module):
    tree = ast.parse((PACKAGE / module).read_text())
    too_long = []
    for node in ast.walk(tree):
        lines = getattr(node, "end_lineno", 0) - getattr(node, "lineno", 0) + 1
        if isinstance(node, ast.ClassDef) and lines > 400:
            too_long.append(f"class {node.name}: {lines} lines")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and lines > 80:
            too_long.append(f"def {node.name}: {lines} lines")
    assert too_long == []


def test_lifecycle_fields_are_set_by_the_bookkeeping_only():
    """``state.session_id`` / ``was_deleted`` / ``key`` of instance states are
    assigned in lifecycle.py (and InstanceState's own constructor) only; the
    row loaders' inlined constructor lives in generated source, not here."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in ("lifecycle.py", "state.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
            for t in targets:
                if not isinstance(t, ast.Attribute) or not isinstance(t.value, ast.Name):
                    continue
                owner = t.value.id
                if t.attr in ("session_id", "was_deleted") or (
                        t.attr == "key" and owner.endswith("state")):
                    found.append(f"{rel}:{node.lineno}: {ast.unparse(t)}")
    assert found == []
