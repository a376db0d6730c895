"""Transactions and session state in Redis: the same answers as ``MemoryStore`` (which runs
the core's pure transitions), one round trip each, exactly one claim among 100, TTLs."""

from __future__ import annotations

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from otpgate import MemoryStore
from otpgate.core.transactions import Answer, Step, TxStep
from otpgate.redis import AsyncRedisStore, RedisStore
from tests.conftest import START

from .test_round_trips import Counter, _one

pytestmark = pytest.mark.redis

KEYS = ["tx-key-one-aaaaaaaaaaaa", "tx-key-two-bbbbbbbbbbbb"]
CHALLENGES = ["S" * 22 + ".n1", "S" * 22 + ".n2"]
PROOFS = ["proof-aaaaaaaaaaaaaaaa", "proof-bbbbbbbbbbbbbbbb"]
OUTCOMES = ["", '{"status":200}', '{"id":"p|1","note":"a \\"quoted\\" | pipe"}']
STEPS = [0, 0.5, 1, 13, 29.9, 60, 101, 0.1 + 0.2]
CLAIM = TxStep(Step.CLAIM, CHALLENGES[0], PROOFS[0], START + 300)


def script(seed: int, length: int) -> list[tuple[str, tuple[Any, ...]]]:
    """A random sequence of transaction and state calls (with clock steps)."""
    rng = random.Random(seed)
    now = START + rng.random()
    calls: list[tuple[str, tuple[Any, ...]]] = []
    keys = list(KEYS)
    for index in range(length):
        kind = rng.choice(["begin", "claim", "claim", "retry", "retry", "settle", "settle",
                           "approve", "approve", "cancel", "read", "put", "get", "tick",
                           "tick"])  # fmt: skip
        if kind == "begin" and rng.random() < 0.5:  # executed ones stay: start new ones
            keys.append(f"tx-key-{index}")
        key, cid = rng.choice(keys[-2:]), rng.choice(CHALLENGES)
        if kind == "tick":
            now += rng.choice(STEPS)
        elif kind == "put":
            calls.append(("put_state", (key, rng.choice(OUTCOMES) or "{}", 600)))
        elif kind == "get":
            calls.append(("get_state", (key,)))
        elif kind == "read":
            calls.append(("get_transaction", (key, now)))
        else:
            step = TxStep(
                Step(kind),
                challenge_id=cid,
                proof=rng.choice(PROOFS),
                expires_at=rng.choice([0, now + 30, now + 120, now + 120]),
                success=rng.random() < 0.3,
                outcome=rng.choice(OUTCOMES),
                max_attempts=rng.choice([1, 2, 3]),
            )
            calls.append(("step_transaction", (key, step, now, 3600)))
    return calls


def replay(store: Any, calls: list[Any], loop: asyncio.AbstractEventLoop | None = None) -> list:
    answers = []
    for name, args in calls:
        answer = getattr(store, name)(*args)
        answers.append((name, loop.run_until_complete(answer) if loop else answer))
    return answers


def compare(expected: list[Any], actual: list[Any]) -> None:
    for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
        assert got == want, f"call {index}: {want[0]}"


@pytest.mark.parametrize("seed", range(8))
def test_sync_transactions_match_memory_store(redis_store, seed):
    calls = script(seed, 300)
    compare(replay(MemoryStore(clock=lambda: 0.0), calls), replay(redis_store("sync"), calls))


@pytest.mark.parametrize("seed", range(2))
def test_async_transactions_match_memory_store(redis_store, loop, seed):
    calls = script(50 + seed, 300)
    expected = replay(MemoryStore(clock=lambda: 0.0), calls)
    compare(expected, replay(redis_store("async", None, loop), calls, loop))


def test_cluster_transactions_match_memory_store(redis_cluster_store):
    calls = script(90, 300)
    expected = replay(MemoryStore(clock=lambda: 0.0), calls)
    compare(expected, replay(redis_cluster_store("sync"), calls))


def test_the_scripts_reach_every_answer_and_state():
    seen: set[str] = set()
    for seed in range(8):
        for name, answer in replay(MemoryStore(clock=lambda: 0.0), script(seed, 300)):
            if name == "step_transaction":
                seen.add(answer.answer.value)
                if answer.record is not None:
                    seen.add(answer.record.state.value)
    wanted = {a.value for a in Answer} | {
        "pending", "confirmed", "executed", "failed", "expired", "canceled"
    }  # fmt: skip
    assert wanted <= seen, wanted - seen


def test_one_of_100_concurrent_claims_wins_sync(redis_store):
    stores = [redis_store("sync") for _ in range(4)]
    with ThreadPoolExecutor(16) as pool:
        answers = list(
            pool.map(
                lambda i: stores[i % 4].step_transaction(KEYS[0], CLAIM, START, 600).answer,
                range(100),
            )
        )
    assert answers.count(Answer.OK) == 1
    assert answers.count(Answer.IN_PROGRESS) == 99


def test_one_of_100_concurrent_approvals_wins_sync(redis_store):
    """An app's approval of a pending transaction, from 100 threads over 4 connections."""
    stores = [redis_store("sync") for _ in range(4)]
    begin = TxStep(Step.BEGIN, CHALLENGES[1], expires_at=START + 300)
    stores[0].step_transaction(KEYS[1], begin, START, 600)
    approve = TxStep(Step.APPROVE, CHALLENGES[1], PROOFS[1])
    with ThreadPoolExecutor(16) as pool:
        answers = list(
            pool.map(
                lambda i: stores[i % 4].step_transaction(KEYS[1], approve, START, 600).answer,
                range(100),
            )
        )
    assert answers.count(Answer.OK) == 1
    assert answers.count(Answer.IN_PROGRESS) == 99


def test_one_of_100_concurrent_claims_wins_async(redis_store, loop):
    # generous timeouts: 100 new connections at once on a loaded 2-core machine
    store = redis_store("async", None, loop, socket_connect_timeout=5, socket_timeout=5)

    async def claim_all() -> list[Answer]:
        results = await asyncio.gather(
            *[store.step_transaction(KEYS[1], CLAIM, START, 600) for _ in range(100)]
        )
        return [result.answer for result in results]

    answers = loop.run_until_complete(claim_all())
    assert answers.count(Answer.OK) == 1


def test_every_key_has_a_ttl_and_only_digests(redis_store):
    store = redis_store("sync")
    store.put_state("s:digest", "sealed-value", 300)
    store.step_transaction(KEYS[0], CLAIM, START, 86400)
    client = store.client
    keys = list(client.scan_iter(match=f"{store.prefix}*"))
    assert sorted(k.decode() for k in keys) == sorted(
        [f"{store.prefix}{{s:digest}}:v", f"{store.prefix}{{{KEYS[0]}}}:x"]
    )
    assert all(0 < client.ttl(key) <= 86400 for key in keys)


def test_each_call_is_one_round_trip(own_server, monkeypatch):
    counter = Counter(own_server, monkeypatch)
    store = RedisStore.from_url(own_server.url)
    store.load_scripts()
    store.get_state("warm-up")
    calls = {
        "put_state": lambda: store.put_state("k", "v", 60),
        "get_state": lambda: store.get_state("k"),
        "begin": lambda: store.step_transaction(
            "t", TxStep(Step.BEGIN, CHALLENGES[0], expires_at=START + 60), START, 60
        ),
        "approve": lambda: store.step_transaction(
            "t", TxStep(Step.APPROVE, CHALLENGES[0], PROOFS[0]), START, 60
        ),
        "claim": lambda: store.step_transaction("t", CLAIM, START, 60),
        "settle": lambda: store.step_transaction(
            "t", TxStep(Step.SETTLE, CHALLENGES[0], success=True, outcome="{}"), START, 60
        ),
        "get_transaction": lambda: store.get_transaction("t", START),
    }
    try:
        for name, call in calls.items():
            with counter.measure() as seen:
                call()
            assert seen == _one(), name
    finally:
        store.close()
        counter.admin.close()


def test_async_calls_are_one_round_trip_each(own_server, monkeypatch, loop):
    counter = Counter(own_server, monkeypatch)
    store = AsyncRedisStore.from_url(own_server.url)
    run = loop.run_until_complete
    run(store.load_scripts())
    run(store.get_state("warm-up"))
    try:
        for call in (
            lambda: store.put_state("k", "v", 60),
            lambda: store.get_state("k"),
            lambda: store.step_transaction("t", CLAIM, START, 60),
            lambda: store.get_transaction("t", START),
        ):
            with counter.measure() as seen:
                run(call())
            assert seen == _one()
    finally:
        run(store.aclose())
        counter.admin.close()
