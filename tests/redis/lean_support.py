"""Helpers of the lean call's review (test_lean_review*.py): clients, the echo call whose
reply names its own call, and checks of the pool after an attack."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import redis
import redis.asyncio

from otpgate import AsyncVerifier, OutboxSender, Settings
from otpgate.core.policy import LockoutPolicy
from otpgate.redis import AsyncRedisStore
from otpgate.redis.connect import async_client
from otpgate.redis.lean import lean_sender
from tests.conftest import KEY

if sys.version_info >= (3, 11):
    from asyncio import timeout as _timeout
else:  # redis-py's own dependency on Python 3.10
    from async_timeout import timeout as _timeout

ECHO = "return ARGV[1]"
LOCKOUT = LockoutPolicy(after=100000, base=60, maximum=900, hard_after=200000, memory=86400)
Send = Callable[..., Awaitable[Any]]


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def make_client(url: str, **options: Any) -> redis.asyncio.Redis:
    options.setdefault("socket_timeout", 5)
    client, _ = async_client(url, **options)
    assert isinstance(client, redis.asyncio.Redis)
    return client


def lean_of(client: redis.asyncio.Redis) -> Send:
    send = lean_sender(client)
    assert send is not None
    return send


async def echo(send: Send, token: str) -> Any:
    return await send("EVAL", ECHO, 0, token)


async def all_own(send: Send, label: str, count: int = 30) -> None:
    """``count`` calls, sequential then concurrent, each reading its own token."""
    for i in range(3):
        assert await echo(send, f"{label}-seq-{i}") in (
            f"{label}-seq-{i}",
            f"{label}-seq-{i}".encode(),
        )
    tokens = [f"{label}-{i}" for i in range(count)]
    width = min(count, send.__self__.client.connection_pool.max_connections)
    replies = []
    for start in range(0, count, width):  # a default pool refuses more than its maximum
        replies += await asyncio.gather(*(echo(send, t) for t in tokens[start : start + width]))
    assert [r.decode() if isinstance(r, bytes) else r for r in replies] == tokens


def idle_clean(client: redis.asyncio.Redis) -> None:
    """Every pooled connection is idle (none leaked in use)."""
    pool: Any = client.connection_pool
    assert not pool._in_use_connections


async def no_unread(client: redis.asyncio.Redis) -> None:
    """No idle connection that is still connected holds bytes nobody read."""
    pool: Any = client.connection_pool
    for conn in list(pool._available_connections):
        if conn.is_connected:
            assert not await conn.can_read()


def sms_gate(store: AsyncRedisStore) -> tuple[AsyncVerifier, OutboxSender]:
    outbox = OutboxSender()
    settings = Settings(secret_keys=(KEY,), pumping_guard=False)
    return AsyncVerifier(settings, store=store, sender=outbox), outbox


def pause_server(url: str, milliseconds: int) -> None:
    with redis.Redis.from_url(url) as admin:
        admin.execute_command("CLIENT", "PAUSE", milliseconds, "ALL")


def asyncio_timeout(delay: float) -> Any:
    """``asyncio.timeout`` (``async_timeout`` before Python 3.11)."""
    return _timeout(delay)
