"""``do_orm_execute``: the Session event around ``Session.execute()``.

A listener gets an :class:`ORMExecuteState`: it may replace the statement,
add execution options, or return a ``Result`` of its own, which
``execute()`` then returns without running the statement.
``invoke_statement()`` runs the statement from inside the listener (the
``do_orm_execute`` listeners are not called again for that run).

Only called while a ``do_orm_execute`` listener exists: ``execution.execute``
tests ``listening.session`` first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.sql import Select
from sqlalchemy.sql.expression import Delete, Insert, Update

from .compat import EXECUTION_OPTIONS

#: execution option marking a run started by ``invoke_statement()``
IN_EVENT = "_se_in_do_orm_execute"
#: execution option of the loaders' relationship SELECTs (lazy and selectin loads)
RELATIONSHIP_LOAD = "_se_relationship_load"


class ORMExecuteState:
    """What a ``do_orm_execute`` listener sees of one ``Session.execute()`` call."""

    def __init__(self, session: Any, statement: Any, parameters: Any,
                 execution_options: dict[str, Any], bind_arguments: dict[str, Any] | None,
                 ) -> None:
        self.session = session
        self.statement = statement
        self.parameters = parameters
        self.local_execution_options = dict(execution_options)
        self.bind_arguments = dict(bind_arguments or {})

    @property
    def execution_options(self) -> dict[str, Any]:
        """The statement's execution options, then those of this call."""
        out = dict(getattr(self.statement, EXECUTION_OPTIONS, None) or {})
        out.update(self.local_execution_options)
        return out

    def update_execution_options(self, **opts: Any) -> None:
        self.local_execution_options.update(opts)

    @property
    def is_select(self) -> bool:
        return isinstance(self.statement, Select)

    @property
    def is_insert(self) -> bool:
        return isinstance(self.statement, Insert)

    @property
    def is_update(self) -> bool:
        return isinstance(self.statement, Update)

    @property
    def is_delete(self) -> bool:
        return isinstance(self.statement, Delete)

    @property
    def is_dml(self) -> bool:
        return isinstance(self.statement, (Insert, Update, Delete))

    @property
    def is_column_load(self) -> bool:
        """session_ext loads expired or deferred columns without ``execute()``."""
        return False

    @property
    def is_relationship_load(self) -> bool:
        return bool(self.local_execution_options.get(RELATIONSHIP_LOAD))

    def invoke_statement(self, statement: Any = None, params: Any = None,
                         execution_options: dict[str, Any] | None = None,
                         bind_arguments: dict[str, Any] | None = None) -> Any:
        """Run the statement (or ``statement``) now and return its ``Result``."""
        opts = dict(self.local_execution_options)
        opts.update(execution_options or {})
        opts[IN_EVENT] = True
        binds = dict(self.bind_arguments)
        binds.update(bind_arguments or {})
        if params is None:
            params = self.parameters
        elif self.parameters:
            params = {**self.parameters, **params}
        return self.session.execute(self.statement if statement is None else statement,
                                    params, execution_options=opts,
                                    bind_arguments=binds or None)


def run_listeners(session: Any, statement: Any, params: Any,
                  execution_options: dict[str, Any], bind_arguments: dict[str, Any] | None,
                  ) -> tuple[ORMExecuteState, Any]:
    """Call the ``do_orm_execute`` listeners: (their state, the first Result one returned)."""
    state = ORMExecuteState(session, statement, params, execution_options, bind_arguments)
    for fn in session.dispatch.do_orm_execute:
        result = fn(state)
        if result:
            return state, result
    return state, None
