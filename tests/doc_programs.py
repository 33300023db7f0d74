"""Programs that do what a page of SQLAlchemy's documentation does, run on
``sqlalchemy.orm`` and on session_ext with only their import lines changed.

A program is one module text written as a user of SQLAlchemy's ORM writes it
(``from sqlalchemy.orm import ...``). :func:`load_program` makes a real module of
it for one library: for ``"se"`` every ``from sqlalchemy.orm import`` line
becomes ``from session_ext import`` and ``from sqlalchemy.ext.asyncio import``
becomes ``from session_ext.asyncio import``; nothing else in the text changes.
The module is executed as a user's module is (annotations read from its own
names, forward references included), and is given a unique name so both
libraries' classes can live side by side.
"""

from __future__ import annotations

import itertools
import re
import sys
import types
from collections.abc import Callable
from typing import Any

import sqlalchemy

KINDS = ("sa", "se")

#: the installed SQLAlchemy as (major, minor): the pages are 2.1's documentation,
#: and SQLAlchemy 2.0's ORM (the sa-min CI run) differs from them in places
SA_VERSION = tuple(int(p) for p in sqlalchemy.__version__.split(".")[:2])

_IMPORT_SWAPS = (
    (re.compile(r"^(\s*)from sqlalchemy\.orm import ", re.M), r"\1from session_ext import "),
    (re.compile(r"^(\s*)from sqlalchemy\.ext\.asyncio import ", re.M),
     r"\1from session_ext.asyncio import "),
)
_counter = itertools.count()


def program_text(text: str, kind: str) -> str:
    """``text`` as run for ``kind`` ("sa": unchanged; "se": imports swapped)."""
    if kind == "sa":
        return text
    if kind != "se":
        raise ValueError(f"kind must be 'sa' or 'se', not {kind!r}")
    for pattern, replacement in _IMPORT_SWAPS:
        text = pattern.sub(replacement, text)
    return text


def load_program(text: str, kind: str, name: str = "doc_program") -> types.ModuleType:
    """Execute ``text`` (see :func:`program_text`) as a fresh module and return it."""
    module_name = f"{name}_{kind}_{next(_counter)}"
    module = types.ModuleType(module_name)
    sys.modules[module_name] = module
    try:
        code = compile(program_text(text, kind), f"<{module_name}>", "exec")
        exec(code, module.__dict__)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def run_on_both(text: str, engine: Any, entry: str = "run", name: str = "doc_program",
                *, create: Callable[[types.ModuleType, Any], None] | None = None,
                kinds: tuple[str, ...] = KINDS) -> dict[str, Any]:
    """Load ``text`` for each library, create its tables (``Base.metadata`` or
    ``create(module, engine)``), call ``module.<entry>(engine)``, drop the
    tables; ``{"sa": result, "se": result}``."""
    out: dict[str, Any] = {}
    for kind in kinds:
        module = load_program(text, kind, name)
        try:
            metadata = _metadata(module) if create is None else None
            if create is not None:
                create(module, engine)
            elif metadata is not None:
                metadata.drop_all(engine)
                metadata.create_all(engine)
            try:
                out[kind] = getattr(module, entry)(engine)
            finally:
                if metadata is not None:
                    metadata.drop_all(engine)
        finally:
            sys.modules.pop(module.__name__, None)
    return out


def same_on_both(text: str, engine: Any, entry: str = "run", name: str = "doc_program",
                 *, oracle_since: tuple[int, int] | None = None, **kw: Any) -> Any:
    """:func:`run_on_both`, asserting both observed the same; session_ext's result.

    ``oracle_since``: the SQLAlchemy version whose ORM does what the page shows
    (a part of it behaves otherwise on older ones, e.g. 2.0's
    ``bulk_insert_mappings(return_defaults=True)`` writes no keys back). On an
    older SQLAlchemy only session_ext runs the program; the caller's own
    assertions still check what it observed."""
    if oracle_since is not None and SA_VERSION < oracle_since:
        return run_on_both(text, engine, entry, name, kinds=("se",), **kw)["se"]
    results = run_on_both(text, engine, entry, name, **kw)
    assert results["se"] == results["sa"]
    return results["se"]


def _metadata(module: types.ModuleType) -> Any:
    base = getattr(module, "Base", None)
    return getattr(base, "metadata", None)

