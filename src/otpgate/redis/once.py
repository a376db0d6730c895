"""A check carrying a state write (``then_put``): whether it was run again is noted, and a
retried one that refuses forgets the state.

The store's clients retry a broken connection once (``connect.py``), which keeps a dead
pooled connection (a server restart, a failover) from failing a request. But a reset after
the server ran a check script and before its reply arrived makes that retry run the script a
second time: a check that approved (and wrote the token's state) then answers "expired" or
"replayed". So the store notes whether a call made under :func:`counted_runs` was run
again; when a retried check carrying a write does not approve, the first run may have
written the state, and the store forgets it before answering. A call that fails after its
retry raises (``StorageUnavailable``) and ``verify`` forgets the state
(``otpgate.core.state_write``). A client built by the caller with its own ``retry`` runs its
own policy unnoticed (see ``docs/factors.rst``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

import redis.asyncio.retry
import redis.retry

T = TypeVar("T")


class Runs:
    """Whether the store's retry policy ran anything twice for the calls made under
    :func:`counted_runs` (a connection's set-up goes through the policy too, apart)."""

    __slots__ = ("retried",)

    def __init__(self) -> None:
        #: Something was sent again: the first run may have taken effect.
        self.retried = False


_RUNS: ContextVar[Runs | None] = ContextVar("otpgate_redis_runs", default=None)


@contextlib.contextmanager
def counted_runs() -> Iterator[Runs]:
    """Count the runs of the calls made inside by the store's retry policies."""
    runs = Runs()
    token = _RUNS.set(runs)
    try:
        yield runs
    finally:
        _RUNS.reset(token)


def _counting(do: Callable[[], T], runs: Runs) -> Callable[[], T]:
    """``do``, noting in ``runs`` when the policy runs it a second time."""
    ran = False

    def counted() -> T:
        nonlocal ran
        if ran:
            runs.retried = True
        ran = True
        return do()

    return counted


class Retry(redis.retry.Retry):
    """redis-py's policy, noting a call run again under :func:`counted_runs`."""

    def call_with_retry(self, do: Callable[[], T], fail: Any, *args: Any, **kwargs: Any) -> T:
        runs = _RUNS.get()
        if runs is not None:
            do = _counting(do, runs)
        result: T = super().call_with_retry(do, fail, *args, **kwargs)
        return result


class AsyncRetry(redis.asyncio.retry.Retry):
    """The asyncio twin of :class:`Retry`."""

    async def call_with_retry(
        self, do: Callable[[], Awaitable[T]], fail: Any, *args: Any, **kwargs: Any
    ) -> T:
        runs = _RUNS.get()
        if runs is not None:
            do = _counting(do, runs)
        result: T = await super().call_with_retry(do, fail, *args, **kwargs)
        return result
