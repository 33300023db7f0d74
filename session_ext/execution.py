"""Running statements through a session.

``Session.execute`` lands here: autoflush, choose the bind, run the statement
on the transaction's connection, and, for a ``select()`` naming mapped
classes, turn each row's entity columns into the session's objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.sql import Select
from sqlalchemy.sql.expression import ClauseList, Delete, Insert, Update

from . import _gc, bulk, direct, exc, listening
from .compat import (
    EXECUTION_OPTIONS,
    WITH_OPTIONS,
    chunked_result,
    dml_on_table,
    dml_values,
    has_multi_values,
    raw_columns,
    require_unique,
    result_metadata,
    returning_elements,
    rows_result,
    select_froms,
    selected_width,
)
from .compat.sqlplugin import unwrap_shared
from .deferral import SlotPlan, apply_plans, column_options, mark_objects, with_expressions
from .deferral import plan_for as column_plan_for
from .direct import row_processors
from .evaluator import UNLOADED, UnevaluatableError, value_evaluator, where_evaluator
from .lifecycle import autoflush
from .loader_criteria import apply as apply_criteria
from .loader_criteria import criteria as criteria_for
from .loader_criteria import options_of, propagate
from .loading import entity_loader
from .mapping.bundle import bundles_of
from .mapping.mapper import Mapper, entity_name, entity_of, mapper_for_table, missing_keys
from .mapping.polymorphic import layout_of
from .ormexecute import IN_EVENT, RELATIONSHIP_LOAD, run_listeners
from .state import _dead, instance_state, sweep_dead
from .strategies import (
    LOADER_CRITERIA,
    UNIQUE_OK,
    JoinedStep,
    LoadContext,
    applies_to,
    apply_joined,
    collect_options,
    option_paths,
    post_load,
    set_loaded,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Result

    from .protocols import SessionLike as Session


def statement_entities(statement: Any) -> list[tuple[Mapper | None, int]]:
    """For a select: (mapper or None, number of result columns) per selected element."""
    return elements_layout(raw_columns(statement))


def elements_layout(elements: Any) -> list[tuple[Mapper | None, int]]:
    """(mapper or None, number of result columns) per element of a select's
    columns or a RETURNING clause."""
    out: list[tuple[Mapper | None, int]] = []
    for element in elements:
        mapper = entity_of(element)
        if mapper is not None:
            poly = layout_of(element)  # with_polymorphic(): the subclass tables' columns too
            out.append((mapper, len((poly or mapper).select_columns)))
        elif isinstance(element, ClauseList):  # a Bundle's columns
            out.append((None, len(element.clauses)))
        else:
            out.append((None, selected_width(element)))
    return out


def execute(
    session: Session,
    statement: Any,
    params: Any,
    execution_options: dict[str, Any],
    bind_arguments: dict[str, Any] | None,
) -> Result[Any]:
    if listening.session and session.dispatch.do_orm_execute:  # type: ignore[attr-defined]
        if not execution_options.get(IN_EVENT):
            hooked, returned = run_listeners(session, statement, params, execution_options,
                                             bind_arguments)
            if returned is not None:
                return returned  # type: ignore[no-any-return]
            statement, params = hooked.statement, hooked.parameters
            execution_options, bind_arguments = (hooked.local_execution_options,
                                                 hooked.bind_arguments or None)
    entities = None
    first_mapper = None
    if getattr(statement, WITH_OPTIONS, None):  # with_loader_criteria() among them?
        crit = options_of(statement)
        if crit:
            statement = apply_criteria(statement, crit)
    if isinstance(statement, Select):
        layout = statement_entities(statement)
        if any(m is not None for m, _ in layout) or bundles_of(statement):
            entities = layout
            first_mapper = next((m for m, _ in layout if m is not None), None)
            statement = single_table_criteria(statement, layout)
        if select_froms(statement):
            statement = _select_from_criteria(statement)
    opts = dict(getattr(statement, EXECUTION_OPTIONS, ()))
    opts.update(execution_options)
    if opts.get("autoflush", True):
        autoflush(session)
    dml = None
    dml_mapper = None
    many = False
    if isinstance(statement, (Insert, Update, Delete)):
        dml_mapper = entity_of(statement.table)
        many = dml_mapper is not None and not isinstance(statement, Delete) and bulk.is_bulk(
            params)
        if not many and not isinstance(statement, Insert):
            # before a connection is taken: criteria Python cannot evaluate raise here
            dml = _dml_sync_plan(statement, params, opts)
    if bind_arguments and bind_arguments.get("bind") is not None:
        bind = bind_arguments["bind"]
    else:
        mapper = (bind_arguments or {}).get("mapper", first_mapper or dml_mapper)
        if mapper is None and entities is None and isinstance(statement, Select):
            mapper = _first_column_mapper(statement)  # as SQLAlchemy: select(User.name)
        bind = session.get_bind(mapper, clause=statement)
    conn = session.transactions.connection_for_bind(bind)
    core_opts = {k: v for k, v in execution_options.items() if k not in _SESSION_OPTIONS}
    if opts.get("yield_per") and "stream_results" not in opts:
        core_opts["stream_results"] = True
    if dml_mapper is not None:
        return _orm_dml(session, conn, statement, params, opts, core_opts, dml_mapper, dml, many)
    if dml is not None:
        return _execute_dml(session, conn, statement, params, core_opts, dml)
    if entities is None:
        return conn.execute(statement, params, execution_options=core_opts)
    eager = _EagerLoading(statement, entities, not opts.get("_se_explicit_eager_only"))
    # entities reading one subquery through wrappers of their own read it directly
    eager.statement = unwrap_shared(eager.statement)
    eager.columns = _column_plans(statement, entities, eager.steps)
    if eager.columns:
        eager.statement = apply_plans(eager.statement, statement, entities, eager.columns)
    result = conn.execute(eager.statement, params, execution_options=core_opts)
    return _entity_result(session, entities, result, opts, eager)


def _first_column_mapper(statement: Select) -> Mapper | None:
    """The mapped class of the first selected column's table, which
    ``get_bind()`` receives for a select of columns (None: not a mapped table)."""
    for col in statement.selected_columns:
        table = getattr(col, "table", None)
        return mapper_for_table(table) if table is not None else None
    return None


def _column_plans(statement: Any, layout: list[tuple[Mapper | None, int]],
                  steps: list[JoinedStep]) -> dict[int, SlotPlan]:
    """Per entity slot, the columns it leaves out (deferral, column options);
    joined eager loaded objects: their mapping's deferral."""
    options = column_options(statement)
    plans = {}
    for slot, (mapper, _n) in enumerate(layout):
        if mapper is not None and (options or mapper.deferred_keys or mapper.expressions):
            plan = column_plan_for(mapper, options)
            if plan is not None:
                plans[slot] = plan
    for step in steps:
        if step.rel.mapper.deferred_keys:
            plan = column_plan_for(step.rel.mapper, [])
            if plan is not None:
                plan.expressions = []
                plans[step.slot] = plan
    return plans


def eager_statement(statement: Any) -> Any:
    """The Core statement ``Session.execute()`` runs for ``statement``: a
    ``select()`` of entities gets the LEFT OUTER JOINs of its joined-eager
    relationships (``joinedload()`` options and ``lazy="joined"`` defaults),
    which session_ext adds at execution time, so ``print(statement)`` does not
    show them; ``print(eager_statement(statement))`` does. Any other statement
    is returned as it is."""
    if not isinstance(statement, Select):
        return statement
    layout = statement_entities(statement)
    if not any(m is not None for m, _ in layout):
        return statement
    explicit_only = statement.get_execution_options().get("_se_explicit_eager_only", False)
    statement = single_table_criteria(statement, layout)
    return _EagerLoading(statement, layout, not explicit_only).statement


def _select_from_criteria(statement: Any) -> Any:
    """``select(...).select_from(Manager)``: the single-table subclass's criterion."""
    for element in select_froms(statement):
        mapper = entity_of(element)
        if mapper is not None and mapper.single_criteria is not None:
            statement = statement.where(mapper.single_criteria)
    return statement


def single_table_criteria(statement: Any, layout: list[tuple[Mapper | None, int]]) -> Any:
    """``statement`` limited to the rows of the single-table subclasses it
    selects (``select(Manager)``: ``WHERE employee.type IN ('manager')``)."""
    for mapper, _n in layout:
        if mapper is not None and mapper.single_criteria is not None:
            statement = statement.where(mapper.single_criteria)
    return statement


_SESSION_OPTIONS = frozenset(
    {
        "autoflush", "populate_existing", "synchronize_session", "_se_explicit_eager_only",
        "identity_token",
        UNIQUE_OK, IN_EVENT, RELATIONSHIP_LOAD,
    }
)
SYNC_STRATEGIES = ("auto", "fetch", "evaluate", False, None)


def _orm_dml(
    session: Session, conn: Any, statement: Any, params: Any, opts: dict[str, Any],
    core_opts: dict[str, Any], mapper: Mapper, plan: Any, many: bool,
) -> Any:
    """INSERT/UPDATE/DELETE of a mapped class: bulk INSERT and bulk UPDATE by
    primary key for a list of dictionaries (:mod:`session_ext.bulk`), the
    statement of a joined-table subclass written to its own table, and
    RETURNING of entities as the session's objects."""
    returning = returning_elements(statement)
    populate = bool(opts.get("populate_existing", False))
    if many and isinstance(statement, Insert):
        results = bulk.bulk_insert(mapper, conn, statement, list(params), opts, core_opts)
        if mapper.table_parts:
            objs = (bulk.joined_returning(session, mapper, statement, results[0], populate)
                    if returning else [])
            return rows_result(result_metadata([mapper.class_.__name__]), iter(objs), True)
        result = results[0] if len(results) == 1 else results[0].merge(*results[1:])
    elif many:
        if returning:
            raise exc.InvalidRequestError(
                f"bulk UPDATE of {mapper.class_.__name__} by primary key (a list of "
                "parameter dictionaries) cannot use RETURNING; leave out .returning(), or "
                "run one UPDATE with .where() and .values()"
            )
        return bulk.bulk_update(session, mapper, conn, statement, list(params), core_opts)
    else:
        if mapper.table_parts and not isinstance(statement, Insert):
            # as SQLAlchemy: the subclass's own table (other tables by criteria)
            statement = dml_on_table(statement, mapper.local_table)
        if plan is None:
            result = conn.execute(statement, params, execution_options=core_opts)
        else:
            result = _execute_dml(session, conn, statement, params, core_opts, plan)
    if not returning:
        return result
    layout = elements_layout(returning)
    if all(m is None for m, _n in layout):
        return result
    return _entity_result(session, layout, result, opts, _EagerLoading.none(statement), False)


def _dml_sync_plan(statement: Any, params: Any, opts: Any) -> tuple[Any, Any, Any]:
    """``(strategy, mapper, WHERE evaluator or None)`` for an UPDATE/DELETE (see
    :func:`_execute_dml`); raises for a bad strategy, or for criteria Python
    cannot evaluate with ``"evaluate"``."""
    strategy = opts.get("synchronize_session", "auto")
    if strategy not in SYNC_STRATEGIES:
        raise exc.ArgumentError(
            f"synchronize_session={strategy!r} is not one of 'auto', 'fetch', "
            "'evaluate' or False"
        )
    mapper = entity_of(statement.table)
    condition = None
    if strategy and mapper is not None and strategy != "fetch" and (
        params is None or isinstance(params, dict)
    ):
        try:
            condition = where_evaluator(mapper, statement, params)
        except UnevaluatableError as err:
            if strategy == "evaluate":
                raise exc.InvalidRequestError(
                    f"synchronize_session='evaluate' cannot evaluate the criteria of this "
                    f"{'DELETE' if isinstance(statement, Delete) else 'UPDATE'} in Python "
                    f"({err}); use synchronize_session='fetch' (or False, which leaves "
                    "the session's objects as they are)"
                ) from err
    return strategy, mapper, condition


def _execute_dml(
    session: Session, conn: Any, statement: Any, params: Any, core_opts: Any,
    plan: tuple[Any, Any, Any],
) -> Any:
    """UPDATE/DELETE through the session, keeping its objects consistent
    (SQLAlchemy's ``synchronize_session`` strategies).

    * ``"evaluate"``: the WHERE clause is evaluated in Python
      (:mod:`session_ext.evaluator`) on every object of the target class in the
      identity map; it raises ``InvalidRequestError`` for criteria Python
      cannot evaluate, before the statement runs.
    * ``"fetch"``: the primary keys the WHERE clause matches are selected first
      (when the session holds objects of the class).
    * ``"auto"`` (the default): ``"evaluate"``, or ``"fetch"`` when the
      criteria cannot be evaluated.

    Matched objects of an UPDATE get the new values where Python can compute
    them from the object's loaded values (plain values, ``User.age + 1``, ...)
    and have the other SET attributes (and attributes with unflushed changes)
    expired; matched objects of a DELETE are marked deleted.  With
    ``synchronize_session=False`` nothing is done.
    """
    strategy, mapper, condition = plan
    if not strategy or mapper is None:
        return conn.execute(statement, params, execution_options=core_opts)
    one_set = params is None or isinstance(params, dict)  # not executemany
    matched: list[tuple[Any, Any, bool]] = []  # (state, object, partly unloaded)
    if condition is None and _has_objects_of(session, mapper):
        pk_select = select(*mapper.primary_key)
        if mapper.table_parts:
            pk_select = pk_select.select_from(mapper.table)
        if statement.whereclause is not None:
            pk_select = pk_select.where(statement.whereclause)
        imap = session.identity_map.by_key
        for row in conn.execute(pk_select, params):
            state = imap.get((mapper.identity_class, tuple(row), None))
            if state is not None:
                obj = state.obj()
                if obj is not None:
                    matched.append((state, obj, False))
    result = conn.execute(statement, params, execution_options=core_opts)
    if condition is not None:
        matched = _evaluate_matches(session, mapper, condition)
    if not matched:
        return result
    from .loading import expire_state

    if isinstance(statement, Delete):
        tx = session.transactions.current
        row_deleted = session.objects.row_deleted
        for state, obj, partial in matched:
            if partial:  # unknown whether it matched: reload it on next access
                expire_state(session, state, None)
                continue
            row_deleted(state, obj, tx)
    elif one_set and not has_multi_values(statement):
        _set_updated_values(session, mapper, statement, params, result, matched)
    else:
        keys = _updated_keys(statement, mapper, params)
        for state, _obj, _partial in matched:
            expire_state(session, state, keys)
    return result


def _evaluate_matches(
    session: Session, mapper: Mapper, condition: Any
) -> list[tuple[Any, Any, bool]]:
    """The objects of ``mapper``'s class in the identity map that ``condition``
    matches (with True when an attribute it reads is not loaded); wholly
    expired objects are left alone."""
    cls = mapper.class_
    pk_keys = mapper.pk_keys
    keys = mapper.column_attr_keys
    out = []
    icls = mapper.identity_class
    for key, state in list(session.identity_map.by_key.items()):
        if key[0] is not icls and not issubclass(key[0], cls):
            continue
        obj = state()  # state.obj()
        if obj is None or (icls is not cls and not isinstance(obj, cls)):
            continue
        d = obj.__dict__
        if not any(k in d for k in pk_keys):
            continue  # expired as a whole: reloaded on access anyway
        known_none = state.known_none
        if known_none or not state.expired:
            # a column never loaded but not expired (left out of its INSERT) is
            # NULL, as SQLAlchemy reads it; only expired ones are unknown
            missing = [k for k in keys if k not in d and (not state.expired or k in known_none)]
            if missing:
                d = {**d, **dict.fromkeys(missing)}
        found = condition(d)
        if found is True:
            out.append((state, obj, False))
        elif found is UNLOADED:
            out.append((state, obj, True))
    return out


def _set_updated_values(
    session: Session,
    mapper: Mapper,
    statement: Any,
    params: dict[str, Any] | None,
    result: Any,
    matched: list[tuple[Any, Any, bool]],
) -> None:
    """Give the objects an UPDATE matched its new values where Python can
    compute them from the object; expire the attributes it cannot."""
    from .loading import expire_state

    col_to_key = mapper.col_to_key
    by_name = {c.key: key for c, key in col_to_key.items()}
    set_values: dict[str, Any] = {}
    for k, v in dml_values(statement).items():
        attr = by_name.get(k) if isinstance(k, str) else col_to_key.get(k)
        if attr is not None:
            set_values[attr] = v
    evaluators = {}
    for attr, v in set_values.items():
        try:
            evaluators[attr] = value_evaluator(mapper, v, params)
        except UnevaluatableError:
            pass
    # SET values given as parameters, and columns the database changes
    unknown = {by_name[n] for n in params or () if n in by_name and by_name[n] not in set_values}
    unknown |= {col_to_key[c] for c in result.postfetch_cols() if c in col_to_key}
    unknown.difference_update(evaluators)
    # Python-side onupdate= values Core computed for the statement
    computed: dict[str, Any] = {}
    prefetch = result.prefetch_cols()
    if prefetch:
        sent = result.context.compiled_parameters[0]
        for c in prefetch:
            attr = col_to_key.get(c)
            if attr is not None and attr not in evaluators and c.key in sent:
                computed[attr] = sent[c.key]
    for state, obj, _partial in matched:
        d = obj.__dict__
        committed = state.committed
        new: dict[str, Any] = {}
        stale = set(unknown)
        for attr in set_values:
            if attr not in d:
                continue  # not loaded: stays so
            evaluate = evaluators.get(attr)
            if evaluate is None or attr in committed:
                stale.add(attr)  # unflushed change, or a value only the database knows
                continue
            value = evaluate(d)
            if value is UNLOADED:
                stale.add(attr)
            else:
                new[attr] = value
        if computed:
            new.update(computed)
            for attr in computed:
                committed.pop(attr, None)
            if not committed and state.modified:
                state.modified = False
                session.identity_map.release(state)
        d.update(new)
        if stale:
            expire_state(session, state, list(stale))


def _updated_keys(statement: Any, mapper: Mapper, params: Any) -> list[str]:
    """Attribute keys an UPDATE sets (all column attributes if that can't be told)."""
    values = dml_values(statement)
    names: set[str] = set()
    for key in values or ():
        col = getattr(key, "key", key)
        names.add(col)
    if isinstance(params, dict):
        names |= set(params)
    elif isinstance(params, (list, tuple)) and params and isinstance(params[0], dict):
        names |= set(params[0])
    by_col = {c.key: mapper.col_to_key[c] for c in mapper.columns}
    keys = {by_col[n] for n in names if n in by_col}
    if not keys:
        return list(mapper.column_attr_keys)
    # columns the database (or Core, for onupdate=) changes along with the SET
    keys |= set(mapper.python_onupdates) | mapper.fetch_on_update
    return list(keys)


def _has_objects_of(session: Session, mapper: Mapper) -> bool:
    cls = mapper.identity_class
    return any(key[0] is cls for key in session.identity_map.by_key)


class _EagerLoading:
    """The relationship loading a select() of entities asks for (options + defaults)."""

    def __init__(
        self, statement: Any, layout: list[tuple[Mapper | None, int]], defaults: bool = True
    ) -> None:
        self.statement = statement
        self.bundles = bundles_of(statement)
        #: slot -> PolymorphicLayout of the with_polymorphic() entities
        self.layouts = {i: poly for i, poly in enumerate(map(layout_of, raw_columns(statement)))
                        if poly is not None}
        #: the result's key of each selected entity: its class's or alias's name
        self.names = [entity_name(e) for e in raw_columns(statement)]
        #: slot -> attribute keys the statement lacks for the entity there
        self.missing = {i: m for i, m in enumerate(map(missing_keys, raw_columns(statement)))
                        if m}
        self.steps: list[JoinedStep] = []
        self.post: dict[int, Any] = {}
        #: per entity slot: the columns left out (:mod:`session_ext.deferral`)
        self.columns: dict[int, SlotPlan] = {}
        #: with_loader_criteria() options the loaded objects' relationships keep
        self.criteria = criteria_options = (
            options_of(statement) if getattr(statement, WITH_OPTIONS, None) else ())
        mappers = [m for m, _ in layout if m is not None]
        options = collect_options(statement)
        if not options and not (defaults and any(m.has_eager_defaults() for m in mappers)):
            return
        paths: dict[int, list[Any]] = {}
        for i, (mapper, _n) in enumerate(layout):
            if mapper is not None:
                # options of the class, or of a subclass (selectinload(Manager.paperwork))
                paths[i] = [list(p) for p in option_paths(options) if applies_to(p, mapper)]
        extra = None
        if criteria_options:
            def extra(mapper: Mapper) -> list[Any]:
                return criteria_for(criteria_options, mapper)
        self.statement, self.steps, self.post = apply_joined(statement, layout, paths, defaults,
                                                             extra)

    @classmethod
    def none(cls, statement: Any) -> _EagerLoading:
        """No eager loading (the RETURNING of an INSERT/UPDATE/DELETE)."""
        self = cls.__new__(cls)
        self.statement = statement
        self.bundles = {}
        self.layouts = {}
        self.names = []
        self.missing = {}
        self.steps = []
        self.post = {}
        self.columns = {}
        self.criteria = ()
        return self

    @property
    def active(self) -> bool:
        return bool(self.steps or self.criteria
                    or any(paths for _m, paths, _v in self.post.values())
                    or any(p.marks or p.expressions for p in self.columns.values()))


def _entity_result(
    session: Session,
    layout: list[tuple[Mapper | None, int]],
    result: Any,
    opts: dict[str, Any],
    eager: _EagerLoading,
    plain: bool = True,
) -> Result[Any]:
    """The Result of a statement that selects entities: rows become objects (and
    the objects of joined eager loads), built by converters made once here."""
    populate = bool(opts.get("populate_existing", False))
    keys = list(result.keys())
    width = len(keys)
    token = opts.get("identity_token")
    out_keys, getters, slots = _row_getters(session, layout, keys, populate, eager.bundles,
                                            eager.layouts, eager.columns, token, eager.names)
    for slot, missing in eager.missing.items():
        i = slots.index(slot)
        getters[i] = _unloading(session, layout, slot, getters[i], missing, populate, token)
    steps = eager.steps
    for step in steps:
        plan = eager.columns.get(step.slot)
        step.loader = entity_loader(session, step.rel.mapper, step.offset, width, populate,
                                    skip=plan.skip if plan is not None else frozenset(),
                                    identity_token=token)
    n_slots = len(layout) + len(steps)
    track = eager.active or bool(session.n_plus_one)
    scalars_only = len(getters) == 1 and not isinstance(getters[0], (int, slice))
    if scalars_only and not steps:
        convert_rows = _entity_converter(getters[0], track)
    elif scalars_only and all(step.parent_slot == 0 for step in steps):
        # the common joined-eager shape: one entity, relationships of it joined in
        convert_rows = _joined_converter(layout[0][0], getters[0], steps, n_slots, track,
                                         populate)
    else:
        convert_rows = _rows_converter(getters, slots, steps, n_slots, track, populate,
                                       scalars_only)
    if eager.bundles:
        convert_rows = _bundled(convert_rows, getters, eager)

    def convert(rows: Any) -> list[Any]:
        if _dead:
            sweep_dead()  # objects of earlier batches that were let go
        with _gc.paused(len(rows)):
            data, per_slot = convert_rows(rows)
        if track:
            _after_rows(session, eager, per_slot, populate)
        return data

    yield_per = opts.get("yield_per")
    # under yield_per, .unique() raises (it would keep every row), as in SQLAlchemy
    metadata = result_metadata(out_keys, _refuse_unique if yield_per else None)
    if yield_per:
        return _streamed_result(result, metadata, convert, steps, scalars_only, yield_per)
    rows = None
    if scalars_only and plain:
        mapper = layout[0][0]
        if steps:  # joined eager loads: the columns of the joined-in tables too
            types = tuple(c.type for c in eager.statement.selected_columns)
        else:
            types = (eager.layouts.get(0) or mapper).column_types  # type: ignore[union-attr]
        rows = _plain_rows(result, types)
    if rows is None:
        rows = result.all()
    # a single entity hands out bare objects: .scalars() takes them as they are
    out = rows_result(metadata, iter(convert(rows)), scalars_only)
    if steps and not opts.get(UNIQUE_OK) and any(step.rel.uselist for step in steps):
        # as SQLAlchemy's ORM: rows of joined eager loaded collections are only
        # handed out through .unique() (unique() replaces this filter)
        require_unique(out, _require_unique)
    return out


def _row_getters(
    session: Session, layout: list[tuple[Mapper | None, int]], keys: list[str], populate: bool,
    bundles: dict[int, Any], polys: dict[int, Any],
    plans: dict[int, SlotPlan] | None = None, token: Any = None,
    names: list[Any] | None = None,
) -> tuple[list[str], list[Any], list[int | None]]:
    """The result's keys, and per result element its getter: an entity loader (a
    function of the row) or a column index; with, per getter, the eager slot it
    fills (entities) or None."""
    width = len(keys)
    out_keys: list[str] = []
    getters: list[Any] = []
    slots: list[int | None] = []
    offset = 0
    for slot, (mapper, n) in enumerate(layout):
        if mapper is not None:
            out_keys.append((names[slot] if names else None) or mapper.class_.__name__)
            plan = plans.get(slot) if plans else None
            if plan is None:
                getters.append(entity_loader(session, mapper, offset, width, populate,
                                             polys.get(slot), identity_token=token))
            else:
                load = entity_loader(session, mapper, offset, width, populate,
                                     polys.get(slot), skip=plan.skip, identity_token=token)
                if plan.expr_index:
                    load = with_expressions(load, plan, populate)
                getters.append(load)
            slots.append(slot)
        elif slot in bundles:  # its values as a tuple, made the bundle's value by _bundled
            out_keys.append(bundles[slot].name)
            getters.append(slice(offset, offset + n))
            slots.append(None)
        else:
            for i in range(offset, offset + n):
                out_keys.append(keys[i] if i < len(keys) else f"col_{i}")
                getters.append(i)
                slots.append(None)
        offset += n
    return out_keys, getters, slots


def _unloading(session: Session, layout: list[tuple[Mapper | None, int]], slot: int,
               load: Any, missing: tuple[str, ...], populate: bool, token: Any) -> Any:
    """``load`` for an entity read from a statement lacking some of its columns:
    objects it creates (or repopulates) get those attributes unloaded."""
    mapper = layout[slot][0]
    offset = sum(n for _m, n in layout[:slot])
    pk_at = [offset + mapper.select_columns.index(c) for c in mapper.primary_key]  # type: ignore[union-attr]
    icls = mapper.identity_class  # type: ignore[union-attr]
    imap = session.identity_map.by_key

    def load_unloading(row: Any) -> Any:
        state = imap.get((icls, tuple([row[i] for i in pk_at]), token))
        known = state is not None and state.obj() is not None
        obj = load(row)
        if obj is not None and (populate or not known):
            d = obj.__dict__
            for key in missing:
                d.pop(key, None)
        return obj

    return load_unloading


def _bundled(convert_rows: Converter, getters: list[Any], eager: _EagerLoading) -> Converter:
    """``convert_rows`` with each Bundle's tuple of values made its value."""
    procs = {}
    bundles = iter(eager.bundles.values())
    for i, g in enumerate(getters):
        if isinstance(g, slice):
            procs[i] = next(bundles)._value_maker(eager.statement)

    def convert(rows: Any) -> tuple[list[Any], list[list[Any]]]:
        data, per_slot = convert_rows(rows)
        out = []
        for row in data:
            values = list(row)
            for i, proc in procs.items():
                values[i] = proc(values[i])
            out.append(tuple(values))
        return out, per_slot

    return convert


def _streamed_result(result: Any, metadata: Any, convert: Any, steps: list[JoinedStep],
                     scalars_only: bool, yield_per: int) -> Result[Any]:
    """``yield_per``: rows converted batch by batch as they are fetched."""
    if any(step.rel.uselist for step in steps):
        raise exc.InvalidRequestError(
            "yield_per cannot be combined with joined eager loading of a collection "
            "(a parent's children could be split across batches); use selectinload"
        )

    def chunks(size: int | None) -> Any:
        for partition in result.partitions(size or yield_per):
            yield convert(partition)

    streamed = chunked_result(metadata, chunks, scalars_only, result)
    return streamed.yield_per(yield_per)


Converter = Callable[[Any], tuple[list[Any], list[list[Any]]]]


def _entity_converter(load: Any, track: bool) -> Converter:
    """One entity, nothing joined: a list of objects."""

    def convert_rows(rows: Any) -> tuple[list[Any], list[list[Any]]]:
        data = [load(r) for r in rows]
        return data, [data] if track else []

    return convert_rows


def _joined_converter(mapper: Any, load: Any, steps: list[JoinedStep], n_slots: int,
                      track: bool, populate: bool) -> Converter:
    """One entity with relationships of it joined in: the parents (once each for
    collections), and each parent's related objects set on it."""
    dedupe = any(step.rel.uselist for step in steps)
    if len(steps) == 1:
        pk_i = mapper.pk_indexes[0] if len(mapper.pk_indexes) == 1 else None
        gather = _gather_one(load, steps[0].loader, pk_i, dedupe)
    else:
        gather = _gather_many(load, [step.loader for step in steps], dedupe)

    def convert_rows(rows: Any) -> tuple[list[Any], list[list[Any]]]:
        data: list[Any] = []
        children_of = gather(rows, data)
        per_slot: list[list[Any]] = [[] for _ in range(n_slots)]
        by_id = {id(o): o for o in data if o is not None}
        for pid, entry in children_of.items():
            parent = by_id[pid]
            pstate = instance_state(parent)
            for k, step in enumerate(steps):
                found = entry[k]
                rel = step.rel
                value = found if rel.uselist else (found[0] if found else None)
                set_loaded(rel, pstate, parent, value, populate)
                if track:
                    per_slot[step.slot].extend(found)
        if track:
            per_slot[0] = list(by_id.values())
        return data, per_slot

    return convert_rows


def _gather_one(load: Any, child_load: Any, pk_i: int | None, dedupe: bool) -> Any:
    """One joined relationship (the usual case): the loop of :func:`_gather_many`
    without its inner loop."""

    def gather_one(rows: Any, data: list[Any]) -> dict[int, list[Any]]:
        children_of: dict[int, list[Any]] = {}
        # a parent's rows usually come one after another: reuse the parent
        # while its key repeats instead of looking it up again
        last_pk: Any = None
        parent: Any = None
        found: list[Any] = []
        for r in rows:
            if pk_i is None or parent is None or r[pk_i] != last_pk:
                parent = load(r)
                if parent is None:
                    data.append(None)
                    continue
                if pk_i is not None:
                    last_pk = r[pk_i]
                found = children_of.get(id(parent))  # type: ignore[assignment]
                if found is None:
                    found = children_of[id(parent)] = []
                    data.append(parent)
                elif not dedupe:
                    data.append(parent)
            elif not dedupe:
                data.append(parent)
            child = child_load(r)
            if child is not None:
                found.append(child)
        # a child repeats only when the query's other joins repeat rows:
        # check each list once instead of every row
        for pid, found in children_of.items():
            if len(found) > 1 and len(set(map(id, found))) != len(found):
                children_of[pid] = list({id(c): c for c in found}.values())
        return {pid: [found] for pid, found in children_of.items()}

    return gather_one


def _gather_many(load: Any, step_loaders: list[Any], dedupe: bool) -> Any:
    n_steps = len(step_loaders)

    def gather_many(rows: Any, data: list[Any]) -> dict[int, list[Any]]:
        """Fill ``data`` with the parents in row order (once each for
        collections); return, per parent id, each step's distinct children
        in row order."""
        children_of: dict[int, list[Any]] = {}
        for r in rows:
            parent = load(r)
            if parent is None:
                data.append(None)
                continue
            entry = children_of.get(id(parent))
            if entry is None:
                entry = children_of[id(parent)] = [([], set()) for _ in range(n_steps)]
                data.append(parent)
            elif not dedupe:
                data.append(parent)
            for k in range(n_steps):
                child = step_loaders[k](r)
                if child is not None:
                    found, ids = entry[k]
                    if id(child) not in ids:
                        ids.add(id(child))
                        found.append(child)
        return {pid: [found for found, _ids in entry] for pid, entry in children_of.items()}

    return gather_many


def _rows_converter(getters: list[Any], slots: list[int | None], steps: list[JoinedStep],
                    n_slots: int, track: bool, populate: bool, scalars_only: bool) -> Converter:
    """Any shape (several entities, columns, nested joined loads): tuples."""

    def convert_rows(rows: Any) -> tuple[list[Any], list[list[Any]]]:
        data = []
        per_slot: list[list[Any]] = [[] for _ in range(n_slots)]
        collected: list[dict[int, tuple[Any, list[Any], set[int]]]] = [{} for _ in steps]
        for r in rows:
            filled: list[Any] = [None] * n_slots
            out = []
            for g, slot in zip(getters, slots):
                if slot is None:
                    out.append(r[g])
                else:
                    obj = g(r)
                    filled[slot] = obj
                    out.append(obj)
            for k, step in enumerate(steps):
                parent = filled[step.parent_slot]
                if parent is None:
                    continue
                child = step.loader(r)
                filled[step.slot] = child
                entry = collected[k].get(id(parent))
                if entry is None:
                    entry = collected[k][id(parent)] = (parent, [], set())
                if child is not None and id(child) not in entry[2]:
                    entry[2].add(id(child))
                    entry[1].append(child)
            if track:
                for slot_i, obj in enumerate(filled):
                    if obj is not None:
                        per_slot[slot_i].append(obj)
            data.append(tuple(out))
        _set_collected(steps, collected, populate)
        if any(step.rel.uselist for step in steps):
            data = _unique_rows(data)
        if scalars_only:
            data = [row[0] for row in data]
        return data, per_slot

    return convert_rows


def _set_collected(steps: list[JoinedStep], collected: list[dict[int, Any]],
                   populate: bool) -> None:
    for k, step in enumerate(steps):
        rel = step.rel
        for parent, children, _ids in collected[k].values():
            pstate = instance_state(parent)
            value = children if rel.uselist else (children[0] if children else None)
            set_loaded(rel, pstate, parent, value, populate)


def _refuse_unique(value: Any) -> Any:
    raise exc.InvalidRequestError(
        "Can't use the ORM yield_per feature in conjunction with unique(): unique() "
        "keeps every row; drop one of them"
    )


def _require_unique(row: Any) -> Any:
    raise exc.InvalidRequestError(
        "The unique() method must be invoked on this Result, as it contains results that "
        "include joined eager loads against collections: call "
        "session.execute(stmt).unique() (or .scalars().unique()), or load the collection "
        "with selectinload() instead of joinedload()"
    )


def _plain_rows(result: Any, types: tuple[Any, ...]) -> list[Any] | None:
    """All rows of an entity query as the driver's tuples, or None.

    When no column needs a result processor (the common case: integers and
    strings on SQLite and psycopg), the loaders read the driver's rows as they
    are and Core's ``Row`` objects would only be made to be thrown away.
    Decided once per dialect, column types and cursor type codes.
    """
    if direct.CORE_ONLY or result.context.execution_options.get("stream_results"):
        return None  # a streaming result has read ahead of the driver's cursor
    cursor = getattr(result, "cursor", None)
    description = getattr(cursor, "description", None)
    if description is None:
        return None
    if len(types) != len(description):
        return None
    codes = tuple(d[1] for d in description)
    if row_processors(result.context.dialect, codes, types) is not None:
        return None
    rows: list[Any] = cursor.fetchall()
    result.close()
    return rows


def _unique_rows(data: list[Any]) -> list[Any]:
    seen: set[tuple[int, ...]] = set()
    out = []
    for row in data:
        key = tuple(id(v) if hasattr(v, "__dict__") else v for v in row)
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def _after_rows(
    session: Session, eager: _EagerLoading, per_slot: list[list[Any]], populate: bool
) -> None:
    if session.n_plus_one:
        ctx = LoadContext()
        for objs in per_slot:
            for obj in objs:
                instance_state(obj).load_context = ctx
    for slot, plan in eager.columns.items():
        if slot < len(per_slot):
            mark_objects(per_slot[slot], plan)
    token = None
    if eager.criteria:
        propagating = propagate(eager.criteria, [o for objs in per_slot for o in objs])
        token = LOADER_CRITERIA.set(propagating)
    try:
        for slot, (mapper, paths, visited) in eager.post.items():
            if slot >= len(per_slot) or not paths:
                continue
            objs = list({id(o): o for o in per_slot[slot]}.values())
            post_load(session, mapper, objs, paths, visited, populate, defaults=False)
    finally:
        if token is not None:
            LOADER_CRITERIA.reset(token)
