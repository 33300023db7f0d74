"""Relationship loading: lazy, selectin, joined, raise, noload; loader options;
N+1 detection.

* lazy ("select"): one SELECT on first access; a many-to-one whose target is
  already in the identity map costs no SQL.
* selectin: after the parent rows are loaded, one SELECT ... WHERE key IN (...)
  per relationship for all of them.
* joined: the parent SELECT gets a LEFT OUTER JOIN to the target (through an
  alias) and children are read from the same rows; parent rows repeated by a
  collection join are returned once.
* raise / noload: access raises ``InvalidRequestError`` / gives an empty value.

Options (``selectinload(User.posts).selectinload(Post.comments)``) travel on
the statement (``select(...).options(...)``, ``query.options(...)``); a
relationship's ``lazy=`` is its default when no option names it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select, tuple_

from . import deferral, exc
from .compat import (
    WITH_OPTIONS,
    ClauseAdapter,
    PathOption,
    has_limit_or_offset,
    order_by_clauses,
    raw_columns,
)
from .mapping.mapper import entity_of
from .mapping.polymorphic import layout_of
from .mapping.relationships import (
    LOADER_STRATEGIES,
    MANYTOMANY,
    MANYTOONE,
    ONETOMANY,
    InstrumentedList,
    LoaderStrategy,
    Relationship,
    register_loader,
)
from .mapping.relationships.sqljoin import RelationshipJoin
from .ormexecute import RELATIONSHIP_LOAD
from .state import NO_VALUE, STATE_ATTR, InstanceState, instance_state
from .subclass_loading import SubclassStep, load_subclass_columns, subclass_step

if TYPE_CHECKING:
    from .mapping.mapper import Mapper
    from .protocols import SessionLike as Session

#: IN lists longer than this are split (SQLite allows 32,766 parameters)
IN_CHUNK = 30_000

#: execution option of session_ext's own queries: their results may be used
#: without ``.unique()`` when they joined-eager-load a collection (each parent
#: comes once anyway); a user's ``select()`` needs ``.unique()`` as in SQLAlchemy
UNIQUE_OK = "_se_unique_ok"


# --------------------------------------------------------------------------- options
class JoinedVariant(str):
    """A strategy name with the options of one loader option: ``innerjoin``
    (``joinedload(..., innerjoin=True)``), ``contains`` (``contains_eager()``:
    the rows are read from ``target``, a FROM element the statement joins
    itself; no join is added) and ``criteria`` (``selectinload(A.bs.and_(...))``:
    added to the loading SELECT or join)."""

    innerjoin: bool
    contains: bool
    target: Any
    criteria: tuple[Any, ...]

    def __new__(cls, innerjoin: bool = False, contains: bool = False,
                target: Any = None, name: str = "joined",
                criteria: tuple[Any, ...] = ()) -> JoinedVariant:
        self = super().__new__(cls, name)
        self.innerjoin, self.contains, self.target = innerjoin, contains, target
        self.criteria = criteria
        return self

    def __repr__(self) -> str:
        if self.contains:
            return "contains_eager"
        return f"{str(self)}(innerjoin)" if self.innerjoin else f"{str(self)}(criteria)"

    def _variant_key(self) -> tuple[Any, ...]:
        return (str(self), self.innerjoin, self.contains, self.target, self.criteria)


#: ``defaultload()``: the step keeps the relationship's own strategy
DEFAULT = "default"


class WithColumns(str):
    """A loader strategy name carrying column options for the related objects'
    SELECT (``selectinload(User.books).load_only(Book.title)``)."""

    columns: tuple[Any, ...]

    def __new__(cls, strategy: str, columns: tuple[Any, ...]) -> WithColumns:
        self = super().__new__(cls, str(strategy))
        self.columns = columns
        return self

    def _variant_key(self) -> tuple[Any, ...]:
        return (str(self), tuple(o.path_key for o in self.columns))


def _strategy_key(strategy: str) -> Any:
    variant = getattr(strategy, "_variant_key", None)
    return variant() if variant is not None else strategy


def _step(attr: Any, name: str, innerjoin: bool | None = None) -> tuple[Any, str]:
    """The (relationship, strategy) step of a loader option on ``attr``
    (``"*"``: a :class:`Wildcard`; ``User.addresses.and_(...)``: with criteria)."""
    if isinstance(attr, str) and attr == "*":
        return Wildcard(None), name
    rel = _as_relationship(attr)
    criteria = attr.criteria if isinstance(attr, RelationshipJoin) else ()
    if innerjoin is not None or criteria:
        return rel, JoinedVariant(innerjoin=bool(innerjoin), name=name, criteria=criteria)
    return rel, name


class Wildcard:
    """``"*"`` in a loader option: every relationship the option's other steps
    do not name, of ``mapper``'s objects (``Load(Order).raiseload("*")``,
    ``joinedload(Order.items).raiseload("*")``) or, with no mapper, of every
    object the statement loads, at every level (``lazyload("*")``)."""

    _primaryjoin = None
    class_attribute = "*"

    def __init__(self, mapper: Any) -> None:
        self.parent = mapper

    def __repr__(self) -> str:
        return "*" if self.parent is None else f"{self.parent.class_.__name__}.*"


class LoaderOption(PathOption):
    """A path of (relationship, strategy) steps, e.g. User.posts -> Post.comments."""

    def __init__(self, path: tuple[tuple[Any, str], ...]) -> None:
        self.path = path
        self.path_key = tuple((rel.class_attribute, _strategy_key(strategy))
                              for rel, strategy in path)

    def _chain(self, attr: Any, strategy: str, innerjoin: bool | None = None) -> LoaderOption:
        last = self.path[-1][0] if self.path else None
        if isinstance(last, Wildcard):
            raise exc.ArgumentError("Can't chain a loader option after a '*' wildcard")
        target = self._target()
        if isinstance(attr, str) and attr == "*":
            return LoaderOption(self.path + ((Wildcard(target), strategy),))
        step = _step(attr, strategy, innerjoin)
        rel = step[0]
        if target not in rel.parent.iterate_to_root():
            after = last.class_attribute if last is not None else target.class_.__name__
            raise exc.ArgumentError(
                f"Can't chain {rel.class_attribute} after {after}: it is not a relationship "
                f"of {target.class_.__name__}"
            )
        return LoaderOption(self.path + (step,) + _of_type_step(attr, step[1]))

    #: the mapper a :class:`Load` starts from (None: the first step's parent)
    _root: Any = None

    def _target(self) -> Any:
        """The mapper of the objects the path's last relationship loads (a
        :class:`Load`'s entity before its first step)."""
        steps = [s for s, _ in self.path if not isinstance(s, SubclassStep)]
        if not steps:
            root = self._root if self._root is not None else self.path[0][0].parent
            root.registry.configure()
            return root
        last = steps[-1]
        last.parent.registry.configure()  # type: ignore[union-attr]
        return last.mapper

    def selectin_polymorphic(self, classes: Any) -> LoaderOption:
        """Also load the columns of ``classes``' tables for the objects the path loads."""
        return LoaderOption(self.path + ((subclass_step(self._target(), classes), "selectin"),))

    def selectinload(self, attr: Any) -> LoaderOption:
        return self._chain(attr, "selectin")

    def subqueryload(self, attr: Any) -> LoaderOption:
        return self._chain(attr, "subquery")

    def joinedload(self, attr: Any, innerjoin: bool | None = None) -> LoaderOption:
        return self._chain(attr, "joined", innerjoin)

    def contains_eager(self, attr: Any, alias: Any = None) -> LoaderOption:
        rel = _as_relationship(attr)
        last = self.path[-1][0] if self.path else None
        if last is not None and rel.parent is not last.mapper:
            raise exc.ArgumentError(
                f"Can't chain {rel.class_attribute} after {last.class_attribute}: it is not "
                f"a relationship of {last.mapper.class_.__name__}"
            )
        return LoaderOption(self.path + ((rel, _contains(attr, alias)),))

    def lazyload(self, attr: Any) -> LoaderOption:
        return self._chain(attr, "select")

    def immediateload(self, attr: Any) -> LoaderOption:
        return self._chain(attr, "immediate")

    def raiseload(self, attr: Any, sql_only: bool = False) -> LoaderOption:
        return self._chain(attr, "raise_on_sql" if sql_only else "raise")

    def noload(self, attr: Any) -> LoaderOption:
        return self._chain(attr, "noload")

    def defaultload(self, attr: Any) -> LoaderOption:
        return self._chain(attr, DEFAULT)

    def options(self, *options: Any) -> LoaderOption:
        """Options for the objects the path loads, several at once:
        ``defaultload(A.atob).options(joinedload(B.btoc), load_only(B.name))``."""
        if not self.path:
            raise exc.ArgumentError("Load(...).options() needs a relationship step first")
        target = self._target()
        base: LoaderOption = self
        for option in options:  # column options: for the objects the path loads
            if isinstance(option, deferral.ColumnOption):
                base = base._with_columns(option)
        paths = []
        for option in options:
            if isinstance(option, deferral.ColumnOption):
                continue
            if not isinstance(option, LoaderOption):
                raise exc.ArgumentError(f"{option!r} is not a loader option")
            for path in option_paths([option]):
                first = path[0][0]
                if not isinstance(first, Wildcard) and \
                        target not in first.parent.iterate_to_root():
                    raise exc.ArgumentError(
                        f"Option {option!r} does not apply to {target.class_.__name__}, the "
                        "class the parent option loads"
                    )
                paths.append(LoaderOption(base.path + tuple(path)))
        return OptionGroup(paths or [base])

    # column options for the objects the last relationship loads
    def _with_columns(self, option: Any) -> LoaderOption:
        rel, strategy = self.path[-1]
        columns = (*getattr(strategy, "columns", ()), option)
        return LoaderOption((*self.path[:-1], (rel, WithColumns(strategy, columns))))

    def load_only(self, *attrs: Any, raiseload: bool = False) -> LoaderOption:
        return self._with_columns(deferral.load_only(*attrs, raiseload=raiseload))

    def defer(self, attr: Any, *more: Any, raiseload: bool = False) -> LoaderOption:
        return self._with_columns(deferral.defer(attr, *more, raiseload=raiseload))

    def undefer(self, attr: Any, *more: Any) -> LoaderOption:
        return self._with_columns(deferral.undefer(attr, *more))

    def undefer_group(self, name: str) -> LoaderOption:
        return self._with_columns(deferral.undefer_group(name))

    def __repr__(self) -> str:
        return " -> ".join(f"{s}({rel.class_attribute})" for rel, s in self.path)


class OptionGroup(LoaderOption):
    """Several loader options given as one (``Load.options()``'s result)."""

    def __init__(self, options: list[LoaderOption]) -> None:
        self.members = options
        self.path = options[0].path if options else ()
        self.path_key = tuple(o.path_key for o in options)

    def paths(self) -> list[tuple[Any, ...]]:
        return [o.path for o in self.members]

    def __repr__(self) -> str:
        return ", ".join(repr(o) for o in self.members)


class Load(LoaderOption):
    """Loader options starting at an entity: ``Load(Order).raiseload("*")``
    (every relationship of ``Order`` objects), ``Load(User).joinedload(User.orders)``."""

    def __init__(self, entity: Any) -> None:
        mapper = entity_of(entity.__clause_element__() if hasattr(
            entity, "__clause_element__") else entity)
        if mapper is None:
            raise exc.ArgumentError(f"Load() takes a mapped class, not {entity!r}")
        self._root = mapper
        super().__init__(())


def option_paths(options: Sequence[LoaderOption]) -> list[tuple[Any, ...]]:
    """Every path of ``options`` (a ``Load.options()`` group holds several)."""
    out: list[tuple[Any, ...]] = []
    for o in options:
        if isinstance(o, OptionGroup):
            out.extend(o.paths())
        elif o.path:
            out.append(o.path)
    return out


def applies_to(path: Sequence[tuple[Any, str]], mapper: Any) -> bool:
    """Whether an option path starts at objects of ``mapper`` (or of a subclass:
    ``selectinload(Manager.paperwork)`` in a SELECT of ``Employee``)."""
    first = path[0][0]
    if isinstance(first, Wildcard):
        return first.parent is None or first.parent is mapper
    return mapper in first.parent.iterate_to_root()


def _of_type_step(attr: Any, strategy: str) -> tuple[tuple[Any, str], ...]:
    """``selectinload(A.rel.of_type(Sub))`` / ``...of_type(with_polymorphic(...))``:
    the subclasses' columns load with the related objects."""
    if not isinstance(attr, RelationshipJoin) or attr.target is None:
        return ()
    if getattr(strategy, "contains", False):
        return ()
    poly = layout_of(attr.target)
    mappers = poly.mappers if poly is not None else (entity_of(attr.target),)
    rel_mapper = attr.rel.mapper
    subs = [m for m in mappers if m is not None and m is not rel_mapper
            and rel_mapper in m.iterate_to_root()]
    return ((SubclassStep(rel_mapper, subs), "selectin"),) if subs else ()


def selectin_polymorphic(base: Any, classes: Any) -> LoaderOption:
    """Load the columns of ``classes``' own tables (subclasses of ``base`` in a
    joined-table hierarchy) right after the rows of a SELECT of ``base``:
    one SELECT ... IN per subclass for the objects of that class."""
    mapper = base.__mapper__ if hasattr(base, "__mapper__") else base
    return LoaderOption(((subclass_step(mapper, classes), "selectin"),))


def _as_relationship(attr: Any) -> Relationship:
    if isinstance(attr, RelationshipJoin):  # User.addresses.of_type(alias)
        attr = attr.rel
    if not isinstance(attr, Relationship):
        raise exc.ArgumentError(
            f"Loader options take a relationship attribute such as User.addresses, not {attr!r}"
        )
    attr.parent.registry.configure()  # type: ignore[union-attr]
    return attr


def selectinload(attr: Any) -> LoaderOption:
    """Load the relationship for all parents with one extra SELECT ... IN."""
    return LoaderOption((_step(attr, "selectin"),) + _of_type_step(attr, ""))


def subqueryload(attr: Any) -> LoaderOption:
    """SQLAlchemy's "subquery" eager loading; session_ext loads the same objects
    with one SELECT ... IN per relationship, as :func:`selectinload` does."""
    return LoaderOption((_step(attr, "subquery"),))


def joinedload(attr: Any, innerjoin: bool | None = None) -> LoaderOption:
    """Load the relationship in the same SELECT through a LEFT OUTER JOIN
    (``innerjoin=True``: an INNER JOIN, for relationships that always have rows;
    None: the relationship's ``innerjoin=``)."""
    step = _step(attr, "joined", innerjoin)
    return LoaderOption((step,) + _of_type_step(attr, step[1]))


def _contains(attr: Any, alias: Any) -> JoinedVariant:
    if alias is None and isinstance(attr, RelationshipJoin) and attr.target is not None:
        alias = attr.target
    target = alias.__clause_element__() if hasattr(alias, "__clause_element__") else alias
    return JoinedVariant(contains=True, target=target)


def contains_eager(attr: Any, alias: Any = None) -> LoaderOption:
    """Load the relationship from columns of the statement's own join:
    ``select(User).join(User.addresses).options(contains_eager(User.addresses))``;
    ``alias`` (or ``User.addresses.of_type(alias)``): the joined ``aliased()`` target."""
    return LoaderOption(((_as_relationship(attr), _contains(attr, alias)),))


def lazyload(attr: Any) -> LoaderOption:
    """Load the relationship on first access (one SELECT per object)."""
    return LoaderOption((_step(attr, "select"),))


def immediateload(attr: Any) -> LoaderOption:
    """Load the relationship of each object right after the rows, one SELECT
    per object (none for a many-to-one already in the identity map)."""
    return LoaderOption((_step(attr, "immediate"),))


def raiseload(attr: Any, sql_only: bool = False) -> LoaderOption:
    """Make access to the unloaded relationship raise instead of emitting SQL
    (``sql_only=True``: only when answering needs SQL)."""
    return LoaderOption((_step(attr, "raise_on_sql" if sql_only else "raise"),))


def noload(attr: Any) -> LoaderOption:
    """Leave the relationship empty (None / []) without loading it."""
    return LoaderOption((_step(attr, "noload"),))


def defaultload(attr: Any) -> LoaderOption:
    """A step that keeps the relationship's own strategy, to chain options below
    it: ``defaultload(A.atob).joinedload(B.btoc)``,
    ``defaultload(User.books).load_only(Book.title)``."""
    return LoaderOption((_step(attr, DEFAULT),))


# --------------------------------------------------------------------------- N+1 detection
class NPlusOneWarning(exc.SAWarning):
    """The same relationship was lazy-loaded for many objects of one query."""


class NPlusOneError(exc.InvalidRequestError):
    """Raised instead of warning when the session's ``n_plus_one="raise"``."""

    help_anchor = "nplusoneerror"


class LoadContext:
    """Objects loaded by one statement share one of these (N+1 detection only)."""

    __slots__ = ("counts", "reported")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.reported: set[str] = set()


def _note_lazy_load(session: Session, state: InstanceState, rel: Relationship) -> None:
    ctx = state.load_context
    if ctx is None:
        return
    key = rel.key
    n = ctx.counts.get(key, 0) + 1
    ctx.counts[key] = n
    if n < session.n_plus_one_threshold or key in ctx.reported:
        return
    ctx.reported.add(key)
    fix = "selectinload" if rel.uselist else "joinedload"
    message = (
        f"N+1 queries: {rel.class_attribute} was lazy-loaded for {n} "
        f"{rel.parent.class_.__name__} objects of the same query, one SELECT each. "  # type: ignore[union-attr]
        f"Load it with the query instead: .options({fix}({rel.class_attribute})), or set "
        f"relationship(..., lazy=\"selectin\")"
    )
    if session.n_plus_one == "raise":
        raise NPlusOneError(message)
    warnings.warn(message, NPlusOneWarning, stacklevel=4)


# --------------------------------------------------------------------------- strategies
class _Loader(LoaderStrategy):
    """A strategy that loads with its own SELECT when an unloaded attribute is
    read; after a query's rows it only records that it overrides ``lazy=``."""

    def on_access(self, rel: Relationship, state: InstanceState, obj: Any) -> Any:
        session = state.session
        if session is None:
            raise exc.DetachedInstanceError(
                f"Parent instance {exc.state_str(state)} is not bound to a Session; lazy load "
                f"operation of attribute '{rel.key}' cannot proceed. Load it before the session "
                "closes (e.g. with selectinload), or keep the session open"
            )
        value = lazy_load(session, rel, state, obj, (state.load_options or {}).get(rel.key))
        obj.__dict__[rel.key] = value
        return value

    def after_rows(self, session: Session, rel: Relationship, objects: list[Any],
                   child_paths: list[Path], visited: frozenset[Relationship],
                   populate: bool, spec: str | None = None) -> None:
        """Apply the strategy to the ``objects`` a statement loaded: remember it
        (with an option's criteria, column options and the options below it,
        which the lazy load applies) when it is not the relationship's own."""
        criteria = getattr(spec, "criteria", ())
        columns = getattr(spec, "columns", ())
        key = rel.key
        if self.name == rel.lazy and not child_paths and not criteria and not columns:
            if populate:
                for obj in objects:
                    options = instance_state(obj).load_options
                    if options:
                        options.pop(key, None)
            return
        value = Sticky(self.name, criteria, child_paths, columns) \
            if child_paths or criteria or columns else self.name
        for obj in objects:
            st = instance_state(obj)
            if st.load_options is None:
                st.load_options = {}
            st.load_options[key] = value


#: the ``with_loader_criteria()`` options (propagating) of the statement whose
#: objects' relationships are being loaded after its rows: the SELECTs of
#: selectin loading add them (:mod:`session_ext.loader_criteria`)
LOADER_CRITERIA: ContextVar[tuple[Any, ...]] = ContextVar("se_loader_criteria", default=())


class Sticky(str):
    """A lazy strategy remembered on an object with what its option said: the
    criteria of ``lazyload(A.bs.and_(...))``, column options
    (``defaultload(A.bs).load_only(B.x)``) and the options chained below it
    (``lazyload(Parent.children).selectinload(Child.subelements)``), applied
    when the relationship is loaded, also after an expiry."""

    criteria: tuple[Any, ...]
    child_paths: list[Path]
    columns: tuple[Any, ...]

    def __new__(cls, name: str, criteria: tuple[Any, ...], child_paths: list[Path],
                columns: tuple[Any, ...] = ()) -> Sticky:
        self = super().__new__(cls, name)
        self.criteria, self.child_paths, self.columns = criteria, child_paths, columns
        return self


@register_loader
class SelectLoader(_Loader):
    """lazy="select": one SELECT on first access."""

    name = "select"
    after_load = False


@register_loader
class RaiseLoader(_Loader):
    """lazy="raise": access to the unloaded relationship raises."""

    name = "raise"

    def on_access(self, rel: Relationship, state: InstanceState, obj: Any) -> Any:
        raise exc.InvalidRequestError(
            f"'{rel.class_attribute}' is not available due to lazy='raise': load it with the "
            f"query (.options(selectinload({rel.class_attribute}))) before using it"
        )


@register_loader
class RaiseOnSqlLoader(_Loader):
    """lazy="raise_on_sql": access raises only when it would need SQL (a
    many-to-one whose object is in the identity map, or a NULL foreign key, is
    answered without)."""

    name = "raise_on_sql"

    def on_access(self, rel: Relationship, state: InstanceState, obj: Any) -> Any:
        values = _values(obj, rel.parent_keys)
        session = state.session
        if values is None:
            value = rel.empty_value(state)
        elif rel.identity_lookup and session is not None:
            target_state = session.identity_map.by_key.get((rel.mapper.class_, values, None))
            value = target_state.obj() if target_state is not None else None
            if value is None or target_state in session.objects.deleted:
                self._refuse(rel)
        else:
            self._refuse(rel)
        obj.__dict__[rel.key] = value
        return value

    def _refuse(self, rel: Relationship) -> None:
        raise exc.InvalidRequestError(
            f"'{rel.class_attribute}' is not available due to lazy='raise_on_sql': loading "
            f"it needs SQL; load it with the query (.options(selectinload("
            f"{rel.class_attribute}))) before using it"
        )


@register_loader
class NoLoader(_Loader):
    """lazy="noload": the relationship reads as empty (None / [])."""

    name = "noload"

    def on_access(self, rel: Relationship, state: InstanceState, obj: Any) -> Any:
        value = rel.empty_value(state)
        obj.__dict__[rel.key] = value
        return value


@register_loader
class SelectinLoader(_Loader):
    """lazy="selectin": after the parent rows, one SELECT ... IN for all of them."""

    name = "selectin"

    def after_rows(self, session: Session, rel: Relationship, objects: list[Any],
                   child_paths: list[Path], visited: frozenset[Relationship],
                   populate: bool, spec: str | None = None) -> None:
        key = rel.key
        if rel.eager_unsupported:
            for obj in objects:  # criteria eager loading can't express: load one by one
                getattr(obj, key)
            return
        # joined steps right below a selectin step ride along in its SELECT
        joined = [p for p in child_paths if isinstance(p[0][0], Relationship)
                  and LOADER_STRATEGIES[_resolve(*p[0])].joins
                  and p[0][0]._primaryjoin is None]
        rest = [p for p in child_paths if not any(p is j for j in joined)]
        children = selectin_load(session, rel, objects, populate,
                                 [*joined, *getattr(spec, "columns", ())],
                                 getattr(spec, "criteria", ()))
        if children or rest:
            post_load(session, rel.mapper, children, rest, visited | {rel}, populate)


@register_loader
class JoinedLoader(SelectinLoader):
    """lazy="joined": a LEFT OUTER JOIN in the parent's SELECT (see
    :func:`apply_joined`); where no join can be added, loaded as selectin."""

    name = "joined"
    joins = True


@register_loader
class SubqueryLoader(SelectinLoader):
    """lazy="subquery": SQLAlchemy re-runs the parent query as a subquery joined
    to the related table; session_ext loads the same objects as "selectin" does."""

    name = "subquery"


@register_loader
class ImmediateLoader(_Loader):
    """lazy="immediate": each object's relationship loaded right after the rows,
    as a lazy load (no SQL for a many-to-one already in the identity map)."""

    name = "immediate"

    def after_rows(self, session: Session, rel: Relationship, objects: list[Any],
                   child_paths: list[Path], visited: frozenset[Relationship],
                   populate: bool, spec: str | None = None) -> None:
        super().after_rows(session, rel, objects, child_paths, visited, populate, spec)
        key = rel.key
        for obj in objects:
            if key not in obj.__dict__:
                getattr(obj, key)


def load_relationship(rel: Relationship, obj: Any) -> Any:
    """Attribute access on an unloaded relationship."""
    return rel.load(obj)


def _values(obj: Any, keys: Sequence[str]) -> tuple[Any, ...] | None:
    vals = tuple(getattr(obj, k) for k in keys)
    return None if any(v is None for v in vals) else vals


def lazy_load(session: Session, rel: Relationship, state: InstanceState, obj: Any,
              spec: str | None = None) -> Any:
    values = _values(obj, rel.parent_keys)
    if values is None:
        return rel.empty_value(state)
    if isinstance(spec, Sticky):
        return _lazy_load_with(session, rel, state, values, spec)
    if rel.identity_lookup:
        target_state = session.identity_map.by_key.get((rel.mapper.identity_class, values, None))
        if target_state is not None:
            target = target_state.obj()
            if target is not None and target_state not in session.objects.deleted:
                return target
        from .loading import get_by_identity

        guard = session.objects.implicit_io_guard
        if guard is not None:
            guard(state, rel.key)
        if session.n_plus_one:
            _note_lazy_load(session, state, rel)
        return get_by_identity(session, rel.mapper, values)  # autoflushes on a miss
    guard = session.objects.implicit_io_guard
    if guard is not None:
        guard(state, rel.key)
    if session.n_plus_one:
        _note_lazy_load(session, state, rel)
    params = {f"_se_rel_{i}": v for i, v in enumerate(values)}
    items = _lazy_rows(session, rel, rel.lazy_stmt, params)
    if rel.uselist:
        return InstrumentedList(items, state, rel)
    return items[0] if items else None


def _lazy_rows(session: Session, rel: Relationship, stmt: Any, params: Any) -> list[Any]:
    """The objects of a lazy load's SELECT; their relationships' own eager
    loading knows it comes from ``rel`` (it stops at a class on that path)."""
    target = rel.mapper
    if not target.has_eager_defaults():
        return list(session.execute(stmt, params, execution_options={
            UNIQUE_OK: True, RELATIONSHIP_LOAD: True}).scalars().all())
    result = session.execute(stmt, params, execution_options={
        UNIQUE_OK: True, RELATIONSHIP_LOAD: True, "_se_explicit_eager_only": True})
    items = list(result.scalars().all())
    post_load(session, target, items, [], frozenset({rel}))
    return items


def _lazy_load_with(session: Session, rel: Relationship, state: InstanceState,
                    values: tuple[Any, ...], spec: Sticky) -> Any:
    """A lazy load with its option's criteria and the options chained below it."""
    if rel.identity_lookup and not spec.criteria and not spec.columns:
        target_state = session.identity_map.by_key.get((rel.mapper.identity_class, values, None))
        target = target_state.obj() if target_state is not None else None
        if target is not None and target_state not in session.objects.deleted:
            return target
    guard = session.objects.implicit_io_guard
    if guard is not None:
        guard(state, rel.key)
    stmt = rel.lazy_stmt
    if spec.criteria:
        stmt = stmt.where(*spec.criteria)
    if spec.child_paths:
        stmt = stmt.options(*[LoaderOption(tuple(p)) for p in spec.child_paths])
    if spec.columns:
        stmt = stmt.options(*spec.columns)
    params = {f"_se_rel_{i}": v for i, v in enumerate(values)}
    items = _lazy_rows(session, rel, stmt, params)
    if rel.uselist:
        return InstrumentedList(items, state, rel)
    return items[0] if items else None


# --------------------------------------------------------------------------- query-time plans
Path = list[tuple[Relationship, str]]


def collect_options(statement: Any) -> list[LoaderOption]:
    """The relationship loader options of ``statement``."""
    return [o for o in getattr(statement, WITH_OPTIONS, ()) if isinstance(o, LoaderOption)]


def _resolve(rel: Relationship, strategy: str) -> str:
    """``defaultload()``'s step: the relationship's own strategy (with the
    column options chained after it)."""
    if strategy != DEFAULT:
        return strategy
    columns = getattr(strategy, "columns", None)
    return WithColumns(rel.lazy, columns) if columns else rel.lazy


def plan_for(
    mapper: Mapper,
    option_paths: list[Path],
    visited: frozenset[Relationship] = frozenset(),
    defaults: bool = True,
) -> dict[str, tuple[str, list[Path]]]:
    """What to do with each relationship of objects of ``mapper``: explicit option
    paths first, then a ``"*"`` wildcard's strategy, then each relationship's own
    ``lazy=`` default (not for a target class already on the path: ``visited``,
    the relationships leading here).

    Returns ``key -> (strategy, option paths for the related objects)``.
    """
    mapper.registry.configure()
    steps: dict[str, tuple[str, list[Path]]] = {}
    wildcard: str | None = None
    inherited: list[Path] = []  # unbound wildcards: they apply at every level
    for path in option_paths:
        if not path:
            continue
        rel, strategy = path[0]
        if isinstance(rel, Wildcard):
            if rel.parent is None or rel.parent is mapper:
                wildcard = strategy
                if rel.parent is None:
                    inherited = [path]
            continue
        if rel.parent is not mapper or isinstance(rel, SubclassStep):
            continue
        rest = path[1:]
        current = steps.get(rel.key)
        if current is None:
            steps[rel.key] = (_resolve(rel, strategy), [rest] if rest else [])
        elif rest:
            current[1].append(rest)
    if inherited:
        for _strategy, child_paths in steps.values():
            child_paths.extend(inherited)
    if wildcard is not None:
        for key, rel in mapper.relationships.items():
            if key not in steps and rel.lazy not in ("dynamic", "write_only"):
                steps[key] = (wildcard, list(inherited))
    if defaults:
        # as SQLAlchemy's: a relationship's own eager loading stops at a class
        # already on the path (User.orders -> Order.user does not load User again)
        on_path = {mapper, *(r.parent for r in visited), *(r.mapper for r in visited)}
        for key, rel in mapper.relationships.items():
            if key not in steps and rel.loader.after_load and rel.mapper not in on_path:
                steps[key] = (rel.lazy, [])
    return steps


class JoinedStep:
    """One LEFT OUTER JOIN added for joined eager loading."""

    __slots__ = ("rel", "parent_slot", "slot", "offset", "loader")

    def __init__(self, rel: Relationship, parent_slot: int, slot: int, offset: int) -> None:
        self.rel = rel
        self.parent_slot = parent_slot
        self.slot = slot
        self.offset = offset
        self.loader: Any = None


def apply_joined(
    statement: Any,
    layout: list[tuple[Any, int]],
    entity_paths: dict[int, list[Path]],
    defaults: bool = True,
    extra_criteria: Any = None,
) -> tuple[Any, list[JoinedStep], dict[int, tuple[Mapper, list[Path], frozenset[Relationship]]]]:
    """Add the joins of joined-eager relationships to ``statement``.

    Slots ``0..len(layout)-1`` are the statement's own elements; each joined
    relationship adds a slot.  Returns the new statement, the joined steps and,
    per slot, what is left to load after the rows (selectin, raise, ...).
    """
    width = sum(n for _, n in layout)
    stmt = statement
    steps: list[JoinedStep] = []
    post: dict[int, tuple[Mapper, list[Path], frozenset[Relationship]]] = {}
    queue: list[tuple[int, Mapper, Any, list[Path], frozenset[Relationship]]] = [
        (i, mapper, raw_columns(statement)[i], entity_paths.get(i, []), frozenset())
        for i, (mapper, _n) in enumerate(layout)
        if mapper is not None
    ]
    limited = has_limit_or_offset(statement)
    collection_joins = limited and any(
        LOADER_STRATEGIES[strategy].joins and mapper.relationships[key].uselist
        and not getattr(strategy, "contains", False)
        for _i, mapper, _f, paths, _v in queue
        for key, (strategy, _cp) in plan_for(mapper, paths, frozenset(), defaults).items()
    )
    wrapped = False
    if collection_joins and len(layout) == 1:
        # LIMIT/OFFSET count parents: apply them in a subquery, join the children outside
        inner = statement.subquery()
        adapter = ClauseAdapter(inner)
        stmt = select(inner)
        if order_by_clauses(statement):
            stmt = stmt.order_by(*[adapter.traverse(c) for c in order_by_clauses(statement)])
        i, mapper, _f, paths, visited0 = queue[0]
        queue[0] = (i, mapper, inner, paths, visited0)
        wrapped = True
    next_slot = len(layout)
    outer: set[int] = set()  # slots joined by an outer join (or the statement's own)
    added: list[tuple[int, int | None, list[Any]]] = []  # (slot, nested in, pieces)
    while queue:
        slot, mapper, from_elem, paths, visited = queue.pop(0)
        # selectin_polymorphic() and options of subclasses' relationships: after the rows
        rest: list[Path] = [p for p in paths if p and not isinstance(p[0][0], Wildcard) and (
            p[0][0].parent is not mapper or isinstance(p[0][0], SubclassStep))]
        if defaults and mapper.selectin_subclasses:
            rest.append([(SubclassStep(mapper, mapper.selectin_subclasses), "selectin")])
        for key, (strategy, child_paths) in plan_for(mapper, paths, visited, defaults).items():
            rel = mapper.relationships[key]
            unsafe = collection_joins and not wrapped and slot < len(layout) and rel.uselist
            joins = LOADER_STRATEGIES[strategy].joins
            contains = getattr(strategy, "contains", False)
            # a single-table subclass target: its discriminator criterion is
            # added by the SELECT of selectin loading; a joined-table one: its join
            single = rel.mapper.single_criteria is not None or bool(rel.mapper.table_parts)
            if not contains and (not joins or rel._primaryjoin is not None or unsafe or single):
                strategy = SelectinLoader.name if joins else strategy
                rest.append([(rel, strategy)])
                rest.extend([(rel, strategy), *cp] for cp in child_paths)
                continue
            if rel.innerjoin and type(strategy) is str and strategy == "joined":
                strategy = JoinedVariant(innerjoin=True)  # relationship(innerjoin=True)
            # an inner join below an outer one is nested inside it ("right-nested"):
            # parents without such children are kept
            nested = getattr(strategy, "innerjoin", False) and slot in outer
            if not getattr(strategy, "innerjoin", False) or nested:
                outer.add(next_slot)
            stmt, talias, pieces = _add_join(stmt, rel, from_elem, strategy, extra_criteria)
            added.append((next_slot, slot if nested else None, pieces))
            stmt = stmt.add_columns(*[_column_of(talias, c) for c in rel.mapper.select_columns])
            steps.append(JoinedStep(rel, slot, next_slot, width))
            width += len(rel.mapper.select_columns)
            queue.append((next_slot, rel.mapper, talias, child_paths, visited | {rel}))
            next_slot += 1
        post[slot] = (mapper, rest, visited)
    return _emit_joins(stmt, added), steps, post


def _emit_joins(stmt: Any, joins: list[tuple[int, int | None, list[Any]]]) -> Any:
    """``stmt`` with the joins of joined eager loading, each a list of
    ``(target, ON, outer)``; a step nested in its parent's (slot given) joins
    the parent's target inside the parent's join."""
    by_slot = {slot: pieces for slot, _parent, pieces in joins}
    children: dict[int, list[int]] = {}
    for slot, parent, _pieces in joins:
        if parent is not None:
            children.setdefault(parent, []).append(slot)

    def nest(slot: int) -> list[Any]:
        pieces = list(by_slot[slot])
        for child in children.get(slot, ()):
            if not pieces:  # contains_eager: the statement's own join
                pieces.extend(nest(child))
                continue
            target, on, isouter = pieces[-1]
            for ctarget, con, _outer in nest(child):
                target = target.join(ctarget, con)
            pieces[-1] = (target, on, isouter)
        return pieces

    for slot, parent, _pieces in joins:
        if parent is None:
            for target, on, isouter in nest(slot):
                stmt = stmt.join(target, on, isouter=isouter)
    return stmt


def _column_of(from_elem: Any, column: Any) -> Any:
    col = from_elem.corresponding_column(column)
    return col if col is not None else from_elem.c[column.key]


def _add_join(stmt: Any, rel: Relationship, from_elem: Any, strategy: str,
              extra_criteria: Any = None) -> tuple[Any, Any, list[Any]]:
    """The target alias of a joined eager load and the joins to it (``(target,
    ON, outer)``, added by :func:`_emit_joins`); ``stmt`` gets the
    relationship's ORDER BY."""
    target = rel.mapper
    if getattr(strategy, "contains", False):  # contains_eager: the statement's own join
        return stmt, strategy.target if strategy.target is not None else target.table, []  # type: ignore[attr-defined]
    talias = target.table.alias()

    def local(c: Any) -> Any:
        return c if from_elem is c.table else _column_of(from_elem, c)

    criteria = getattr(strategy, "criteria", ())
    if extra_criteria is not None:  # with_loader_criteria(): joined eager loads too
        criteria = (*criteria, *extra_criteria(target))
    # joinedload(A.bs.and_(...)): the criteria join the ON clause
    adapter = ClauseAdapter(talias)
    pieces = _JoinPieces(talias, [adapter.traverse(c) for c in criteria])
    rel.kind.outer_join(rel, pieces, local, talias, not getattr(strategy, "innerjoin", False))
    if rel.order_by:
        stmt = stmt.order_by(
            *(talias.c[c.key] if getattr(c, "table", None) is target.table else c
              for c in rel.order_by)
        )
    return stmt, talias, pieces.items


class _JoinPieces:
    """Records the joins a relationship direction's ``outer_join()`` makes; the
    join to ``target`` gets ``criteria`` in its ON clause."""

    def __init__(self, target: Any, criteria: list[Any]) -> None:
        self.target, self.criteria = target, criteria
        self.items: list[tuple[Any, Any, bool]] = []

    def join(self, target: Any, on: Any, isouter: bool = False) -> _JoinPieces:
        if target is self.target and self.criteria:
            on = and_(on, *self.criteria)
        self.items.append((target, on, isouter))
        return self


# --------------------------------------------------------------------------- post loading
def set_loaded(rel: Relationship, state: InstanceState, obj: Any, value: Any,
               populate: bool) -> None:
    d = obj.__dict__
    if rel.key in d and not populate:
        return
    if rel.key in state.committed:
        return  # unflushed changes win
    if rel.uselist:
        d[rel.key] = InstrumentedList(value, state, rel)
    else:
        d[rel.key] = value


def post_load(session: Session, mapper: Mapper, objects: list[Any],
              option_paths: list[Path],
              visited: frozenset[Relationship] = frozenset(),
              populate: bool = False, defaults: bool = True) -> None:
    """Apply selectin/raise/noload (and the rest of option paths) to loaded objects."""
    if not objects:
        return
    plan = plan_for(mapper, option_paths, visited, defaults)
    for path in option_paths:  # selectin_polymorphic(): before the subclasses' relationships
        if path and isinstance(path[0][0], SubclassStep):
            load_subclass_columns(session, mapper, objects, path[0][0].mappers, populate)
    for key, (strategy, child_paths) in plan.items():
        rel = mapper.relationships[key]
        LOADER_STRATEGIES[strategy].after_rows(  # type: ignore[attr-defined]
            session, rel, objects, child_paths, visited, populate, strategy
        )
    _subclass_relationships(session, mapper, objects, option_paths, visited, populate)


def _subclass_relationships(session: Session, mapper: Mapper, objects: list[Any],
                            option_paths: list[Path], visited: frozenset[Relationship],
                            populate: bool) -> None:
    """Options naming a subclass's relationship (``selectinload(Manager.paperwork)``
    in a SELECT of ``Employee``): applied to the objects of that subclass."""
    by_sub: dict[Any, list[Path]] = {}
    for path in option_paths:
        first = path[0][0] if path else None
        if first is None or isinstance(first, (SubclassStep, Wildcard)) or first.parent is mapper:
            continue
        if mapper in first.parent.iterate_to_root():
            by_sub.setdefault(first.parent, []).append(path)
    for sub, paths in by_sub.items():
        objs = [o for o in objects if isinstance(o, sub.class_)]
        if objs:
            post_load(session, sub, objs, paths, visited, populate, defaults=False)


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i : i + IN_CHUNK] for i in range(0, len(values), IN_CHUNK)] or [[]]


def _in(cols: list[Any], values: list[tuple[Any, ...]]) -> Any:
    if len(cols) == 1:
        return cols[0].in_([v[0] for v in values])
    return tuple_(*cols).in_(values)


def _run(session: Session, stmt: Any, joined: list[Any]) -> Any:
    """Run a relationship's SELECT; ``joined``: option paths of joined steps on
    the related objects (and column options for them). The relationships' own
    eager loading is applied by post_load(), which knows the path."""
    opts: dict[str, Any] = {"autoflush": False, UNIQUE_OK: True, RELATIONSHIP_LOAD: True,
                            "_se_explicit_eager_only": True}
    active = LOADER_CRITERIA.get()
    if active:  # with_loader_criteria() of the statement that loaded the parents
        stmt = stmt.options(*active)
    columns = [p for p in joined if isinstance(p, deferral.ColumnOption)]
    paths = [p for p in joined if not isinstance(p, deferral.ColumnOption)]
    if columns:
        stmt = stmt.options(*columns)
    if paths:
        stmt = stmt.options(*[LoaderOption(tuple(p)) for p in paths])
    return session.execute(stmt, execution_options=opts)


def selectin_load(session: Session, rel: Relationship, objects: list[Any],
                  populate: bool, joined: list[Path] | None = None,
                  criteria: tuple[Any, ...] = ()) -> list[Any]:
    """Load ``rel`` for all ``objects`` with one SELECT ... IN; returns the children.

    ``joined``: option paths starting with a joined step on the children, which
    are loaded by the same SELECT; ``criteria``: an option's ``.and_()`` criteria."""
    key = rel.key
    parent_keys = rel.parent_keys
    pending: list[Pending] = []
    for obj in objects:
        d = obj.__dict__
        if key in d and not populate:
            continue
        vals = tuple([d.get(k, NO_VALUE) for k in parent_keys])
        if NO_VALUE in vals:
            vals = tuple([getattr(obj, k) for k in parent_keys])
        pending.append((d[STATE_ATTR], obj, vals))
    if not pending:
        return []
    return _SELECTIN[rel.direction](session, rel, pending, populate, joined or [],
                                    (*rel.extra_criteria, *criteria))


#: (parent state, parent, the parent's key values) of each parent to load for
Pending = tuple[InstanceState, Any, tuple[Any, ...]]


def _selectin_many_to_one(session: Session, rel: Relationship, pending: list[Pending],
                          populate: bool, joined: list[Path],
                          criteria: tuple[Any, ...]) -> list[Any]:
    """Targets already in the identity map cost no SQL; the rest in one SELECT."""
    target = rel.mapper
    imap = session.identity_map.by_key
    wanted: dict[tuple[Any, ...], Any] = {}
    missing: list[tuple[Any, ...]] = []
    for _st, _obj, vals in pending:
        if None in vals or vals in wanted:
            continue
        hit = None
        if rel.uses_target_pk:
            tstate = imap.get((target.identity_class, vals, None))
            hit = tstate.obj() if tstate is not None else None
        wanted[vals] = hit
        if hit is None:
            missing.append(vals)
    if missing:
        ref_cols = [ref for ref, _ in rel.sync_pairs]
        for chunk in _chunks(missing):
            stmt = select(target.class_).where(_in(ref_cols, chunk), *criteria)
            for child in _run(session, stmt, joined).scalars():
                wanted[tuple(child.__dict__[k] for k in rel.target_ref_keys)] = child
    children: list[Any] = []
    for st, obj, vals in pending:
        child = None if None in vals else wanted.get(vals)
        set_loaded(rel, st, obj, child, populate)
        if child is not None:
            children.append(child)
    return children


def _keys_of(pending: list[Pending]) -> list[tuple[Any, ...]]:
    return list({vals for _, _, vals in pending if None not in vals})


def _set_grouped(rel: Relationship, pending: list[Pending], grouped: dict[Any, list[Any]],
                 populate: bool) -> None:
    uselist = rel.uselist
    for st, obj, vals in pending:
        items = grouped.get(vals, ())
        if uselist:
            set_loaded(rel, st, obj, items, populate)
        else:
            set_loaded(rel, st, obj, items[0] if items else None, populate)


def _selectin_one_to_many(session: Session, rel: Relationship, pending: list[Pending],
                          populate: bool, joined: list[Path],
                          criteria: tuple[Any, ...]) -> list[Any]:
    """Children by their foreign key; each child has one parent (no duplicates)."""
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    fk_cols = [fk for _, fk in rel.sync_pairs]
    fk_keys = rel.child_fk_keys
    fk0 = fk_keys[0] if len(fk_keys) == 1 else None
    for chunk in _chunks(_keys_of(pending)):
        if not chunk:
            continue
        if any(isinstance(p, deferral.ColumnOption) for p in joined):
            # column options may leave the foreign key unloaded: select it apart
            _selectin_by_columns(session, rel, chunk, joined, grouped, criteria)
            continue
        stmt = select(rel.mapper.class_).where(_in(fk_cols, chunk), *criteria)
        if rel.order_by:
            stmt = stmt.order_by(*rel.order_by)
        for child in _run(session, stmt, joined).scalars():
            cd = child.__dict__
            group_key = (cd[fk0],) if fk0 is not None else tuple([cd[k] for k in fk_keys])
            group = grouped.get(group_key)
            if group is None:
                grouped[group_key] = [child]
            else:
                group.append(child)
    _set_grouped(rel, pending, grouped, populate)
    children: list[Any] = []
    for items in grouped.values():
        children.extend(items)
    return children


def _selectin_by_columns(session: Session, rel: Relationship, chunk: list[Any],
                         joined: list[Any], grouped: dict[tuple[Any, ...], list[Any]],
                         criteria: tuple[Any, ...]) -> None:
    """One-to-many selectin loading reading the parents' keys from columns of
    their own (the children's may be deferred)."""
    fk_cols = [fk for _, fk in rel.sync_pairs]
    stmt = select(rel.mapper.class_, *fk_cols).where(_in(fk_cols, chunk), *criteria)
    if rel.order_by:
        stmt = stmt.order_by(*rel.order_by)
    n = len(fk_cols)
    for row in _run(session, stmt, joined):
        grouped.setdefault(tuple(row[1 : 1 + n]), []).append(row[0])


def _selectin_many_to_many(session: Session, rel: Relationship, pending: list[Pending],
                           populate: bool, joined: list[Path],
                           criteria: tuple[Any, ...]) -> list[Any]:
    """Targets joined to the association rows of the parents' keys."""
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    sec_cols = [s for _, s in rel.secondary_parent_pairs]
    join = and_(*(tc == sc for tc, sc in rel.secondary_target_pairs))
    n = len(sec_cols)
    for chunk in _chunks(_keys_of(pending)):
        if not chunk:
            continue
        stmt = select(rel.mapper.class_, *sec_cols).join(rel.secondary, join).where(
            _in(sec_cols, chunk), *criteria
        )
        if rel.order_by:
            stmt = stmt.order_by(*rel.order_by)
        for row in _run(session, stmt, joined):
            grouped.setdefault(tuple(row[1 : 1 + n]), []).append(row[0])
    _set_grouped(rel, pending, grouped, populate)
    seen: set[int] = set()
    children: list[Any] = []
    for items in grouped.values():
        for item in items:
            if id(item) not in seen:
                seen.add(id(item))
                children.append(item)
    return children


#: selectin loading, per relationship direction
_SELECTIN = {
    MANYTOONE: _selectin_many_to_one,
    ONETOMANY: _selectin_one_to_many,
    MANYTOMANY: _selectin_many_to_many,
}
