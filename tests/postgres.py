"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries, one cluster per test
session on a free loopback port, in a temporary directory removed at the end.

``initdb`` and ``postgres`` refuse to run as root (CI runs as root): then the cluster runs as
the ``postgres`` user the Debian package creates (or ``nobody``), in a directory it owns. A
developer's own account runs it directly. Durability is off (fsync, full-page writes,
synchronous commit): nothing here survives the session anyway.

A missing server is a test failure naming the Debian package, never a skip.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

USER = "otpgate"  # the cluster's superuser (trust authentication on loopback only)
_counter = itertools.count(1)
_RUNNING: list[PostgresCluster] = []


@atexit.register
def _stop_leftovers() -> None:
    """A safety net: the fixture stops its cluster, but an interrupted run may not get there."""
    for cluster in list(_RUNNING):
        cluster.stop()


def binary(name: str) -> str:
    """``/usr/lib/postgresql/<newest version>/bin/<name>`` (Debian keeps the server binaries
    off PATH), else ``name`` on PATH; a test failure naming the package if neither exists."""
    found = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    path = found[-1] if found else shutil.which(name)
    if path is None:
        pytest.fail(
            f"PostgreSQL's {name} is not installed: the PostgreSQL tests start their own "
            "server. Install it with `apt-get install postgresql` (scripts/test.sh does).",
            pytrace=False,
        )
    return path


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _owner() -> pwd.struct_passwd | None:
    """The unprivileged account to run the cluster as when we are root, else None."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    pytest.fail("running as root without a `postgres` or `nobody` account", pytrace=False)


class PostgresCluster:
    """One ``postgres`` server; :meth:`create_database` gives each test its own database."""

    def __init__(self) -> None:
        self.owner = _owner()
        # As root, in /tmp: the cluster's account must reach it (TMPDIR may be root's own).
        where = "/tmp" if self.owner is not None else None
        self.root = Path(tempfile.mkdtemp(prefix="otpgate-pg-", dir=where))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        if self.owner is not None:
            os.chown(self.root, self.owner.pw_uid, self.owner.pw_gid)

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self.owner is not None:
            kwargs = {"user": self.owner.pw_uid, "group": self.owner.pw_gid, "extra_groups": []}
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            argv, capture_output=True, text=True, check=False, cwd=self.root, **kwargs
        )

    def start(self) -> PostgresCluster:
        initdb = self._run(
            binary("initdb"), "-D", str(self.data), "-U", USER, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        if initdb.returncode:
            pytest.fail(f"initdb failed: {initdb.stdout}{initdb.stderr}", pytrace=False)
        for _attempt in range(3):  # another server may take our free port before we bind it
            if self._serve():
                return self
            self.port = free_port()
        pytest.fail(f"postgres could not start: {self._log_tail()}", pytrace=False)

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def _serve(self, timeout: float = 30.0) -> bool:
        """Start ``postgres`` on ``self.port``; False if that port was taken meanwhile."""
        argv = [
            binary("postgres"), "-D", str(self.data), "-h", "127.0.0.1", "-p", str(self.port),
            "-k", str(self.root), "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "shared_buffers=16MB",
            "-c", "max_connections=60",
        ]  # fmt: skip
        kwargs: dict[str, object] = {}
        if self.owner is not None:
            kwargs = {"user": self.owner.pw_uid, "group": self.owner.pw_gid, "extra_groups": []}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(  # type: ignore[call-overload]
                argv, cwd=self.root, stdout=log, stderr=subprocess.STDOUT, **kwargs
            )
        if self not in _RUNNING:
            _RUNNING.append(self)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                if "could not bind" in self._log_tail():
                    return False
                pytest.fail(f"postgres exited: {self._log_tail()}", pytrace=False)
            ready = self._run(
                binary("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER
            )
            if ready.returncode == 0:
                return True
            if time.monotonic() > deadline:
                pytest.fail(f"postgres did not answer on port {self.port}", pytrace=False)
            time.sleep(0.05)  # polling a condition, not waiting for one

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; its name."""
        name = f"{prefix}_{next(_counter)}"
        made = self._run(
            binary("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name
        )
        if made.returncode:
            pytest.fail(f"createdb failed: {made.stderr}", pytrace=False)
        return name

    def url(self, database: str, driver: str = "psycopg") -> str:
        """A SQLAlchemy URL: ``driver`` is ``psycopg`` (sync) or ``asyncpg``."""
        return f"postgresql+{driver}://{USER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # "fast" shutdown: disconnect, stop
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self in _RUNNING:
            _RUNNING.remove(self)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """The session's PostgreSQL cluster (started on first use)."""
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_database(postgres: PostgresCluster) -> str:
    """A fresh database of the session's cluster, for one test."""
    return postgres.create_database()
