"""The SMS pumping guard: per number prefix and per country, counts of codes sent and codes
verified, and the decision to pause sending to a range whose traffic surges while almost no
code sent there is ever entered (pure: no I/O).

SMS pumping (toll fraud) is bots requesting codes to number ranges whose operator pays the
attacker per message received. Its signature is traffic far above what the range usually
gets, and almost no code ever typed back. The guard watches each destination *prefix* (the
calling code plus ``pumping_prefix_digits`` digits) and each *country* (calling code):

- the store keeps, per watched range, sends per minute for the recent window, verified codes
  per minute, sends per hour for the last day (the range's own baseline) and ``blocked
  until``: a hash whose fields :func:`judge` and :func:`count` read and write. The Redis
  store runs the same steps in Lua (``scripts/budgets.lua``) in the script that spends the
  send budgets: the guard costs no extra round trip;
- a send is refused while its range is blocked, unless it is *trusted* (a code to a number
  the subject verified before: sign-in, step-up, transaction): those are counted, never
  refused;
- a range is blocked for ``pumping_block_seconds`` when the send would take its recent sends
  above ``max(floor, surge x its baseline per window)`` while fewer than
  ``pumping_min_conversion`` % of its *settled* sends (older than :data:`SETTLE_MINUTES`, so
  codes still being typed do not count as lost) were verified, with at least
  ``min(pumping_min_sample, limit)`` settled sends; or when its sends over the last 24 hours
  exceed the floor with the same low conversion (a slow attack never surges). A range with
  no sends in the day before (a new country) gets a low allowance instead of the floor.
  After a block, a range still under-converted over the day is blocked again at its next
  untrusted send; an operator's lift starts its counts afresh.

Verified codes reach the counts with the next send of the same process (the verifier keeps
them in a small buffer, :class:`Credits`): the check script's keys live in the challenge's
slot, and counting there would cost a round trip. Conversion is so eventually consistent,
at most one start late per process. A check only notes the approved challenge (a list
append): which ranges it credits (opening its sealed number, the ranges' keyed digests) is
worked out with the next send, or once enough approvals wait, off the check's hot path.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, replace

from .policy import Budget, Denial

#: The recent window is counted in buckets of this many seconds; the baseline in hours.
MINUTE = 60
HOUR = 3600
#: Hours of baseline (the hours before the current and the previous one).
BASELINE_HOURS = 23
#: Sends younger than this many whole minute buckets are still in flight: their codes may
#: not have been typed yet, so conversion is measured on older (settled) sends only.
SETTLE_MINUTES = 2
#: Scopes of a watched range, and the ``SmsTemporarilyUnavailable.reason`` of each.
#: (Budgets have scopes of their own, such as ``country`` for ``country_caps``.)
REASONS = {"pumping_prefix": "prefix_blocked", "pumping_country": "country_blocked"}

BLOCKED = "b"  # field: blocked until (whole seconds)
LABEL = "p"  # field: the range's printable prefix (e.g. "+44 7700"), never a number


@dataclass(frozen=True)
class PumpingRule:
    """The thresholds of ``Settings.pumping_*`` one watch is judged by."""

    window: int
    surge: int
    min_conversion: int
    min_sample: int
    block: int


@dataclass(frozen=True)
class Watch:
    """A watched range a send (``count``) or only verified codes (``verified``) go to.

    ``key`` is the core's store key ``w:<keyed digest of the range>``; ``label`` the range
    as text (``+44 7700``), which names millions of numbers and never one. ``floor`` is how
    many sends a window the range may get whatever its baseline; ``fresh`` replaces it
    while the range had no send in the day before."""

    scope: str
    key: str
    label: str
    floor: int
    fresh: int
    rule: PumpingRule
    trusted: bool = False
    count: bool = True
    verified: int = 0


@dataclass(frozen=True)
class Block:
    """A blocked range, as ``otpgate pumping list`` shows it."""

    key: str
    label: str
    until: float


def prefix_label(e164: str, calling_code: str, digits: int) -> str:
    """``+447700900123`` → ``+44 7700`` (calling code plus ``digits`` national digits)."""
    national = e164[1 + len(calling_code) :]
    return f"+{calling_code} {national[:digits]}"


def parse_label(text: str, calling_codes: Iterable[str] = ()) -> str:
    """An operator's ``+44 7700`` / ``44-7700`` as the canonical label; a bare ``447700``
    is split at the first calling code of ``calling_codes`` it starts with."""
    parts = [part for part in text.replace("-", " ").replace("+", " ").split() if part]
    if not parts or not all(part.isascii() and part.isdigit() for part in parts):
        raise ValueError("expected a prefix such as '+44 7700' or a calling code such as '+44'")
    if len(parts) == 1:
        for code in sorted(calling_codes, key=len, reverse=True):
            if parts[0].startswith(code) and len(parts[0]) > len(code):
                return f"+{code} {parts[0][len(code) :]}"
        return f"+{parts[0]}"
    return f"+{parts[0]} {''.join(parts[1:])}"


# -- the decision, on a range's fields (MemoryStore keeps them; budgets.lua mirrors this) ----


def credit(fields: MutableMapping[str, int], watch: Watch, now: float) -> None:
    """Add ``watch.verified`` codes to the current minute and hour; drop buckets past the
    window and the day."""
    minute, hour = int(now // MINUTE), int(now // HOUR)
    if watch.verified > 0:
        for name in (f"v{minute}", f"g{hour}"):
            fields[name] = fields.get(name, 0) + watch.verified
    oldest_minute = minute - watch.rule.window // MINUTE
    for name in list(fields):
        kind, stamp = name[0], name[1:]
        if (kind in "sv" and int(stamp) <= oldest_minute) or (
            kind in "hg" and int(stamp) < hour - BASELINE_HOURS - 1
        ):
            del fields[name]


def _refused(sends: int, settled: int, verified: int, limit: int, rule: PumpingRule) -> bool:
    """More sends than ``limit`` with this one, enough of them settled, too few entered."""
    return (
        sends + 1 > limit
        and settled >= min(rule.min_sample, limit)
        and verified * 100 < rule.min_conversion * settled
    )


def judge(fields: MutableMapping[str, int], watch: Watch, now: float) -> Denial | None:
    """Whether this send may go: None, or a denial (with ``detail`` when it starts a block,
    which is then written in ``fields``). A trusted send is never refused.

    Two horizons: the window (its sends above ``max(floor, surge x baseline)``, its settled
    sends under-converted: a surge, stopped within minutes) and the day (its sends above the
    floor, under-converted: a slow attack that never surges)."""
    if not watch.count or watch.trusted:
        return None
    blocked = fields.get(BLOCKED, 0)
    if blocked > now:
        return Denial(watch.scope, blocked - now)
    minute, hour = int(now // MINUTE), int(now // HOUR)
    oldest = minute - watch.rule.window // MINUTE  # (credit dropped older buckets already)
    recent = settled = verified = baseline = day = day_verified = 0
    for name, value in fields.items():
        kind, stamp = name[0], name[1:]
        if kind == "s" and int(stamp) > oldest:
            recent += value
            if int(stamp) <= minute - SETTLE_MINUTES:
                settled += value
        elif kind == "v" and int(stamp) > oldest:
            verified += value
        elif kind == "h" and int(stamp) >= hour - BASELINE_HOURS - 1:
            if int(stamp) <= hour - 2:
                baseline += value
            if int(stamp) >= hour - BASELINE_HOURS:
                day += value
        elif kind == "g" and int(stamp) >= hour - BASELINE_HOURS:
            day_verified += value
    rule = watch.rule
    span = BASELINE_HOURS * HOUR
    surge = (rule.surge * baseline * rule.window + span - 1) // span
    floor = watch.floor if baseline > 0 else watch.fresh
    limit = max(floor, surge)
    horizon = rule.window
    if not _refused(recent, settled, verified, limit, rule):
        # the day: every send of it is settled but those of the window's last minutes
        limit, horizon = floor, (BASELINE_HOURS + 1) * HOUR
        recent, settled, verified = day, day - (recent - settled), day_verified
        if not _refused(recent, settled, verified, limit, rule):
            return None
    until = math.ceil(now) + rule.block
    fields[BLOCKED] = until
    detail = {
        "sends": recent,
        "settled": settled,
        "verified": verified,
        "limit": limit,
        "baseline": baseline,
        "horizon": horizon,
    }
    return Denial(watch.scope, until - now, label=watch.label, detail=detail)


def count(fields: MutableMapping[str, int], watch: Watch, now: float) -> None:
    """Count this send in the current minute and hour."""
    if not watch.count:
        return
    for name in (f"s{int(now // MINUTE)}", f"h{int(now // HOUR)}"):
        fields[name] = fields.get(name, 0) + 1


def lift(fields: MutableMapping[str, int]) -> bool:
    """An operator lifts a block: the range's counts go with it (it starts afresh, as a
    range never sent to). False if the range was not blocked."""
    was_blocked = BLOCKED in fields
    fields.clear()
    return was_blocked


def keep_seconds(watch: Watch) -> int:
    """How long a range's fields must be kept after its last change."""
    return max(watch.rule.block, (BASELINE_HOURS + 2) * HOUR)


# -- the verifier's buffer of verified codes ----------------------------------------------------


class Credits:
    """Verified codes per watched range, waiting for the next send of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, Watch] = {}
        #: Approvals noted by checks, not yet turned into credits (see :meth:`defer`).
        self._deferred: deque[object] = deque()

    def defer(self, item: object) -> int:
        """Keep ``item`` (an approved challenge) to be turned into credits later, by
        :meth:`deferred`'s caller; returns how many wait. Thread-safe without the lock."""
        self._deferred.append(item)
        return len(self._deferred)

    def deferred(self) -> Iterator[object]:
        """The items :meth:`defer` kept, each handed out once (however many threads ask)."""
        pop = self._deferred.popleft
        while True:
            try:
                yield pop()
            except IndexError:
                return

    def add(self, watches: Iterable[Watch], verified: int = 1) -> None:
        """Credit ``verified`` entered codes to each of ``watches``."""
        with self._lock:
            for watch in watches:
                held = self._pending.get(watch.key)
                total = (held.verified if held else 0) + verified
                self._pending[watch.key] = replace(
                    watch, trusted=False, count=False, verified=total
                )

    def take(self, entries: Sequence[Budget | Watch]) -> list[Budget | Watch]:
        """``entries`` with the buffered credits merged into their watches (and the other
        ranges' credits appended); the buffer is emptied (see :meth:`restore`)."""
        with self._lock:
            if not self._pending:
                return list(entries)
            pending, self._pending = self._pending, {}
        merged: list[Budget | Watch] = []
        for entry in entries:
            if isinstance(entry, Watch) and (held := pending.pop(entry.key, None)):
                entry = replace(entry, verified=held.verified)
            merged.append(entry)
        return merged + list(pending.values())

    def restore(self, watches: Iterable[Watch]) -> None:
        """Put back the credits of a spend that failed (StorageUnavailable)."""
        with self._lock:
            for watch in watches:
                if watch.verified:
                    held = self._pending.get(watch.key)
                    total = watch.verified + (held.verified if held else 0)
                    base = held or replace(watch, trusted=False, count=False)
                    self._pending[watch.key] = replace(base, verified=total)

    def __len__(self) -> int:
        """Ranges with credits waiting, and approvals not yet turned into credits."""
        with self._lock:
            return len(self._pending) + len(self._deferred)
