"""session_ext's compile-state plugin for ``select()``: joins along relationships.

A ``select()`` naming a mapped class (or an aliased one, or a relationship as a
join target) carries ``{"compile_state_plugin": "session_ext"}`` in its
propagated attributes, as Core does for its own plugins. When Core compiles the
statement it then builds its FROM list with :class:`JoinAwareSelectState`, which
is Core's own ``SelectState`` except that a JOIN whose target or ON clause is a
relationship (``.join(User.addresses)``, ``.join(Address, User.addresses)``,
``.join(User.tags)`` through the secondary table, ``.and_()``/``.of_type()``) is
first expanded into the plain table joins and ON clauses it stands for.

Such a join element is a FROM element annotated with :data:`REL_JOIN`, whose
value has ``join_steps(left, right, explicit_right, flags)`` yielding Core's
``(right, onclause, left, flags)`` join tuples.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.sql.base import CompileState
from sqlalchemy.sql.selectable import SelectState
from sqlalchemy.util import immutabledict

#: the plugin name Core looks up in ``statement._propagate_attrs``
PLUGIN_NAME = "session_ext"
#: what a mapped FROM element propagates to the statements it is used in
PROPAGATE = immutabledict({"compile_state_plugin": PLUGIN_NAME, "plugin_subject": None})
#: annotation key of a relationship used as a join target or ON clause
REL_JOIN = "session_ext_rel_join"


def with_plugin(element: Any) -> Any:
    """``element`` (an annotated copy, owned by the caller) marked to select the plugin."""
    element._propagate_attrs = PROPAGATE
    return element


def rel_join_of(element: Any) -> Any:
    ann = getattr(element, "_annotations", None)
    return ann.get(REL_JOIN) if ann else None


@CompileState.plugin_for(PLUGIN_NAME, "select")
class JoinAwareSelectState(SelectState):
    """Core's SELECT compile state, with relationship joins expanded first."""

    def _setup_joins(self, args: Any, raw_columns: Any) -> None:
        expanded: list[Any] = []
        for right, onclause, left, flags in args:
            spec = rel_join_of(onclause) if onclause is not None else rel_join_of(right)
            if spec is None:
                expanded.append((right, onclause, left, flags))
            else:
                expanded.extend(spec.join_steps(left, right, onclause is not None, flags))
        super()._setup_joins(tuple(expanded), raw_columns)


__all__ = ["PLUGIN_NAME", "PROPAGATE", "REL_JOIN", "JoinAwareSelectState", "rel_join_of",
           "with_plugin"]
