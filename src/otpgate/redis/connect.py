"""Building redis-py clients (sync and asyncio) from URLs, Sentinel and Cluster settings.

Defaults suit a second factor: short timeouts (a slow Redis must become a quick, typed
error, not a hung login) and at most one immediate retry of a broken connection.
Every default can be overridden by passing the same redis-py keyword argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.retry
import redis.asyncio.sentinel
import redis.cluster
import redis.sentinel
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from .once import AsyncRetry, Retry

#: Seconds to wait for a reply, and for a connection, unless told otherwise.
SOCKET_TIMEOUT = 0.5
CONNECT_TIMEOUT = 0.5

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
_FLOAT_OPTIONS = frozenset({"socket_timeout", "socket_connect_timeout"})

SyncClient = redis.Redis | redis.cluster.RedisCluster
AsyncClient = redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster


def _timeouts(options: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "socket_timeout": SOCKET_TIMEOUT,
        "socket_connect_timeout": CONNECT_TIMEOUT,
    }
    merged.update(options)
    return merged


def _retry(asynchronous: bool, cluster: bool) -> Any:
    """One immediate retry of a broken connection (a server restart, a failover); a cluster
    also retries a few times while its slots move. Timeouts are never retried: the script
    may have run, and a second run would count twice. A check carrying a state write is
    counted, and a retried one that refuses forgets the state (``once.py``)."""
    if cluster:
        cluster_class: Any = redis.asyncio.retry.Retry if asynchronous else redis.retry.Retry
        return cluster_class(ExponentialWithJitterBackoff(base=0.05, cap=0.5), 3)
    # the runs of a check carrying a state write are counted (``once.py``)
    retry_class: Any = AsyncRetry if asynchronous else Retry
    return retry_class(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


def _options(options: dict[str, Any], *, asynchronous: bool, cluster: bool) -> dict[str, Any]:
    merged = _timeouts(options)
    merged.setdefault("retry", _retry(asynchronous, cluster))
    return merged


@dataclass(frozen=True)
class SentinelUrl:
    """``redis+sentinel://[[user]:password@]host:port[,host:port...]/service_name[/db]``."""

    sentinels: list[tuple[str, int]]
    service_name: str
    db: int = 0
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, url: str) -> SentinelUrl:
        parts = urlsplit(url)
        if parts.scheme not in SENTINEL_SCHEMES:
            raise ValueError("a Sentinel URL starts with redis+sentinel:// or rediss+sentinel://")
        userinfo, _, hosts = parts.netloc.rpartition("@")
        sentinels = [parse_host_port(item) for item in hosts.split(",") if item]
        path = [unquote(p) for p in parts.path.split("/") if p]
        if not sentinels or not path or len(path) > 2:
            raise ValueError("expected redis+sentinel://host:port[,host:port]/service_name[/db]")
        options: dict[str, Any] = {}
        if userinfo:
            user, _, password = userinfo.partition(":")
            if user:
                options["username"] = unquote(user)
            if password:
                options["password"] = unquote(password)
        if parts.scheme == "rediss+sentinel":
            options["ssl"] = True
        for name, value in parse_qsl(parts.query):
            options[name] = float(value) if name in _FLOAT_OPTIONS else value
        db = int(path[1]) if len(path) == 2 else 0
        return cls(sentinels, path[0], db, options)


def parse_host_port(item: str | tuple[str, int]) -> tuple[str, int]:
    """``"host:port"`` (or ``"[::1]:port"``, or a pair) as a ``(host, port)`` pair."""
    if isinstance(item, tuple):
        return item[0], int(item[1])
    host, sep, port = item.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"expected host:port, got {item!r}")
    return host.strip("[]"), int(port)


def is_sentinel_url(url: str) -> bool:
    return url.split("://", 1)[0] in SENTINEL_SCHEMES


def sync_client(
    url: str, *, cluster: bool = False, **options: Any
) -> tuple[SyncClient, list[redis.Redis]]:
    """A ``redis.Redis`` (or ``RedisCluster``) for ``url`` (redis, rediss, unix, sentinel),
    and the Sentinel clients to close with it."""
    if is_sentinel_url(url):
        spec = SentinelUrl.parse(url)
        return sync_sentinel(
            spec.sentinels, spec.service_name, db=spec.db, **{**spec.options, **options}
        )
    if cluster:
        merged = _options(options, asynchronous=False, cluster=True)
        return redis.cluster.RedisCluster.from_url(url, **merged), []
    return redis.Redis.from_url(url, **_options(options, asynchronous=False, cluster=False)), []


def async_client(
    url: str, *, cluster: bool = False, **options: Any
) -> tuple[AsyncClient, list[redis.asyncio.Redis]]:
    """The asyncio twin of :func:`sync_client`."""
    if is_sentinel_url(url):
        spec = SentinelUrl.parse(url)
        return async_sentinel(
            spec.sentinels, spec.service_name, db=spec.db, **{**spec.options, **options}
        )
    merged = _options(options, asynchronous=True, cluster=cluster)
    if cluster:
        return redis.asyncio.cluster.RedisCluster.from_url(url, **merged), []
    return redis.asyncio.Redis.from_url(url, **merged), []


def _sentinel_kwargs(
    options: dict[str, Any], sentinel_kwargs: dict[str, Any] | None, asynchronous: bool
) -> dict[str, Any]:
    if sentinel_kwargs is not None:
        return sentinel_kwargs
    kwargs = {k: v for k, v in options.items() if k.startswith("socket_")}
    kwargs["retry"] = _retry(asynchronous, cluster=False)
    return kwargs


def sync_sentinel(
    sentinels: Sequence[tuple[str, int] | str],
    service_name: str,
    *,
    sentinel_kwargs: dict[str, Any] | None = None,
    **options: Any,
) -> tuple[redis.Redis, list[redis.Redis]]:
    """The master client of ``service_name``, and the Sentinel clients to close with it."""
    merged = _options(options, asynchronous=False, cluster=False)
    sentinel_class: Any = redis.sentinel.Sentinel  # untyped in redis-py
    manager = sentinel_class(
        [parse_host_port(s) for s in sentinels],
        sentinel_kwargs=_sentinel_kwargs(merged, sentinel_kwargs, False),
        **merged,
    )
    return manager.master_for(service_name), list(manager.sentinels)


def async_sentinel(
    sentinels: Sequence[tuple[str, int] | str],
    service_name: str,
    *,
    sentinel_kwargs: dict[str, Any] | None = None,
    **options: Any,
) -> tuple[redis.asyncio.Redis, list[redis.asyncio.Redis]]:
    """The asyncio twin of :func:`sync_sentinel`."""
    merged = _options(options, asynchronous=True, cluster=False)
    sentinel_class: Any = redis.asyncio.sentinel.Sentinel  # untyped in redis-py
    manager = sentinel_class(
        [parse_host_port(s) for s in sentinels],
        sentinel_kwargs=_sentinel_kwargs(merged, sentinel_kwargs, True),
        **merged,
    )
    return manager.master_for(service_name), list(manager.sentinels)


def decodes_responses(client: Any) -> bool:
    """True if ``client`` hands replies back as text (``decode_responses``), or if that
    cannot be told: the store then writes challenges as text, which any client reads."""
    try:
        return bool(client.get_encoder().decode_responses)
    except Exception:  # a client of its own kind: the text format is the safe one
        return True
