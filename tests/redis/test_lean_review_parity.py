"""The lean call's review (see test_lean_review.py): replies and errors as
``execute_command`` gives them, READONLY, a Sentinel failover, and where
``execute_command`` runs instead.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis
import redis.asyncio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError, ResponseError

from otpgate import StorageUnavailable
from otpgate.core.policy import Result
from otpgate.redis import AsyncRedisStore
from otpgate.redis import lean as lean_module
from otpgate.redis.lean import AsyncScriptSender
from otpgate.redis.once import counted_runs
from tests.redis.lean_support import (
    ECHO,
    LOCKOUT,
    Send,
    all_own,
    echo,
    lean_of,
    make_client,
)
from tests.redis.servers import Sentinel

pytestmark = pytest.mark.redis


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
        client = make_client(
            redis_server.url, decode_responses=decode, protocol=protocol, legacy_responses=legacy
        )
        lean = lean_of(client)
        try:
            for text, argv in _SCRIPTS:
                command = ("EVAL", text, 1, f"{prefix}none", *argv)
                assert await run(lean, command) == await run(client.execute_command, command)
                sha = await client.script_load(text)
                command = ("EVALSHA", sha, 1, f"{prefix}none", *argv)
                assert await run(lean, command) == await run(client.execute_command, command)
            missing = ("EVALSHA", "0" * 40, 0)
            assert await run(lean, missing) == await run(client.execute_command, missing)
            await all_own(lean, "after-errors", 5)
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
            await all_own(store._send, "after-readonly", 5)
        finally:
            admin.close()
            await store.aclose()

    asyncio.run(main())


def test_decode_responses_text_replies_are_those_of_execute_command(redis_server):
    async def main() -> None:
        client = make_client(redis_server.url, decode_responses=True)
        lean = lean_of(client)
        try:
            tokens = ["plain", "naïve", "名前", "emoji 🙂", ""]
            for token in tokens:
                assert await echo(lean, token) == await echo(client.execute_command, token)
                assert await echo(lean, token) == token
            with pytest.raises(UnicodeDecodeError):
                await lean("EVAL", ECHO, 0, b"\xff\xfe")
            with pytest.raises(UnicodeDecodeError):
                await client.execute_command("EVAL", ECHO, 0, b"\xff\xfe")
            await all_own(lean, "after-bad-utf8", 5)
        finally:
            await client.aclose()

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
                deadline = time.monotonic() + 30
                while True:  # master again (the Sentinels may have seen it a replica a moment)
                    try:
                        again = await store.settle_attempt("again", False, time.time(), LOCKOUT)
                        break
                    except StorageUnavailable:
                        assert time.monotonic() < deadline
                        await asyncio.sleep(0.05)
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
