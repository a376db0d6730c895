"""A shared harness for the HTTP benches (``bench/http_*.py``): serve an app on loopback in a
process of its own, drive it with ``wrk`` from another process, and compare two variants
(with and without otpgate) in interleaved rounds.

    from loadgen import Server, Target, compare
    with Server(["python", "-m", "uvicorn", "app:plain", "--port", "{port}"]) as plain, \\
         Server([... "app:guarded" ...]) as guarded:
        compare([Target("plain", plain.url("/page")), Target("otpgate", guarded.url("/page"))])

Each round runs every target once for ``seconds`` (whole seconds; wrk, one connection per thread by
default: the single-worker latency path) and takes each target's requests per second; the
ratio to the first target (the baseline) is taken within the round, so a round's load from
elsewhere on the machine touches both sides alike. The report is the median ratio and the
spread (lowest to highest) over the rounds. Install wrk with ``apt-get install wrk``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

_RATE = re.compile(r"Requests/sec:\s+([0-9.]+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server process on a free loopback port: ``{port}`` in ``command`` is replaced."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        ready_path: str = "/",
        cwd: str | None = None,
    ) -> None:
        self.port = free_port()
        self.command = [part.replace("{port}", str(self.port)) for part in command]
        self.env = {**os.environ, **(env or {})}
        self.ready_path = ready_path
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"{self.command[0]} exited: {error[-2000:]}")
            try:
                urllib.request.urlopen(self.url(self.ready_path), timeout=1)
                return self
            except OSError as problem:
                if getattr(problem, "code", None):  # an HTTP error status: it is serving
                    return self
                time.sleep(0.1)
        raise RuntimeError(f"{self.command} did not answer on port {self.port} in 30 s")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass(frozen=True)
class Target:
    """One URL to load: ``headers`` (a session cookie, a bearer token); ``method`` and
    ``body`` for a POST (a wrk Lua script is written for it)."""

    name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    body: str = ""


def _script(target: Target) -> str | None:
    if target.method == "GET" and not target.body:
        return None
    body = target.body.replace("\\", "\\\\").replace('"', '\\"')
    path = f"/tmp/otpgate-wrk-{os.getpid()}-{abs(hash(target.name))}.lua"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f'wrk.method = "{target.method}"\nwrk.body = "{body}"\n')
    return path


def requests_per_second(
    target: Target, seconds: float, connections: int = 1, threads: int = 1
) -> tuple[float, int]:
    """wrk's requests per second for ``target``, and how many answers were not 2xx/3xx."""
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is needed: apt-get install wrk")
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    script = _script(target)
    if script:
        command += ["-s", script]
    output = subprocess.run(
        [*command, target.url], capture_output=True, text=True, check=True
    ).stdout
    rate = _RATE.search(output)
    bad = _NON_2XX.search(output)
    if rate is None:
        raise RuntimeError(f"wrk said: {output}")
    return float(rate.group(1)), int(bad.group(1)) if bad else 0


@dataclass
class Comparison:
    """The ratios of each target to the baseline (the first), one per round."""

    names: list[str]
    ratios: dict[str, list[float]] = field(default_factory=dict)
    rates: dict[str, list[float]] = field(default_factory=dict)
    non_2xx: dict[str, int] = field(default_factory=dict)

    def line(self, name: str, target: float | None = None) -> str:
        ratios = self.ratios[name]
        median = statistics.median(ratios)
        verdict = ""
        if target is not None:
            verdict = f"  target >= {target:.2f}: {'ok' if median >= target else 'MISSED'}"
        bad = f"  ({self.non_2xx[name]} non-2xx!)" if self.non_2xx.get(name) else ""
        return (
            f"{name:<44} {median:5.2f}x  (spread {min(ratios):.2f}-{max(ratios):.2f}, "
            f"{statistics.median(self.rates[name]):8.0f} req/s){verdict}{bad}"
        )


def compare(
    targets: Sequence[Target], *, rounds: int = 5, seconds: float = 2.0, warmup: float = 1.0
) -> Comparison:
    """Run the targets in ``rounds`` interleaved rounds (order rotated each round); the
    first target is the baseline of each round's ratios."""
    for target in targets:
        requests_per_second(target, warmup)
    result = Comparison([t.name for t in targets])
    for index in range(rounds):
        order = list(targets[index % len(targets) :]) + list(targets[: index % len(targets)])
        measured: dict[str, float] = {}
        for target in order:
            rate, bad = requests_per_second(target, seconds)
            measured[target.name] = rate
            result.non_2xx[target.name] = result.non_2xx.get(target.name, 0) + bad
            result.rates.setdefault(target.name, []).append(rate)
        base = measured[targets[0].name]
        if base <= 0:
            raise RuntimeError(f"{targets[0].name} served nothing (keep-alive off? errors?)")
        for target in targets:
            result.ratios.setdefault(target.name, []).append(measured[target.name] / base)
    return result
