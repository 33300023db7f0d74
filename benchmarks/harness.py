"""Run cases of a workload in alternating repeats and report medians and ratios.

Every case of a workload runs once per round, rounds repeat, and the order of
cases rotates each round, so drift in the machine's speed hits every peer
alike. Nothing here passes or fails on a time: it only reports.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Case:
    name: str
    run: Callable[[], object]
    #: called before each timed run, untimed (empty a table, open a session ...)
    setup: Callable[[], object] | None = None
    #: called after each timed run, untimed
    teardown: Callable[[], object] | None = None
    #: a case other than the workload's baseline that is this case's closest
    #: hand-written equivalent; its ratio is printed too
    peer: str | None = None


@dataclass
class Workload:
    title: str
    units: int  # operations per run (rows, gets, requests) for the per-op column
    cases: list[Case]
    baseline: str  # name of the case every ratio is relative to
    times: dict[str, list[float]] = field(default_factory=dict)


def run_workload(workload: Workload, repeat: int) -> Workload:
    for case in workload.cases:
        workload.times[case.name] = []
    n = len(workload.cases)
    for r in range(repeat):
        order = workload.cases[r % n :] + workload.cases[: r % n]
        for case in order:
            if case.setup is not None:
                case.setup()
            gc.collect()
            start = time.perf_counter()
            case.run()
            elapsed = time.perf_counter() - start
            if case.teardown is not None:
                case.teardown()
            workload.times[case.name].append(elapsed)
    return workload


def format_workload(workload: Workload) -> str:
    base = statistics.median(workload.times[workload.baseline])
    lines = [
        f"\n{workload.title}",
        f"  {'case':<44} {'median':>10} {'per op':>10} {'vs ' + workload.baseline:>18}",
    ]
    for case in workload.cases:
        med = statistics.median(workload.times[case.name])
        per_op = med / workload.units * 1e6
        ratio = med / base if base else float("nan")
        line = f"  {case.name:<44} {med * 1e3:>8.1f}ms {per_op:>8.2f}µs {ratio:>17.2f}x"
        if case.peer is not None:
            peer = statistics.median(workload.times[case.peer])
            line += f"   ({med / peer:.2f}x vs {case.peer})"
        lines.append(line)
    return "\n".join(lines)
