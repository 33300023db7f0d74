"""gunicorn settings of the reliability suite: each worker reports its
figures (``rely_stats.dump``) when it exits."""

from __future__ import annotations

import os


def worker_exit(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    if os.getpid() != worker.pid:  # also called in the arbiter for a vanished worker
        return
    import rely_stats

    rely_stats.dump()
