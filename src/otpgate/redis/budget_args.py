"""The send budgets' and pumping watches' side of ``codec.py``: a ``budgets`` call's
arguments and its denial reply (pure, no I/O)."""

from __future__ import annotations

import re

from otpgate.core.policy import Denial
from otpgate.core.pumping import Watch, keep_seconds

from .records import Arg, as_text

_DETAIL = ("sends", "settled", "verified", "limit", "baseline", "horizon")


def _decode_denial(reply: object) -> Denial | None:
    if reply is None:
        return None
    if not isinstance(reply, list) or len(reply) not in (2, 9):
        raise TypeError("unexpected script reply")
    scope, wait = as_text(reply[0]), float(as_text(reply[1]))
    if len(reply) == 2:
        return Denial(scope, wait)
    detail = {name: int(value) for name, value in zip(_DETAIL, reply[3:], strict=True)}
    return Denial(scope, wait, label=as_text(reply[2]), detail=detail)


def _watch_args(watch: Watch) -> list[Arg]:
    rule = watch.rule
    return [
        watch.scope,
        watch.label,
        watch.floor,
        watch.fresh,
        rule.window,
        rule.surge,
        rule.min_conversion,
        rule.min_sample,
        rule.block,
        int(watch.trusted),
        int(watch.count),
        watch.verified,
        keep_seconds(watch),
    ]


#: Arguments per budget and per watch in a ``budgets`` call, after the three of its head.
_PER_BUDGET, _PER_WATCH, _HEAD = 4, 13, 3
_PART = re.compile(r"[A-Za-z0-9_-]+").fullmatch


def _part(part: str) -> str:
    """A budget's part as it sits in front of a member's ``.``: URL-safe text only."""
    if part and not _PART(part):
        raise ValueError("a budget's part must be URL-safe text")
    return part
