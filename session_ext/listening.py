"""Whether any event listener was registered: the hot paths' one check.

:mod:`session_ext.events` sets these when ``sqlalchemy.event.listen()``
registers a listener; until then the lifecycle, transaction and flush code
skip every event with a single module attribute test (no dispatch lookups).
"""

#: a Session event listener exists (on some session, factory or Session class)
session = False
#: a mapper event listener exists (before_insert, after_update, ...)
mapper = False
#: an instance event listener exists (init, load, refresh, expire)
instance = False


def listeners(mapper: object, name: str) -> list[object]:
    """The listeners of the mapper event ``name`` for objects of ``mapper``'s
    class: the mapper's own (with those on every mapper), then those of its
    mapped base classes registered with ``propagate=True``."""
    fns = list(getattr(mapper.dispatch, name))  # type: ignore[attr-defined]
    for base in mapper.class_.__mro__[1:]:  # type: ignore[attr-defined]
        base_mapper = base.__dict__.get("__mapper__")
        if base_mapper is not None and base_mapper is not mapper:
            coll = getattr(base_mapper.dispatch, name)
            fns.extend(fn for fn in coll if fn in getattr(coll, "propagate", ()))
    return fns


def fire_instance(mapper: object, name: str, *args: object) -> None:
    """Fire the instance event ``name`` (callers test :data:`instance` first)."""
    for fn in listeners(mapper, name):
        fn(*args)  # type: ignore[operator]


def session_for(hash_key: int) -> object | None:
    """The session ``hash_key`` names, when Session listeners exist (None
    otherwise, or when the session is gone)."""
    if not session:
        return None
    from .state import _sessions

    return _sessions.get(hash_key)
