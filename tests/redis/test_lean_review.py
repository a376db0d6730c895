"""Review of the async store's lean script call (``otpgate.redis.lean``), attacked on a real
redis-server: each reply a call returns is its own command's, no connection goes back to the
pool with a reply unread or a command half sent, and errors, timeouts, cancellations, resets
and a full pool end as ``execute_command`` ends them (never an approval by accident, no hang).

Most attacks run an echo script (``return ARGV[1]`` with a token of the call's own): a reply
handed to the wrong call shows as a wrong token; the store's checks are attacked too. This
file: packing, cancellation and timeouts; ``_faults``: resets, kills, pools, concurrency;
``_parity``: replies, errors, READONLY, Sentinel, where ``execute_command`` runs instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redis.asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.exceptions import TimeoutError as RedisTimeoutError

from otpgate import ChallengeExpired, VerificationFailed
from otpgate.core.policy import Result
from otpgate.redis import AsyncRedisStore
from otpgate.redis.lean import packed
from otpgate.redis.once import counted_runs
from tests.redis.lean_proxy import BreakingProxy
from tests.redis.lean_support import (
    ECHO,
    LOCKOUT,
    all_own,
    asyncio_timeout,
    echo,
    idle_clean,
    lean_of,
    make_client,
    pause_server,
    port_of,
    sms_gate,
)

pytestmark = pytest.mark.redis


@pytest.fixture
def proxy(redis_server) -> Iterator[BreakingProxy]:
    breaking = BreakingProxy(port_of(redis_server.url))
    yield breaking
    breaking.close()


# -- packing ----------------------------------------------------------------------------------

_ARG = st.one_of(
    st.text(),
    st.binary(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(min_size=6000, max_size=7000),
    st.binary(min_size=6001, max_size=6100).map(memoryview),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.sampled_from(["EVALSHA", "EVAL", b"EVALSHA", "SCRIPT LOAD", b"SCRIPT  FLUSH"]),
        st.text(max_size=12),
        st.binary(max_size=12),
    ),
    st.lists(_ARG, max_size=8),
    st.sampled_from(["utf-8", "latin-1", "utf-16", "ascii"]),
    st.sampled_from(["strict", "replace", "surrogateescape"]),
)
def test_packed_equals_pack_command_for_arbitrary_arguments(name, rest, encoding, errors):
    connection = redis.asyncio.Connection(encoding=encoding, encoding_errors=errors)
    args = (name, *rest)
    try:
        expected: bytes | type[BaseException] = b"".join(connection.pack_command(*args))
    except Exception as error:  # refused by redis-py: refused the same way
        expected = type(error)
    try:
        got: bytes | type[BaseException] = packed(args, connection.encoder)
    except Exception as error:
        got = type(error)
    assert got == expected


def test_the_command_name_is_utf_8_whatever_the_encoding(redis_server):
    """Found in review: the lean call encoded ``EVALSHA`` with the client's encoding, where
    redis-py sends the command's name in UTF-8 (split at spaces): with an encoding that is
    not ASCII's superset (UTF-16) the server got a name it does not know."""
    connection = redis.asyncio.Connection(encoding="utf-16")
    assert packed(("EVALSHA", b"f" * 40, b"0"), connection.encoder).startswith(
        b"*3\r\n$7\r\nEVALSHA\r\n"
    )

    async def main() -> None:
        client = make_client(redis_server.url, encoding="utf-16")
        try:  # a script of bytes only: the same reply as execute_command's
            command = ("EVAL", b"return ARGV[1]", 0, b"bytes")
            assert await lean_of(client)(*command) == await client.execute_command(*command)
        finally:
            await client.aclose()

    asyncio.run(main())


# -- cancellation -----------------------------------------------------------------------------


def test_a_cancel_at_every_await_point_never_hands_a_reply_on(redis_server):
    """A call cancelled after 0, 1, 2, ... event-loop turns (in ``get_connection`` making a
    connection, in its handshake, sending, waiting, reading): the calls after it, on one
    connection and on many, read their own replies; no connection leaks."""

    async def main() -> None:
        for max_connections in (1, 4):
            client = make_client(redis_server.url, max_connections=max_connections)
            send = lean_of(client)
            try:
                for turns in range(40):
                    victim = asyncio.ensure_future(echo(send, f"victim-{turns}"))
                    for _ in range(turns):
                        await asyncio.sleep(0)
                    victim.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        assert await victim == f"victim-{turns}".encode()
                    idle_clean(client)
                    await all_own(send, f"after-{turns}", 3 if max_connections == 1 else 8)
            finally:
                await client.aclose()

    asyncio.run(main())


def test_a_store_check_cancelled_at_every_await_point_then_wrong_then_right(redis_server, prefix):
    async def main() -> None:
        store = AsyncRedisStore(make_client(redis_server.url, max_connections=2), prefix=prefix)
        try:
            for turns in range(30):
                victim = asyncio.ensure_future(
                    store.settle_attempt(f"v{turns}", True, time.time(), LOCKOUT)
                )
                for _ in range(turns):
                    await asyncio.sleep(0)
                victim.cancel()
                await asyncio.gather(victim, return_exceptions=True)
                wrong = await store.settle_attempt(f"w{turns}", False, time.time(), LOCKOUT)
                right = await store.settle_attempt(f"r{turns}", True, time.time(), LOCKOUT)
                assert (wrong.result, right.result) == (Result.INVALID, Result.APPROVED)
        finally:
            await store.client.aclose()

    asyncio.run(main())


@pytest.mark.parametrize("action", ["hold", "half-hold"], ids=["after-send", "mid-reply"])
@pytest.mark.parametrize("how", ["cancel", "wait_for", "timeout", "socket_timeout"])
def test_cancelled_after_send_or_mid_reply(proxy, action, how):
    """The server ran the command; its reply is held (or half delivered): the call is
    cancelled (task.cancel, wait_for, asyncio.timeout) or times out (socket timeout: an
    error, not retried). The connection is dropped, not pooled with the rest of that reply,
    and the next calls read their own."""

    async def main() -> None:
        timeout = 0.1 if how == "socket_timeout" else 5
        client = make_client(proxy.url, max_connections=1, socket_timeout=timeout)
        send = lean_of(client)
        try:
            await all_own(send, "warm", 1)
            proxy.arm(b"victim-token", action)
            if how == "cancel":
                task = asyncio.ensure_future(echo(send, "victim-token"))
                while not proxy.triggered.is_set():
                    await asyncio.sleep(0.005)
                await asyncio.sleep(0.02)  # more likely the reply (or its half) has come
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            elif how == "wait_for":
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(echo(send, "victim-token"), 0.1)
            elif how == "timeout":
                with pytest.raises(asyncio.TimeoutError):
                    async with asyncio_timeout(0.1):
                        await echo(send, "victim-token")
            else:
                with counted_runs() as runs, pytest.raises(RedisTimeoutError):
                    await echo(send, "victim-token")
                assert not runs.retried
            assert proxy.triggered.is_set()
            idle_clean(client)
            pool: Any = client.connection_pool
            assert not any(c.is_connected for c in pool._available_connections)
            await all_own(send, "next", 1)
        finally:
            await client.aclose()

    asyncio.run(main())


def test_cancelled_mid_send_of_a_large_command(proxy):
    """A 32 MB command stalls mid-send (the proxy stops reading it): cancelled there, the
    connection is dropped (the server never gets the rest glued to a next command)."""

    async def main() -> None:
        client = make_client(proxy.url, max_connections=1)
        send = lean_of(client)
        try:
            await all_own(send, "warm", 1)
            proxy.arm(b"big-victim", "hold-request")
            task = asyncio.ensure_future(send("EVAL", ECHO, 0, "big-victim", "x" * (32 << 20)))
            while not proxy.triggered.is_set():
                await asyncio.sleep(0.005)
            pool: Any = client.connection_pool
            (conn,) = pool._in_use_connections
            while conn._writer.transport.get_write_buffer_size() == 0:
                await asyncio.sleep(0.005)  # the rest waits in the client's buffer
            assert not task.done()
            writer = conn._writer
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not conn.is_connected
            idle_clean(client)
            await all_own(send, "next", 1)
            # the dropped socket still flushes its buffer (as after execute_command): the
            # proxy ends it, so it closes
            proxy.release()
            with contextlib.suppress(OSError):
                await asyncio.wait_for(writer.wait_closed(), 10)
        finally:
            await client.aclose()

    asyncio.run(main())


def test_a_socket_timeout_shorter_than_the_script(redis_server, prefix):
    """A script that runs 300 ms, a socket timeout of 100 ms: a timeout error, not retried
    (the script ran once), the connection dropped; after the script, calls read their own."""
    script = (
        "local t = redis.call('TIME'); local start = t[1] * 1000000 + t[2];"
        "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start > 300000;"
        "redis.call('INCR', KEYS[1]); redis.call('EXPIRE', KEYS[1], 60); return ARGV[1]"
    )
    key = f"{prefix}runs"

    async def main() -> None:
        client = make_client(redis_server.url, socket_timeout=0.1, max_connections=1)
        send = lean_of(client)
        try:
            await all_own(send, "warm", 1)
            with counted_runs() as runs, pytest.raises(RedisTimeoutError):
                await send("EVAL", script, 1, key, "slow")
            assert not runs.retried
            admin = redis.Redis.from_url(redis_server.url)
            assert admin.get(key) == b"1"  # waits for the script: it ran once
            admin.close()
            idle_clean(client)
            await all_own(send, "next", 5)
        finally:
            await client.aclose()

    asyncio.run(main())


@pytest.mark.parametrize("how", ["cancel", "timeout"])
def test_verify_cancelled_or_timed_out_never_approves_a_wrong_code_nor_twice(
    redis_server, prefix, how
):
    """``check`` of the right code cancelled after 0, 2, 4, ... turns (or under an
    ``asyncio.timeout`` while the server holds commands); then a wrong code and the right
    one. A wrong code is never approved, a challenge is approved at most once."""

    async def main() -> int:
        store = AsyncRedisStore.from_url(redis_server.url, prefix=prefix)
        gate, outbox = sms_gate(store)
        approvals = 0
        try:
            for turns in range(0, 60, 3) if how == "cancel" else range(4):
                subject = f"user-{how}-{turns}"
                phone = f"+336123{turns:05d}"  # a number (and its budgets) per round
                challenge = await gate.start_sms(subject, phone, purpose="enroll")
                code = outbox.last_code_for(phone)
                wrong = "000000" if code != "000000" else "111111"
                passed = 0
                if how == "cancel":
                    task = asyncio.ensure_future(gate.check(challenge.id, code))
                    for _ in range(turns):
                        await asyncio.sleep(0)
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        assert (await task).subject == subject
                        passed += 1
                else:
                    pause_server(redis_server.url, 150)
                    with pytest.raises(asyncio.TimeoutError):
                        async with asyncio_timeout(0.05):
                            await gate.check(challenge.id, code)
                with pytest.raises(VerificationFailed):
                    await gate.check(challenge.id, wrong)
                try:
                    assert (await gate.check(challenge.id, code)).subject == subject
                    passed += 1
                except ChallengeExpired:  # spent by the call cut short
                    pass
                assert passed <= 1
                approvals += passed
        finally:
            await store.aclose()
        return approvals

    assert asyncio.run(main()) >= 1
