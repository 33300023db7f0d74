"""session_ext is built on SQLAlchemy Core only.

* No module imports ``sqlalchemy.orm`` or ``sqlalchemy.ext`` (in any spelling),
  except the engine and result modules of Core's asyncio layer
  (``sqlalchemy.ext.asyncio.engine`` / ``.result``), which ``session_ext.asyncio``
  names for type checkers and re-exports lazily.
* The core (everything but the ``flask`` and ``django`` adapters) never imports
  Flask or Django, directly or through the adapters.
* Importing the package really leaves ``sqlalchemy.orm`` out of ``sys.modules``.

The first two are checked statically with :mod:`ast`; the last one in a fresh
interpreter.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "session_ext"
PACKAGE_DIR = ROOT / PACKAGE
ADAPTERS = ("flask", "django")
FORBIDDEN_SQLALCHEMY = ("sqlalchemy.orm", "sqlalchemy.ext")
#: Core's asyncio engine layer; not sqlalchemy.ext.asyncio itself, whose
#: __init__ imports its session module and so sqlalchemy.orm
ALLOWED_SQLALCHEMY_EXT = ("sqlalchemy.ext.asyncio.engine", "sqlalchemy.ext.asyncio.result")


# -- the checker ---------------------------------------------------------------


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(source: str, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """Yield (line, absolute dotted name) for everything *source* imports.

    ``from a import b`` yields both ``a`` and ``a.b`` (b may be a submodule, as
    in ``from sqlalchemy import orm``).  Relative imports are resolved against
    *module*; ``importlib.import_module("x")`` / ``__import__("x")`` with a
    literal name count too.
    """
    package_parts = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                keep = len(package_parts) - (node.level - 1)
                base_parts = package_parts[: max(keep, 0)]
                if node.module:
                    base_parts = [*base_parts, node.module]
                base = ".".join(base_parts)
            else:
                base = node.module or ""
            yield node.lineno, base
            for alias in node.names:
                if alias.name != "*":
                    yield node.lineno, f"{base}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if (
                name in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and not first.value.startswith(".")
            ):
                yield node.lineno, first.value


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def is_forbidden_sqlalchemy(name: str) -> bool:
    if any(_within(name, prefix) for prefix in ALLOWED_SQLALCHEMY_EXT):
        return False
    return any(_within(name, prefix) for prefix in FORBIDDEN_SQLALCHEMY)


def is_web_framework(name: str) -> bool:
    """flask/django and their plugins, or our own adapters (which import them)."""
    top = name.split(".")[0]
    if any(top == fw or top.startswith(fw + "_") for fw in ADAPTERS):
        return True
    return any(_within(name, f"{PACKAGE}.{fw}") for fw in ADAPTERS)


# -- the package's files -------------------------------------------------------


def package_files() -> list[Path]:
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def is_core(path: Path) -> bool:
    first = path.relative_to(PACKAGE_DIR).parts[0]
    return first not in ADAPTERS and first not in {f"{fw}.py" for fw in ADAPTERS}


def violations(files: list[Path], predicate) -> list[str]:
    found = []
    for path in files:
        source = path.read_text(encoding="utf-8")
        names = imported_names(source, module_name(path), path.name == "__init__.py")
        for line, name in names:
            if predicate(name):
                found.append(f"{path.relative_to(ROOT)}:{line}: imports {name}")
    return sorted(set(found))


def test_package_has_python_sources():
    # Guards the checks below against passing vacuously on a wrong path.
    assert PACKAGE_DIR.is_dir()
    assert [p for p in package_files() if is_core(p)], f"no .py files under {PACKAGE_DIR}"


def test_no_sqlalchemy_orm_or_ext_imports():
    found = violations(package_files(), is_forbidden_sqlalchemy)
    assert found == [], "session_ext must use SQLAlchemy Core only:\n" + "\n".join(found)


def test_core_does_not_import_flask_or_django():
    core = [p for p in package_files() if is_core(p)]
    found = violations(core, is_web_framework)
    assert found == [], "only session_ext/flask and session_ext/django may:\n" + "\n".join(found)


# -- the checker checks what it should -------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "import sqlalchemy.orm",
        "import sqlalchemy.orm.session as s",
        "import sqlalchemy.ext.asyncio",
        "from sqlalchemy.orm import Session",
        "from sqlalchemy.orm.exc import NoResultFound",
        "from sqlalchemy.ext.hybrid import hybrid_property",
        "from sqlalchemy import orm",
        "from sqlalchemy import select, ext",
        "from sqlalchemy import orm as o",
        "if TYPE_CHECKING:\n    from sqlalchemy.orm import Mapper",
        "def f():\n    import sqlalchemy.orm",
        "import importlib\nimportlib.import_module('sqlalchemy.orm')",
        "__import__('sqlalchemy.ext.declarative')",
        "from sqlalchemy.ext.asyncio import create_async_engine",
        "from sqlalchemy.ext.asyncio.session import AsyncSession",
        "import sqlalchemy.ext.asyncio.scoping",
    ],
)
def test_checker_flags_sqlalchemy_orm_and_ext(source):
    names = [name for _, name in imported_names(source, "session_ext.mod", False)]
    assert any(is_forbidden_sqlalchemy(name) for name in names), names


@pytest.mark.parametrize(
    "source",
    [
        "import sqlalchemy",
        "from sqlalchemy import select, event, exc",
        "from sqlalchemy.engine import Engine",
        "from sqlalchemy.sql import expression",
        "from . import orm",  # session_ext.orm, our own module
        "from .orm import Session",
        "from sqlalchemy.ext.asyncio.engine import AsyncEngine",
        "from sqlalchemy.ext.asyncio.result import AsyncResult",
    ],
)
def test_checker_allows_core(source):
    names = [name for _, name in imported_names(source, "session_ext.mod", False)]
    assert not any(is_forbidden_sqlalchemy(name) for name in names), names


@pytest.mark.parametrize(
    ("source", "module", "is_package"),
    [
        ("import flask", "session_ext.session", False),
        ("from flask import g", "session_ext.session", False),
        ("import django.db", "session_ext.session", False),
        ("from django.conf import settings", "session_ext.session", False),
        ("import flask_sqlalchemy", "session_ext.session", False),
        ("from .flask import init_app", "session_ext.session", False),
        ("from . import django", "session_ext", True),
        ("from ..flask import ext", "session_ext.mapping.columns", False),
        ("import session_ext.django.apps", "session_ext.session", False),
    ],
)
def test_checker_flags_web_frameworks(source, module, is_package):
    names = [name for _, name in imported_names(source, module, is_package)]
    assert any(is_web_framework(name) for name in names), names


@pytest.mark.parametrize(
    "source", ["import flaskish", "from .mapping import flask_like", "import djangoish"]
)
def test_checker_allows_similar_names(source):
    names = [name for _, name in imported_names(source, "session_ext.session", False)]
    assert not any(is_web_framework(name) for name in names), names


def test_is_core_excludes_adapters_only():
    assert is_core(PACKAGE_DIR / "session.py")
    assert is_core(PACKAGE_DIR / "mapping" / "flask_names.py")
    assert not is_core(PACKAGE_DIR / "flask" / "__init__.py")
    assert not is_core(PACKAGE_DIR / "django" / "apps.py")


# -- and at run time -----------------------------------------------------------

_IMPORT_PROBE = r"""
import importlib, json, pkgutil, sys

def loaded():
    return sorted(m for m in sys.modules
                  if m.split(".")[0] in ("flask", "django")
                  or m == "sqlalchemy.orm" or m.startswith(("sqlalchemy.orm.", "sqlalchemy.ext")))

import session_ext
report = {"package": list(session_ext.__path__), "after_package": loaded(), "culprits": {}}
for info in pkgutil.walk_packages(session_ext.__path__, "session_ext."):
    parts = info.name.split(".")
    if parts[1] in ("flask", "django"):
        continue
    before = set(loaded())
    importlib.import_module(info.name)
    new = sorted(set(loaded()) - before)
    if new:
        report["culprits"][info.name] = new
report["after_all"] = loaded()
print(json.dumps(report))
"""


def test_importing_session_ext_loads_no_orm_or_frameworks():
    """Import session_ext and every core submodule in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"importing session_ext failed:\n{result.stderr}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert [Path(p).resolve() for p in report["package"]] == [PACKAGE_DIR], report["package"]
    assert report["after_package"] == [], report
    assert report["culprits"] == {}, report
    assert report["after_all"] == []
