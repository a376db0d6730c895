"""Benchmark of the Redis store on a 3-master Redis Cluster (a script, not a test).

    PYTHONPATH=src:. python bench/cluster.py      # starts its own servers on loopback

Starts three Cluster masters and three standalone redis-servers (one to compare with, two
more for a control; with the test suite's helpers, ``tests/redis/servers.py``) and prints,
measured in one run:

- key share: ``-n`` challenges started through ``Verifier.start_sms`` with distinct
  numbers, subjects and client IPs (enrollment codes: every budget a start spends), and how
  many of all their keys (challenges and send budgets) each master holds. Target: no master
  above 40 %;
- per connection: ``Verifier.check`` of a right code through the cluster client against the
  same on the standalone server, one connection each, in interleaved slices; the median
  ratio over rounds and its spread. Target >= 0.9. Also the same through redis-py's own
  cluster path (``RedisCluster.execute_command``, as before ``cluster_route.py``), the
  client's own CPU time per check (``time.process_time``) and the server's time per script;
  and a control with no cluster code, three standalone servers checked round-robin, which
  shows what talking to three server processes costs by itself on this machine;
- aggregate throughput as masters are added: ``bench/cluster_masters.py`` (1, 2 and 3
  masters driven by pre-encoded pipelines, so the servers and not the Python drivers are
  the bottleneck).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/redis.py would shadow redis-py if this folder were first on the path.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import secrets
import statistics
import tempfile
import time
from typing import Any

from tests.redis.servers import Cluster, Process, redis_server

from otpgate import OutboxSender, Settings, Verifier
from otpgate.core.phone import parse_phone
from otpgate.redis import RedisStore

KEY = "bench-key-0123456789abcdef0123456789"
SLICE = 250


def settings() -> Settings:
    return Settings(secret_keys=(KEY,))


def store_for(url: str, cluster: bool) -> RedisStore:
    return RedisStore.from_url(url, prefix=f"b{secrets.token_hex(3)}:", cluster=cluster)


def key_share(cluster: Cluster, count: int) -> None:
    store = store_for(cluster.url, True)
    gate = Verifier(settings(), store=store, sender=OutboxSender())
    began = time.perf_counter()
    for n in range(count):
        ip = f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"
        gate.start_sms(f"user-{n:07d}", f"+336{n:08d}", purpose="enroll", client_ip=ip)
    seconds = time.perf_counter() - began
    held, budgets = [], []
    for node in cluster.nodes:
        with node.client() as client:
            keys = list(client.scan_iter(f"{store.prefix}*", count=1000))
            held.append(len(keys))
            budgets.append(sum(1 for key in keys if b"}:t" in key))
    total = sum(held)
    print(f"key share: {count:,} starts ({count / seconds:,.0f}/s through the cluster), "
          f"{total:,} keys, {sum(budgets):,} of them send budgets")  # fmt: skip
    for index, (keys, budget_keys) in enumerate(zip(held, budgets, strict=True)):
        print(f"  master {index}: {keys:,} keys ({keys / total:.1%}), "
              f"{budget_keys:,} budgets")  # fmt: skip
    worst = max(held) / total
    verdict = "ok" if worst <= 0.4 else "ABOVE TARGET"
    print(f"  largest share {worst:.1%} (target <= 40 %: {verdict})")
    store.close()


def challenges(gate: Verifier, count: int) -> list[tuple[str, str]]:
    """``count`` pending challenges with distinct subjects, created in pipelines."""
    number = parse_phone("+33612345678", gate.settings)
    store: Any = gate.store
    plans = [
        gate._plan_start(f"u{secrets.token_hex(4)}-{n}", number, "login", None, None, None, None)
        for n in range(count)
    ]
    store.load_scripts()
    for chunk in range(0, count, 500):
        pipe = store.client.pipeline()
        for plan in plans[chunk : chunk + 500]:
            key = plan.record.id.split(".")[0]
            call = store._codec.create_challenge(plan.record, key, gate.clock(), gate.lockout)
            pipe.execute_command(*call.evalsha())
        pipe.execute()
    return [(plan.record.id, plan.code) for plan in plans]


def scripts_run(nodes: list[Process], reset: bool = False) -> tuple[int, int]:
    """``EVALSHA`` calls and their server microseconds on ``nodes`` (then zeroed)."""
    calls = usec = 0
    for node in nodes:
        with node.client(decode_responses=True) as client:
            stats = client.info("commandstats").get("cmdstat_evalsha", {})
            calls, usec = calls + int(stats.get("calls", 0)), usec + int(stats.get("usec", 0))
            if reset:
                client.config_resetstat()
    return calls, usec


def _spread(gates: list[Verifier], count: int) -> list[tuple[Verifier, str, str]]:
    """``count`` challenges over ``gates``, to check round-robin (one gate after another)."""
    made = [challenges(gate, count // len(gates) + 1) for gate in gates]
    todo = []
    for n in range(count):
        index = n % len(gates)
        todo.append((gates[index], *made[index][n // len(gates)]))
    return todo


def per_connection(
    cluster: Cluster, single: Process, others: list[Process], count: int, rounds: int
) -> None:
    urls = {"cluster": cluster.url, "client path": cluster.url, "single": single.url}
    gates = {
        name: Verifier(settings(), store=store_for(url, name != "single"), sender=OutboxSender())
        for name, url in urls.items()
    }
    # For comparison: every call through redis-py's RedisCluster.execute_command, as before
    # otpgate/redis/cluster_route.py.
    before: Any = gates["client path"].store
    before._send = before.client.execute_command
    # And a control without any cluster code: three standalone servers, checked round-robin
    # (what talking to three server processes costs by itself on this machine).
    spread = [
        Verifier(settings(), store=store_for(server.url, False), sender=OutboxSender())
        for server in (single, *others)
    ]
    names = [*gates, "3 servers"]
    servers = {"cluster": cluster.nodes, "single": [single]}
    server_us: dict[str, list[float]] = {name: [] for name in servers}
    rates: dict[str, list[float]] = {name: [] for name in names}
    cpu_us: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        todo = {
            name: [(gate, *challenge) for challenge in challenges(gate, count)]
            for name, gate in gates.items()
        }
        todo["3 servers"] = _spread(spread, count)
        for nodes in servers.values():
            scripts_run(nodes, reset=True)
        spent, used = dict.fromkeys(names, 0.0), dict.fromkeys(names, 0.0)
        for start in range(0, count, SLICE):
            for name in names:
                began, cpu = time.perf_counter(), time.process_time()
                for gate, challenge_id, code in todo[name][start : start + SLICE]:
                    gate.check(challenge_id, code)
                spent[name] += time.perf_counter() - began
                used[name] += time.process_time() - cpu
        for name in names:
            rates[name].append(count / spent[name])
            cpu_us[name].append(used[name] / count * 1e6)
        for name, nodes in servers.items():
            calls, usec = scripts_run(nodes)
            server_us[name].append(usec / max(calls, 1))

    def ratios(name: str) -> list[float]:
        return sorted(c / s for c, s in zip(rates[name], rates["single"], strict=True))

    ratio = statistics.median(ratios("cluster"))
    verdict = "ok" if ratio >= 0.9 else "BELOW TARGET"
    print(f"per connection: Verifier.check {max(rates['cluster']):,.0f}/s through the cluster, "
          f"{max(rates['single']):,.0f}/s on one server (best rounds); ratio {ratio:.2f} "
          f"(median of {rounds} rounds, spread {ratios('cluster')[0]:.2f}.."
          f"{ratios('cluster')[-1]:.2f}; target >= 0.9: {verdict})")  # fmt: skip
    old = ratios("client path")
    print(f"  through RedisCluster.execute_command instead (the cluster client's own path): "
          f"ratio {statistics.median(old):.2f} (spread {old[0]:.2f}..{old[-1]:.2f})")  # fmt: skip
    control = ratios("3 servers")
    print(f"  control, three standalone servers checked round-robin (no cluster code): "
          f"ratio {statistics.median(control):.2f} "
          f"(spread {control[0]:.2f}..{control[-1]:.2f})")  # fmt: skip
    cpu = {name: statistics.median(values) for name, values in cpu_us.items()}
    print(f"  client CPU per check (this process): {cpu['cluster']:.0f} us through the cluster "
          f"({cpu['client path']:.0f} us by the client's own path), {cpu['single']:.0f} us on "
          f"one server, {cpu['3 servers']:.0f} us over three servers round-robin "
          f"(medians of {rounds} rounds)")  # fmt: skip
    cluster_server, single_server = (statistics.median(server_us[n]) for n in servers)
    print(f"  server time per check script (INFO commandstats): {cluster_server:.1f} us on the "
          f"cluster's masters, {single_server:.1f} us on one server")  # fmt: skip
    for gate in gates.values():
        gate.store.close()  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10000, help="starts for the key share")
    parser.add_argument("--checks", type=int, default=2000, help="checks per round and kind")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        cluster = Cluster(Path(directory) / "cluster")
        single = redis_server(Path(directory) / "single").start()
        others = [redis_server(Path(directory) / f"other{n}").start() for n in (1, 2)]
        try:
            key_share(cluster, options.n)
            per_connection(cluster, single, others, options.checks, options.rounds)
        finally:
            single.stop()
            for other in others:
                other.stop()
            cluster.stop()


if __name__ == "__main__":
    main()
