"""How a failed Redis call becomes the core's ``StorageUnavailable``: what may be raised,
and what is logged (never a key, an argument or a reply)."""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from otpgate.core.errors import StorageUnavailable

logger = logging.getLogger("otpgate")

#: What a failed call may raise: redis-py's errors (connection, timeout, a server's reply),
#: Cluster set-up errors, socket errors, and a reply we cannot read.
FAILURES: tuple[type[BaseException], ...] = (
    RedisError,
    RedisClusterException,
    OSError,
    asyncio.TimeoutError,
    TypeError,
    ValueError,
    KeyError,
)


def unavailable(error: BaseException) -> StorageUnavailable:
    """The core's storage error for a failed call. Logs the error's type, and the message of
    connection errors (host and port); never a key, an argument or a reply."""
    if isinstance(error, (RedisConnectionError, RedisTimeoutError, OSError)):
        logger.warning("otpgate redis store unavailable: %s: %s", type(error).__name__, error)
    else:
        logger.warning("otpgate redis store unavailable: %s", type(error).__name__)
    return StorageUnavailable()


class StaleApproval(Exception):
    """A check carrying a state write (``then_put``) was approved by its script, which wrote
    the state, but its reply is no approval here: a challenge this otpgate does not read (an
    earlier version's, or a damaged one) answers "expired". The store then burns the state."""


def approved(reply: object) -> bool:
    """The reply of a check script that approved."""
    return isinstance(reply, (bytes, str)) and reply[:9] in (b"approved|", "approved|")
