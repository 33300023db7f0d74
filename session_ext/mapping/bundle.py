"""``Bundle``: several column expressions selected as one value per row.

``select(Bundle("user", User.id, User.name), Address.email)`` gives rows whose
first element is a row of its own (``row.user.name``). Override
:meth:`Bundle.create_row_processor` to build another value (a dict, an object)
from the bundle's columns, as in SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.exc import ArgumentError
from sqlalchemy.sql.expression import ClauseList

from ..compat import ANNOTATIONS, annotate, raw_columns, result_metadata, row_key_index
from ..compat.sqlplugin import with_plugin

#: annotation key of a bundle's columns in a select()
BUNDLE_ANNOTATION = "session_ext_bundle"


class _Columns:
    def __init__(self, exprs: Sequence[Any]) -> None:
        for e in exprs:
            key = getattr(e, "key", None) or getattr(e, "name", None)
            if key:
                self.__dict__[key] = e


class Bundle:
    """Column expressions grouped under ``name`` in each result row."""

    single_entity = False

    def __init__(self, name: str, *exprs: Any, single_entity: bool = False) -> None:
        self.name = self.key = name
        self.exprs = [e.__clause_element__() if hasattr(e, "__clause_element__") else e
                      for e in exprs]
        self.c = self.columns = _Columns(self.exprs)
        self.single_entity = single_entity
        self._element: Any = None

    def __clause_element__(self) -> Any:
        if self._element is None:
            group = ClauseList(*self.exprs, group=False)
            self._element = with_plugin(annotate(group, {BUNDLE_ANNOTATION: self}))
        return self._element

    def label(self, name: str) -> Bundle:
        return type(self)(name, *self.exprs, single_entity=self.single_entity)

    def labels(self) -> list[str]:
        return [getattr(e, "key", None) or getattr(e, "name", None) or f"col_{i}"
                for i, e in enumerate(self.exprs)]

    def create_row_processor(self, query: Any, procs: Sequence[Callable[[Any], Any]],
                             labels: Sequence[str]) -> Callable[[Any], Any]:
        """The function turning the bundle's values (a tuple) into its value: by
        default a row with ``labels`` as names."""
        metadata = result_metadata(list(labels))
        processors = None
        key_to_index = row_key_index(metadata)

        def proc(values: Any) -> Any:
            return Row(metadata, processors, key_to_index, tuple(p(values) for p in procs))

        return proc

    def _value_maker(self, statement: Any) -> Callable[[Any], Any]:
        procs = [itemgetter(i) for i in range(len(self.exprs))]
        return self.create_row_processor(statement, procs, self.labels())

    def __repr__(self) -> str:
        return f"Bundle({self.name!r}, {', '.join(map(str, self.exprs))})"


class DictBundle(Bundle):
    """A :class:`Bundle` whose value is a dict of its columns by name."""

    def __init__(self, name: str, *exprs: Any, single_entity: bool = False) -> None:
        super().__init__(name, *exprs, single_entity=single_entity)
        labels = self.labels()
        if len(set(labels)) != len(labels):
            raise ArgumentError("DictBundle does not support duplicate column names")

    def create_row_processor(self, query: Any, procs: Sequence[Callable[[Any], Any]],
                             labels: Sequence[str]) -> Callable[[Any], Any]:
        def proc(values: Any) -> dict[str, Any]:
            return dict(zip(labels, (p(values) for p in procs)))

        return proc


def bundles_of(statement: Any) -> dict[int, Bundle]:
    """Position in the statement's selected elements -> the Bundle selected there."""
    out = {}
    for i, element in enumerate(raw_columns(statement)):
        ann = getattr(element, ANNOTATIONS, None)
        if ann and BUNDLE_ANNOTATION in ann:
            out[i] = ann[BUNDLE_ANNOTATION]
    return out


__all__ = ["BUNDLE_ANNOTATION", "Bundle", "DictBundle", "bundles_of"]
