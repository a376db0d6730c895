"""Nothing personal in clear in Redis: every key and every value after a full flow, and
challenges an earlier otpgate wrote (number and subject in clear) are never served."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from otpgate import AsyncVerifier, ChallengeExpired, OutboxSender, Verifier
from otpgate.core.challenge import new_challenge_id
from otpgate.redis import AsyncRedisStore, RedisStore
from otpgate.redis.codec import Codec
from tests.at_rest import SETTINGS, run_flow
from tests.conftest import PHONE, FakeClock, Sync
from tests.redis.servers import Process

pytestmark = pytest.mark.redis


def _gate(server: Process, flavour: str, loop: asyncio.AbstractEventLoop, **kwargs: Any) -> Any:
    store: Any
    if flavour == "sync":
        store = RedisStore.from_url(server.url)
        gate: Any = Verifier(SETTINGS, store=store, **kwargs)
    else:
        store = AsyncRedisStore.from_url(server.url)
        gate = AsyncVerifier(SETTINGS, store=store, **kwargs)
    return Sync(gate, loop)


def _close(gate: Any, flavour: str) -> None:
    if flavour == "sync":
        gate.store.close()
    else:
        gate.store.aclose()  # awaited by Sync


def everything(server: Process) -> dict[bytes, tuple[str, list[bytes]]]:
    """Every key on the server: its type, then its name, its contents read as that type
    allows, and its DUMP (a string DUMP may be compressed: hence the typed reads)."""
    held: dict[bytes, tuple[str, list[bytes]]] = {}
    with server.client() as client:
        for key in client.scan_iter(count=100):
            kind = client.type(key).decode()
            parts: list[bytes] = [key]
            if kind == "string":
                parts.append(client.get(key))
            elif kind == "hash":
                parts += [part for pair in client.hgetall(key).items() for part in pair]
            elif kind == "zset":
                for member, score in client.zrange(key, 0, -1, withscores=True):
                    parts += [member, repr(score).encode()]
            elif kind == "list":
                parts += client.lrange(key, 0, -1)
            elif kind == "set":
                parts += list(client.smembers(key))
            else:
                raise AssertionError(f"a {kind} the scan cannot read: {key!r}")
            parts.append(client.dump(key))
            held[key] = (kind, parts)
    return held


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_redis_holds_nothing_personal_in_clear(own_server, loop, flavour):
    clock, outbox = FakeClock(), OutboxSender()
    gate = _gate(own_server, flavour, loop, sender=outbox, clock=clock)
    secrets = run_flow(gate, outbox, clock)
    held = everything(own_server)
    kinds = [kind for kind, _ in held.values()]
    # Not vacuous: the challenges, the subject's state and the budgets are all there (the
    # subject's record with its numbers' sends, the enrollment's, the client IP's).
    assert kinds.count("string") >= 5 and kinds.count("zset") >= 3, kinds
    found = {
        (key.decode(), leak)
        for key, (_, parts) in held.items()
        for part in parts
        for leak in secrets.leaks(part.decode("utf-8", "backslashreplace"))
    }
    assert not found, f"in clear in Redis: {sorted(found)}"
    assert secrets.leaks(" ".join(m.text for m in outbox.messages))  # the scan can see
    _close(gate, flavour)


# -- challenges written by the previous version ----------------------------------------------


def _old_record(gate: Any, server: Process, code: str) -> str:
    """A challenge as otpgate wrote it before its values were sealed: subject, number and
    summary in clear in the JSON tail, the code sealed bound to the bare challenge id."""
    keyring, now = gate.keyring, gate.clock()
    challenge_id = new_challenge_id(gate.subject_key("alice"))
    sealed = keyring.seal(code, context=challenge_id)
    digest = keyring.digest("code", challenge_id, code)
    value = (
        f"p|0|1|{now - 1:.0f}|{now + 300:.0f}|{digest}||"
        f'["alice","login","{PHONE}","{sealed}",{now:.0f},"Pay 10 EUR",""]'
    )
    with server.client() as client:
        client.set(Codec("otpgate:").challenge_key(challenge_id), value, ex=360)
    return challenge_id


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_challenge_in_the_earlier_format_is_expired_never_served(own_server, loop, flavour):
    outbox = OutboxSender()
    gate = _gate(own_server, flavour, loop, sender=outbox, clock=FakeClock())
    for call in (
        lambda id_: gate.get(id_),
        lambda id_: gate.get(id_, subject="alice"),
        lambda id_: gate.check(id_, "123456"),  # the right code
        lambda id_: gate.check(id_, "123456", subject="alice"),
        lambda id_: gate.check(id_, "654321", subject="alice"),
        lambda id_: gate.resend(id_),
    ):
        challenge_id = _old_record(gate, own_server, "123456")
        with pytest.raises(ChallengeExpired):  # not a StorageUnavailable, not a crash
            call(challenge_id)
    gate.delivery_report(_old_record(gate, own_server, "123456"), "failed")  # quietly ignored
    assert outbox.messages == []
    assert "alice" in str(everything(own_server))  # they were there, in clear, all along
    _close(gate, flavour)
