"""Keep CPython's cyclic garbage collector out of bulk object creation.

Building 100,000 objects allocates several GC-tracked containers each (the
object's ``__dict__``, its state, its identity key), and the collector would
rescan the growing young generations many times over while they are made,
with full collections on top: measured here, more than half the time of a
large load.  So a large batch runs with the collector paused.

When the pause ends, everything allocated during it would still sit in the
youngest generation with an allocation count far past its threshold, and the
next allocation would make the collector scan all of it at once (about a tenth
of a large insert).  These objects live as long as the session or the
application keeps them and are mostly freed by reference counting, so for
batches of 10,000 or more they are moved straight to the oldest generation
instead, the way ``gc.freeze()`` followed by ``gc.unfreeze()`` does, which
also restarts the young generation's count.  The young generations are
collected just before such a pause, so the move takes only what was allocated
during it (by the batch, or by other threads meanwhile), never the
application's young garbage.  Moved objects are scanned at the collector's
next full collection, like any other old object; objects that do form cycles
(two-way relationships) are collected then.

Reference counting keeps freeing ordinary garbage while the pause lasts; the
pause is bounded by one batch and only taken for large batches.  It never
overrides an application that turned the collector off itself, and the move
to the oldest generation is skipped when the application keeps frozen objects
of its own (``gc.freeze()`` before forking workers, for instance), so those
stay frozen.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

#: batches smaller than this are not worth pausing for
BULK_THRESHOLD = 1000
#: batches at least this large also hand what they made to the oldest generation
PROMOTE_THRESHOLD = 10_000

_can_promote = hasattr(gc, "freeze") and hasattr(gc, "get_freeze_count")


@contextlib.contextmanager
def paused(size: int) -> Iterator[None]:
    if size < BULK_THRESHOLD or not gc.isenabled():
        yield
        return
    promote = size >= PROMOTE_THRESHOLD and _can_promote and gc.get_freeze_count() == 0
    if promote:
        # the young generations are collected first, so the move below takes only
        # what is made during the pause, not the application's young garbage
        gc.collect(1)
    gc.disable()
    try:
        yield
    finally:
        if promote and gc.get_freeze_count() == 0:
            gc.freeze()  # every tracked object to the permanent generation ...
            gc.unfreeze()  # ... and back into the oldest one, unscanned
        gc.enable()
