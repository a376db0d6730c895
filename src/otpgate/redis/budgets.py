"""Spending send budgets whose keys live in several Cluster slots (pure: no I/O).

Each budget key carries the hash tag of what it counts (a phone's, a subject's, a client
network's keyed digest), so the budgets of a Redis Cluster spread over its masters instead
of all sitting on one. A start's budgets then lie in up to five slots, and one Lua script
may only touch one slot. So on a Cluster the store spends them in one script call per slot,
all in one pipeline (one round trip per master, in parallel), every call with the same
send member:

- each call is atomic on its own: it spends every budget of its slot, or none of them and
  answers the one spent longest; no budget is ever spent past its limit, whatever runs
  concurrently, because each check-and-count is one script;
- if any call refuses (or fails), the calls that did spend are given back: a ``release``
  script removes that send's member from their keys (a no-op where it was never added).
  The answer is the same denial a single script would give: the budget spent longest.

The pumping guard's watched ranges (``otpgate.core.pumping``) ride in the same calls, each
in its range's slot: a refused send's counts are given back by the same ``release``. What a
Cluster judges differently from one script: the ranges of different slots are judged side by
side, so a send refused in one slot may still start a block in another (a standalone server
judges the prefix, then the country, and stops at the first refusal). A denial that started
a block is the answer then, so its event is emitted.

What a crash (or a lost connection) between the spend and the release can cost: the send is
refused (no SMS goes out, as no code was created), while the budgets that were spent keep a
slot taken until that send leaves their window: never an SMS beyond a budget, at most a
budget slot wasted until its window ends. Two concurrent starts may likewise see each
other's about-to-be-released slots and be refused, never let through. A budget without a
part notes a send under a small random integer (see ``budgets.lua``): a release removes it
only where it holds this send's second, and only for a call that answered: the release of
a call that failed (it may not have run, and another send of the same second may hold the
same integer) gives back the send's token only, so it never gives back another send; if
the failed call did count its send under the integer, that slot stays taken until it leaves
the window, as after a crash.

A standalone server (or a Sentinel master) has no slots: the store keeps one script call
for every budget, as before, so a start is still two round trips.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from otpgate.core.policy import Denial

from .codec import Call

logger = logging.getLogger("otpgate")


def settle(
    calls: Sequence[Call[Denial | None]], replies: Sequence[object]
) -> tuple[Denial | None, list[int], BaseException | None]:
    """(the denial, the indexes of the calls that spent or may have, the first failure) of
    the replies of ``calls`` (a pipeline's, with its errors in place). With a denial or a
    failure, the calls that spent must be released; those that failed (:func:`unsure`) may
    not have run, so their release must not give back a send by its small integer alone."""
    worst: Denial | None = None
    spent: list[int] = []
    failure: BaseException | None = None
    for index, (call, reply) in enumerate(zip(calls, replies, strict=True)):
        if isinstance(reply, BaseException):
            failure = failure or reply
            spent.append(index)  # it may have run
            continue
        try:
            denial = call.decode(reply)
        except (TypeError, ValueError, KeyError) as error:
            failure = failure or error
            spent.append(index)
            continue
        if denial is None:
            spent.append(index)
        elif worst is None or _rank(denial) > _rank(worst):
            worst = denial
    return worst, spent, failure


def unsure(calls: Sequence[Call[Denial | None]], replies: Sequence[object], index: int) -> bool:
    """Whether the call at ``index`` failed, so it may or may not have counted its send."""
    if isinstance(replies[index], BaseException):
        return True
    try:
        calls[index].decode(replies[index])
    except (TypeError, ValueError, KeyError):
        return True
    return False


def _rank(denial: Denial) -> tuple[bool, float]:
    """A denial that started a pumping block comes first (its event must be told; the block
    stands whatever else refused), then the longest wait."""
    return denial.detail is not None, denial.retry_after


def report_unreleased(replies: Sequence[object]) -> None:
    """Log (without keys or arguments) the releases that failed: a slot each stays taken
    until its send leaves the budget's window."""
    failed = [reply for reply in replies if isinstance(reply, BaseException)]
    if failed:
        logger.warning(
            "otpgate redis store: %d budget release(s) failed (%s): a send slot stays taken "
            "until its window ends",
            len(failed),
            type(failed[0]).__name__,
        )
