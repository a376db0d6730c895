"""The Redis store answers exactly as ``MemoryStore`` (the reference) does.

Random sequences of every store call, with small policy numbers so that lockouts, hard
locks, forgetting, cooldowns, budgets and expiry all happen, and clock steps with fractions
so that float arithmetic is compared bit for bit. Both stores get the same calls; every
answer (outcomes, records, denials, retry_after) must be equal.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from otpgate import MemoryStore
from otpgate.core.challenge import ChallengeRecord
from otpgate.core.policy import Budget, LockoutPolicy
from tests.conftest import START

pytestmark = pytest.mark.redis

LOCKOUT = LockoutPolicy(after=2, base=3, maximum=20, hard_after=5, memory=400)
SUBJECTS = ["S" * 22, "T" * 21 + "_"]
DIGESTS = ["code-digest-one-aaaaaa", "code-digest-two-bbbbbb", "short"]
CONTEXTS = ["", "context-digest-cccccccc"]
#: Budget families: the budgets of one key share one record of sends and are spent as one
#: (the store contract), so a call spends a random subset of families, each whole.
FAMILIES = [
    [Budget("phone", "p:x", 3, 50), Budget("phone", "p:x", 5, 400)],
    [Budget("email", "m:w", 2, 20), Budget("email", "m:w", 3, 30), Budget("email", "m:w", 6, 90)],
    [Budget("subject", "s:y", 4, 200)],
    [Budget("ip", "i:z", 2, 30)],
    # A subject's record holding its numbers' budgets too: each counts its part's sends (the
    # subject's own budget, all of them); a call names one number (one part) of the record.
    [
        Budget("subject", "s:q", 5, 300),
        Budget("phone", "s:q", 2, 40, "ab"),
        Budget("phone", "s:q", 3, 200, "ab"),
    ],
    [Budget("email", "s:q", 2, 60, "c-"), Budget("subject", "s:q", 5, 300)],
]
STEPS = [0, 0, 0.5, 1, 2.75, 5, 13, 29.9, 60, 101, 350, 0.1 + 0.2]


class Script:
    """A random sequence of store calls, replayed identically on each store."""

    def __init__(self, seed: int, length: int) -> None:
        rng = random.Random(seed)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        now = START + rng.random()
        ids: list[str] = []
        for index in range(length):
            kind = rng.choice(
                ["create", "get", "reserve", "failed", "check", "check", "check", "settle",
                 "settle", "cancel", "unlock", "spend", "spend", "tick", "tick"]
            )  # fmt: skip
            if kind == "tick":
                now += rng.choice(STEPS)
                continue
            if kind == "create" or not ids:
                subject = rng.choice(SUBJECTS)
                record = ChallengeRecord(
                    id=f"{subject}.{index:022d}",
                    purpose=rng.choice(["login", "transaction"]),
                    masked_phone="+33 ••• •• 5678",
                    sealed_subject=f"sealed user {subject[0]}",
                    sealed_delivery="sealed delivery",
                    code_digest=rng.choice(DIGESTS[:2]),
                    created_at=now,
                    expires_at=now + rng.choice([30, 300]),
                    next_send_at=now + 5,
                    context_digest=rng.choice(CONTEXTS),
                )
                ids.append(record.id)
                self.calls.append(("create_challenge", (record, subject, now, LOCKOUT)))
                continue
            challenge_id = rng.choice(ids)
            subject = rng.choice(SUBJECTS)
            if kind == "get":
                self.calls.append(("get_challenge", (challenge_id,)))
            elif kind == "reserve":
                self.calls.append(("reserve_send", (challenge_id, now, 5, 2)))
            elif kind == "failed":
                self.calls.append(("mark_send_failed", (challenge_id, now)))
            elif kind == "check":
                digest, context = rng.choice(DIGESTS), rng.choice(CONTEXTS)
                self.calls.append(("check_code", (challenge_id, digest, context, now, 3, LOCKOUT)))
            elif kind == "settle":
                step = rng.choice([None, None, rng.randrange(5)])
                args = (subject, rng.random() < 0.5, now, LOCKOUT, step)
                self.calls.append(("settle_attempt", args))
            elif kind == "cancel":
                self.calls.append(("cancel", (challenge_id, now)))
            elif kind == "unlock":
                self.calls.append(("unlock", (subject,)))
            else:
                families = rng.sample(FAMILIES, rng.randrange(1, len(FAMILIES) + 1))
                named = {family[0].key: family for family in families}  # one part per record
                budgets = [b for family in named.values() for b in rng.sample(family, len(family))]
                self.calls.append(("spend_budgets", (budgets, now)))

    def replay(self, store: Any, loop: asyncio.AbstractEventLoop | None = None) -> list[Any]:
        answers = []
        for name, args in self.calls:
            answer = getattr(store, name)(*args)
            if loop is not None:
                answer = loop.run_until_complete(answer)
            answers.append((name, answer))
        return answers


def _compare(expected: list[Any], actual: list[Any]) -> None:
    for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
        assert got == want, f"call {index}: {want[0]}"


@pytest.mark.parametrize("seed", range(12))
def test_sync_store_matches_memory_store(redis_store, seed):
    script = Script(seed, 250)
    expected = script.replay(MemoryStore(clock=lambda: 0.0))  # its clock only sweeps
    _compare(expected, script.replay(redis_store("sync")))


@pytest.mark.parametrize("seed", range(3))
def test_async_store_matches_memory_store(redis_store, loop, seed):
    script = Script(100 + seed, 250)
    expected = script.replay(MemoryStore(clock=lambda: 0.0))
    _compare(expected, script.replay(redis_store("async", None, loop), loop))


@pytest.mark.parametrize("seed", range(3))
def test_cluster_store_matches_memory_store(redis_cluster_store, seed):
    script = Script(200 + seed, 250)
    expected = script.replay(MemoryStore(clock=lambda: 0.0))
    _compare(expected, script.replay(redis_cluster_store("sync")))


def test_the_scripts_reach_every_answer(redis_store):
    """The random scripts are not too tame: every kind of answer shows up."""
    seen = set()
    for seed in range(12):
        for _, answer in Script(seed, 250).replay(MemoryStore(clock=lambda: 0.0)):
            seen.add(getattr(answer, "result", type(answer).__name__))
            if getattr(answer, "locked_now", False):
                seen.add("locked_now")
            if getattr(answer, "result", None) == "locked" and answer.retry_after is None:
                seen.add("hard lock")
    wanted = {
        "approved", "invalid", "expired", "max_attempts", "context_mismatch", "replayed",
        "locked", "cooldown", "max_sends", "ok", "Denial", "NoneType", "ChallengeRecord",
        "bool", "locked_now", "hard lock",
    }  # fmt: skip
    assert wanted <= seen, wanted - seen
