"""The reliability suite: real servers under load, and PostgreSQL faults.

``--full`` (or ``SESSION_EXT_RELIABILITY_FULL=1``) runs the full load budget;
the default is CI's.  After the run, the figures of every configuration are
printed in the terminal summary (no ``-s`` needed).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from rely_load import CI_BUDGET, ENV_FULL, FULL_BUDGET, RESULTS, Budget


@pytest.fixture(scope="session")
def budget(pytestconfig: pytest.Config) -> Budget:
    full = pytestconfig.getoption("full", default=False) or os.environ.get(ENV_FULL, "") in (
        "1",
        "true",
        "yes",
    )
    return FULL_BUDGET if full else CI_BUDGET


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not RESULTS:
        return
    write = terminalreporter.write_line
    terminalreporter.write_sep("=", "reliability figures")
    header = (
        f"{'configuration':<28} {'db':<11} {'budget':<9} {'req':>5} {'req/s':>6} "
        f"{'5xx!':>4} {'lost':>4} {'dup':>3} {'unack':>5} {'seen':>4} "
        f"{'sess':>4} {'conn':>4} {'idle-tx':>7}  statuses"
    )
    write(header)
    for f in RESULTS:
        budget = f"{f.budget.requests}x{f.budget.concurrency}"
        rate = f.requests / f.seconds if f.seconds else 0.0
        idle = "-" if f.idle_in_transaction is None else str(f.idle_in_transaction)
        sess = "?" if f.leaked_sessions is None else str(f.leaked_sessions)
        conn = "?" if f.leaked_connections is None else str(f.leaked_connections)
        write(
            f"{f.config:<28} {f.database:<11} {budget:<9} {f.requests:>5} {rate:>6.0f} "
            f"{f.server_errors:>4} {len(f.lost_writes):>4} {len(f.duplicated_writes):>3} "
            f"{f.unacknowledged_writes:>5} {f.uncommitted_seen:>4} "
            f"{sess:>4} {conn:>4} {idle:>7}  {f.status_line()}"
        )
    write(
        "5xx!: 5xx or no answer other than the deliberate 500s; lost/dup: acknowledged writes "
        "missing/stored twice; unack: writes not acknowledged; seen: probes that saw a row "
        "another request flushed but never committed; sess/conn: sessions left in the scoped "
        "registry / connections checked out when the workers stopped (summed over workers); "
        "idle-tx: PostgreSQL backends idle in transaction after the load"
    )
