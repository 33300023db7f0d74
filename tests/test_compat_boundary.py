"""SQLAlchemy's private API is used in session_ext/compat.py only.

Anything else in session_ext uses SQLAlchemy's public names, so a new
SQLAlchemy release is checked by reading one module.  What counts as a use of
a private name, outside compat.py:

* ``from sqlalchemy.<module> import ...`` or ``import sqlalchemy.<module>``
  where the module is not one of SQLAlchemy's public namespaces
  (:data:`PUBLIC_MODULES`), or the imported name starts with ``_``;
* ``x._name`` (``x`` other than ``self``/``cls``), ``getattr(x, "_name")`` and
  friends, a keyword argument ``_name=``, or ``_name`` defined in a class body,
  where ``_name`` is a private name that SQLAlchemy's Core defines somewhere
  (collected from its installed source: attributes it assigns, methods,
  class-level names, parameters, ``__x`` names mangled).

A private name that session_ext defines for its own objects and that happens
to be spelled like one of SQLAlchemy's goes in :data:`OWN_NAMES`; the test
cannot tell ``session._transaction`` from ``connection._transaction``, so that
list is for names session_ext really owns (``grep`` them before adding one).
SQLAlchemy's ORM is left out of the collection: session_ext never touches its
objects, and mirrors many of its names on purpose.
"""

from __future__ import annotations

import ast
import pathlib

import sqlalchemy

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "session_ext"
#: the compatibility package: session_ext/compat/ (its __init__ and the SQL
#: compile plugin, which extends Core's private compile-state hooks)
COMPAT = PACKAGE / "compat"

#: SQLAlchemy modules whose names are its public API
PUBLIC_MODULES = frozenset({
    "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.event", "sqlalchemy.exc",
    "sqlalchemy.pool", "sqlalchemy.schema", "sqlalchemy.sql", "sqlalchemy.sql.expression",
    "sqlalchemy.sql.operators", "sqlalchemy.types", "sqlalchemy.ext.asyncio",
    "sqlalchemy.dialects.postgresql", "sqlalchemy.dialects.sqlite",
    "sqlalchemy.ext.asyncio.engine", "sqlalchemy.ext.asyncio.result",  # asyncio's engine layer
})

#: session_ext's (or Django's) own private names that SQLAlchemy also happens to use
OWN_NAMES = frozenset({
    "_autobegin",  # Session
    "_check",  # session_ext_check management command (Django's BaseCommand)
    "_clone",  # Query
    "_close",  # Session
    "_is_asyncio",  # AsyncSession's marker, as SQLAlchemy's AsyncSession has
    "_keys",  # flask SessionExt
    "_new",  # Session
    "_none",  # InstrumentedList
    "_params",  # Query
    "_selectable",  # Mapper
    "_transaction",  # Session
})

_ATTR_FUNCS = frozenset({"getattr", "hasattr", "setattr", "delattr"})


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _defined_private_names(root: pathlib.Path) -> set[str]:
    """Private names SQLAlchemy's Core (and its asyncio engine layer) defines."""
    names: set[str] = set()

    def add(name: str, cls: str | None) -> None:
        if name.startswith("__") and not name.endswith("__") and cls:
            name = f"_{cls.lstrip('_')}{name}"  # name mangling
        if _private(name):
            names.add(name)

    def visit(node: ast.AST, cls: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = cls
            if isinstance(child, ast.ClassDef):
                add(child.name, cls)
                inner = child.name
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                add(child.name, cls)
                args = child.args
                for a in args.posonlyargs + args.args + args.kwonlyargs:
                    add(a.arg, cls)
            elif isinstance(child, ast.Attribute) and isinstance(child.ctx, ast.Store):
                add(child.attr, cls)
            elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                add(child.id, cls)
            elif isinstance(child, ast.Constant) and isinstance(child.value, str):
                if child.value.isidentifier():  # __slots__ entries, getattr(self, "_x")
                    add(child.value, cls)
            visit(child, inner)

    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if parts[0] in ("orm", "testing") or (parts[0] == "ext" and parts[1:2] != ("asyncio",)):
            continue
        visit(ast.parse(path.read_text(encoding="utf-8")), None)
    return names


SA_PRIVATE = _defined_private_names(pathlib.Path(sqlalchemy.__file__).parent)


def _uses(tree: ast.AST) -> list[tuple[str, int]]:
    """(private name, line) for each place the module reads, writes, passes or
    defines a private name on something other than ``self``/``cls``."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                out.append((node.attr, node.lineno))
        elif isinstance(node, ast.Call):
            func, args = node.func, node.args
            if isinstance(func, ast.Name) and func.id in _ATTR_FUNCS and len(args) >= 2:
                name = args[1]
                if isinstance(name, ast.Constant) and isinstance(name.value, str):
                    if _private(name.value):
                        out.append((name.value, node.lineno))
            out.extend((kw.arg, node.lineno) for kw in node.keywords if kw.arg and _private(kw.arg))
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, ast.Assign):
                    targets = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
                elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    targets = [stmt.target.id]
                elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    targets = [stmt.name]
                else:
                    targets = []
                out.extend((t, stmt.lineno) for t in targets if _private(t))
    return out


def _imports(tree: ast.AST) -> list[tuple[str, int]]:
    """(what, line) for each import of SQLAlchemy that is not public API."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "sqlalchemy":
                continue
            if node.module not in PUBLIC_MODULES:
                out.append((f"from {node.module} import ...", node.lineno))
            out.extend((f"{node.module}.{a.name}", node.lineno)
                       for a in node.names if _private(a.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sqlalchemy" and alias.name not in PUBLIC_MODULES:
                    out.append((f"import {alias.name}", node.lineno))
    return out


def _modules() -> list[pathlib.Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if COMPAT not in p.parents)


def test_sqlalchemy_private_names_are_used_in_compat_only() -> None:
    found = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(PACKAGE.parent)
        found += [f"{where}:{line}: {name}" for name, line in _uses(tree)
                  if name in SA_PRIVATE and name not in OWN_NAMES]
        found += [f"{where}:{line}: {what}" for what, line in _imports(tree)]
    assert not found, (
        "SQLAlchemy private API used outside session_ext/compat/ (add a named "
        "function or attribute getter there, or list a name session_ext owns in "
        "OWN_NAMES):\n" + "\n".join(found)
    )


def test_the_scan_finds_what_it_must() -> None:
    """The rule itself: each kind of private use is caught, own names are not."""
    source = '''
from sqlalchemy.sql.util import ClauseAdapter
from sqlalchemy.engine import _private_thing
import sqlalchemy.sql.annotation
x = stmt._raw_columns
y = getattr(conn, "_dbapi_connection", None)
r = IteratorResult(m, rows, _source_supports_scalars=True)
class Option:
    _traverse_internals = []
z = self._raw_columns
w = session._transaction
'''
    tree = ast.parse(source)
    flagged = {name for name, _ in _uses(tree) if name in SA_PRIVATE and name not in OWN_NAMES}
    assert flagged == {
        "_raw_columns", "_dbapi_connection", "_source_supports_scalars", "_traverse_internals",
    }
    assert [what for what, _ in _imports(tree)] == [
        "from sqlalchemy.sql.util import ...", "sqlalchemy.engine._private_thing",
        "import sqlalchemy.sql.annotation",
    ]


def test_compat_uses_what_it_declares() -> None:
    """compat.py exists for SQLAlchemy's private names: each name it reads is one
    (a misspelt one would fail at run time only on the path that reads it)."""
    names: set[str] = set()
    for path in COMPAT.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {name for name, _ in _uses(tree)}
        names |= {
            n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and _private(n.value)
            and n.value.isidentifier()
        }
    own = {"_ErrorContext", "_ERROR_CONTEXT", "_watched", "_se_target", "_se_accept",
           "_se_on_listen", "_se_wrap", "_se_wrap_kw",
           "_se_own_keywords"}  # the last six: LibraryEvents' own hooks
    # a name only some admitted releases define (read behind a version check:
    # older releases' fallbacks, 2.1's new keyword) is allowed to be missing
    fallbacks = {"_autoincrement_column", "_ordered_values", "_unique_filters",
                 "_create_unique_filters"}
    unknown = names - SA_PRIVATE - own - fallbacks
    assert not unknown, f"compat.py reads names SQLAlchemy does not define: {sorted(unknown)}"
    assert len(names & SA_PRIVATE) >= 20
