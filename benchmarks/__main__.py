"""``python -m benchmarks``: run the benchmark suite and print medians and ratios.

    ./dev bench                         # SQLite file + PostgreSQL, default sizes
    python -m benchmarks --smoke        # tiny sizes, one repeat: proves it runs
    python -m benchmarks --backend sqlite --rows 100000 --repeat 5
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from .async_rows import (
    AsyncBench,
    async_get_workload,
    async_insert_workload,
    async_load_workload,
)
from .django_request import django_workload, format_django_workload
from .eager import eager_workload
from .flask_request import flask_workload
from .get_update import get_workload, update_workload
from .harness import format_workload, run_workload
from .insert_load import insert_workload, load_workload
from .models import core_metadata

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def sqlite_engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/bench.sqlite3")
        core_metadata.create_all(engine)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgresql_engine() -> Iterator[Engine | None]:
    sys.path.insert(0, str(ROOT / "tests"))
    from pgserver import PostgresServer  # the test suite's private server

    availability = PostgresServer.available()
    if not availability:
        print(f"!!! PostgreSQL benchmarks skipped: {availability.reason}")
        yield None
        return
    server = PostgresServer()
    server.start()
    try:
        server.create_database("bench")
        engine = create_engine(server.url("bench"))
        core_metadata.create_all(engine)
        try:
            yield engine
        finally:
            engine.dispose()
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--gets", type=int, default=10_000)
    parser.add_argument("--parents", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument(
        "--only", default="insert,load,get,update,eager,flask,django,async",
        help="comma-separated workloads to run (insert, load, get, update, eager, flask, "
        "django, async)",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, 1 repeat")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.repeat, args.gets, args.parents, args.requests = 500, 1, 200, 50, 50
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    builders = {
        "insert": lambda e: insert_workload(e, args.rows),
        "load": lambda e: load_workload(e, args.rows),
        "get": lambda e: get_workload(e, args.gets),
        "update": lambda e: update_workload(e, args.gets),
        "eager": lambda e: eager_workload(e, args.parents, 10),
    }
    print(
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"rows={args.rows:,}, repeat={args.repeat} (medians; ratios vs the named baseline)"
    )
    backends = ["sqlite", "postgresql"] if args.backend == "all" else [args.backend]
    for name in backends:
        ctx = sqlite_engine() if name == "sqlite" else postgresql_engine()
        with ctx as engine:
            if engine is None:
                continue
            for name_, build in builders.items():
                if name_ not in wanted:
                    continue
                workload = run_workload(build(engine), args.repeat)
                print(format_workload(workload), flush=True)
            if "async" in wanted:
                bench = AsyncBench(engine)
                try:
                    for build_async, size in (
                        (async_insert_workload, args.rows),
                        (async_load_workload, args.rows),
                        (async_get_workload, args.gets),
                    ):
                        workload = run_workload(build_async(engine, bench, size), args.repeat)
                        print(format_workload(workload), flush=True)
                finally:
                    bench.close()
            if name == "sqlite" and "flask" in wanted:
                db_path = str(engine.url.database) + ".flask"
                workload = run_workload(flask_workload(db_path, args.requests), args.repeat)
                print(format_workload(workload), flush=True)
            if name == "sqlite" and "django" in wanted:
                db_path = str(engine.url.database) + ".django"
                workload = run_workload(django_workload(db_path, args.requests), args.repeat)
                print(format_django_workload(workload), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
