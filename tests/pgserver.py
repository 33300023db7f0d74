"""A private, throw-away PostgreSQL cluster for the test suite.

``PostgresServer`` runs ``initdb`` into a fresh temporary directory and starts
the server with ``pg_ctl`` on a Unix socket only (no TCP), with durability
switched off for speed.  ``stop()`` shuts it down and deletes the directory;
it is also registered with :mod:`atexit`, and a small watchdog process stops
the server if the Python process dies without running ``atexit`` (SIGKILL,
SIGTERM, a crash in C code).

PostgreSQL refuses to run as root.  When this process is root, every
``initdb``/``pg_ctl`` call runs as an unprivileged OS user (``postgres`` if it
exists, otherwise a system user created on demand) through ``runuser``.

If ``SESSION_EXT_TEST_PG_URL`` is set, nothing is started: that existing
server is used instead, and ``url()`` / ``create_database()`` talk to it.

This module deliberately does not import pytest, so it can be used on its own::

    server = PostgresServer()
    server.start()
    print(server.url("postgres"))
    server.stop()
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ENV_URL = "SESSION_EXT_TEST_PG_URL"
PREFERRED_OS_USER = "postgres"  # used when root, if it exists
FALLBACK_USER = "sessionext_pg"  # created when root and there is no PREFERRED_OS_USER
SUPERUSER = "postgres"  # the database superuser (initdb -U)

# Unix socket paths are limited to 107 bytes; ".s.PGSQL.65535" takes 15 of them.
_MAX_SOCKET_DIR_LEN = 90

# Run by the watchdog process (see _start_watchdog): wait until our stdin
# closes, i.e. until the test process has exited one way or another, then make
# sure the server is stopped and its directory removed.
_WATCHDOG_CODE = r"""
import json, os, shutil, subprocess, sys
argv_stop, data_dir, base_dir, setuid_to = json.loads(sys.argv[1])
sys.stdin.buffer.read()
if os.path.exists(os.path.join(data_dir, "postmaster.pid")):
    extra = {} if setuid_to is None else {"user": setuid_to[0], "group": setuid_to[1],
                                          "extra_groups": []}
    subprocess.run(argv_stop, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, cwd=base_dir, timeout=60, **extra)
shutil.rmtree(base_dir, ignore_errors=True)
"""


class PostgresServerError(RuntimeError):
    """Starting or talking to the test server failed."""


@dataclass(frozen=True)
class Availability:
    """Result of :meth:`PostgresServer.available`; falsy when PG can't be used."""

    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok


def _find_bindir() -> tuple[Path | None, str]:
    """Locate a directory holding both ``initdb`` and ``pg_ctl``.

    Order: PATH, then ``pg_config --bindir``, then /usr/lib/postgresql/*/bin
    (PostgreSQL 15 first, then the newest).
    """
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        # Resolve Debian's /usr/local/bin symlinks to the real bin dir, so the
        # "postgres" binary next to them can be found too.
        real = Path(os.path.realpath(initdb)).parent
        if (real / "pg_ctl").exists():
            return real, "PATH"
        return Path(initdb).parent, "PATH"

    candidates: list[tuple[Path, str]] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10
            )
            if out.returncode == 0 and out.stdout.strip():
                candidates.append((Path(out.stdout.strip()), "pg_config --bindir"))
        except (OSError, subprocess.SubprocessError):
            pass

    def version_key(path: str) -> tuple[int, int]:
        match = re.search(r"/postgresql/(\d+)/", path)
        major = int(match.group(1)) if match else 0
        return (major == 15, major)

    for path in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version_key, reverse=True):
        candidates.append((Path(path), "/usr/lib/postgresql"))

    for bindir, how in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir, how
    return None, (
        "initdb/pg_ctl not found on PATH, in `pg_config --bindir`, "
        "or in /usr/lib/postgresql/*/bin (install e.g. the Debian package postgresql-15)"
    )


def _free_port() -> int:
    """A port number nobody is listening on.  Only used to name the socket file
    (the server has no TCP listener), but keeping it unique also keeps the
    server's shared-memory key apart from other local clusters."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _traversable_by_others(path: Path) -> bool:
    for part in [path, *path.parents]:
        try:
            if not os.stat(part).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


class PostgresServer:
    """A private PostgreSQL cluster (or an external one from ``SESSION_EXT_TEST_PG_URL``)."""

    def __init__(self, external_url: str | None = None) -> None:
        if external_url is None:
            external_url = os.environ.get(ENV_URL) or None
        self.external_url = external_url
        self.base_dir: Path | None = None
        self.data_dir: Path | None = None
        self.socket_dir: Path | None = None
        self.log_file: Path | None = None
        self.port: int | None = None
        self.bindir: Path | None = None
        self.os_user: str | None = None
        self.startup_seconds: float | None = None
        self._running = False
        self._options = ""  # the server's -o options (pg_ctl restart needs them again)
        self._watchdog: subprocess.Popen[bytes] | None = None

    # -- discovery ---------------------------------------------------------

    @staticmethod
    def available() -> Availability:
        """Whether a server can be had: an external URL, or initdb+pg_ctl found."""
        if os.environ.get(ENV_URL):
            return Availability(True, f"external server from ${ENV_URL}")
        bindir, how = _find_bindir()
        if bindir is None:
            return Availability(False, how)
        return Availability(True, f"binaries in {bindir} (found via {how})")

    @staticmethod
    def binaries_version() -> str | None:
        """``postgres --version`` (or ``pg_ctl --version``) of the binaries that
        would be used, without starting anything; None if not found."""
        bindir, _ = _find_bindir()
        if bindir is None:
            return None
        for name in ("postgres", "pg_ctl"):
            exe = bindir / name
            if exe.exists():
                try:
                    out = subprocess.run(
                        [str(exe), "--version"], capture_output=True, text=True, timeout=10
                    )
                except (OSError, subprocess.SubprocessError):
                    continue
                if out.returncode == 0:
                    return out.stdout.strip()
        return None

    # -- lifecycle ---------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> PostgresServer:
        """Create and start the cluster; returns self.  No-op for an external URL."""
        if self.external_url is not None or self._running:
            return self
        bindir, reason = _find_bindir()
        if bindir is None:
            raise PostgresServerError(reason)
        self.bindir = bindir
        started_at = time.monotonic()

        self.os_user = self._pick_os_user()
        self.base_dir = Path(tempfile.mkdtemp(prefix="sessionext_pg_", dir=self._temp_root()))
        self.data_dir = self.base_dir / "data"
        self.socket_dir = self.base_dir
        self.log_file = self.base_dir / "server.log"
        self.port = _free_port()
        if self.os_user is not None:
            pw = pwd.getpwnam(self.os_user)
            os.chown(self.base_dir, pw.pw_uid, pw.pw_gid)
        # Root can reach the socket regardless; the server user owns the dir.
        os.chmod(self.base_dir, 0o700)

        atexit.register(self.stop)
        try:
            self._run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "--auth=trust",
                    "-U",
                    SUPERUSER,
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ],
                what="initdb",
                timeout=120,
            )
            self._start_watchdog()
            self._options = " ".join(
                [
                    "-c listen_addresses=''",
                    f"-c unix_socket_directories={shlex.quote(str(self.socket_dir))}",
                    f"-c port={self.port}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_prepared_transactions=20",
                    "-c max_connections=200",
                ]
            )
            self._run(
                [
                    str(bindir / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-o",
                    self._options,
                ],
                what="pg_ctl start",
                timeout=90,
            )
            self._running = True
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started_at
        return self

    def restart(self, mode: str = "fast") -> None:
        """Stop the server and start it again on the same socket and data.

        Every client connection is cut (``mode``: ``fast`` rolls back open
        transactions and disconnects; ``immediate`` is a crash-like stop with
        recovery at the next start).  Not possible on an external server.
        """
        if self.external_url is not None:
            raise PostgresServerError(f"cannot restart the external server from ${ENV_URL}")
        if not self._running:
            raise PostgresServerError("server is not running; call start() first")
        assert self.bindir is not None and self.data_dir is not None
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "restart",
                "-w",
                "-t",
                "60",
                "-m",
                mode,
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                self._options,
            ],
            what="pg_ctl restart",
            timeout=90,
        )

    def stop(self) -> None:
        """Stop the server and delete its directory.  Safe to call repeatedly."""
        if self.base_dir is None:
            return
        try:
            if self.data_dir is not None and (self.data_dir / "postmaster.pid").exists():
                try:
                    self._run(self._pg_ctl_stop_argv("fast"), what="pg_ctl stop", timeout=60)
                except (PostgresServerError, subprocess.SubprocessError) as exc:
                    print(f"pgserver: {exc}\nretrying with -m immediate", file=sys.stderr)
                    self._run(
                        self._pg_ctl_stop_argv("immediate"),
                        what="pg_ctl stop -m immediate",
                        timeout=60,
                        check=False,
                    )
                    self._kill_postmaster()
        finally:
            self._running = False
            shutil.rmtree(self.base_dir, ignore_errors=True)
            self.base_dir = None
            if self._watchdog is not None:
                # Nothing left for it to do; closing stdin lets it exit.
                if self._watchdog.stdin is not None:
                    self._watchdog.stdin.close()
                try:
                    self._watchdog.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self._watchdog.kill()
                self._watchdog = None
            atexit.unregister(self.stop)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- connecting --------------------------------------------------------

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) for database *dbname* on this server."""
        if self.external_url is not None:
            from sqlalchemy.engine import make_url

            url = make_url(self.external_url).set(database=dbname)
            if url.drivername in ("postgresql", "postgres"):
                url = url.set(drivername="postgresql+psycopg")
            return url.render_as_string(hide_password=False)
        if not self._running:
            raise PostgresServerError("server is not running; call start() first")
        return f"postgresql+psycopg://{SUPERUSER}@/{dbname}?host={self.socket_dir}&port={self.port}"

    def display_url(self, dbname: str = "postgres") -> str:
        """Like url(), with any password masked (for messages)."""
        from sqlalchemy.engine import make_url

        return make_url(self.url(dbname)).render_as_string(hide_password=True)

    def connect_kwargs(self, dbname: str = "postgres") -> dict[str, object]:
        """Keyword arguments for ``psycopg.connect`` to database *dbname*."""
        from sqlalchemy.engine import make_url

        url = make_url(self.url(dbname))
        kwargs: dict[str, object] = {"dbname": dbname}
        host = url.host or url.query.get("host")
        port = url.port or url.query.get("port")
        if host:
            kwargs["host"] = host if isinstance(host, str) else host[0]
        if port:
            kwargs["port"] = int(port if not isinstance(port, tuple) else port[0])
        if url.username:
            kwargs["user"] = url.username
        if url.password:
            kwargs["password"] = url.password
        return kwargs

    def connect(self, dbname: str = "postgres"):  # -> psycopg.Connection
        """An autocommit psycopg connection (caller closes it)."""
        import psycopg

        return psycopg.connect(autocommit=True, connect_timeout=10, **self.connect_kwargs(dbname))

    def create_database(self, name: str) -> None:
        """CREATE DATABASE *name* (an error if it exists)."""
        from psycopg import sql

        with self.connect("postgres") as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_database(self, name: str) -> None:
        """DROP DATABASE IF EXISTS *name*, ending its sessions and prepared transactions."""
        from psycopg import sql

        with self.connect("postgres") as conn:
            for (gid,) in conn.execute(
                "SELECT gid FROM pg_prepared_xacts WHERE database = %s", (name,)
            ).fetchall():
                # ROLLBACK PREPARED must run in the transaction's own database.
                with self.connect(name) as other:
                    other.execute(sql.SQL("ROLLBACK PREPARED {}").format(sql.Literal(gid)))
            # WITH (FORCE) (PostgreSQL 13+) terminates the database's sessions.
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def server_version(self) -> str:
        """``SELECT version()`` of the running server."""
        with self.connect("postgres") as conn:
            row = conn.execute("SELECT version()").fetchone()
        assert row is not None
        return row[0]

    def describe(self) -> str:
        """One line saying where the server is (for the pytest header/summary)."""
        if self.external_url is not None:
            return f"external server {self.display_url()} (from ${ENV_URL})"
        if not self._running:
            return f"private cluster, binaries in {self.bindir} (not running)"
        return (
            f"private cluster in {self.base_dir} (unix socket only, port {self.port}, "
            f"run as OS user {self.os_user or pwd.getpwuid(os.geteuid()).pw_name}, "
            f"binaries in {self.bindir})"
        )

    def log_tail(self, lines: int = 40) -> str:
        if self.log_file is None or not self.log_file.exists():
            return "(no server log)"
        text = self.log_file.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:]) or "(server log is empty)"

    # -- internals ---------------------------------------------------------

    @staticmethod
    def _temp_root() -> str | None:
        """Where to make the cluster dir: the usual temp dir, unless the server
        user could not reach it or the socket path would be too long."""
        root = Path(tempfile.gettempdir())
        too_long = len(str(root)) + len("/sessionext_pg_xxxxxxxx") > _MAX_SOCKET_DIR_LEN
        if too_long or (os.geteuid() == 0 and not _traversable_by_others(root)):
            return "/tmp"
        return None

    @staticmethod
    def _pick_os_user() -> str | None:
        """None when not root (run directly); otherwise an unprivileged user."""
        if os.geteuid() != 0:
            return None
        if _has_user(PREFERRED_OS_USER):
            return PREFERRED_OS_USER
        if not _has_user(FALLBACK_USER):
            useradd = shutil.which("useradd")
            if useradd is None:
                raise PostgresServerError(
                    "running as root, there is no 'postgres' user, and useradd is missing: "
                    "cannot run PostgreSQL as an unprivileged user"
                )
            out = subprocess.run(
                [
                    useradd,
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    FALLBACK_USER,
                ],
                capture_output=True,
                text=True,
                timeout=30,
            )
            # Exit 9: created concurrently by another process; fine.
            if out.returncode not in (0, 9):
                raise PostgresServerError(
                    f"useradd {FALLBACK_USER} failed ({out.returncode}): {out.stderr.strip()}"
                )
        return FALLBACK_USER

    def _as_user(self, argv: list[str]) -> list[str]:
        if self.os_user is None:
            return argv
        runuser = shutil.which("runuser")
        if runuser is not None:
            return [runuser, "-u", self.os_user, "--", *argv]
        return argv  # _run falls back to Popen(user=...)

    def _kill_postmaster(self) -> None:
        """Last resort: SIGQUIT (immediate shutdown) to the pid in postmaster.pid."""
        assert self.data_dir is not None
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return  # stopped after all
        try:
            os.kill(pid, signal.SIGQUIT)
        except ProcessLookupError:
            return
        print(f"pgserver: sent SIGQUIT to postmaster {pid}", file=sys.stderr)

    def _setuid_kwargs(self) -> dict[str, object]:
        """Popen arguments to drop privileges when runuser is missing."""
        if self.os_user is None or shutil.which("runuser"):
            return {}
        pw = pwd.getpwnam(self.os_user)
        return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}

    def _pg_ctl_stop_argv(self, mode: str) -> list[str]:
        assert self.bindir is not None and self.data_dir is not None
        return [
            str(self.bindir / "pg_ctl"),
            "stop",
            "-w",
            "-t",
            "30",
            "-m",
            mode,
            "-D",
            str(self.data_dir),
        ]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        # Don't let the caller's libpq/PG settings leak into initdb/pg_ctl.
        for key in list(env):
            if key.startswith("PG"):
                del env[key]
        env["LC_ALL"] = "C"
        env["LANG"] = "C"
        return env

    def _run(
        self, argv: list[str], *, what: str, timeout: float, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = self._as_user(argv)
        extra = self._setuid_kwargs()
        try:
            result = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                # The server user may not be able to enter our cwd.
                cwd=self.base_dir or "/",
                env=self._env(),
                **extra,
            )
        except subprocess.TimeoutExpired as exc:
            raise PostgresServerError(
                f"{what} timed out after {timeout}s\n--- server log (tail) ---\n{self.log_tail()}"
            ) from exc
        if check and result.returncode != 0:
            raise PostgresServerError(
                f"{what} failed with exit code {result.returncode}: {shlex.join(argv)}\n"
                f"--- output ---\n{(result.stdout + result.stderr).strip()}\n"
                f"--- server log (tail) ---\n{self.log_tail()}"
            )
        return result

    def _start_watchdog(self) -> None:
        """A child that outlives a killed test process long enough to stop the
        server.  It waits for EOF on its stdin, which the OS delivers when we
        exit in any way, including SIGKILL."""
        import json

        assert self.data_dir is not None and self.base_dir is not None
        setuid = self._setuid_kwargs()
        payload = json.dumps(
            [
                self._as_user(self._pg_ctl_stop_argv("immediate")),
                str(self.data_dir),
                str(self.base_dir),
                [setuid["user"], setuid["group"]] if setuid else None,
            ]
        )
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG_CODE, payload],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            # Own session: a Ctrl-C to the terminal's process group must not
            # kill it before it has done its job.
            start_new_session=True,
        )


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


if __name__ == "__main__":  # manual smoke test: python tests/pgserver.py
    with PostgresServer() as srv:
        print(srv.describe())
        print(srv.server_version())
        print(srv.url())
        print(f"startup took {srv.startup_seconds:.2f}s")
