"""Pure policy arithmetic shared by every store: lockout waits, resend cooldowns, budgets.

A store applies these atomically; the Redis scripts mirror them line for line.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from .challenge import ChallengeRecord
from .settings import Settings

#: ``locked_until`` of a hard lock: lifted only by ``unlock``.
HARD_LOCK = -1.0


@dataclass(frozen=True)
class LockoutPolicy:
    after: int
    base: int
    maximum: int
    hard_after: int
    memory: int

    @classmethod
    def from_settings(cls, settings: Settings) -> LockoutPolicy:
        return cls(
            after=settings.lockout_after,
            base=settings.lockout_base,
            maximum=settings.lockout_max,
            hard_after=settings.hard_lock_after,
            memory=settings.failure_memory,
        )

    def locked_until(self, failures: int, now: float) -> float:
        """When a subject with ``failures`` consecutive failures may try again (0: now)."""
        if failures >= self.hard_after:
            return HARD_LOCK
        if failures >= self.after:
            wait: int = min(self.base << (failures - self.after), self.maximum)
            return now + wait
        return 0.0


def lock_retry_after(locked_until: float, now: float) -> float | None:
    """Seconds to wait, None for a hard lock, 0 when not locked."""
    if locked_until == HARD_LOCK:
        return None
    return max(0.0, locked_until - now)


def resend_cooldown(sends: int, base: int) -> int:
    """Wait after the ``sends``-th send: ``base``, then doubling (30, 60, 120, ...)."""
    cooldown: int = base << max(0, sends - 1)
    return cooldown


#: The prefix of an IPv6 client a per-IP budget counts: one host (or home) gets a /64.
IPV6_PREFIX = 64


def client_network(client_ip: str) -> str:
    """What a per-IP budget counts for ``client_ip``: an IPv4 address as it is, an IPv6
        address by its /64 (the rest of it is the host's to choose freely), an IPv4-mapped IPv6
        address (``::ffff:198.51.100.7``), a 6to4 (``2002::/16``) or a Teredo (``2001::/32``) one as
    the IPv4 address it carries. A zone (``%eth0``) is ignored.
        Text that is not an IP address (a test client's name) counts as itself, as before.
    """
    try:
        address = ipaddress.ip_address(client_ip.strip().split("%", 1)[0])
    except ValueError:
        return client_ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        if address.sixtofour is not None:  # the holder of this IPv4 holds the whole /48
            return str(address.sixtofour)
        if address.teredo is not None:  # (relay, client): the client's public IPv4
            return str(address.teredo[1])
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


#: Characters of a number's (or an address's) digest that name its part of the subject's
#: record of sends (24 bits: two destinations of one subject sharing a part would merely
#: share their budgets, never exceed one).
PART_CHARS = 4

#: Characters of a keyed digest that name a budget shared across accounts (a number's or an
#: address's enrollment budget, a client network's, a number's call budget): 72 bits, a
#: shorter key (one jemalloc size class less in Redis). Two budgets that share a tag merely
#: count together (the tighter for both, never a send beyond one): among 10^9 budgets, the
#: chance that any two share one is about 10^18 / 2^73, 1 in 10,000.
TAG_CHARS = 12


@dataclass(frozen=True)
class Budget:
    """A send budget to spend one unit of. ``key`` never holds a raw phone number or address.
    Budgets with the same ``key`` (and different windows) are one family sharing one record
    of sends, always spent together (see ``Store.spend_budgets``). A budget with a ``part``
    (short URL-safe text, such as a few characters of a number's digest) counts only the
    sends of its family recorded with that part: a number's budgets of one subject live in
    the subject's record (one store key fewer per send), each send noted with its number's
    part; the budgets of one family name at most one part."""

    scope: str
    key: str
    limit: int
    window: int
    part: str = ""


class Result(str, Enum):
    """What a store reports for a check, a start or a resend."""

    APPROVED = "approved"
    INVALID = "invalid"
    EXPIRED = "expired"
    MAX_ATTEMPTS = "max_attempts"
    CONTEXT_MISMATCH = "context_mismatch"
    REPLAYED = "replayed"
    LOCKED = "locked"
    COOLDOWN = "cooldown"
    MAX_SENDS = "max_sends"
    OK = "ok"


@dataclass(frozen=True)
class Outcome:
    """A store's answer. ``retry_after`` is None for a hard lock; ``locked_now`` marks the
    failure that started a lock; ``record`` comes with approvals, reserved sends and the
    failed checks of an existing challenge.
    """

    result: Result
    attempts_left: int | None = None
    retry_after: float | None = None
    locked_now: bool = False
    record: ChallengeRecord | None = None


@dataclass(frozen=True)
class Denial:
    """A spent budget: which one and when the oldest counted send leaves its window; or a
    range the pumping guard blocks (scope ``prefix`` / ``country``), with the range's
    ``label`` and, when this very send started the block, the counts that did (``detail``)."""

    scope: str
    retry_after: float
    label: str = ""
    detail: Mapping[str, int] | None = None
