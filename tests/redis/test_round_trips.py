"""Round trips are counted, not assumed: in the client (replies read by redis-py's
connections) and on the server (``INFO commandstats`` deltas of EVALSHA and EVAL, on a
server of this test alone; commands a script runs inside count there too, so only the
scripting commands are compared)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pyotp
import pytest
import redis.asyncio.connection
import redis.connection

from otpgate import AsyncVerifier, OutboxSender, Settings, Verifier
from otpgate.core.state_write import StateWrite
from otpgate.redis import AsyncRedisStore, RedisStore
from tests.conftest import KEY, PHONE, FakeClock
from tests.redis.servers import Process

pytestmark = pytest.mark.redis
SCRIPTING = ("evalsha", "eval", "script|load")


class Counter:
    """Commands the server ran and replies the client read, between two snapshots."""

    def __init__(self, server: Process, monkeypatch: pytest.MonkeyPatch) -> None:
        self.admin = server.client(decode_responses=True)
        self.replies = 0
        sync_read = redis.connection.AbstractConnection.read_response
        async_read = redis.asyncio.connection.AbstractConnection.read_response

        def counted_read(conn: Any, *args: Any, **kwargs: Any) -> Any:
            self.replies += 1
            return sync_read(conn, *args, **kwargs)

        async def counted_async_read(conn: Any, *args: Any, **kwargs: Any) -> Any:
            self.replies += 1
            return await async_read(conn, *args, **kwargs)

        monkeypatch.setattr(redis.connection.AbstractConnection, "read_response", counted_read)
        monkeypatch.setattr(
            redis.asyncio.connection.AbstractConnection, "read_response", counted_async_read
        )

    def _scripts_run(self) -> dict[str, int]:
        stats = self.admin.info("commandstats")
        return {name: stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in SCRIPTING}

    @contextmanager
    def measure(self) -> Iterator[dict[str, int]]:
        result: dict[str, int] = {}
        before = self._scripts_run()
        replies = self.replies
        yield result
        replies = self.replies - replies
        after = self._scripts_run()
        for name in SCRIPTING:
            if after[name] != before[name]:
                result[name] = after[name] - before[name]
        result["replies read"] = replies


@pytest.fixture
def counter(own_server: Process, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter]:
    counter = Counter(own_server, monkeypatch)
    yield counter
    counter.admin.close()


def _one(evalsha: int = 1) -> dict[str, int]:
    return {"evalsha": evalsha, "replies read": evalsha}


def _flows(
    gate: Any, outbox: OutboxSender, clock: FakeClock, run: Callable[[Any], Any]
) -> Iterator[tuple[str, Any]]:
    """(name, thunk) of every verifier call whose round trips we count."""
    holder: dict[str, Any] = {}

    def start() -> None:
        holder["ch"] = run(gate.start_sms("alice", PHONE, purpose="enroll"))

    yield "start", start
    yield "wrong check", lambda: _expect_error(lambda: run(gate.check(holder["ch"].id, "000000")))
    yield (
        "check for another purpose",
        lambda: _expect_error(
            lambda: run(gate.check(holder["ch"].id, outbox.last_code_for(PHONE), purpose="login"))
        ),
    )
    clock.advance(30)
    yield "resend", lambda: run(gate.resend(holder["ch"].id))
    yield (
        "right check for its purpose",
        lambda: run(gate.check(holder["ch"].id, outbox.last_code_for(PHONE), purpose="enroll")),
    )
    yield "get", lambda: run(gate.get(holder["ch"].id))
    enrollment = run(gate.totp.enroll("alice"))
    totp = pyotp.TOTP(enrollment.secret)
    yield "totp confirm", lambda: run(gate.totp.confirm("alice", totp.at(clock())))
    clock.advance(30)
    yield "totp check", lambda: run(gate.check_totp("alice", totp.at(clock())))
    yield (
        "totp replay",
        lambda: _expect_error(lambda: run(gate.check_totp("alice", totp.at(clock())))),
    )
    codes = run(gate.recovery.generate("alice"))
    yield "recovery check", lambda: run(gate.check_recovery("alice", codes[0]))
    yield "cancel", lambda: run(gate.cancel(holder["ch"].id))
    yield "unlock", lambda: run(gate.unlock("alice"))


def _expect_error(thunk: Callable[[], Any]) -> None:
    try:
        thunk()
    except Exception:  # the error is the point
        return
    raise AssertionError("expected an error")


EXPECTED = {
    "start": _one(2),  # spend the budgets, then create the challenge
    "wrong check": _one(),
    "check for another purpose": _one(),  # refused by the check script itself
    "resend": _one(2),  # reserve the send, then spend the budgets
    "right check for its purpose": _one(),
    "get": _one(),
    "totp confirm": _one(),
    "totp check": _one(),
    "totp replay": _one(),
    "recovery check": _one(),
    "cancel": _one(),
    "unlock": _one(),
}


def test_sync_round_trips(own_server, counter):
    clock, outbox = FakeClock(), OutboxSender()
    store = RedisStore.from_url(own_server.url)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=outbox, clock=clock)
    store.load_scripts()
    store.get_challenge("warm-up.connection")  # opens the connection (its handshake)
    seen = {}
    for name, thunk in _flows(gate, outbox, clock, lambda value: value):
        with counter.measure() as seen[name]:
            thunk()
    store.close()
    assert seen == EXPECTED


def test_async_round_trips(own_server, counter):
    clock, outbox = FakeClock(), OutboxSender()
    loop = asyncio.new_event_loop()
    store = AsyncRedisStore.from_url(own_server.url)
    gate = AsyncVerifier(Settings(secret_keys=(KEY,)), store=store, sender=outbox, clock=clock)
    try:
        loop.run_until_complete(store.load_scripts())
        loop.run_until_complete(store.get_challenge("warm-up.connection"))
        seen = {}
        run = loop.run_until_complete
        for name, thunk in _flows(gate, outbox, clock, run):
            with counter.measure() as seen[name]:
                thunk()
    finally:
        loop.run_until_complete(store.aclose())
        loop.close()
    assert seen == EXPECTED


def test_a_lost_script_cache_costs_one_more_round_trip_once(own_server, counter):
    store = RedisStore.from_url(own_server.url)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=OutboxSender())
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    counter.admin.script_flush()  # what a restart or failover does
    with counter.measure() as first:
        gate.get(challenge.id)
    with counter.measure() as second:
        gate.get(challenge.id)
    store.close()
    assert first == {"evalsha": 1, "eval": 1, "replies read": 2}
    assert second == _one()


# -- verify(then_put=): the state write rides on the check's script --------------------------------

THEN_PUT = "s:round-trips"


def _then_put(verification: Any) -> StateWrite:
    return StateWrite(THEN_PUT, f"{verification.subject}|{verification.factor}", 60)


def _verify_flows(
    gate: Any, outbox: OutboxSender, clock: FakeClock, run: Callable[[Any], Any]
) -> Iterator[tuple[str, Any]]:
    """(name, thunk) of verifies with a state write, whose round trips we count."""
    run(gate.credentials.add_phone("alice", PHONE))
    enrollment = run(gate.totp.enroll("alice"))
    totp = pyotp.TOTP(enrollment.secret)
    run(gate.totp.confirm("alice", totp.at(clock())))
    clock.advance(60)
    code = totp.at(clock())
    yield (
        "app code",
        lambda: run(gate.verify("alice", "totp", code, purpose="login", then_put=_then_put)),
    )
    yield (
        "app code replayed",
        lambda: _expect_error(
            lambda: run(gate.verify("alice", "totp", code, purpose="login", then_put=_then_put))
        ),
    )
    holder: dict[str, Any] = {}

    def start() -> None:
        holder["ch"] = run(gate.start("alice", "sms", purpose="action"))

    yield "start", start

    def sms(code: str) -> Any:
        return run(
            gate.verify(
                "alice",
                "sms",
                code,
                purpose="action",
                challenge_id=holder["ch"].id,
                then_put=_then_put,
            )
        )

    yield "wrong sms code", lambda: _expect_error(lambda: sms("000000"))
    yield "right sms code", lambda: sms(outbox.last_code_for(PHONE))
    codes = run(gate.recovery.generate("alice"))
    yield (  # used up after the check (it may lose that race): written after
        "recovery code",
        lambda: run(
            gate.verify("alice", "recovery", codes[0], purpose="login", then_put=_then_put)
        ),
    )


VERIFY_EXPECTED = {
    "app code": _one(),
    "app code replayed": _one(),
    "start": _one(2),
    "wrong sms code": _one(),
    "right sms code": _one(),
    "recovery code": _one(2),
}


def test_a_verify_writes_its_state_in_the_checks_round_trip(own_server, counter):
    clock, outbox = FakeClock(), OutboxSender()
    store = RedisStore.from_url(own_server.url)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=outbox, clock=clock)
    store.load_scripts()
    store.get_challenge("warm-up.connection")
    seen = {}
    for name, thunk in _verify_flows(gate, outbox, clock, lambda value: value):
        with counter.measure() as seen[name]:
            thunk()
        if name in ("app code", "right sms code"):
            assert store.get_state(THEN_PUT) == "alice|" + ("totp" if "app" in name else "sms")
            store.put_state(THEN_PUT, "gone", 1)
        elif name != "start" and name != "recovery code":
            assert store.get_state(THEN_PUT) == "gone"  # a refusal writes nothing
    store.close()
    assert seen == VERIFY_EXPECTED


def test_an_async_verify_writes_its_state_in_the_checks_round_trip(own_server, counter):
    clock, outbox = FakeClock(), OutboxSender()
    loop = asyncio.new_event_loop()
    store = AsyncRedisStore.from_url(own_server.url)
    gate = AsyncVerifier(Settings(secret_keys=(KEY,)), store=store, sender=outbox, clock=clock)
    try:
        run = loop.run_until_complete
        run(store.load_scripts())
        run(store.get_challenge("warm-up.connection"))
        seen = {}
        for name, thunk in _verify_flows(gate, outbox, clock, run):
            with counter.measure() as seen[name]:
                thunk()
        assert run(store.get_state(THEN_PUT)) == "alice|recovery"
    finally:
        loop.run_until_complete(store.aclose())
        loop.close()
    assert seen == VERIFY_EXPECTED
