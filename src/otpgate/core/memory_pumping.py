"""``MemoryStore``'s side of the SMS pumping guard: each watched range's fields in a dict,
judged by :mod:`otpgate.core.pumping` exactly as ``budgets.lua`` judges them in Redis."""

from __future__ import annotations

from collections.abc import Sequence

from .policy import Denial
from .pumping import BLOCKED, Block, Watch, count, credit, judge, keep_seconds, lift


class RangeCounts:
    """The fields of every watched range (not thread-safe: the store's lock guards it)."""

    def __init__(self) -> None:
        self._fields: dict[str, dict[str, int]] = {}
        self._labels: dict[str, str] = {}
        self._keep_until: dict[str, float] = {}

    def _of(self, watch: Watch, now: float) -> dict[str, int]:
        self._labels[watch.key] = watch.label
        self._keep_until[watch.key] = max(
            self._keep_until.get(watch.key, 0.0), now + keep_seconds(watch)
        )
        return self._fields.setdefault(watch.key, {})

    def credit(self, watches: Sequence[Watch], now: float) -> None:
        """Add the verified codes the watches carry (whatever the send's fate)."""
        for watch in watches:
            credit(self._of(watch, now), watch, now)

    def judge(self, watches: Sequence[Watch], now: float) -> Denial | None:
        """The first watch that refuses this send (a block it may start is kept)."""
        for watch in watches:
            denial = judge(self._of(watch, now), watch, now)
            if denial is not None:
                return denial
        return None

    def count(self, watches: Sequence[Watch], now: float) -> None:
        for watch in watches:
            count(self._of(watch, now), watch, now)

    def blocks(self, now: float) -> list[Block]:
        """The ranges blocked at ``now``."""
        return [
            Block(key, self._labels.get(key, ""), float(fields[BLOCKED]))
            for key, fields in self._fields.items()
            if fields.get(BLOCKED, 0) > now
        ]

    def lift(self, key: str) -> bool:
        """Lift a block (see :func:`otpgate.core.pumping.lift`)."""
        fields = self._fields.get(key)
        return fields is not None and lift(fields)

    def sweep(self, now: float) -> None:
        for key in [k for k, until in self._keep_until.items() if until < now]:
            self._fields.pop(key, None)
            self._labels.pop(key, None)
            del self._keep_until[key]
