"""Whether any event listener was registered: the hot paths' one check.

:mod:`session_ext.events` sets these when ``sqlalchemy.event.listen()``
registers a listener; until then the lifecycle, transaction and flush code
skip every event with a single module attribute test (no dispatch lookups).
"""

#: a Session event listener exists (on some session, factory or Session class)
session = False
#: a mapper event listener exists (before_insert, after_update, ...)
mapper = False


def session_for(hash_key: int) -> object | None:
    """The session ``hash_key`` names, when Session listeners exist (None
    otherwise, or when the session is gone)."""
    if not session:
        return None
    from .state import _sessions

    return _sessions.get(hash_key)
