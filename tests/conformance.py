"""Running one program on SQLAlchemy's ORM and on session_ext (the
tests/test_conformance_*.py files): the same steps, each library on its own
freshly created tables, and what each observed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from doc_programs import SA_VERSION
from sqlalchemy import exc as sa_exc

KINDS = ("sa", "se")


def run_each(models: Callable[[str], Any] | Mapping[str, Any], engine: Any,
             program: Callable[[Any, Any], Any], *, drop_first: bool = False,
             kinds: tuple[str, ...] = KINDS) -> dict[str, Any]:
    """``{kind: program(models of kind, engine)}`` for "sa" and "se"; each
    kind's tables are created before its run and dropped after it."""
    out = {}
    for kind in kinds:
        m = models[kind] if isinstance(models, Mapping) else models(kind)
        if drop_first:
            m.Base.metadata.drop_all(engine)
        m.Base.metadata.create_all(engine)
        try:
            out[kind] = program(m, engine)
        finally:
            m.Base.metadata.drop_all(engine)
    return out


def same_on_both(models: Callable[[str], Any] | Mapping[str, Any], engine: Any,
                 program: Callable[[Any, Any], Any], *,
                 oracle_since: tuple[int, int] | None = None) -> Any:
    """:func:`run_each`, asserting both observed the same; session_ext's result.
    ``oracle_since``: as in :func:`doc_programs.same_on_both` (on an older
    SQLAlchemy, whose ORM behaves otherwise here, only session_ext runs)."""
    if oracle_since is not None and SA_VERSION < oracle_since:
        return run_each(models, engine, program, kinds=("se",))["se"]
    results = run_each(models, engine, program)
    assert results["se"] == results["sa"]
    return results["se"]


def lifecycle(inspect: Callable[[Any], Any], obj: object) -> str:
    """The object's state name, as ``inspect(obj)`` reports it."""
    insp = inspect(obj)
    for name in ("transient", "pending", "persistent", "deleted", "detached"):
        if getattr(insp, name):
            return name
    return "?"


def sqlalchemy_class_name(err: BaseException) -> str:
    """The name of the SQLAlchemy exception class ``err`` is (session_ext's
    classes subclass SQLAlchemy's of the same name)."""
    for cls in type(err).__mro__:
        if cls.__module__.startswith("sqlalchemy"):
            return cls.__name__
    return type(err).__name__


def raised_name(fn: Callable[[], Any]) -> str:
    """:func:`sqlalchemy_class_name` of what ``fn()`` raises, or "ok"."""
    try:
        fn()
    except sa_exc.SQLAlchemyError as err:
        return sqlalchemy_class_name(err)
    return "ok"
