"""Review of the async store's lean script call (``otpgate.redis.lean``), attacked on a real
redis-server: each reply a call returns is its own command's, no connection goes back to the
pool with a reply unread or a command half sent, and errors, timeouts, cancellations, resets
and a full pool end as ``execute_command`` ends them (never an approval by accident, no hang).

Most attacks run an echo script (``return ARGV[1]`` with a token of the call's own): a reply
handed to the wrong call shows as a wrong token; the store's checks are attacked too.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MaxConnectionsError, ReadOnlyError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from otpgate import (
    AsyncVerifier,
    ChallengeExpired,
    OutboxSender,
    Settings,
    StorageUnavailable,
    VerificationFailed,
)
from otpgate.core.policy import LockoutPolicy, Result
from otpgate.core.state_write import StateWrite
from otpgate.redis import AsyncRedisStore
from otpgate.redis import lean as lean_module
from otpgate.redis.connect import async_client
from otpgate.redis.lean import AsyncScriptSender, lean_sender, packed
from otpgate.redis.once import counted_runs
from tests.conftest import KEY
from tests.redis.lean_proxy import BreakingProxy
from tests.redis.servers import Sentinel

pytestmark = pytest.mark.redis

ECHO = "return ARGV[1]"
LOCKOUT = LockoutPolicy(after=100000, base=60, maximum=900, hard_after=200000, memory=86400)
Send = Callable[..., Awaitable[Any]]


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


@pytest.fixture
def proxy(redis_server) -> Iterator[BreakingProxy]:
    breaking = BreakingProxy(_port(redis_server.url))
    yield breaking
    breaking.close()


def _client(url: str, **options: Any) -> redis.asyncio.Redis:
    options.setdefault("socket_timeout", 5)
    client, _ = async_client(url, **options)
    assert isinstance(client, redis.asyncio.Redis)
    return client


def _lean(client: redis.asyncio.Redis) -> Send:
    send = lean_sender(client)
    assert send is not None
    return send


async def _echo(send: Send, token: str) -> Any:
    return await send("EVAL", ECHO, 0, token)


async def _all_own(send: Send, label: str, count: int = 30) -> None:
    """``count`` calls, sequential then concurrent, each reading its own token."""
    for i in range(3):
        assert await _echo(send, f"{label}-seq-{i}") in (
            f"{label}-seq-{i}",
            f"{label}-seq-{i}".encode(),
        )
    tokens = [f"{label}-{i}" for i in range(count)]
    width = min(count, send.__self__.client.connection_pool.max_connections)
    replies = []
    for start in range(0, count, width):  # a default pool refuses more than its maximum
        replies += await asyncio.gather(*(_echo(send, t) for t in tokens[start : start + width]))
    assert [r.decode() if isinstance(r, bytes) else r for r in replies] == tokens


def _idle_clean(client: redis.asyncio.Redis) -> None:
    """Every pooled connection is idle (none leaked in use)."""
    pool: Any = client.connection_pool
    assert not pool._in_use_connections


async def _no_unread(client: redis.asyncio.Redis) -> None:
    """No idle connection that is still connected holds bytes nobody read."""
    pool: Any = client.connection_pool
    for conn in list(pool._available_connections):
        if conn.is_connected:
            assert not await conn.can_read()


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
        client = _client(redis_server.url, encoding="utf-16")
        try:  # a script of bytes only: the same reply as execute_command's
            command = ("EVAL", b"return ARGV[1]", 0, b"bytes")
            assert await _lean(client)(*command) == await client.execute_command(*command)
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
            client = _client(redis_server.url, max_connections=max_connections)
            send = _lean(client)
            try:
                for turns in range(40):
                    victim = asyncio.ensure_future(_echo(send, f"victim-{turns}"))
                    for _ in range(turns):
                        await asyncio.sleep(0)
                    victim.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        assert await victim == f"victim-{turns}".encode()
                    _idle_clean(client)
                    await _all_own(send, f"after-{turns}", 3 if max_connections == 1 else 8)
            finally:
                await client.aclose()

    asyncio.run(main())


def test_a_store_check_cancelled_at_every_await_point_then_wrong_then_right(redis_server, prefix):
    async def main() -> None:
        store = AsyncRedisStore(_client(redis_server.url, max_connections=2), prefix=prefix)
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
@pytest.mark.parametrize("how", ["cancel", "wait_for", "timeout"])
def test_cancelled_after_send_or_mid_reply(proxy, action, how):
    """The server ran the command; its reply is held (or half delivered): the call is
    cancelled (task.cancel, wait_for, asyncio.timeout). The connection is dropped, not
    pooled with the rest of that reply, and the next calls read their own."""

    async def main() -> None:
        client = _client(proxy.url, max_connections=1)
        send = _lean(client)
        try:
            await _all_own(send, "warm", 1)
            proxy.arm(b"victim-token", action)
            if how == "cancel":
                task = asyncio.ensure_future(_echo(send, "victim-token"))
                while not proxy.triggered.is_set():
                    await asyncio.sleep(0.005)
                await asyncio.sleep(0.02)  # the reply (or its half) is on its way
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            elif how == "wait_for":
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(_echo(send, "victim-token"), 0.1)
            else:
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.1):
                        await _echo(send, "victim-token")
            assert proxy.triggered.is_set()
            _idle_clean(client)
            pool: Any = client.connection_pool
            assert not any(c.is_connected for c in pool._available_connections)
            await _all_own(send, "next", 1)
        finally:
            await client.aclose()

    asyncio.run(main())


def test_cancelled_mid_send_of_a_large_command(proxy):
    """A 32 MB command stalls mid-send (the proxy stops reading it): cancelled there, the
    connection is dropped (the server never gets the rest glued to a next command)."""

    async def main() -> None:
        client = _client(proxy.url, max_connections=1)
        send = _lean(client)
        try:
            await _all_own(send, "warm", 1)
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
            _idle_clean(client)
            await _all_own(send, "next", 1)
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
        client = _client(redis_server.url, socket_timeout=0.1, max_connections=1)
        send = _lean(client)
        try:
            await _all_own(send, "warm", 1)
            with counted_runs() as runs, pytest.raises(RedisTimeoutError):
                await send("EVAL", script, 1, key, "slow")
            assert not runs.retried
            admin = redis.Redis.from_url(redis_server.url)
            assert admin.get(key) == b"1"  # waits for the script: it ran once
            admin.close()
            _idle_clean(client)
            await _all_own(send, "next", 5)
        finally:
            await client.aclose()

    asyncio.run(main())


# -- resets, kills ----------------------------------------------------------------------------


def test_half_a_reply_then_a_reset_is_retried_once_with_its_own_reply(proxy):
    async def main() -> None:
        client = _client(proxy.url, max_connections=1)
        send = _lean(client)
        try:
            await _all_own(send, "warm", 1)
            proxy.arm(b"reset-victim", "half-reset")
            with counted_runs() as runs:
                assert await _echo(send, "reset-victim") == b"reset-victim"
            assert runs.retried
            _idle_clean(client)
            await _all_own(send, "next", 5)
        finally:
            await client.aclose()

    asyncio.run(main())


def test_a_folded_check_whose_reply_is_half_lost_forgets_the_state(proxy, redis_server, prefix):
    """once.py on the lean path: the first run approves and writes the state, half its
    reply arrives, then a reset; the retry finds the step replayed: the state is forgotten."""

    async def main() -> tuple[Result, str | None]:
        store = AsyncRedisStore(_client(proxy.url), prefix=prefix)
        assert isinstance(getattr(store._send, "__self__", None), AsyncScriptSender)
        try:
            await store.settle_attempt("warm", False, time.time(), LOCKOUT)
            write = StateWrite("s:lean-review", "token-state", 60)
            proxy.arm(b"alice-fold", "half-reset")
            outcome = await store.settle_attempt(
                "alice-fold", True, time.time(), LOCKOUT, totp_step=12345, then_put=write
            )
            return outcome.result, await store.get_state("s:lean-review")
        finally:
            await store.client.aclose()

    assert asyncio.run(main()) == (Result.REPLAYED, None)
    assert proxy.triggered.is_set()


def test_a_cancel_at_every_await_point_of_the_retry(proxy):
    """Half a reply, a reset, and the call cancelled 0, 1, 2, ... turns later: while it
    disconnects, reconnects, sends again or reads again. The next calls read their own."""

    async def main() -> None:
        client = _client(proxy.url, max_connections=2)
        send = _lean(client)
        try:
            await _all_own(send, "warm", 2)
            for turns in range(40):
                marker = f"retry-victim-{turns}"
                proxy.arm(marker.encode(), "half-reset")
                task = asyncio.ensure_future(_echo(send, marker))
                while not proxy.triggered.is_set():
                    await asyncio.sleep(0)
                for _ in range(turns):
                    await asyncio.sleep(0)
                task.cancel()
                try:
                    assert await task == marker.encode()
                except asyncio.CancelledError:
                    pass
                except RedisConnectionError:  # the reset reached it after the retry's send
                    pass
                _idle_clean(client)
                await _all_own(send, f"after-{turns}", 4)
        finally:
            await client.aclose()

    asyncio.run(main())


def test_replies_cut_at_random_bytes_under_concurrency_and_cancels(proxy):
    """A tenth of all replies cut at a random byte and reset, 300 concurrent calls, some
    cancelled: every call that returns, returns its own token (a reset is retried once, or
    fails as a connection error); nothing leaks."""

    async def main() -> None:
        rng = random.Random(99)
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            proxy.url, max_connections=6, socket_timeout=5, timeout=20
        )
        client = redis.asyncio.Redis(connection_pool=pool)
        send = _lean(client)
        try:
            proxy.chaos = 0.1
            tokens = [f"chaos-{i}-{'x' * rng.randrange(0, 3000)}" for i in range(300)]
            tasks = [asyncio.ensure_future(_echo(send, t)) for t in tokens]
            for index in rng.sample(range(300), 30):
                for _ in range(rng.randrange(8)):
                    await asyncio.sleep(0)
                tasks[index].cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            own = 0
            for token, result in zip(tokens, results, strict=True):
                if isinstance(result, asyncio.CancelledError | RedisConnectionError):
                    continue
                assert result == token.encode()
                own += 1
            assert own >= 200
            assert proxy.cuts >= 10
            proxy.chaos = 0.0
            _idle_clean(client)
            await _no_unread(client)
            await _all_own(send, "after-chaos", 20)
        finally:
            await client.aclose()
            await pool.disconnect()

    asyncio.run(main())


PLAIN_FORGED = b"$6\r\nforged\r\n"
PUSH_FORGED = b">2\r\n$6\r\nforged\r\n:1\r\n"


@pytest.mark.parametrize(
    ("protocol", "forged"),
    [(2, PLAIN_FORGED), (3, PUSH_FORGED), (None, PLAIN_FORGED)],
    ids=["resp2", "resp3-push", "default-resp3-reply"],
)
def test_bytes_after_a_reply_as_with_execute_command(proxy, protocol, forged):
    """The server's reply comes with bytes no command asked for glued after it: the
    connection goes back to the pool with them unread. On RESP2 the pool's check on taking
    it reconnects; on RESP3 a push is skipped by the reader: the next call reads its own.
    A plain reply glued on RESP3 (redis-py 8's default protocol, its pool not checking while
    maintenance notifications are "auto") is read as the next call's reply: by the lean
    call exactly as by ``execute_command`` (a server's fault; see the review's report)."""

    async def main(lean: bool) -> list[object]:
        options = {} if protocol is None else {"protocol": protocol}
        client = _client(proxy.url, max_connections=1, **options)
        send = _lean(client) if lean else client.execute_command
        proxy.forged = forged
        try:
            answers = []
            for round_ in range(3 if protocol else 1):  # past a stranger's reply: all late
                proxy.arm(f"glued-{round_}".encode(), "append")
                answers.append(await _echo(send, f"glued-{round_}"))
                answers.append(await _echo(send, f"next-{round_}"))
            return answers
        finally:
            await client.aclose()

    lean, plain = asyncio.run(main(True)), asyncio.run(main(False))
    assert lean == plain
    own = [f"{name}-{i}".encode() for i in range(3) for name in ("glued", "next")]
    if protocol is None:  # redis-py 8.1: the stranger's reply read as the next call's,
        # on both paths (equal above); own once redis-py checks such a connection again
        assert lean[0] == b"glued-0"
        assert lean[1] in (b"forged", b"next-0")
    else:
        assert lean == own


def test_client_kill_while_the_reply_is_held(proxy, redis_server):
    """The server's side of the call's connection is killed after it ran the command: one
    retry on a new connection, its own reply."""

    async def main() -> None:
        client = _client(proxy.url, max_connections=1, client_name="lean-review-kill")
        send = _lean(client)
        try:
            await _all_own(send, "warm", 1)
            proxy.arm(b"kill-victim", "hold")
            with counted_runs() as runs:
                task = asyncio.ensure_future(_echo(send, "kill-victim"))
                while not proxy.triggered.is_set():
                    await asyncio.sleep(0.005)
                admin = redis.Redis.from_url(redis_server.url)
                ours = [c["id"] for c in admin.client_list() if c.get("name") == "lean-review-kill"]
                assert ours
                for client_id in ours:
                    admin.client_kill_filter(_id=client_id)
                admin.close()
                assert await task == b"kill-victim"
            assert runs.retried
            await _all_own(send, "next", 5)
        finally:
            await client.aclose()

    asyncio.run(main())


def test_the_server_killed_mid_call_is_a_storage_error_then_recovers(own_server, prefix):
    async def main() -> None:
        store = AsyncRedisStore.from_url(own_server.url, prefix=prefix, max_connections=2)
        try:
            assert (await store.settle_attempt("a", True, time.time(), LOCKOUT)).result is (
                Result.APPROVED
            )
            own_server.pause()  # the command is sent, never answered
            task = asyncio.ensure_future(store.settle_attempt("b", True, time.time(), LOCKOUT))
            await asyncio.sleep(0.05)
            own_server.kill()
            started = time.monotonic()
            with pytest.raises(StorageUnavailable):
                await task
            assert time.monotonic() - started < 2  # a reset, a refused reconnect: quick
            own_server.start()
            wrong = await store.settle_attempt("c", False, time.time(), LOCKOUT)
            right = await store.settle_attempt("d", True, time.time(), LOCKOUT)
            assert (wrong.result, right.result) == (Result.INVALID, Result.APPROVED)
            _idle_clean(store.client)
        finally:
            await store.aclose()

    asyncio.run(main())


# -- pools, concurrency -----------------------------------------------------------------------


def test_a_full_default_pool_fails_as_execute_command_does(redis_server, prefix):
    async def main() -> None:
        client = _client(redis_server.url, max_connections=1)
        lean = _lean(client)
        script = "redis.call('TIME'); return ARGV[1]"
        try:
            for send in (lean, client.execute_command):
                first = asyncio.ensure_future(send("EVAL", script, 0, "first"))
                await asyncio.sleep(0)
                await asyncio.sleep(0)
                with pytest.raises(MaxConnectionsError):
                    await send("EVAL", script, 0, "second")
                assert await first == b"first"
                _idle_clean(client)
            store = AsyncRedisStore(client, prefix=prefix)
            results = await asyncio.gather(
                *(store.settle_attempt(f"s{i}", True, time.time(), LOCKOUT) for i in range(5)),
                return_exceptions=True,
            )
            assert results[0].result is Result.APPROVED
            assert all(isinstance(r, StorageUnavailable) for r in results[1:])
        finally:
            await client.aclose()

    asyncio.run(main())


@pytest.mark.parametrize("blocking", [True, False], ids=["blocking-pool", "default-pool"])
def test_200_concurrent_checks_with_cancels_each_get_their_own_answer(
    redis_server, prefix, blocking
):
    """200 checks over 7 subjects, right and wrong mixed, a fifth of them cancelled at random
    moments, on 4 connections (waiting their turn) or an unbounded pool: each finished check
    answers for its own code; no connection leaks."""

    async def main() -> None:
        rng = random.Random(20261201)
        if blocking:
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                redis_server.url, max_connections=4, socket_timeout=5, timeout=10
            )
            client = redis.asyncio.Redis(connection_pool=pool)
        else:
            client = _client(redis_server.url)
        store = AsyncRedisStore(client, prefix=prefix)
        assert isinstance(getattr(store._send, "__self__", None), AsyncScriptSender)
        try:
            rights = [rng.random() < 0.5 for _ in range(200)]
            tasks = [
                asyncio.ensure_future(
                    store.settle_attempt(f"subject-{i % 7}", right, time.time(), LOCKOUT)
                )
                for i, right in enumerate(rights)
            ]
            doomed = rng.sample(range(200), 40)
            for index in doomed:
                for _ in range(rng.randrange(6)):
                    await asyncio.sleep(0)
                tasks[index].cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            finished = 0
            refused = 0
            for right, result in zip(rights, results, strict=True):
                if isinstance(result, asyncio.CancelledError):
                    continue
                if isinstance(result, StorageUnavailable):  # past the pool's maximum
                    assert isinstance(result.__cause__, MaxConnectionsError)
                    refused += 1
                    continue
                finished += 1
                assert result.result is (Result.APPROVED if right else Result.INVALID)
            # 4 connections, waited for; or redis-py 8's default pool of 100, which refuses
            # the calls beyond (as execute_command does: get_connection raises)
            assert refused == 0 if blocking else refused > 0
            assert finished >= 160 if blocking else finished >= 90
            _idle_clean(client)
            await _no_unread(client)
            send = _lean(client)
            await _all_own(send, "after", 50)
        finally:
            await client.aclose()
            if blocking:
                await client.connection_pool.disconnect()

    asyncio.run(main())


def test_script_flushes_among_concurrent_checks(redis_server, prefix):
    async def main() -> None:
        store = AsyncRedisStore(_client(redis_server.url), prefix=prefix)  # a pool of 100
        admin = redis.asyncio.Redis.from_url(redis_server.url)
        try:

            async def flusher() -> None:
                for _ in range(10):
                    await admin.script_flush()
                    await asyncio.sleep(0.002)

            rights = [i % 3 != 0 for i in range(90)]
            results = await asyncio.gather(
                flusher(),
                *(
                    store.settle_attempt(f"f{i % 5}", right, time.time(), LOCKOUT)
                    for i, right in enumerate(rights)
                ),
            )
            for right, outcome in zip(rights, results[1:], strict=True):
                assert outcome.result is (Result.APPROVED if right else Result.INVALID)
        finally:
            await admin.aclose()
            await store.client.aclose()

    asyncio.run(main())


# -- replies and errors as execute_command gives them -----------------------------------------

_SCRIPTS = [
    ("return ARGV[1]", ["naïve 名前 \x00"]),
    ("return {1, 'two', {3, ARGV[1]}, false}", ["ü"]),
    ("return redis.status_reply('FINE')", []),
    ("return redis.error_reply('MYERR custom failure')", []),
    ("return redis.call('INCRBY', KEYS[1], 'x')", []),
    ("return 3.99", []),
    ("return nil", []),
    ("error('raw lua error')", []),
]


@pytest.mark.parametrize("legacy", [True, False], ids=["legacy", "new-responses"])
@pytest.mark.parametrize("decode", [False, True], ids=["bytes", "text"])
@pytest.mark.parametrize("protocol", [2, 3])
def test_replies_and_errors_are_those_of_execute_command(
    redis_server, prefix, decode, protocol, legacy
):
    async def run(send: Send, command: tuple[Any, ...]) -> object:
        try:
            return ("ok", await send(*command))
        except ResponseError as error:
            return ("error", type(error), str(error))

    async def main() -> None:
        client = _client(
            redis_server.url, decode_responses=decode, protocol=protocol, legacy_responses=legacy
        )
        lean = _lean(client)
        try:
            for text, argv in _SCRIPTS:
                command = ("EVAL", text, 1, f"{prefix}none", *argv)
                assert await run(lean, command) == await run(client.execute_command, command)
                sha = await client.script_load(text)
                command = ("EVALSHA", sha, 1, f"{prefix}none", *argv)
                assert await run(lean, command) == await run(client.execute_command, command)
            missing = ("EVALSHA", "0" * 40, 0)
            assert await run(lean, missing) == await run(client.execute_command, missing)
            await _all_own(lean, "after-errors", 5)
        finally:
            await client.aclose()

    asyncio.run(main())


def test_readonly_replica_is_an_error_like_execute_command_and_no_approval(own_server, prefix):
    """A plain client on a server turned replica: READONLY for the script as for
    execute_command, a storage error from the store, never an approval; the connection stays
    in step (the next calls, once it is a master again, read their own)."""

    async def main() -> None:
        store = AsyncRedisStore.from_url(own_server.url, prefix=prefix)
        client: Any = store.client
        admin = redis.Redis.from_url(own_server.url)
        try:
            await store.load_scripts()
            admin.execute_command("REPLICAOF", "127.0.0.1", "1")  # nobody there: read-only
            write = ("EVAL", "return redis.call('SET', KEYS[1], 1)", 1, f"{prefix}k")
            with pytest.raises(ReadOnlyError):
                await store._send(*write)
            with pytest.raises(ReadOnlyError):
                await client.execute_command(*write)
            with pytest.raises(StorageUnavailable):  # a wrong answer must count: a write
                await store.settle_attempt("ro", False, time.time(), LOCKOUT)
            with pytest.raises(StorageUnavailable):  # a TOTP step must be marked: a write
                await store.settle_attempt("ro", True, time.time(), LOCKOUT, totp_step=77)
            admin.execute_command("REPLICAOF", "NO", "ONE")
            wrong = await store.settle_attempt("w", False, time.time(), LOCKOUT)
            right = await store.settle_attempt("r", True, time.time(), LOCKOUT)
            assert (wrong.result, right.result) == (Result.INVALID, Result.APPROVED)
            await _all_own(store._send, "after-readonly", 5)
        finally:
            admin.close()
            await store.aclose()

    asyncio.run(main())


def test_decode_responses_text_replies_are_those_of_execute_command(redis_server):
    async def main() -> None:
        client = _client(redis_server.url, decode_responses=True)
        lean = _lean(client)
        try:
            tokens = ["plain", "naïve", "名前", "emoji 🙂", ""]
            for token in tokens:
                assert await _echo(lean, token) == await _echo(client.execute_command, token)
                assert await _echo(lean, token) == token
            with pytest.raises(UnicodeDecodeError):
                await lean("EVAL", ECHO, 0, b"\xff\xfe")
            with pytest.raises(UnicodeDecodeError):
                await client.execute_command("EVAL", ECHO, 0, b"\xff\xfe")
            await _all_own(lean, "after-bad-utf8", 5)
        finally:
            await client.aclose()

    asyncio.run(main())


def test_a_blocking_pool_that_times_out_is_a_storage_error_never_a_hang(redis_server, prefix):
    async def main() -> None:
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            redis_server.url, max_connections=1, timeout=0.05, socket_timeout=5
        )
        client = redis.asyncio.Redis(connection_pool=pool)
        store = AsyncRedisStore(client, prefix=prefix)
        try:
            await store.load_scripts()
            _pause(redis_server.url, 200)
            first = asyncio.ensure_future(store.settle_attempt("a", True, time.time(), LOCKOUT))
            await asyncio.sleep(0)
            with pytest.raises(StorageUnavailable) as error:
                await store.settle_attempt("b", True, time.time(), LOCKOUT)
            assert "No connection available" in str(error.value.__cause__)
            assert (await first).result is Result.APPROVED
            second = await store.settle_attempt("c", False, time.time(), LOCKOUT)
            assert second.result is Result.INVALID
        finally:
            await client.aclose()
            await pool.disconnect()

    asyncio.run(main())


# -- where execute_command runs instead -------------------------------------------------------


def test_a_subclass_and_a_single_connection_client_run_execute_command(redis_server, prefix):
    calls: list[object] = []

    class Counting(redis.asyncio.Redis):
        async def execute_command(self, *args: Any, **options: Any) -> Any:
            calls.append(args[0])
            return await super().execute_command(*args, **options)

    async def main() -> None:
        for client in (
            Counting.from_url(redis_server.url),
            redis.asyncio.Redis.from_url(redis_server.url, single_connection_client=True),
        ):
            store = AsyncRedisStore(client, prefix=prefix)
            assert not isinstance(getattr(store._send, "__self__", None), AsyncScriptSender)
            try:
                results = await asyncio.gather(
                    *(
                        store.settle_attempt(f"x{i}", i % 2 == 0, time.time(), LOCKOUT)
                        for i in range(20)
                    )
                )
                assert [r.result for r in results] == [
                    Result.APPROVED if i % 2 == 0 else Result.INVALID for i in range(20)
                ]
            finally:
                await client.aclose()

    asyncio.run(main())
    assert calls.count("EVALSHA") >= 20


def test_a_sentinel_master_turned_readonly_then_a_forced_failover(tmp_path, prefix):
    """A Sentinel store's pooled connection outlives a forced failover (SENTINEL FAILOVER:
    the old master becomes a replica, READONLY to writes). Checks made during and after it:
    each a storage error or its own answer, a wrong answer never approved; once the new
    master is known, every check answers for its own code, and the old connection is not
    read for another call."""
    sentinel = Sentinel(tmp_path / "sentinel")
    try:

        async def main() -> None:
            store = AsyncRedisStore.from_sentinel(
                sentinel.addresses, sentinel.service, prefix=prefix, socket_timeout=2
            )
            assert isinstance(getattr(store._send, "__self__", None), AsyncScriptSender)
            try:
                before = await store.settle_attempt("before", True, time.time(), LOCKOUT)
                assert before.result is Result.APPROVED
                old = sentinel.master_port()
                # the master turns read-only under the pooled connection (as a demoted
                # master does before the Sentinels kill its clients): READONLY is a broken
                # connection, retried once through the Sentinels (same master), an error
                with sentinel.master.client() as master:
                    master.execute_command("REPLICAOF", "127.0.0.1", "1")
                    try:
                        with counted_runs() as runs, pytest.raises(StorageUnavailable) as error:
                            await store.settle_attempt("ro", False, time.time(), LOCKOUT)
                        assert runs.retried
                        assert isinstance(error.value.__cause__, RedisConnectionError)
                        assert "slave" in str(error.value.__cause__)
                    finally:
                        master.execute_command("REPLICAOF", "NO", "ONE")
                again = await store.settle_attempt("again", False, time.time(), LOCKOUT)
                assert again.result is Result.INVALID
                with sentinel.sentinels[0].client() as admin:
                    admin.execute_command("SENTINEL", "FAILOVER", sentinel.service)
                deadline = time.monotonic() + 30
                step = 1000
                while True:  # checks while it fails over: an error or their own answer
                    step += 1
                    right = step % 2 == 0
                    try:
                        outcome = await store.settle_attempt(
                            f"during-{step}", right, time.time(), LOCKOUT, totp_step=step
                        )
                        assert outcome.result is (Result.APPROVED if right else Result.INVALID)
                    except StorageUnavailable:
                        pass
                    with sentinel.processes()[0].client() as first:
                        demoted = first.info("replication")["role"] == "slave"
                    if sentinel.master_port() != old and demoted:
                        break
                    assert time.monotonic() < deadline, "no failover within 30 s"
                    await asyncio.sleep(0.05)
                rights = [i % 3 == 0 for i in range(30)]
                results = await asyncio.gather(
                    *(
                        store.settle_attempt(f"after-{i}", right, time.time(), LOCKOUT, totp_step=i)
                        for i, right in enumerate(rights)
                    )
                )
                for right, outcome in zip(rights, results, strict=True):
                    assert outcome.result is (Result.APPROVED if right else Result.INVALID)
            finally:
                await store.aclose()

        asyncio.run(main())
    finally:
        sentinel.stop()


def _sms_gate(store: AsyncRedisStore) -> tuple[AsyncVerifier, OutboxSender]:
    outbox = OutboxSender()
    settings = Settings(secret_keys=(KEY,), pumping_guard=False)
    return AsyncVerifier(settings, store=store, sender=outbox), outbox


@pytest.mark.parametrize("how", ["cancel", "timeout"])
def test_verify_cancelled_or_timed_out_never_approves_a_wrong_code_nor_twice(
    redis_server, prefix, how
):
    """``check`` of the right code cancelled after 0, 2, 4, ... turns (or under an
    ``asyncio.timeout`` while the server holds commands); then a wrong code and the right
    one. A wrong code is never approved, a challenge is approved at most once."""

    async def main() -> int:
        store = AsyncRedisStore.from_url(redis_server.url, prefix=prefix)
        gate, outbox = _sms_gate(store)
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
                    _pause(redis_server.url, 150)
                    with pytest.raises(TimeoutError):
                        async with asyncio.timeout(0.05):
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


def _pause(url: str, milliseconds: int) -> None:
    with redis.Redis.from_url(url) as admin:
        admin.execute_command("CLIENT", "PAUSE", milliseconds, "ALL")


def test_redis_py_metrics_switched_on_run_execute_command(redis_server, prefix, monkeypatch):
    """With redis-py's metrics on, the client's execute_command runs each call (it records
    them); off again, the lean call does."""

    async def main() -> list[int]:
        client = redis.asyncio.Redis.from_url(redis_server.url)
        seen: list[object] = []
        plain = client.execute_command

        async def counting(*args: Any, **options: Any) -> Any:
            seen.append(args[0])
            return await plain(*args, **options)

        client.execute_command = counting  # type: ignore[method-assign]
        store = AsyncRedisStore(client, prefix=prefix)
        counts = []
        try:
            for metrics in (object(), None):
                monkeypatch.setattr(lean_module, "_metrics_collector", lambda m=metrics: m)
                seen.clear()
                outcome = await store.settle_attempt("m", True, time.time(), LOCKOUT)
                assert outcome.result is Result.APPROVED
                counts.append(seen.count("EVALSHA") + seen.count("EVAL"))
        finally:
            await client.aclose()
        return counts

    counts = asyncio.run(main())
    assert counts[0] >= 1
    assert counts[1] == 0
