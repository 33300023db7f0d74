"""Serving an example app with a real server, loading it, and checking the result.

* :class:`ServerConfig` -- how one configuration is started (gunicorn or
  uvicorn command line, which app wrapper, how many worker processes);
* :func:`serve` -- create the tables and demo data, start the server on a free
  port of 127.0.0.1, yield a :class:`RunningServer`, always stop it;
* :func:`make_plan` / :func:`run_load` -- a fixed mix of reads, writes
  (each with a unique token), views that raise, probes and 404s, sent by a
  thread pool;
* :func:`figures_for` -- what the run did to the database and to the server
  processes: the numbers the tests assert and the summary prints.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HOST = "127.0.0.1"  # the only address traffic ever goes to

#: every figure recorded this run, in order (printed by conftest's summary hook)
RESULTS: list[Figures] = []


# -- budget --------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    requests: int
    concurrency: int
    name: str


CI_BUDGET = Budget(requests=400, concurrency=16, name="ci")
FULL_BUDGET = Budget(requests=5000, concurrency=32, name="full")
ENV_FULL = "SESSION_EXT_RELIABILITY_FULL"


# -- configurations ------------------------------------------------------------


@dataclass(frozen=True)
class ServerConfig:
    """One way of serving one example app."""

    name: str
    app: str  # "flask" | "django"
    server_argv: tuple[str, ...]  # after "python -m"; {port} is filled in
    processes: int  # worker processes expected to report their figures

    def argv(self, port: int) -> list[str]:
        return [sys.executable, "-m", *(a.format(port=port) for a in self.server_argv)]


def _gunicorn(*options: str, app: str) -> tuple[str, ...]:
    return (
        "gunicorn",
        *options,
        "--bind",
        f"{HOST}:{{port}}",
        "--config",
        str(HERE / "rely_gunicorn_conf.py"),
        "--graceful-timeout",
        "30",
        "--log-level",
        "warning",
        app,
    )


CONFIGS = (
    ServerConfig(
        "flask-gunicorn-gthread",
        "flask",
        _gunicorn("-k", "gthread", "--workers", "2", "--threads", "8", app="rely_flask:app"),
        processes=2,
    ),
    ServerConfig(
        "flask-gunicorn-preload-sync",
        "flask",
        _gunicorn("--preload", "-k", "sync", "--workers", "4", app="rely_flask:app"),
        processes=4,
    ),
    ServerConfig(
        "django-gunicorn-gthread",
        "django",
        _gunicorn(
            "-k", "gthread", "--workers", "2", "--threads", "8", app="rely_django:application"
        ),
        processes=2,
    ),
    ServerConfig(
        "django-uvicorn-asgi",
        "django",
        (
            "uvicorn",
            "--host",
            HOST,
            "--port",
            "{port}",
            "--lifespan",
            "on",
            "--no-access-log",
            "--log-level",
            "warning",
            "rely_django:asgi_application",
        ),
        processes=1,
    ),
)


# -- the apps: where the load goes and where its writes land -------------------


@dataclass(frozen=True)
class AppShape:
    """What the load knows about one example app."""

    database_env: str  # the variable the example reads its URL from
    wrapper: str  # module under tests/reliability
    #: (table, column) holding the tokens of acknowledged writes
    token_columns: tuple[tuple[str, str], ...]
    #: (table, column) of the rows the flush-then-raise view adds
    uncommitted_column: tuple[str, str]


APPS = {
    "flask": AppShape(
        "SESSION_EXT_DATABASE_URI",
        "rely_flask",
        (("posts", "title"), ("comments", "body"), ("users", "name")),
        ("posts", "title"),
    ),
    "django": AppShape(
        "SESSION_EXT_DATABASE_URL",
        "rely_django",
        (("note", "title"),),
        ("note", "title"),
    ),
}

TOKEN_PREFIX = "rely-"
UNCOMMITTED_PREFIX = "UNCOMMITTED-"
DELIBERATE = ("raise_flush", "raise_read")  # kinds whose 500 is expected
WRITES = ("write", "write_form")


@dataclass(frozen=True)
class Op:
    """One request of the plan."""

    kind: str  # read | write | write_form | raise_flush | raise_read | probe | missing
    method: str
    path: str
    body: bytes | None = None
    content_type: str | None = None
    token: str | None = None  # the marker a write stores (writes only)
    expect: tuple[int, ...] = (200,)
    cookie: str | None = None


@dataclass
class Outcome:
    op: Op
    status: int | None  # None: no HTTP answer (connection error, timeout)
    error: str | None = None
    visible: int | None = None  # probes: uncommitted rows the request saw


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def _marker(kind: str) -> str:
    return f"{TOKEN_PREFIX}{kind}-{uuid.uuid4().hex[:16]}"


def _flask_op(rng: random.Random, roll: float) -> Op:
    if roll < 0.45:
        path = rng.choice(
            [
                f"/api/posts?page={rng.randint(1, 2)}",
                f"/api/posts/{rng.randint(1, 23)}",
                f"/posts?page={rng.randint(1, 2)}",
                "/api/users",
            ]
        )
        return Op("read", "GET", path)
    if roll < 0.75:
        which = rng.choice(["post", "post", "comment", "user"])
        token = _marker(which)
        author = rng.randint(1, 3)
        if which == "post":
            body = _json({"title": token, "body": "load", "author_id": author})
            return Op("write", "POST", "/api/posts", body, "application/json", token, (201,))
        if which == "comment":
            body = _json({"body": token, "author_id": author})
            path = f"/api/posts/{rng.randint(1, 23)}/comments"
            return Op("write", "POST", path, body, "application/json", token, (201,))
        body = _json({"name": token})
        return Op("write", "POST", "/api/users", body, "application/json", token, (201,))
    return _common_op(rng, roll, missing="/api/posts/999999")


def _django_op(rng: random.Random, roll: float, csrf: tuple[str, str]) -> Op:
    if roll < 0.45:
        path = rng.choice(
            [
                f"/api/notes?page={rng.randint(1, 2)}",
                f"/api/notes/{rng.randint(1, 25)}",
                f"/notes/{rng.randint(1, 25)}",
                "/",
            ]
        )
        return Op("read", "GET", path)
    if roll < 0.75:
        if rng.random() < 0.5:
            token = _marker("api")
            body = _json({"title": token, "body": "load"})
            return Op("write", "POST", "/api/notes", body, "application/json", token, (201,))
        token = _marker("form")
        cookie, form_token = csrf
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": form_token, "title": token, "body": "load"}
        ).encode()
        return Op("write_form", "POST", "/", body, "application/x-www-form-urlencoded", token,
                  (302,), cookie=cookie)
    return _common_op(rng, roll, missing="/api/notes/999999")


def _common_op(rng: random.Random, roll: float, *, missing: str) -> Op:
    if roll < 0.83:
        return Op("probe", "GET", "/_rely/probe")
    if roll < 0.91:
        token = uuid.uuid4().hex[:16]
        body = _json({"token": token})
        return Op("raise_flush", "POST", "/_rely/flush-then-raise", body, "application/json",
                  expect=(500,))
    if roll < 0.95:
        return Op("raise_read", "GET", "/_rely/raise", expect=(500,))
    return Op("missing", "GET", missing, expect=(404,))


def make_plan(app: str, count: int, seed: int, csrf: tuple[str, str] | None = None) -> list[Op]:
    """``count`` requests in a fixed random order (the tokens are fresh)."""
    rng = random.Random(seed)
    if app == "flask":
        return [_flask_op(rng, rng.random()) for _ in range(count)]
    assert csrf is not None, "the Django form posts need a CSRF cookie and token"
    return [_django_op(rng, rng.random(), csrf) for _ in range(count)]


# -- HTTP --------------------------------------------------------------------


def _send(port: int, op: Op, timeout: float = 20.0) -> Outcome:
    headers = {"Connection": "close"}
    if op.content_type is not None:
        headers["Content-Type"] = op.content_type
    if op.cookie is not None:
        headers["Cookie"] = op.cookie
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(op.method, op.path, body=op.body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
    except (OSError, http.client.HTTPException) as err:
        return Outcome(op, None, f"{type(err).__name__}: {err}")
    finally:
        conn.close()
    outcome = Outcome(op, response.status)
    if op.kind == "probe" and response.status == 200:
        outcome.visible = json.loads(payload)["visible"]
    return outcome


def get(port: int, path: str, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def django_csrf(port: int) -> tuple[str, str]:
    """(cookie header value, form token) from the note list page, as a browser
    gets them."""
    status, headers, body = get(port, "/")
    assert status == 200, (status, body[:500])
    cookie = headers.get("Set-Cookie", "")
    match = re.search(r"csrftoken=([^;]+)", cookie)
    assert match, f"no csrftoken cookie in {headers}"
    form = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert form, "no csrfmiddlewaretoken in the note list form"
    return f"csrftoken={match.group(1)}", form.group(1).decode()


#: a run stops sending after this many unexpected answers: a broken
#: configuration (every request waiting for a lock or a pool slot) fails in
#: seconds rather than after the whole budget
MAX_FAILURES = 10
SKIPPED = "not sent: the run had already failed"


def run_load(port: int, plan: list[Op], concurrency: int) -> tuple[list[Outcome], float]:
    started = time.monotonic()
    failures = 0
    lock = threading.Lock()

    def send(op: Op) -> Outcome:
        nonlocal failures
        if failures >= MAX_FAILURES:
            return Outcome(op, None, SKIPPED)
        outcome = _send(port, op)
        if outcome.status not in op.expect:
            with lock:
                failures += 1
        return outcome

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="rely-client") as pool:
        outcomes = list(pool.map(send, plan))
    return outcomes, time.monotonic() - started


# -- the server ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class RunningServer:
    config: ServerConfig
    port: int
    process: subprocess.Popen[bytes]
    stats_dir: Path
    log_path: Path
    #: the worker processes' figures, read once the server has stopped
    worker_figures: list[dict[str, Any]] = field(default_factory=list)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text_ = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text_.splitlines()[-lines:])


def _env(shape: AppShape, database_url: str, stats_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DJANGO_SETTINGS_MODULE", "SESSION_EXT_DATABASE_URI", "SESSION_EXT_DATABASE_URL"):
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE)])
    env[shape.database_env] = database_url
    env["RELY_STATS_DIR"] = str(stats_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def prepare_database(config: ServerConfig, database_url: str, workdir: Path) -> None:
    """Tables and demo data, made once before the server starts (workers that
    each create and seed a fresh database would race each other)."""
    shape = APPS[config.app]
    env = _env(shape, database_url, workdir)
    if config.app == "flask":
        env["RELY_SEED"] = "1"
        argv = [sys.executable, "-c", "import rely_flask"]
    else:
        argv = [sys.executable, str(HERE / "rely_django.py"), "setup"]
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"preparing the database failed:\n{result.stderr}"


@contextlib.contextmanager
def serve(config: ServerConfig, database_url: str, workdir: Path) -> Iterator[RunningServer]:
    """Run ``config`` on a free port until the block ends; the server is
    always stopped (SIGTERM, then SIGKILL to its process group)."""
    prepare_database(config, database_url, workdir)
    stats_dir = workdir / "stats"
    stats_dir.mkdir()
    log_path = workdir / "server.log"
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            config.argv(port),
            cwd=ROOT,
            env=_env(APPS[config.app], database_url, stats_dir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: nothing survives the test
        )
    server = RunningServer(config, port, process, stats_dir, log_path)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        _stop(process)
    server.worker_figures = [
        json.loads(path.read_text()) for path in sorted(stats_dir.glob("*.json"))
    ]


def _wait_until_serving(server: RunningServer, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(
                f"{server.config.name} exited with {server.process.returncode} while starting:\n"
                f"{server.log_tail()}"
            )
        try:
            status, _, body = get(server.port, "/_rely/stats", timeout=5)
            if status == 200:
                return
            last = f"HTTP {status}: {body[:200]!r}"
        except OSError as err:
            last = repr(err)
        time.sleep(0.1)
    raise AssertionError(
        f"{server.config.name} did not answer within {timeout}s ({last}):\n{server.log_tail()}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # workers left behind, if any
    if process.poll() is None:
        process.wait(timeout=10)


# -- figures -------------------------------------------------------------------


@dataclass
class Figures:
    """What one configuration's run did, as the summary prints it."""

    config: str
    database: str
    budget: Budget
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)  # "kind path -> status"
    deliberate_500: int = 0
    acknowledged_writes: int = 0
    lost_writes: list[str] = field(default_factory=list)
    duplicated_writes: list[str] = field(default_factory=list)
    unacknowledged_writes: int = 0
    uncommitted_seen: int = 0  # probes that saw another request's flushed row
    uncommitted_on_disk: int = 0
    leaked_sessions: int | None = None
    leaked_connections: int | None = None
    processes_reporting: int = 0
    idle_in_transaction: int | None = None  # PostgreSQL only

    @property
    def server_errors(self) -> int:
        """5xx answers other than the deliberate ones, plus requests with no answer."""
        return sum(1 for line in self.unexpected if "-> 5" in line or "-> None" in line)

    def status_line(self) -> str:
        return " ".join(f"{code}:{n}" for code, n in sorted(self.statuses.items()))


def _on_disk(engine: Engine, shape: AppShape) -> tuple[Counter[str], int]:
    markers: Counter[str] = Counter()
    with engine.connect() as conn:
        for table, column in shape.token_columns:
            rows = conn.execute(
                text(f"SELECT {column} FROM {table} WHERE {column} LIKE :p"),
                {"p": TOKEN_PREFIX + "%"},
            )
            markers.update(row[0] for row in rows)
        table, column = shape.uncommitted_column
        uncommitted = conn.execute(
            text(f"SELECT count(*) FROM {table} WHERE {column} LIKE :p"),
            {"p": UNCOMMITTED_PREFIX + "%"},
        ).scalar_one()
    return markers, uncommitted


def figures_for(
    config: ServerConfig,
    database: str,
    budget: Budget,
    outcomes: list[Outcome],
    seconds: float,
    engine: Engine,
) -> Figures:
    """Count what the load got back and what the database holds."""
    figures = Figures(config.name, database, budget, requests=len(outcomes), seconds=seconds)
    acknowledged: list[str] = []
    for outcome in outcomes:
        op = outcome.op
        if outcome.error == SKIPPED:
            figures.statuses["not sent"] += 1
            figures.requests -= 1
            continue
        figures.statuses[str(outcome.status) if outcome.status else "no answer"] += 1
        if outcome.status not in op.expect:
            detail = f" ({outcome.error})" if outcome.error else ""
            answer = f"{op.kind} {op.method} {op.path} -> {outcome.status}{detail}"
            figures.unexpected.append(answer)
        elif op.kind in DELIBERATE:
            figures.deliberate_500 += 1
        if op.kind in WRITES and op.token is not None:
            if outcome.status in op.expect:
                acknowledged.append(op.token)
            else:
                figures.unacknowledged_writes += 1
        if outcome.visible:
            figures.uncommitted_seen += 1
    markers, figures.uncommitted_on_disk = _on_disk(engine, APPS[config.app])
    figures.acknowledged_writes = len(acknowledged)
    figures.lost_writes = [t for t in acknowledged if markers[t] == 0]
    figures.duplicated_writes = sorted(t for t, n in markers.items() if n > 1)
    return figures


def add_worker_figures(figures: Figures, server: RunningServer) -> None:
    reports = server.worker_figures
    figures.processes_reporting = len(reports)
    figures.leaked_sessions = sum(r["sessions"] for r in reports)
    figures.leaked_connections = sum(r["checked_out"] for r in reports)


def idle_in_transaction(engine: Engine) -> int:
    """Backends of this database (other than ours) idle inside a transaction."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            )
        ).scalar_one()


def settle(probe: Callable[[], int], timeout: float = 5.0) -> int:
    """``probe()`` until it gives 0 or ``timeout`` passes; its last value.

    A response reaches the client a moment before the server has torn the
    request down (WSGI closes the response after sending it), so the last
    requests' transactions may still be open right after the load; a
    transaction that is still open after ``timeout`` is a leak.
    """
    deadline = time.monotonic() + timeout
    value = probe()
    while value and time.monotonic() < deadline:
        time.sleep(0.05)
        value = probe()
    return value
