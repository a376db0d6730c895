"""Benchmark of the Redis store against the one-round-trip limit (a script, not a test).

    python bench/redis.py                     # starts its own redis-server on a free port
    python bench/redis.py --url redis://host:6379/0

Prints, measured in one run against the same server:

- sync, one connection: checks of a right code per second (each approves a fresh
  challenge), against bare redis-py ``PING`` on that same connection: the ratio to the
  one-round-trip limit. Both the store's ``check_code`` alone and the whole
  ``Verifier.check`` (which adds the core's own work: the code's digest, opening the sealed
  subject), and that with ``subject=`` named as the integrations call it (nothing to open);
- async: the same with 100 checks in flight at once, against 100 concurrent ``PING``;
- ``MEMORY USAGE`` per pending challenge, with distinct numbers, subjects and client IPs:
  the sum over every key (the challenges and the send budgets their starts created), divided
  by the number of challenges, for sign-in codes and for enrollment codes (which also spend
  the number's enrollment budget).

Each kind runs in several interleaved rounds; a ratio is taken within each round (whose
runs share its conditions) and the median of those is reported, with the spread (lowest and
highest round). Targets: sync >= 0.55 x PING (0.6 the stretch), async >= 0.5 x PING,
<= 600 bytes per pending challenge including its budgets.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is called redis.py: run as a script, its folder would shadow redis-py.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import asyncio
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from otpgate import AsyncVerifier, OutboxSender, Settings, Verifier
from otpgate.core.phone import parse_phone
from otpgate.redis import AsyncRedisStore, RedisStore

KEY = "bench-key-0123456789abcdef0123456789"
PHONE = "+33612345678"
CONCURRENCY = 100


def settings() -> Settings:
    # Budgets out of the way: the set-up starts many challenges for one phone.
    return Settings(
        secret_keys=(KEY,),
        phone_budget_short="1000000/15m",
        phone_budget_long="1000000/d",
        subject_budget="1000000/d",
    )


@contextmanager
def own_server() -> Iterator[str]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as directory:
        argv = [
            binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", directory,
        ]  # fmt: skip
        server = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        try:
            url = f"redis://127.0.0.1:{port}/0"
            store = RedisStore.from_url(url)
            for _ in range(200):
                try:
                    store.client.ping()
                    break
                except Exception:
                    time.sleep(0.05)
            store.close()
            yield url
        finally:
            server.terminate()
            server.wait(10)


def challenges(gate: Verifier, count: int) -> list[tuple[str, str, str]]:
    """``count`` pending challenges (one subject each, so no lockout interferes), created
    in pipelines: the set-up is not what is measured."""
    number = parse_phone(PHONE, gate.settings)
    store: Any = gate.store
    plans = [
        gate._plan_start(f"bench-user-{n}", number, "login", None, None, None, None)
        for n in range(count)
    ]
    store.load_scripts()
    for chunk in range(0, count, 1000):
        pipe = store.client.pipeline(transaction=False)
        for plan in plans[chunk : chunk + 1000]:
            key = plan.record.id.split(".")[0]
            call = store._codec.create_challenge(plan.record, key, gate.clock(), gate.lockout)
            pipe.execute_command(*call.evalsha())
        pipe.execute()
    return [(plan.record.id, plan.code, plan.delivery.subject) for plan in plans]


Rates = dict[str, list[float]]  # operations per second of each kind, one entry per round


SLICE = 250  # operations of one kind in a row, within a round


def bench_sync(url: str, count: int, rounds: int) -> Rates:
    """Operations per second: PING, store.check_code, Verifier.check (one connection).

    Within a round the three kinds take turns in slices of SLICE operations, so that a
    burst of load from elsewhere on the machine hits all three alike."""
    store = RedisStore.from_url(url, prefix=f"bench{secrets.token_hex(3)}:")
    gate = Verifier(settings(), store=store, sender=OutboxSender())
    client = store.client
    results: Rates = {"ping": [], "store": [], "verifier": [], "subject": []}
    for _ in range(rounds):
        todo = challenges(gate, 3 * count)
        named = todo[count : 2 * count]
        calls = [_store_check(gate, c, code) for c, code, _ in todo[2 * count :]]
        spent = dict.fromkeys(results, 0.0)
        for start in range(0, count, SLICE):
            began = time.perf_counter()
            for _ in range(start, min(start + SLICE, count)):
                client.ping()
            spent["ping"] += time.perf_counter() - began
            began = time.perf_counter()
            for challenge_id, code, _ in todo[start : start + SLICE]:
                gate.check(challenge_id, code)
            spent["verifier"] += time.perf_counter() - began
            began = time.perf_counter()
            for challenge_id, code, subject in named[start : start + SLICE]:
                gate.check(challenge_id, code, subject=subject)
            spent["subject"] += time.perf_counter() - began
            began = time.perf_counter()
            for call in calls[start : start + SLICE]:
                store.check_code(*call)
            spent["store"] += time.perf_counter() - began
        for name, seconds in spent.items():
            results[name].append(count / seconds)
    assert len(client.connection_pool._available_connections) == 1  # type: ignore[union-attr]
    store.close()
    return results


def _store_check(gate: Any, challenge_id: str, code: str) -> tuple[Any, ...]:
    """The arguments ``Verifier.check`` would pass to ``check_code``."""
    digest = gate.keyring.code_digest(challenge_id, code)
    return (challenge_id, digest, "", gate.clock(), gate.settings.max_attempts, gate.lockout)


async def _in_parallel(jobs: list[Any], worker: Any) -> float:
    """Operations per second of CONCURRENCY tasks working through ``jobs``."""
    queue = iter(jobs)

    async def run() -> None:
        for job in queue:
            await worker(job)

    began = time.perf_counter()
    await asyncio.gather(*(run() for _ in range(CONCURRENCY)))
    return len(jobs) / (time.perf_counter() - began)


async def bench_async(url: str, count: int, rounds: int) -> Rates:
    """Operations per second with CONCURRENCY at once: PING, check_code, Verifier.check."""
    prefix = f"bench{secrets.token_hex(3)}:"
    sync_store = RedisStore.from_url(url, prefix=prefix)
    maker = Verifier(settings(), store=sync_store, sender=OutboxSender())
    store = AsyncRedisStore.from_url(url, prefix=prefix)
    gate = AsyncVerifier(settings(), store=store, sender=OutboxSender())
    client: Any = store.client

    async def ping(_: object) -> None:
        await client.ping()

    async def check(job: tuple[str, str, str]) -> None:
        await gate.check(job[0], job[1])

    async def check_named(job: tuple[str, str, str]) -> None:
        await gate.check(job[0], job[1], subject=job[2])

    async def check_code(job: tuple[Any, ...]) -> None:
        await store.check_code(*job)

    await _in_parallel(list(range(2000)), ping)  # opens the connections
    results: Rates = {"ping": [], "store": [], "verifier": [], "subject": []}
    for _ in range(rounds):
        todo = challenges(maker, 3 * count)
        calls = [_store_check(gate, c, code) for c, code, _ in todo[2 * count :]]
        results["ping"].append(await _in_parallel(list(range(count)), ping))
        results["verifier"].append(await _in_parallel(todo[:count], check))
        results["subject"].append(await _in_parallel(todo[count : 2 * count], check_named))
        results["store"].append(await _in_parallel(calls, check_code))
    sync_store.close()
    await store.aclose()
    return results


def memory(url: str, purpose: str, count: int = 200) -> tuple[float, float, float]:
    """Bytes per pending challenge: (all its keys, the challenge itself, its budgets), over
    ``count`` starts with distinct numbers, subjects and client IPs."""
    prefix = f"mem{secrets.token_hex(3)}:"
    store = RedisStore.from_url(url, prefix=prefix)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=OutboxSender())
    for n in range(count):
        subject, phone = f"user-{n:07d}", f"+336{n:08d}"
        if purpose == "login":
            gate.credentials.add_phone(subject, phone)
        gate.start_sms(subject, phone, purpose=purpose, client_ip=f"198.51.{n // 250}.{n % 250}")
    client = store.client
    challenges = budgets = 0
    for key in client.scan_iter(f"{prefix}*", count=1000):
        size = client.memory_usage(key, samples=0) or 0
        if b"}:c:" in key:
            challenges += size
        else:
            budgets += size
    store.close()
    return (challenges + budgets) / count, challenges / count, budgets / count


def report(name: str, rates: Rates, target: float) -> None:
    """Best rates, and the median over rounds of each round's ratio to its own PING (the
    kinds of one round run back to back, so they share its conditions)."""
    print(f"{name}: PING {max(rates['ping']):8,.0f}/s (best round)")
    for what, label in (
        ("verifier", "Verifier.check"),
        ("subject", "  subject named"),
        ("store", "store.check_code"),
    ):
        ratios = sorted(r / p for r, p in zip(rates[what], rates["ping"], strict=True))
        ratio = statistics.median(ratios)
        verdict = "ok" if ratio >= target else "BELOW TARGET"
        print(f"  {label:17} {max(rates[what]):8,.0f}/s  ratio {ratio:.2f} x PING "
              f"(median of {len(ratios)} rounds, spread {ratios[0]:.2f}..{ratios[-1]:.2f}; "
              f"target >= {target}: {verdict})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an existing Redis (default: start one)")
    parser.add_argument("-n", type=int, default=3000, help="operations per round and kind")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    options = parser.parse_args()

    def run(url: str) -> None:
        report("sync, one connection", bench_sync(url, options.n, options.rounds), 0.55)
        rates = asyncio.run(bench_async(url, options.n, options.rounds))
        report(f"async, {CONCURRENCY} concurrent", rates, 0.5)
        for purpose in ("login", "enroll"):
            total, challenge, budgets = memory(url, purpose)
            verdict = "ok" if total <= 600 else "ABOVE TARGET"
            print(f"memory, {purpose} codes: {total:,.0f} bytes per pending challenge "
                  f"(the challenge {challenge:,.0f}, the budgets its start created "
                  f"{budgets:,.0f}; target <= 600: {verdict})")  # fmt: skip

    if options.url:
        run(options.url)
    else:
        with own_server() as url:
            run(url)


if __name__ == "__main__":
    main()
