"""Real Redis servers for the tests: standalone, Sentinel (master, replica, 3 sentinels) and a
3-master Cluster, each started on free loopback ports in a temporary directory and killed at
the end. Nothing here assumes a server is already running.

A missing binary is a test failure with the Debian package to install, never a skip.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.client import Redis
from redis.exceptions import RedisError

PACKAGES = {
    "redis-server": "redis-server",
    "redis-sentinel": "redis-sentinel",
    "redis-cli": "redis-tools",
}
_TAKEN: set[int] = set()
#: Hash slots of a Redis Cluster.
SLOTS = 16384
_RUNNING: list[Process] = []


@atexit.register
def _stop_leftovers() -> None:
    """A safety net: fixtures stop their servers, but an interrupted run may not get there."""
    for process in _RUNNING:
        process.stop()


def binary(name: str) -> str:
    """The path of ``name``; a test failure naming the Debian package if it is missing."""
    path = shutil.which(name)
    if path is None and os.path.exists(f"/usr/bin/{name}"):
        path = f"/usr/bin/{name}"  # a PATH without /usr/bin (some CI shells)
    if path is None:
        pytest.fail(
            f"{name} is not installed: the Redis tests start their own servers. "
            f"Install it with `apt-get install {PACKAGES[name]}` (.ci/run does).",
            pytrace=False,
        )
    return path


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, bus: bool = False) -> int:
    """A free loopback port (and, with ``bus``, port + 10000 free too, for Cluster)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port in _TAKEN or (bus and (port > 55000 or not _port_free(port + 10000))):
            continue
        _TAKEN.add(port)
        return port
    raise RuntimeError("no free loopback port")


class Process:
    """One redis-server or redis-sentinel process with its own directory and log."""

    def __init__(self, argv: list[str], directory: Path, port: int, name: str) -> None:
        self.argv = argv
        self.dir = directory
        self.port = port
        self.name = name
        self.log = directory / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, wait: bool = True) -> Process:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv, cwd=self.dir, stdout=log, stderr=subprocess.STDOUT
            )
        _RUNNING.append(self)
        if wait:
            self.wait_ready()
        return self

    def client(self, **kwargs: object) -> Redis:
        return Redis(host="127.0.0.1", port=self.port, socket_timeout=5, **kwargs)

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                pytest.fail(f"{self.name} exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with self.client(socket_connect_timeout=0.5) as client:
                    if client.ping():
                        return
            except RedisError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name} did not answer on port {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL and wait: the server vanishes without a goodbye (and keeps nothing)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGCONT)
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def redis_server(
    directory: Path, port: int | None = None, *extra: str, name: str = "redis"
) -> Process:
    """A redis-server on a free loopback port: no persistence, no protected mode."""
    port = port or free_port()
    directory.mkdir(parents=True, exist_ok=True)
    argv = [
        binary("redis-server"),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--protected-mode", "no",
        "--daemonize", "no",
        "--dir", str(directory),
        *extra,
    ]  # fmt: skip
    return Process(argv, directory, port, name)


class Sentinel:
    """A master, one replica and three sentinels watching ``service``."""

    service = "otpgate"

    def __init__(self, directory: Path) -> None:
        self.master = redis_server(directory / "master", name="master").start()
        self.replica = redis_server(
            directory / "replica",
            None,
            "--replicaof", "127.0.0.1", str(self.master.port),
            name="replica",
        ).start()  # fmt: skip
        self.sentinels: list[Process] = []
        for index in range(3):
            port = free_port()
            folder = directory / f"sentinel{index}"
            folder.mkdir(parents=True)
            conf = folder / "sentinel.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\nprotected-mode no\ndaemonize no\n"
                f"dir {folder}\n"
                f"sentinel monitor {self.service} 127.0.0.1 {self.master.port} 2\n"
                f"sentinel down-after-milliseconds {self.service} 500\n"
                f"sentinel failover-timeout {self.service} 3000\n"
                f"sentinel parallel-syncs {self.service} 1\n"
            )
            argv = [binary("redis-sentinel"), str(conf)]
            self.sentinels.append(Process(argv, folder, port, f"sentinel{index}").start())
        self.wait_healthy()

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", s.port) for s in self.sentinels]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.service}"

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Replica linked, and every sentinel knows the replica and the two other sentinels."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._healthy():
                return
            time.sleep(0.1)
        pytest.fail("the Sentinel set-up did not become healthy")

    def _healthy(self) -> bool:
        with self.replica.client() as client:
            if client.info("replication").get("master_link_status") != "up":
                return False
        for sentinel in self.sentinels:
            with sentinel.client(decode_responses=True) as client:
                state = client.execute_command("SENTINEL", "MASTER", self.service)
                if isinstance(state, list):  # RESP2: a flat field/value list
                    state = dict(zip(state[::2], state[1::2], strict=False))
                fields = state
                if int(fields["num-other-sentinels"]) < 2 or int(fields["num-slaves"]) < 1:
                    return False
        return True

    def master_port(self) -> int:
        with self.sentinels[0].client(decode_responses=True) as client:
            _, port = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service)
        return int(port)

    def processes(self) -> list[Process]:
        return [self.master, self.replica, *self.sentinels]

    def stop(self) -> None:
        for process in self.processes():
            process.stop()


class Cluster:
    """Three masters, no replicas, slots spread by ``redis-cli --cluster create``; or
    ``masters`` of them (1 or more: the slots given in even ranges by ``CLUSTER
    ADDSLOTSRANGE``, which ``redis-cli`` cannot do below three)."""

    def __init__(self, directory: Path, masters: int = 3) -> None:
        self.nodes = [
            redis_server(
                directory / f"node{index}",
                free_port(bus=True),
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "2000",
                name=f"node{index}",
            ).start()
            for index in range(masters)
        ]  # fmt: skip
        if masters != 3:
            self._assign_slots()
            self.wait_ok()
            return
        created = subprocess.run(
            [
                binary("redis-cli"),
                "--cluster", "create",
                *(f"127.0.0.1:{node.port}" for node in self.nodes),
                "--cluster-replicas", "0",
                "--cluster-yes",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
        if created.returncode != 0:
            self.stop()
            pytest.fail(f"redis-cli --cluster create failed: {created.stdout}{created.stderr}")
        self.wait_ok()

    def _assign_slots(self) -> None:
        """Even slot ranges, one per master, and every master introduced to the first."""
        count = len(self.nodes)
        for index, node in enumerate(self.nodes):
            first, last = SLOTS * index // count, SLOTS * (index + 1) // count - 1
            with node.client() as client:
                client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", index + 1)
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
                if index:
                    client.execute_command("CLUSTER", "MEET", "127.0.0.1", self.nodes[0].port)

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def wait_ok(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = []
            for node in self.nodes:
                with node.client(decode_responses=True) as client:
                    states.append(client.execute_command("CLUSTER", "INFO"))
            if all("cluster_state:ok" in str(s) for s in states):
                return
            time.sleep(0.1)
        pytest.fail("the Redis Cluster did not reach cluster_state:ok")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def keys_without_ttl(process: Process) -> list[bytes]:
    """Every key on ``process`` that would live forever."""
    with process.client() as client:
        return [key for key in client.scan_iter(count=1000) if client.ttl(key) == -1]


@contextlib.contextmanager
def stopping(*things: Process | Sentinel | Cluster) -> Iterator[None]:
    try:
        yield
    finally:
        for thing in things:
            thing.stop()
