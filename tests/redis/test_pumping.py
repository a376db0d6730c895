"""The pumping guard on real Redis: ``budgets.lua`` judges watched ranges exactly as
``MemoryStore`` does (random sequences, compared answer for answer), a send refused in one
Cluster slot gives its counts back in the others, and the keys hold no number."""

from __future__ import annotations

import random
from typing import Any

import pytest

from otpgate import (
    MemoryStore,
    OutboxSender,
    SendLimitReached,
    Settings,
    SmsTemporarilyUnavailable,
    Verifier,
)
from otpgate.core.policy import Budget
from otpgate.core.pumping import PumpingRule, Watch
from otpgate.redis import RedisStore
from otpgate.redis.codec import Codec
from tests.conftest import KEY, START, FakeClock

pytestmark = pytest.mark.redis

RULE = PumpingRule(window=300, surge=2, min_conversion=50, min_sample=3, block=500)
STEPS = [0, 0.5, 7, 29.9, 61, 130, 0.1 + 0.2, 900, 3600, 5 * 3600]


def _watches(tag: str) -> list[Watch]:
    return [
        Watch("pumping_prefix", f"w:{tag}", "+99 1234", 4, 4, RULE),
        Watch("pumping_country", f"w:{tag}c", "+99", 6, 2, RULE),
    ]


class Script:
    """Random spends (budgets, watched ranges, trusted sends, verified credits), lists and
    lifts, replayed identically on each store. ``tag`` set: every key in one slot."""

    def __init__(self, seed: int, length: int, tag: str = "") -> None:
        rng = random.Random(seed)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        now = START + rng.random()
        budget = Budget("subject", f"s:{tag or 'b'}", 6, 200)
        # (one slot: the budget and one range share a hash tag)
        watches = _watches(tag)[:1] if tag else _watches("x") + _watches("y")
        for _ in range(length):
            kind = rng.choice(["spend"] * 6 + ["credit", "credit", "tick", "tick", "list", "lift"])
            if kind == "tick":
                now += rng.choice(STEPS)
            elif kind == "spend":
                chosen = rng.sample(watches, rng.randint(1, min(2, len(watches))))
                trusted = rng.random() < 0.2
                entries: list[Any] = [Watch(**{**w.__dict__, "trusted": trusted}) for w in chosen]
                if rng.random() < 0.3:
                    entries.insert(0, budget)
                self.calls.append(("spend", (entries, now)))
            elif kind == "credit":
                w = rng.choice(watches)
                credit = Watch(**{**w.__dict__, "count": False, "verified": rng.randint(1, 3)})
                self.calls.append(("spend", ([credit], now)))
            elif kind == "list":
                self.calls.append(("list", (now,)))
            else:
                self.calls.append(("lift", (rng.choice(watches).key,)))

    def replay(self, store: Any) -> list[Any]:
        answers = []
        for name, args in self.calls:
            if name == "spend":
                answers.append(store.spend_budgets(*args))
            elif name == "list":
                answers.append(sorted((b.label, b.until) for b in store.pumping_blocks(*args)))
            else:
                answers.append(store.lift_pumping_block(*args))
        return answers


def _compare(expected: list[Any], actual: list[Any]) -> None:
    for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
        assert got == want, f"call {index}"


@pytest.mark.parametrize("seed", range(8))
def test_the_script_judges_like_memory_store(redis_store, seed):
    script = Script(seed, 300)
    expected = script.replay(MemoryStore(clock=lambda: 0.0))
    _compare(expected, script.replay(redis_store("sync")))


@pytest.mark.parametrize("seed", range(2))
def test_the_cluster_judges_like_memory_store(redis_cluster_store, seed):
    script = Script(100 + seed, 300, tag="t")
    expected = script.replay(MemoryStore(clock=lambda: 0.0))
    _compare(expected, script.replay(redis_cluster_store("sync")))


def test_the_sequences_block_list_and_lift():
    """The random scripts are not too tame: blocks start, refuse, are listed and lifted."""
    answers = Script(0, 300).replay(MemoryStore(clock=lambda: 0.0))
    started = [a for a in answers if getattr(a, "detail", None)]
    refused = [a for a in answers if getattr(a, "scope", "").startswith("pumping") and not a.detail]
    assert started and refused
    assert any(isinstance(a, list) and a for a in answers)
    assert True in answers


def test_a_send_refused_in_another_slot_is_not_counted_in_the_ranges(redis_cluster_store, prefix):
    store = redis_cluster_store("sync")
    gate = Verifier(
        Settings(secret_keys=(KEY,), ip_budget="1/h"), store=store, sender=OutboxSender()
    )
    gate.start_sms("a", "+33612300001", purpose="enroll", client_ip="192.0.2.7")
    codec = Codec(store.prefix)
    plan = gate._plan_start(
        "b", gate._choose_phone("enroll", "+33612300002", []), "enroll", None, "", None, None
    )
    ranges = [codec.budget_key(w.key) for w in plan.budgets if isinstance(w, Watch)]
    before = [store.client.hgetall(key) for key in ranges]
    for n in range(5):
        with pytest.raises(SendLimitReached):
            gate.start_sms(f"b{n}", f"+3361230001{n}", purpose="enroll", client_ip="192.0.2.7")
    assert [store.client.hgetall(key) for key in ranges] == before
    assert len({store.client.keyslot(key) for key in ranges}) == 2  # spread over the cluster


def test_range_keys_hold_digests_and_a_prefix_label_only(redis_server, prefix):
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    clock = FakeClock()
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=OutboxSender(), clock=clock)
    refused = 0
    for n in range(20):  # a new country: its allowance, then a block
        try:
            gate.start_sms(f"u{n}", f"+22507000000{n:02d}", purpose="enroll")
        except SmsTemporarilyUnavailable:
            refused += 1
        clock.advance(20)
    assert refused == 5
    keys = list(store.client.scan_iter(f"{prefix}*:bw"))
    assert len(keys) == 2
    for key in keys:
        assert b"225" not in key
        fields = store.client.hgetall(key)
        assert fields[b"p"] in (b"+225", b"+225 0700")
        assert not any(b"22507000000" in value for value in fields.values())
        assert 0 < store.client.ttl(key) <= 25 * 3600
    assert [b.label for b in gate.pumping_blocks()] == ["+225"]
    store.close()
