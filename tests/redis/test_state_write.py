"""The Redis side of ``then_put`` (a state write riding on an approving check): the script's
extra key and arguments, the write's TTL, the call without one unchanged, and a challenge
the script approves but this otpgate no longer reads (refused: its state is burnt)."""

from __future__ import annotations

import pytest

from otpgate import ChallengeExpired, OutboxSender, Settings, Verifier
from otpgate.core.policy import LockoutPolicy, Result
from otpgate.core.state_write import StateWrite
from otpgate.redis import RedisStore
from otpgate.redis.codec import Codec
from tests.conftest import KEY, PHONE, FakeClock

pytestmark = pytest.mark.redis

WRITE = StateWrite("s:state-write", "sealed-state", 120)


def test_a_check_without_a_write_is_the_call_it_always_was():
    codec = Codec("p:")
    lockout = LockoutPolicy(5, 60, 3600, 20, 900)
    plain = codec.check_code("k.n", "d" * 16, "", 1.5, 5, lockout, "login")
    folded = codec.check_code("k.n", "d" * 16, "", 1.5, 5, lockout, "login", WRITE)
    assert plain.evalsha() == (
        "EVALSHA",
        plain.script.binsha,
        b"2",
        *folded.keys[:2],
        *folded.args[:1],
    )
    assert folded.evalsha()[2] == b"3"
    assert folded.keys[2] == "p:{s:state-write}:v"
    assert folded.args[1:] == ("sealed-state", 120)
    settle = codec.settle_attempt("k", True, 1.5, lockout, 7)
    assert len(settle.keys) == 1 and len(settle.args) == 1
    settle = codec.settle_attempt("k", True, 1.5, lockout, 7, WRITE)
    assert settle.keys[1] == "p:{s:state-write}:v" and settle.args[1:] == ["sealed-state", 120]


def test_the_state_written_by_an_approval_expires(redis_server, prefix):
    clock = FakeClock()
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, clock=clock)
    lockout = gate.lockout
    outcome = store.settle_attempt("subject", True, clock(), lockout, 5, then_put=WRITE)
    assert outcome.result is Result.APPROVED
    admin = redis_server.client()
    assert 0 < admin.ttl(f"{prefix}{{s:state-write}}:v") <= 120
    assert store.get_state(WRITE.key) == "sealed-state"
    store.put_state(WRITE.key, "kept", 60)
    refused = store.settle_attempt("subject", True, clock(), lockout, 5, then_put=WRITE)
    assert refused.result is Result.REPLAYED
    assert store.get_state(WRITE.key) == "kept"
    admin.close()
    store.close()


@pytest.mark.parametrize(
    "rest",
    [b'[9,"login"]', b"6|login|m|not-a-number||"],  # stale; damaged (no reply decodes)
)
def test_an_approved_challenge_this_otpgate_cannot_read_burns_the_state(redis_server, prefix, rest):
    """A damaged record (or an earlier otpgate's) that the script still approves: the
    client answers expired, so the state the script wrote must not let the token pass."""
    clock, outbox = FakeClock(), OutboxSender()
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=outbox, clock=clock)
    gate.credentials.add_phone("alice", PHONE)
    challenge = gate.start("alice", "sms", purpose="login")
    admin = redis_server.client()
    key = store._codec.challenge_key(challenge.id)
    head = admin.get(key).split(b"|")[:7]
    admin.set(key, b"|".join([*head, rest]), keepttl=True)
    store.put_state(WRITE.key, "passed-before", 60)
    with pytest.raises(ChallengeExpired):
        gate.verify(
            "alice",
            "sms",
            outbox.last_code_for(PHONE),
            purpose="login",
            challenge_id=challenge.id,
            then_put=lambda v: WRITE,
        )
    assert store.get_state(WRITE.key) is None  # burnt: forgotten
    admin.close()
    store.close()
