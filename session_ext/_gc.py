"""Pause CPython's cyclic garbage collector around bulk object creation.

Building 100,000 objects allocates several GC-tracked containers each, and the
collector would rescan the growing heap many times over while they are made:
measured here, more than half the time of a large load.  Reference counting
keeps freeing ordinary garbage while the pause lasts; the pause is bounded by
one batch, only taken for large batches, and never overrides an application
that turned the collector off itself.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

#: batches smaller than this are not worth pausing for
BULK_THRESHOLD = 1000


@contextlib.contextmanager
def paused(size: int) -> Iterator[None]:
    if size < BULK_THRESHOLD or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
