"""Adversarial review of the fold on Redis: a text client (``decode_responses=True``)."""

from __future__ import annotations

import asyncio

import pyotp
import pytest
import redis

from otpgate import AsyncVerifier, ChallengeExpired, InvalidCode, OutboxSender, Settings, Verifier
from otpgate.redis import AsyncRedisStore, RedisStore
from tests.conftest import KEY, PHONE, FakeClock
from tests.core.test_fold_review import gathered
from tests.core.test_state_write import Writes, text

pytestmark = pytest.mark.redis


def test_a_state_write_is_bytes_safe_on_a_text_client(redis_server, prefix):
    """decode_responses=True (a text client): an approval decodes and writes; a refusal does
    not write."""
    clock = FakeClock()
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    store = RedisStore(client, prefix=prefix)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, clock=clock)
    enrollment = gate.totp.enroll("alice")
    app = pyotp.TOTP(enrollment.secret)
    gate.totp.confirm("alice", app.at(clock()))
    clock.advance(60)
    with pytest.raises(InvalidCode):
        gate.verify("alice", "totp", "000000", purpose="login", then_put=Writes("s:t1"))
    assert store.get_state("s:t1") is None
    verification = gate.verify("alice", "totp", app.at(clock()), purpose="login",
                               then_put=Writes("s:t1"))  # fmt: skip
    assert store.get_state("s:t1") == text(verification)
    assert gate.store.folds_state_writes
    store.close()
    client.close()


@pytest.mark.parametrize("wrong", ["alice", "bob"])
def test_concurrent_verifies_on_async_redis_write_only_their_own_tokens(
    redis_server, prefix, wrong
):
    """On an async Redis store the two verifies interleave at every await: each task's check
    takes only its own write, and only an approval writes."""
    clock = FakeClock()

    async def main():
        store = AsyncRedisStore.from_url(redis_server.url, prefix=prefix)
        gate = AsyncVerifier(Settings(secret_keys=(KEY,)), store=store, clock=clock)
        try:
            results = await gathered(gate, clock, wrong)
            states = {who: await store.get_state(f"s:{who}") for who in ("alice", "bob")}
        finally:
            await store.aclose()
        return dict(zip(("alice", "bob"), results, strict=True)), states

    results, states = asyncio.run(main())
    right = "alice" if wrong == "bob" else "bob"
    assert isinstance(results[wrong], InvalidCode)
    assert states[wrong] is None
    assert results[right].subject == right and states[right] == text(results[right])


@pytest.mark.parametrize("decode", [False, True], ids=["bytes", "text"])
def test_sent_codes_write_on_approval_only_on_both_script_paths(redis_server, prefix, decode):
    """The check script's hot path (a subject without failures) and its full path (after a
    wrong code) write the state on approval only, on a bytes and a text client."""
    clock, outbox = FakeClock(), OutboxSender()
    client = redis.Redis.from_url(redis_server.url, decode_responses=decode)
    store = RedisStore(client, prefix=prefix)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, clock=clock, sender=outbox)
    gate.credentials.add_phone("alice", PHONE)

    def verify(challenge, code, key):
        return gate.verify(
            "alice", "sms", code, purpose="action", challenge_id=challenge.id,
            then_put=Writes(key),
        )  # fmt: skip

    first = gate.start("alice", "sms", purpose="action")
    subject_state = f"{prefix}{{{gate.subject_key('alice')}}}:s"
    assert not client.exists(subject_state)  # the hot path's condition
    fast = verify(first, outbox.last_code_for(PHONE), "s:hot")  # no subject state: hot path
    assert store.get_state("s:hot") == text(fast)
    clock.advance(120)  # past the resend cooldown
    second = gate.start("alice", "sms", purpose="action")
    with pytest.raises(InvalidCode):
        verify(second, "000000", "s:full")
    assert store.get_state("s:full") is None
    assert client.exists(subject_state)  # the failure on file: the full path
    full = verify(second, outbox.last_code_for(PHONE), "s:full")  # a failure on file: full path
    assert store.get_state("s:full") == text(full)
    with pytest.raises(ChallengeExpired):  # spent: no second approval, no second write
        verify(second, outbox.last_code_for(PHONE), "s:again")
    assert store.get_state("s:again") is None
    store.close()
    client.close()


def test_a_sentinel_store_folds_and_writes_on_approval_only(redis_sentinel, prefix):
    """Through Sentinel (the master it names): the write rides on the check, approvals only."""
    clock = FakeClock()
    store = RedisStore.from_url(redis_sentinel.url + "/0", prefix=prefix)
    assert store.folds_state_writes
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, clock=clock)
    app = pyotp.TOTP(gate.totp.enroll("alice").secret)
    gate.totp.confirm("alice", app.at(clock()))
    clock.advance(60)
    with pytest.raises(InvalidCode):
        gate.verify("alice", "totp", "000000", purpose="login", then_put=Writes("s:sentinel"))
    assert store.get_state("s:sentinel") is None
    verification = gate.verify(
        "alice", "totp", app.at(clock()), purpose="login", then_put=Writes("s:sentinel")
    )
    assert store.get_state("s:sentinel") == text(verification)
    store.close()
