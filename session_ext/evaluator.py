"""Criteria and SET values of an UPDATE/DELETE statement, evaluated in Python.

``synchronize_session="evaluate"`` (and ``"auto"``, which tries it first)
applies a bulk UPDATE or DELETE to the objects already in the session without
asking the database which rows matched: the WHERE clause is turned into a
function of an object's ``__dict__`` and run on every object of the target
class in the identity map; the SET values of an UPDATE are computed the same
way from each matched object's current values.

What can be evaluated is what SQLAlchemy's ORM evaluates: columns of the
target class, literal values and bound parameters, ``NULL``/``true()``/
``false()``, comparisons (``== != < <= > >=``, ``IS``, ``IS NOT``), ``IN`` /
``NOT IN`` a list, ``and_``/``or_``/``not_``, tuples, ``startswith`` /
``endswith``, arithmetic on numeric columns and ``+`` on strings.  Anything
else (functions, ``LIKE``, subqueries, ``EXISTS``/``any()``, columns of other
tables, ...) raises :class:`UnevaluatableError`; ``"evaluate"`` then fails with
``InvalidRequestError`` and ``"auto"`` falls back to ``"fetch"``.

SQL's three-valued logic is kept: a comparison with NULL is None (unknown),
which does not match.  An attribute that is not loaded evaluates to
:data:`UNLOADED`, which makes the whole expression :data:`UNLOADED` (the
object is then treated as matching but out of date: it is expired).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import ClauseElement
from sqlalchemy.types import Concatenable, Integer, Numeric

from . import exc
from .compat import type_affinity, where_criteria

if TYPE_CHECKING:
    from .mapping.mapper import Mapper

Evaluator = Callable[[dict[str, Any]], Any]


class UnevaluatableError(exc.InvalidRequestError):
    """The expression cannot be evaluated in Python."""

    help_anchor = ""  # reported inside the message of the error it leads to


class _Unloaded:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNLOADED"


#: the value of an expression that reads an attribute which is not loaded
UNLOADED: Any = _Unloaded()

# comparisons: NULL on either side gives NULL (None)
_COMPARISONS: dict[Any, Callable[[Any, Any], Any]] = {
    operators.eq: operator.eq,
    operators.ne: operator.ne,
    operators.lt: operator.lt,
    operators.le: operator.le,
    operators.gt: operator.gt,
    operators.ge: operator.ge,
    operators.in_op: lambda a, b: a in b,
    operators.not_in_op: lambda a, b: a not in b,
    operators.startswith_op: lambda a, b: a.startswith(b),
    operators.endswith_op: lambda a, b: a.endswith(b),
}
_NUMERIC = {
    operators.add: operator.add,
    operators.sub: operator.sub,
    operators.mul: operator.mul,
    operators.mod: operator.mod,
    operators.truediv: operator.truediv,
}


class _Compiler:
    def __init__(self, mapper: Mapper, params: dict[str, Any] | None) -> None:
        self.mapper = mapper
        self.params = params or {}

    def process(self, clause: Any) -> Evaluator:
        name = getattr(clause, "__visit_name__", None)
        visit = getattr(self, f"visit_{name}", None) if name else None
        if visit is None:
            raise UnevaluatableError(f"Cannot evaluate {type(clause).__name__} in Python")
        return visit(clause)  # type: ignore[no-any-return]

    # -- leaves
    def visit_column(self, clause: Any) -> Evaluator:
        key = self.mapper.col_to_key.get(clause)
        if key is None:
            raise UnevaluatableError(
                f"Cannot evaluate column {clause} in Python: it is not a column of "
                f"{self.mapper.class_.__name__}"
            )

        def attribute(d: dict[str, Any]) -> Any:
            return d.get(key, UNLOADED)

        return attribute

    def visit_bindparam(self, clause: Any) -> Evaluator:
        if clause.key in self.params:
            value = self.params[clause.key]
        elif clause.callable is not None:
            value = clause.callable()
        else:
            value = clause.value
        return lambda d: value

    def visit_null(self, clause: Any) -> Evaluator:
        return lambda d: None

    def visit_true(self, clause: Any) -> Evaluator:
        return lambda d: True

    def visit_false(self, clause: Any) -> Evaluator:
        return lambda d: False

    def visit_grouping(self, clause: Any) -> Evaluator:
        return self.process(clause.element)

    # -- lists: and_, or_, tuples
    def visit_clauselist(self, clause: Any) -> Evaluator:
        parts = [self.process(c) for c in clause.clauses]
        op = clause.operator
        if op is operators.and_:
            return _all(parts)
        if op is operators.or_:
            return _any(parts)
        if op is operators.comma_op:
            return _tuple(parts)
        raise UnevaluatableError(f"Cannot evaluate a list of clauses joined by {op.__name__}")

    visit_expression_clauselist = visit_clauselist
    visit_tuple = visit_clauselist

    # -- operators
    def visit_unary(self, clause: Any) -> Evaluator:
        if clause.operator is not operators.inv:
            raise UnevaluatableError(f"Cannot evaluate {type(clause).__name__} in Python")
        inner = self.process(clause.element)

        def negated(d: dict[str, Any]) -> Any:
            value = inner(d)
            if value is UNLOADED or value is None:
                return value
            return not value

        return negated

    def visit_binary(self, clause: Any) -> Evaluator:
        op = clause.operator
        left = self.process(clause.left)
        right = self.process(clause.right)
        if op is operators.is_ or op is operators.is_not:
            want = op is operators.is_

            def identity(d: dict[str, Any]) -> Any:
                a = left(d)
                b = right(d)
                if a is UNLOADED or b is UNLOADED:
                    return UNLOADED
                return a == b if want else a != b

            return identity
        fn = _COMPARISONS.get(op)
        if fn is None and op in _NUMERIC:
            _require(clause, (Integer, Numeric), op)
            fn = _NUMERIC[op]
        elif fn is None and op is operators.concat_op:
            _require(clause, Concatenable, op)
            fn = operator.add
        elif fn is None and isinstance(op, operators.custom_op) and op.python_impl:
            fn = op.python_impl
        if fn is None:
            raise UnevaluatableError(
                f"Cannot evaluate {type(clause).__name__} with operator "
                f"{getattr(op, '__name__', op)} in Python"
            )
        return _strict(fn, left, right)


def _require(clause: Any, kinds: Any, op: Any) -> None:
    for side in (clause.left, clause.right):
        affinity = type_affinity(side.type)
        if affinity is None or not issubclass(affinity, kinds):
            raise UnevaluatableError(
                f"Cannot evaluate operator {op.__name__} in Python for the types "
                f"{clause.left.type} and {clause.right.type}"
            )


def _strict(fn: Callable[[Any, Any], Any], left: Evaluator, right: Evaluator) -> Evaluator:
    def evaluate(d: dict[str, Any]) -> Any:
        a = left(d)
        b = right(d)
        if a is UNLOADED or b is UNLOADED:
            return UNLOADED
        if a is None or b is None:
            return None
        return fn(a, b)

    return evaluate


def _all(parts: list[Evaluator]) -> Evaluator:
    def evaluate(d: dict[str, Any]) -> Any:
        for part in parts:
            value = part(d)
            if value is UNLOADED:
                return UNLOADED
            if not value:
                return None if value is None else False
        return True

    return evaluate


def _any(parts: list[Evaluator]) -> Evaluator:
    def evaluate(d: dict[str, Any]) -> Any:
        unknown = False
        for part in parts:
            value = part(d)
            if value is UNLOADED:
                return UNLOADED
            if value:
                return True
            if value is None:
                unknown = True
        return None if unknown else False

    return evaluate


def _tuple(parts: list[Evaluator]) -> Evaluator:
    def evaluate(d: dict[str, Any]) -> Any:
        values = []
        for part in parts:
            value = part(d)
            if value is UNLOADED or value is None:
                return value
            values.append(value)
        return tuple(values)

    return evaluate


def where_evaluator(mapper: Mapper, statement: Any, params: dict[str, Any] | None) -> Evaluator:
    """The statement's WHERE clause as a function of an object's ``__dict__``
    (True, False, None for unknown, or :data:`UNLOADED`)."""
    criteria = where_criteria(statement)
    if not criteria:
        return lambda d: True
    clause = criteria[0] if len(criteria) == 1 else and_(*criteria)
    return _Compiler(mapper, params).process(clause)


def value_evaluator(mapper: Mapper, value: Any, params: dict[str, Any] | None) -> Evaluator:
    """One SET value of an UPDATE as a function of an object's ``__dict__``."""
    if not isinstance(value, ClauseElement):
        return lambda d: value
    return _Compiler(mapper, params).process(value)
