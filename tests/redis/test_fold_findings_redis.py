"""Fold review F3 on a real redis-server: the connection breaks after the check script ran
(approved, wrote the token's state) and before its reply arrives. The store's one retry runs
the script again, which refuses (the challenge spent, the app step replayed): ``verify``
raises that refusal and the token's state is forgotten. A connection that breaks before the
script ran (a dead pooled connection) is retried and the check approves as usual."""

from __future__ import annotations

import asyncio
import socket
import threading

import pyotp
import pytest

from otpgate import (
    AsyncVerifier,
    ChallengeExpired,
    CodeReplayed,
    OutboxSender,
    Settings,
    Verifier,
)
from otpgate.redis import AsyncRedisStore, RedisStore
from tests.conftest import KEY, PHONE, FakeClock
from tests.core.test_state_write import Writes

pytestmark = pytest.mark.redis


class ReplyDropper:
    """A loopback TCP proxy to a redis-server; once armed, the first server reply holding
    ``approved`` is not passed on: both sockets are closed instead (a reset after the
    server executed the command)."""

    def __init__(self, port: int) -> None:
        self.target = ("127.0.0.1", port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.armed = False
        #: Drop the next request holding this text instead (before the server runs it).
        self.request_armed = b""
        self.dropped = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, replies: bool) -> None:
        try:
            while data := source.recv(65536):
                if replies and self.armed and b"approved" in data:
                    self.armed = False
                    self.dropped += 1
                    break
                if not replies and self.request_armed and self.request_armed in data:
                    self.request_armed = b""
                    self.dropped += 1
                    break
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)  # wakes the other pump: a reset both ways
                s.close()
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def dropper(redis_server):
    proxy = ReplyDropper(int(redis_server.url.rsplit(":", 1)[1].split("/")[0]))
    yield proxy
    proxy.close()


def _gate(dropper, prefix, clock):
    store = RedisStore.from_url(f"redis://127.0.0.1:{dropper.port}/0", prefix=prefix)
    outbox = OutboxSender()
    return Verifier(Settings(secret_keys=(KEY,)), store=store, clock=clock, sender=outbox), outbox


def test_F3_sms_reply_lost_after_the_script_approved(dropper, redis_server, prefix):
    clock = FakeClock()
    gate, outbox = _gate(dropper, prefix, clock)
    gate.credentials.add_phone("alice", PHONE)
    challenge = gate.start("alice", "sms", purpose="login")
    dropper.armed = True
    with pytest.raises(ChallengeExpired):  # the retry found it spent
        gate.verify(
            "alice", "sms", outbox.last_code_for(PHONE), purpose="login",
            challenge_id=challenge.id, then_put=Writes(),
        )  # fmt: skip
    assert dropper.dropped == 1
    direct = RedisStore.from_url(redis_server.url, prefix=prefix)
    assert direct.get_state("s:fold-test") is None  # verify raised: not passed
    direct.close()


def test_F3_app_code_reply_lost_after_the_script_approved(dropper, redis_server, prefix):
    clock = FakeClock()
    gate, _ = _gate(dropper, prefix, clock)
    app = pyotp.TOTP(gate.totp.enroll("alice").secret)
    gate.totp.confirm("alice", app.at(clock()))
    clock.advance(60)
    dropper.armed = True
    with pytest.raises(CodeReplayed):  # the retry found the step used
        gate.verify("alice", "totp", app.at(clock()), purpose="login", then_put=Writes())
    assert dropper.dropped == 1
    direct = RedisStore.from_url(redis_server.url, prefix=prefix)
    assert direct.get_state("s:fold-test") is None
    direct.close()


def test_F3_async_sms_reply_lost_after_the_script_approved(dropper, redis_server, prefix):
    clock, outbox = FakeClock(), OutboxSender()

    async def main():
        store = AsyncRedisStore.from_url(f"redis://127.0.0.1:{dropper.port}/0", prefix=prefix)
        gate = AsyncVerifier(Settings(secret_keys=(KEY,)), store=store, clock=clock, sender=outbox)
        await gate.credentials.add_phone("alice", PHONE)
        challenge = await gate.start("alice", "sms", purpose="login")
        dropper.armed = True
        with pytest.raises(ChallengeExpired):
            await gate.verify(
                "alice", "sms", outbox.last_code_for(PHONE), purpose="login",
                challenge_id=challenge.id, then_put=Writes(),
            )  # fmt: skip
        await store.aclose()

    asyncio.run(main())
    assert dropper.dropped == 1
    direct = RedisStore.from_url(redis_server.url, prefix=prefix)
    assert direct.get_state("s:fold-test") is None
    direct.close()


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_connection_broken_before_the_script_ran_is_retried(
    dropper, redis_server, prefix, asynchronous
):
    """A dead pooled connection (a restart, a failover) costs a folded check nothing: the
    retry runs the script, which approves and writes the state."""
    clock, outbox = FakeClock(), OutboxSender()
    url = f"redis://127.0.0.1:{dropper.port}/0"

    async def main():
        store = AsyncRedisStore.from_url(url, prefix=prefix)
        gate = AsyncVerifier(Settings(secret_keys=(KEY,)), store=store, clock=clock, sender=outbox)
        await gate.credentials.add_phone("alice", PHONE)
        challenge = await gate.start("alice", "sms", purpose="login")
        dropper.request_armed = b"fold-test"
        verification = await gate.verify(
            "alice", "sms", outbox.last_code_for(PHONE), purpose="login",
            challenge_id=challenge.id, then_put=Writes(),
        )  # fmt: skip
        await store.aclose()
        return verification

    if asynchronous:
        verification = asyncio.run(main())
    else:
        store = RedisStore.from_url(url, prefix=prefix)
        gate = Verifier(Settings(secret_keys=(KEY,)), store=store, clock=clock, sender=outbox)
        gate.credentials.add_phone("alice", PHONE)
        challenge = gate.start("alice", "sms", purpose="login")
        dropper.request_armed = b"fold-test"
        verification = gate.verify(
            "alice", "sms", outbox.last_code_for(PHONE), purpose="login",
            challenge_id=challenge.id, then_put=Writes(),
        )  # fmt: skip
        store.close()
    assert dropper.dropped == 1
    assert verification.subject == "alice"
    direct = RedisStore.from_url(redis_server.url, prefix=prefix)
    assert direct.get_state("s:fold-test")  # written by the retried script
    direct.close()
