"""The async store's lean script call (``otpgate.redis.lean``) on a real redis-server: every
answer is its own call's, whatever happens to the calls around it (cancelled, timed out,
a connection closed under it, a flushed script cache), and it sends the bytes redis-py
would."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis
import redis.asyncio
from redis.exceptions import DataError

from otpgate import StorageUnavailable
from otpgate.core.policy import LockoutPolicy, Result
from otpgate.redis import AsyncRedisStore
from otpgate.redis.lean import lean_sender, packed
from otpgate.redis.once import counted_runs
from tests.redis.test_fold_findings_redis import ReplyDropper

pytestmark = pytest.mark.redis

LOCKOUT = LockoutPolicy(after=1000, base=60, maximum=900, hard_after=2000, memory=86400)


def _store(url: str, prefix: str, **options: Any) -> AsyncRedisStore:
    return AsyncRedisStore.from_url(url, prefix=prefix, **options)


async def _settle(store: AsyncRedisStore, subject: str, right: bool) -> Result:
    """One check's store step: APPROVED for a right answer, INVALID for a wrong one."""
    outcome = await store.settle_attempt(subject, right, time.time(), LOCKOUT)
    return outcome.result


def _pause_server(url: str, milliseconds: int) -> None:
    """Hold every client's commands on the server for ``milliseconds`` (read, not run)."""
    admin = redis.Redis.from_url(url)
    admin.execute_command("CLIENT", "PAUSE", milliseconds, "ALL")
    admin.close()


@pytest.mark.parametrize(
    "args",
    [
        ("EVALSHA", b"f" * 40, b"2", "otpgate:{s:a}:x", "otpgate:{s:a}:y", "1.5", 3, -7),
        ("EVAL", "return 1", 0),
        ("EVALSHA", b"f" * 40, b"1", "clé ü 名前", b"\x00\xff\r\n", "x" * 20000, b"y" * 7000),
        ("EVALSHA", b"f" * 40, b"1", memoryview(b"view"), 1.25, ""),
    ],
    ids=["settle-like", "eval", "non-ascii-and-large", "memoryview-float-empty"],
)
@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_packed_is_what_redis_py_sends(args, encoding):
    connection = redis.asyncio.Connection(encoding=encoding, encoding_errors="replace")
    assert packed(args, connection.encoder) == b"".join(connection.pack_command(*args))


def test_packed_refuses_what_redis_py_refuses():
    encoder = redis.asyncio.Connection().encoder
    for bad in (True, None, object()):
        with pytest.raises(DataError):
            packed(("EVALSHA", b"f" * 40, b"1", bad), encoder)


def test_the_lean_call_is_for_plain_clients_only(redis_server):
    class Custom(redis.asyncio.Redis):
        pass

    class OwnConnection(redis.asyncio.Connection):
        pass

    plain = redis.asyncio.Redis.from_url(redis_server.url)
    assert lean_sender(plain) is not None
    assert lean_sender(redis.asyncio.Redis.from_url("unix:///tmp/redis.sock")) is not None
    assert lean_sender(redis.asyncio.Redis.from_url("rediss://localhost:6380/0")) is not None
    assert lean_sender(Custom.from_url(redis_server.url)) is None
    own = redis.asyncio.Redis.from_url(redis_server.url, connection_class=OwnConnection)
    assert lean_sender(own) is None
    assert (
        lean_sender(redis.asyncio.Redis.from_url(redis_server.url, single_connection_client=True))
        is None
    )


def test_a_cancelled_check_leaves_no_reply_for_the_next_one(redis_server, prefix):
    """A check cancelled while the server holds its command (its script runs later and
    approves): the connection it used is not handed on with that reply unread. The next
    checks on the same store, a wrong answer first, each get their own answer."""

    async def main() -> list[Result]:
        store = _store(redis_server.url, prefix)
        try:
            assert await _settle(store, "warm", False) is Result.INVALID  # one pooled connection
            _pause_server(redis_server.url, 300)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(_settle(store, "cancelled", True), 0.05)
            # the pool's connection is the one the cancelled call used (or a new one)
            answers = [await _settle(store, "wrong", False)]
            answers += [await _settle(store, "right", True)]
            return answers
        finally:
            await store.aclose()

    assert asyncio.run(main()) == [Result.INVALID, Result.APPROVED]


def test_a_task_cancelled_mid_call_then_concurrent_checks_get_their_own_answers(
    redis_server, prefix
):
    async def main() -> list[tuple[bool, Result]]:
        store = _store(redis_server.url, prefix)
        try:
            _pause_server(redis_server.url, 200)
            doomed = [asyncio.ensure_future(_settle(store, f"doomed-{i}", True)) for i in range(5)]
            await asyncio.sleep(0.02)  # the commands are sent, their replies held
            for task in doomed:
                task.cancel()
            await asyncio.gather(*doomed, return_exceptions=True)
            assert all(task.cancelled() for task in doomed)
            rights = [i % 3 == 0 for i in range(60)]
            results = await asyncio.gather(
                *(_settle(store, f"after-{i}", right) for i, right in enumerate(rights))
            )
            return list(zip(rights, results, strict=True))
        finally:
            await store.aclose()

    for right, result in asyncio.run(main()):
        assert result is (Result.APPROVED if right else Result.INVALID)


def test_a_timed_out_reply_is_never_read_by_another_call(redis_server, prefix):
    """The store's own socket timeout (not a cancel from outside): the timed-out call is a
    storage error, the connection is dropped, and the calls after it read their own
    replies."""

    async def main() -> list[Result]:
        store = _store(redis_server.url, prefix, socket_timeout=0.05)
        try:
            await _settle(store, "warm", False)
            _pause_server(redis_server.url, 250)
            with pytest.raises(StorageUnavailable):
                await _settle(store, "timed-out", True)
            await asyncio.sleep(0.3)  # the pause is over; the held script has run
            return [await _settle(store, "next-wrong", False), await _settle(store, "next", True)]
        finally:
            await store.aclose()

    assert asyncio.run(main()) == [Result.INVALID, Result.APPROVED]


def test_100_concurrent_checks_each_get_their_own_answer(redis_server, prefix):
    async def main() -> list[tuple[bool, Result]]:
        # 8 connections: the calls wait their turn, and each connection serves many
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            redis_server.url, max_connections=8, socket_timeout=5
        )
        client = redis.asyncio.Redis(connection_pool=pool)
        store = AsyncRedisStore(client, prefix=prefix)
        assert lean_sender(client) is not None
        try:
            rights = [i % 2 == 0 or i % 7 == 0 for i in range(100)]
            results = await asyncio.gather(
                *(_settle(store, f"subject-{i}", right) for i, right in enumerate(rights)),
                return_exceptions=True,
            )
            return list(zip(rights, results, strict=True))
        finally:
            await client.aclose()
            await pool.disconnect()  # a pool passed in is the caller's to close

    for right, result in asyncio.run(main()):
        assert result is (Result.APPROVED if right else Result.INVALID)


@pytest.mark.parametrize("decode", [False, True], ids=["bytes", "text"])
def test_a_flushed_script_cache_is_loaded_again(redis_server, prefix, decode):
    async def main() -> list[Result]:
        store = _store(redis_server.url, prefix, decode_responses=decode)
        try:
            first = await _settle(store, "alice", True)
            await store.client.script_flush()
            again = await _settle(store, "bob", False)
            third = await _settle(store, "carol", True)
            return [first, again, third]
        finally:
            await store.aclose()

    assert asyncio.run(main()) == [Result.APPROVED, Result.INVALID, Result.APPROVED]


def test_a_connection_closed_after_the_command_was_read_is_retried_once(redis_server, prefix):
    """The server side closes the connection on reading the command (before running it):
    the one retry runs it on a new connection, and the store notes the second run."""
    port = int(redis_server.url.rsplit(":", 1)[1].split("/")[0])
    dropper = ReplyDropper(port)
    try:

        async def main() -> tuple[Result, bool]:
            store = _store(f"redis://127.0.0.1:{dropper.port}/0", prefix)
            try:
                await _settle(store, "warm", False)
                dropper.request_armed = b"dropped-subject"
                with counted_runs() as runs:
                    result = await _settle(store, "dropped-subject", True)
                return result, runs.retried
            finally:
                await store.aclose()

        assert asyncio.run(main()) == (Result.APPROVED, True)
        assert dropper.dropped == 1
    finally:
        dropper.close()


def test_a_response_callback_for_the_command_is_applied(redis_server, prefix):
    """A client set up to treat ``EVALSHA`` replies its own way is left to do so."""

    async def main() -> list[object]:
        client = redis.asyncio.Redis.from_url(redis_server.url)
        seen: list[object] = []

        def callback(response: object, **options: Any) -> object:
            seen.append(response)
            return response

        client.set_response_callback("EVALSHA", callback)
        store = AsyncRedisStore(client, prefix=prefix)
        try:
            await store.load_scripts()
            assert await _settle(store, "alice", True) is Result.APPROVED
        finally:
            await client.aclose()
        return seen

    assert len(asyncio.run(main())) == 1


def test_a_sentinel_store_reconnects_through_the_sentinels_after_its_connection_is_killed(
    redis_sentinel, prefix
):
    """The server closes the Sentinel store's pooled connection between two checks: the
    next check's one retry asks the Sentinels for the master again and gets its own answer."""

    async def main() -> list[Result]:
        store = AsyncRedisStore.from_sentinel(
            redis_sentinel.addresses, redis_sentinel.service, prefix=prefix, client_name="lean"
        )
        assert lean_sender(store.client) is not None
        try:
            answers = [await _settle(store, "before", True)]
            master = redis.Redis(port=redis_sentinel.master_port())
            ours = [c["id"] for c in master.client_list() if c.get("name") == "lean"]
            assert ours
            for client_id in ours:
                master.client_kill_filter(_id=client_id)
            master.close()
            with counted_runs() as runs:
                answers.append(await _settle(store, "after-wrong", False))
            assert runs.retried
            answers.append(await _settle(store, "after", True))
            return answers
        finally:
            await store.aclose()

    assert asyncio.run(main()) == [Result.APPROVED, Result.INVALID, Result.APPROVED]
