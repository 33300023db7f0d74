"""The registry of loader strategies, one class per ``lazy=`` name.

The mapping layer only knows the registry: :mod:`session_ext.strategies`
defines the strategies ("select", "selectin", "joined", "raise", "noload") and
registers them here with :func:`register_loader`; a relationship looks its
strategy up by name when an unloaded attribute is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import exc

if TYPE_CHECKING:
    from ...state import InstanceState


#: a Relationship (not imported: the relationship is built on this module)
Rel = Any


class LoaderStrategy:
    """How an unloaded relationship gets its value."""

    #: the ``lazy=`` / loader option name
    name = ""
    #: acts when the parent rows are loaded (every strategy but "select")
    after_load = True
    #: adds a LEFT OUTER JOIN to the parent's SELECT
    joins = False

    def on_access(self, rel: Rel, state: InstanceState, obj: Any) -> Any:
        """The value of ``obj.<rel>`` read while not loaded (stored in ``__dict__``)."""
        raise NotImplementedError


#: ``lazy=`` name -> strategy (filled by :func:`register_loader`)
LOADER_STRATEGIES: dict[str, LoaderStrategy] = {}

#: ``lazy=True`` / ``lazy=False``, SQLAlchemy's old spellings
_ALIASES = {True: "select", False: "joined"}


def register_loader(cls: type[LoaderStrategy]) -> type[LoaderStrategy]:
    LOADER_STRATEGIES[cls.name] = cls()
    return cls


def loader_name(lazy: Any) -> str:
    """The registered name ``lazy=`` stands for; ArgumentError if none."""
    name = _ALIASES.get(lazy, lazy) if isinstance(lazy, bool) else lazy
    if not isinstance(name, str) or name not in LOADER_STRATEGIES:
        names = ", ".join(repr(n) for n in LOADER_STRATEGIES)
        raise exc.ArgumentError(f"lazy={lazy!r} is not a loader strategy; use one of {names}")
    return name
