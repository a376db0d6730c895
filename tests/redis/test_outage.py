"""Fail closed: a stopped or hung Redis is ``StorageUnavailable`` (never an approval, never a
hang), and the same store works again once Redis is back, without restarting the app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from otpgate import (
    AsyncVerifier,
    ChallengeExpired,
    OutboxSender,
    Settings,
    StorageUnavailable,
    Verifier,
)
from otpgate.redis import AsyncRedisStore, RedisStore
from tests.conftest import KEY, PHONE, Sync
from tests.redis import servers
from tests.redis.servers import Process

pytestmark = pytest.mark.redis


@pytest.fixture(params=["sync", "async"])
def connect(request: pytest.FixtureRequest) -> Iterator[Any]:
    """``connect(url_or_store)`` → (gate seen through Sync, outbox); closes what it made."""
    loop = asyncio.new_event_loop()
    made: list[Any] = []

    def make(url: str) -> tuple[Sync, OutboxSender]:
        outbox = OutboxSender()
        settings = Settings(secret_keys=(KEY,))
        if request.param == "sync":
            store: Any = RedisStore.from_url(url)
            gate: Any = Verifier(settings, store=store, sender=outbox)
        else:
            store = AsyncRedisStore.from_url(url)
            gate = AsyncVerifier(settings, store=store, sender=outbox)
        made.append(store)
        return Sync(gate, loop), outbox

    yield make
    for store in made:
        if isinstance(store, RedisStore):
            store.close()
        else:
            loop.run_until_complete(store.aclose())
    loop.close()


def test_stopped_server_fails_closed_and_a_restart_heals(own_server: Process, connect):
    gate, outbox = connect(own_server.url)
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = outbox.last_code_for(PHONE)
    own_server.kill()

    began = time.monotonic()
    with pytest.raises(StorageUnavailable):
        gate.check(challenge.id, code)  # the right code: still no approval
    with pytest.raises(StorageUnavailable):
        gate.start_sms("alice", PHONE, purpose="enroll")
    assert time.monotonic() - began < 3
    assert len(outbox.messages) == 1  # nothing was sent while Redis was away

    again = servers.redis_server(own_server.dir, own_server.port, name="restarted").start()
    try:
        # The data went with the server (no persistence): the old challenge is gone, which
        # is an error of its own, not an outage and not an approval.
        with pytest.raises(ChallengeExpired):
            gate.check(challenge.id, code)
        # A new server has no scripts either: they are loaded again on first use.
        fresh = gate.start_sms("alice", PHONE, purpose="enroll")
        verification = gate.check(fresh.id, outbox.last_code_for(PHONE))
        assert verification.subject == "alice"
    finally:
        again.stop()


def test_a_hung_server_is_a_quick_storage_error(own_server: Process, connect):
    gate, outbox = connect(own_server.url)
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = outbox.last_code_for(PHONE)
    own_server.pause()  # SIGSTOP: the socket stays open, nothing answers
    try:
        began = time.monotonic()
        with pytest.raises(StorageUnavailable):
            gate.check(challenge.id, code)
        assert time.monotonic() - began < 2  # socket_timeout 0.5 s, never retried
    finally:
        own_server.resume()
    # The script sent before the timeout may run late once the server wakes up; whoever
    # asked got StorageUnavailable, so that approval reached nobody.
    record = gate.store.get_challenge(challenge.id)
    assert record is not None
    fresh = gate.start_sms("alice", PHONE, purpose="enroll")
    assert gate.check(fresh.id, outbox.last_code_for(PHONE)).subject == "alice"


def test_nothing_listening_from_the_start(connect):
    gate, outbox = connect(f"redis://127.0.0.1:{servers.free_port()}/0")
    with pytest.raises(StorageUnavailable):
        gate.start_sms("alice", PHONE, purpose="enroll")
    with pytest.raises(StorageUnavailable):
        gate.check("A" * 22 + "." + "B" * 22, "123456")
    with pytest.raises(StorageUnavailable):
        gate.unlock("alice")
    assert outbox.messages == []
