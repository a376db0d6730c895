"""Benchmark: does a Redis Cluster's aggregate check throughput grow with its masters?
(A script, not a test.)

    PYTHONPATH=src:. python bench/cluster_masters.py    # starts its own servers on loopback

Starts three Clusters (1, 2 and 3 masters; the test suite's helpers, ``tests/redis/servers.py``)
and drives each with several processes whose client cost per check is a small fraction of
the server's, so that the masters, not the Python drivers, are the bottleneck
(``tests/redis/pipelined.py``):

- one ``Verifier`` plans ``--checks`` sign-in challenges of distinct subjects (their keys
  spread over the slots as production keys do) and builds, for each, otpgate's own
  ``create`` script call and the ``check`` call of its right code exactly as
  ``Verifier.check`` builds it (the ``EVALSHA`` of the check script, with the code's and
  context's keyed digests), all RESP-encoded up front;
- before each run the cluster is flushed and the challenges created again (the same
  commands); then ``--drivers`` processes, each with a share of the checks, send them in
  pipelines of ``--batch`` over raw sockets, each to the master that owns its slot
  (``--window`` pipelines in flight per connection), and read and classify every reply:
  each check must answer ``approved`` (once: the challenge is spent), never an error;
- the 1-, 2- and 3-master runs are interleaved over ``--rounds`` rounds; printed are the
  median checks per second and the spread, the ratios to 1 master per round, the server
  CPU time per master during the runs (``INFO cpu``) and its time per check script (``INFO
  commandstats``), and the drivers' own CPU time per check.

A master is one single-threaded process: the aggregate can grow only while there is a free
core for another master. The script prints ``os.cpu_count()``; on a 2-core machine expect
about 1.8x with 2 masters and about the same with 3 (the masters then share the 2 cores with
each other and with the drivers). "grows with masters: yes" needs 2 masters >= 1.3x 1 master;
a "no" says when the 2 masters got no more CPU than the 1 did (other processes took the
cores: the load average is printed), where growth cannot show.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/redis.py would shadow redis-py if this folder were first on the path.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from typing import Any

from tests.redis import pipelined
from tests.redis.servers import Cluster

from otpgate import OutboxSender, Settings, Verifier
from otpgate.redis import RedisStore

KEY = "bench-key-0123456789abcdef0123456789"
MASTERS = (1, 2, 3)
GROWS = 1.3


def _node_stats(cluster: Cluster, reset: bool = False) -> list[tuple[float, int, int]]:
    """Per master: CPU seconds so far, and the check scripts run and their microseconds."""
    stats = []
    for node in cluster.nodes:
        with node.client(decode_responses=True) as client:
            cpu = client.info("cpu")
            scripts = client.info("commandstats").get("cmdstat_evalsha", {})
            stats.append((
                float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]),
                int(scripts.get("calls", 0)),
                int(scripts.get("usec", 0)),
            ))  # fmt: skip
            if reset:
                client.config_resetstat()
    return stats


def _driver(pipelines: dict[int, list], window: int, barrier: Any, out: Any) -> None:
    barrier.wait()
    began, cpu = time.perf_counter(), time.process_time()
    tally = pipelined.drive(pipelines, window)
    out.put((began, time.perf_counter(), time.process_time() - cpu, tally))


class Run:
    """One run's outcome on a cluster of ``masters``."""

    def __init__(self, masters: int) -> None:
        self.masters = masters
        self.rate = 0.0
        self.seconds = 0.0
        self.driver_cpu = 0.0
        self.server_cpu: list[float] = []
        self.scripts: list[int] = []
        self.script_us = 0.0
        self.tally = pipelined.Tally()


def run(
    cluster: Cluster, creates: dict[int, list], drivers: list[dict[int, list]], window: int
) -> Run:
    for node in cluster.nodes:
        with node.client() as client:
            client.flushall()
    made = pipelined.drive(creates, window)
    assert made.results == {"ok": sum(n for b in creates.values() for _, n in b)}, made
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(len(drivers) + 1), context.Queue()
    workers = [
        context.Process(target=_driver, args=(share, window, barrier, out)) for share in drivers
    ]
    for worker in workers:
        worker.start()
    before = _node_stats(cluster, reset=True)
    barrier.wait()
    results = [out.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join()
    after = _node_stats(cluster)
    outcome = Run(len(cluster.nodes))
    outcome.seconds = max(r[1] for r in results) - min(r[0] for r in results)
    for _, _, cpu, tally in results:
        outcome.driver_cpu += cpu
        outcome.tally.results.update(tally.results)
        outcome.tally.errors.update(tally.errors)
    outcome.rate = outcome.tally.results["approved"] / outcome.seconds
    outcome.server_cpu = [a[0] - b[0] for a, b in zip(after, before, strict=True)]
    outcome.scripts = [a[1] for a in after]
    outcome.script_us = sum(a[2] for a in after) / max(sum(outcome.scripts), 1)
    return outcome


def _spread(values: list[float], unit: str = "", digits: int = 0) -> str:
    low, high = min(values), max(values)
    return f"{statistics.median(values):,.{digits}f}{unit} ({low:,.{digits}f}..{high:,.{digits}f})"


def report(runs: dict[int, list[Run]], options: argparse.Namespace, checks: int) -> None:
    cores = os.cpu_count()
    print(f"aggregate Verifier check scripts per second, {options.drivers} driver processes, "
          f"{checks:,} right codes a run (each must be approved once), pipelines of "
          f"{options.batch} with {options.window} in flight per master; median (spread) of "
          f"{options.rounds} interleaved rounds; this machine has {cores} cores")  # fmt: skip
    base = [r.rate for r in runs[1]]
    ratios: dict[int, list[float]] = {}
    for masters, done in runs.items():
        ratios[masters] = [r.rate / b for r, b in zip(done, base, strict=True)]
        ratio = "" if masters == 1 else f"; {_spread(ratios[masters], 'x', 2)} 1 master's"
        print(f"  {masters} master{'s' if masters > 1 else ' '}: "
              f"{_spread([r.rate for r in done], '/s')}{ratio}")  # fmt: skip
    print("  server CPU per master during the runs (% of the run's wall time, medians):")
    cores_got: dict[int, float] = {}
    for masters, done in runs.items():
        busy = [
            statistics.median(r.server_cpu[i] / r.seconds for r in done) for i in range(masters)
        ]
        shares = [
            statistics.median(r.scripts[i] / max(sum(r.scripts), 1) for r in done)
            for i in range(masters)
        ]
        cores_got[masters] = sum(busy)
        script_us = statistics.median(r.script_us for r in done)
        per_cpu = statistics.median(
            r.tally.results["approved"] / max(sum(r.server_cpu), 1e-9) for r in done
        )
        print(f"    {masters} master{'s' if masters > 1 else ' '}: "
              + ", ".join(f"{b:.0%}" for b in busy)
              + f" CPU ({sum(busy):.2f} cores in all); checks "
              + ", ".join(f"{s:.1%}" for s in shares)
              + f"; {script_us:.1f} us a check script (commandstats), "
              f"{per_cpu:,.0f} checks per master CPU second")  # fmt: skip
    driver_us = statistics.median(
        r.driver_cpu / max(r.tally.replies, 1) * 1e6 for done in runs.values() for r in done
    )
    server_us = statistics.median(
        sum(r.server_cpu) / max(r.tally.results["approved"], 1) * 1e6 for r in runs[1]
    )
    print(f"  drivers' own CPU per check: {driver_us:.1f} us (all drivers together), against "
          f"{server_us:.1f} us of a master's CPU per check (1 master)")  # fmt: skip
    results: dict[str, int] = {}
    errors: dict[str, int] = {}
    for done in runs.values():
        for r in done:
            for name, count in r.tally.results.items():
                results[name] = results.get(name, 0) + count
            for name, count in r.tally.errors.items():
                errors[name] = errors.get(name, 0) + count
    print(f"  replies: {results} errors: {errors or 'none'}")
    two = statistics.median(ratios[2])
    print(f"  ({cores} cores: a master is one single-threaded process, so growth is capped "
          f"near {cores} masters, and lower while other processes take a share of the cores: "
          f"the masters' cores in all above show what they got)")  # fmt: skip
    load = os.getloadavg()[0]
    print(f"  load average {options.load:.1f} at start, {load:.1f} now: what other processes "
          f"take of the {cores} cores, the masters do not get")  # fmt: skip
    verdict = "yes" if two >= GROWS else "no"
    if two < GROWS and cores_got[2] < GROWS * cores_got[1]:
        verdict = (f"no (not measurable in this run: the 2 masters got {cores_got[2]:.2f} "
                   f"cores in all, the 1 master {cores_got[1]:.2f}; other processes had "
                   f"the rest)")  # fmt: skip
    print(f"grows with masters: {verdict} "
          f"(2 masters {two:.2f}x 1 master; yes at >= {GROWS}x)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checks", type=int, default=100000, help="challenges checked a run")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--drivers", type=int, default=3, help="driving processes")
    parser.add_argument("--batch", type=int, default=100, help="commands per pipeline")
    parser.add_argument("--window", type=int, default=2, help="pipelines in flight")
    options = parser.parse_args()
    options.load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as directory:
        clusters = {m: Cluster(Path(directory) / f"masters{m}", m) for m in MASTERS}
        try:
            # The challenges must outlive the bench: they are created again before each run.
            settings = Settings(secret_keys=(KEY,), code_lifetime=600)
            gates = {}
            for masters, cluster in clusters.items():
                store = RedisStore.from_url(cluster.url, prefix="b:", cluster=True)
                store.load_scripts()
                gates[masters] = Verifier(settings, store=store, sender=OutboxSender())
            began = time.perf_counter()
            planned = pipelined.plan(gates[1], options.checks)
            print(f"planned {options.checks:,} challenges and their checks through a Verifier "
                  f"in {time.perf_counter() - began:.1f} s")  # fmt: skip
            creates, shares = {}, {}
            for masters, cluster in clusters.items():
                owners = pipelined.slot_owners(cluster.nodes[0].port)
                creates[masters] = pipelined.by_master(planned.creates, owners, options.batch)
                shares[masters] = [
                    pipelined.by_master(planned.checks[d :: options.drivers], owners, options.batch)
                    for d in range(options.drivers)
                ]
            runs: dict[int, list[Run]] = {m: [] for m in MASTERS}
            for round_ in range(options.rounds):
                order = MASTERS[round_ % 3 :] + MASTERS[: round_ % 3]
                for masters in order:
                    runs[masters].append(
                        run(clusters[masters], creates[masters], shares[masters], options.window)
                    )
            report(runs, options, options.checks)
            for gate in gates.values():
                gate.store.close()  # type: ignore[attr-defined]
        finally:
            for cluster in clusters.values():
                cluster.stop()


if __name__ == "__main__":
    main()
