"""otpgate's Redis store: challenges, budgets, lockouts and TOTP replay markers in Redis.

``RedisStore`` (for ``Verifier``) wraps ``redis.Redis`` or ``redis.cluster.RedisCluster``;
``AsyncRedisStore`` (for ``AsyncVerifier``) wraps their ``redis.asyncio`` twins. Both run
every state change as one atomic Lua script (one round trip), work on a standalone server,
behind Sentinel and on a Cluster, and raise ``StorageUnavailable`` when Redis fails.

    store = RedisStore.from_url("redis://localhost:6379/0")
    store = AsyncRedisStore.from_url("redis+sentinel://s1:26379,s2:26379/mymaster")
    store = RedisStore.from_url("redis://node1:7000", cluster=True)

Needs redis-py: ``pip install "otpgate[redis]"``.
"""

from __future__ import annotations

try:
    import redis  # noqa: F401
except ModuleNotFoundError as error:  # pragma: no cover - exercised in a subprocess
    if error.name != "redis":
        raise
    raise ImportError(
        'otpgate.redis needs redis-py; install it with: pip install "otpgate[redis]"'
    ) from error

from .aio import AsyncRedisStore
from .store import DEFAULT_PREFIX, RedisStore

__all__ = ["DEFAULT_PREFIX", "AsyncRedisStore", "RedisStore"]
