"""A check carrying a state write (``then_put``) is sent once: never retried.

The store's clients retry a broken connection once (``connect.py``). A reset after the
server ran a check script but before its reply arrived makes that retry run the script a
second time: a check that approved (and wrote the token's state) then answers "expired" or
"replayed", and ``verify`` would raise with the state written. Under :func:`sent_once`, the
retry policies the store builds give up instead: the call fails (``StorageUnavailable``) and
``verify`` forgets the state (``otpgate.core.state_write``). A client built by the caller
with its own ``retry`` keeps its policy (see ``docs/factors.rst``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

import redis.asyncio.retry
import redis.retry
from redis.exceptions import ConnectionError as RedisConnectionError

T = TypeVar("T")

_ONCE: ContextVar[bool] = ContextVar("otpgate_redis_once", default=False)


class NotRetried(RedisConnectionError):
    """The second run of a call sent once: not sent."""


@contextlib.contextmanager
def sent_once() -> Iterator[None]:
    """Calls made inside are not retried by the store's retry policies."""
    token = _ONCE.set(True)
    try:
        yield
    finally:
        _ONCE.reset(token)


def _first_only(do: Callable[[], T]) -> Callable[[], T]:
    runs = 0

    def once() -> T:
        nonlocal runs
        runs += 1
        if runs > 1:
            raise NotRetried("a check carrying a state write is not retried")
        return do()

    return once


class Retry(redis.retry.Retry):
    """redis-py's policy, but a call made under :func:`sent_once` runs at most once."""

    def call_with_retry(self, do: Callable[[], T], fail: Any, *args: Any, **kwargs: Any) -> T:
        if _ONCE.get():
            do = _first_only(do)
        result: T = super().call_with_retry(do, fail, *args, **kwargs)
        return result


class AsyncRetry(redis.asyncio.retry.Retry):
    """The asyncio twin of :class:`Retry`."""

    async def call_with_retry(
        self, do: Callable[[], Awaitable[T]], fail: Any, *args: Any, **kwargs: Any
    ) -> T:
        if _ONCE.get():
            do = _first_only(do)
        result: T = await super().call_with_retry(do, fail, *args, **kwargs)
        return result
