"""What ``RedisStore`` and ``AsyncRedisStore`` share: scripts, key names, arguments, replies.

Everything here is pure (no I/O), so the two store classes differ only in ``await``: each
protocol method builds a :class:`Call` here, runs it as one ``EVALSHA`` and hands the reply
back to the call's ``decode``. How a challenge is written down is in ``records.py``.

Keys (``P`` is the prefix, ``S`` a subject key, the part of a challenge id before the dot):

- ``P{S}:c:<nonce>`` a challenge, ``P{S}:s`` the subject's failures, lock and last TOTP
  step (both strings): one subject's keys share the hash tag ``{S}``, one Cluster slot;
- ``P{D}:t<kind>[:<window>]`` a send budget family's record (sorted set of send times, an
  integer score: the budgets of one core key, such as a number's
  15-minute and 1-day ones, count their own windows in it), ``D`` the keyed
  digest of what it counts (a subject, a number, a client network, a phone of a subject for
  calls) or the calling code of a country: each budget has the hash tag of what it counts,
  so budgets spread over a Cluster's masters (``budgets.py`` says how a start spends them
  when they lie in several slots). A subject's record (``ts``) shares its other keys' slot
  and holds its numbers' budgets too: their sends noted ``part.`` + 8 characters of the
  member's token, each such budget counting its part's sends only (one key fewer per start);
  a family without a part notes a send at the whole second at or after it, under the
  member's small integer (a one-send key's listpack takes 16 bytes instead of 32);
- ``P{D}:bw`` a range the SMS pumping guard watches (a hash: sends and verified codes per
  minute and per hour, ``b`` blocked until, ``p`` the range's label such as ``+44 7700``),
  ``D`` the keyed digest of the range: spent in the same ``budgets`` call as the budgets.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TypeVar

from redis.crc import key_slot

from otpgate.core.challenge import ChallengeRecord
from otpgate.core.policy import Budget, Denial, LockoutPolicy, Outcome, Result
from otpgate.core.pumping import Watch
from otpgate.core.state_write import StateWrite

from .budget_args import _HEAD, _PER_BUDGET, _PER_WATCH, _decode_denial, _part, _watch_args
from .call import Call as Call
from .failures import FAILURES as FAILURES
from .failures import StaleApproval as StaleApproval
from .failures import approved
from .failures import unavailable as unavailable
from .lua import scripts
from .records import (
    Arg,
    StaleRecord,
    decode_record,
    encode_record,
    frozen,
    number,
    reply_fields,
    safe_token,
)

T = TypeVar("T")

#: Seconds a finished challenge is kept after it expires (as ``MemoryStore`` does).
CHALLENGE_GRACE = 60

_RESULTS = {result.value: result for result in Result}


@lru_cache(maxsize=64)
def _lockout(policy: LockoutPolicy) -> str:
    """The policy as one script argument, ``after,base,maximum,hard_after,memory``."""
    return f"{policy.after},{policy.base},{policy.maximum},{policy.hard_after},{policy.memory}"


def _decode_outcome(challenge_id: str | None, reply: object) -> Outcome:
    """``result|attempts_left|retry_after|locked_now[|challenge]`` (one string: far cheaper
    to read than a RESP array; an empty field is None). A challenge an earlier otpgate wrote
    is expired, whatever the script answered: it fails closed."""
    if not isinstance(reply, (bytes, str)):
        raise TypeError("unexpected script reply")
    fields = reply_fields(reply)
    result, left, retry, locked = fields[:4]
    record = None
    if len(fields) == 12 and challenge_id is not None:
        try:
            record = decode_record(challenge_id, fields[4:])
        except StaleRecord:
            return Outcome(Result.EXPIRED)
    return frozen(
        Outcome,
        result=_RESULTS[result],
        attempts_left=int(left) if left else None,
        retry_after=float(retry) if retry else None,
        locked_now=locked == "1",
        record=record,
    )


def _decode_none(reply: object) -> None:
    return None


# -- the calls, one per protocol method -------------------------------------------------------


class Codec:
    """Builds the script call of each store method for one key prefix."""

    def __init__(self, prefix: str, binary: bool = False) -> None:
        """``binary``: write challenges as bytes (format 6: the sealed values as raw bytes),
        for a client that hands replies back as bytes (no ``decode_responses``)."""
        if not isinstance(prefix, str) or "{" in prefix or "}" in prefix:
            raise ValueError("the key prefix must be a string without '{' or '}'")
        self.prefix = prefix
        self.binary = binary
        self.scripts = scripts()
        self._lockout_text: tuple[LockoutPolicy | None, str] = (None, "")

    # key names

    def challenge_key(self, challenge_id: str) -> str:
        subject_key, _, nonce = challenge_id.partition(".")
        return f"{self.prefix}{{{subject_key}}}:c:{nonce}"

    def subject_state_key(self, subject_key: str) -> str:
        return f"{self.prefix}{{{subject_key}}}:s"

    def state_key(self, key: str) -> str:
        """``P{K}:v``: a session/token state (``K`` a keyed digest the caller made)."""
        return f"{self.prefix}{{{safe_token(key, 'key')}}}:v"

    def budget_key(self, budget_key: str) -> str:
        """``kind:digest[:window]`` (the core's budget key) as ``P{digest}:tkind[:window]``
        (a budget family's send times, in microseconds), or ``w:digest`` (a watched range)
        as ``P{digest}:bw``."""
        kind, _, rest = budget_key.partition(":")
        tag, colon, window = rest.partition(":")
        letter = "b" if kind == "w" else "t"
        return f"{self.prefix}{{{tag or kind}}}:{letter}{kind}{colon}{window}"

    def _call(
        self, name: str, keys: Sequence[Arg], args: Sequence[Arg], decode: Callable[[object], T]
    ) -> Call[T]:
        return Call(self.scripts[name], keys, args, decode)

    # calls

    def spend_budgets(
        self, entries: Sequence[Budget | Watch], now: float, per_slot: bool = False
    ) -> list[Call[Denial | None]]:
        """One call for every budget and watched range, or (``per_slot``, for a Cluster)
        one per slot; in each, the budgets come first, then the watches in their order."""
        # The score is the send time; the member only has to be unique per send among a
        # record's members, and is the same in every budget of this send (a release removes
        # it): "<a random 13-bit integer>.<72 random bits>". A family with a part records
        # "part.<the token's first 8 characters>" (48 bits: a subject's record holds a few
        # sends; its listpack stays 32 bytes); one without, the integer (a listpack's
        # smallest but one: 3 bytes), or the token where another send holds the integer.
        member = f"{secrets.randbelow(8192) - 4096}.{secrets.token_urlsafe(9)}"
        groups: dict[int, tuple[list[Budget], list[Watch]]] = {}
        for entry in entries:
            key = self.budget_key(entry.key)
            group = groups.setdefault(key_slot(key.encode()) if per_slot else 0, ([], []))
            if isinstance(entry, Watch):
                group[1].append(entry)
            else:
                group[0].append(entry)
        calls = []
        for budgets, watches in groups.values():
            args: list[Arg] = [number(now), member, len(budgets)]
            for budget in budgets:
                args += [budget.limit, budget.window, budget.scope, _part(budget.part)]
            for watch in watches:
                args += _watch_args(watch)
            keys = [self.budget_key(b.key) for b in budgets]
            keys += [self.budget_key(w.key) for w in watches]
            calls.append(self._call("budgets", keys, args, _decode_denial))
        return calls

    def release_budgets(self, spent: Call[Denial | None], *, sure: bool = True) -> Call[None]:
        """Give back the send a ``spend_budgets`` call counted (no-op if it counted none).
        ``sure=False`` (the call failed: it may not have run): by its token only, never by
        its small integer, which another send of the same second may hold."""
        now, member, budgets = spent.args[:_HEAD]
        if not sure:
            assert isinstance(member, str)
            member = "." + member.partition(".")[2]
        assert isinstance(budgets, int)
        start = _HEAD + _PER_BUDGET * budgets
        parts = [spent.args[index + 3] for index in range(_HEAD, start, _PER_BUDGET)]
        counted = [spent.args[index + 10] for index in range(start, len(spent.args), _PER_WATCH)]
        args = [member, now, budgets, *parts, *counted]
        return self._call("release", spent.keys, args, _decode_none)

    def pumping_pattern(self) -> str:
        """The ``SCAN`` pattern of every watched range's hash."""
        return f"{self.prefix}*:bw"

    def watch_core_key(self, key: str) -> str:
        """``P{digest}:bw`` back to the core's ``w:<digest>``."""
        return "w:" + key[len(self.prefix) + 1 : -len("}:bw")]

    def create_challenge(
        self, record: ChallengeRecord, subject_key: str, now: float, lockout: LockoutPolicy
    ) -> Call[Outcome]:
        ttl = max(0, math.ceil(record.expires_at - now)) + CHALLENGE_GRACE
        keys = [self.challenge_key(record.id), self.subject_state_key(subject_key)]
        args: list[Arg] = [number(now), ttl, _lockout(lockout), encode_record(record, self.binary)]

        def decode(reply: object) -> Outcome:
            outcome = _decode_outcome(None, reply)
            if outcome.result is Result.OK:
                return Outcome(Result.OK, record=record)
            return outcome

        return self._call("create", keys, args, decode)

    def get_challenge(self, challenge_id: str) -> Call[ChallengeRecord | None]:
        def decode(reply: object) -> ChallengeRecord | None:
            if reply is None:
                return None
            return _decode_outcome(challenge_id, reply).record

        return self._call("get", [self.challenge_key(challenge_id)], [], decode)

    def reserve_send(
        self, challenge_id: str, now: float, cooldown_base: int, max_sends: int
    ) -> Call[Outcome]:
        args: list[Arg] = [number(now), cooldown_base, max_sends]
        return self._call(
            "reserve",
            [self.challenge_key(challenge_id)],
            args,
            lambda reply: _decode_outcome(challenge_id, reply),
        )

    def mark_send_failed(self, challenge_id: str, now: float) -> Call[None]:
        return self._call("failed", [self.challenge_key(challenge_id)], [number(now)], _decode_none)

    def check_code(
        self,
        challenge_id: str,
        code_digest: str,
        context_digest: str,
        now: float,
        max_attempts: int,
        lockout: LockoutPolicy,
        purpose: str = "",
        then_put: StateWrite | None = None,
    ) -> Call[Outcome]:
        """``then_put``: a third key (the state's) and two more arguments (its value and TTL),
        SET by the script when it approves; the call without one is unchanged."""
        # The hot path: both keys from one split, the lockout's text cached by identity (a
        # Verifier passes the same policy object every time), one script argument, all as
        # the bytes they are sent as (redis-py encodes nothing more).
        subject_key, _, nonce = challenge_id.partition(".")
        tag = f"{self.prefix}{{{subject_key}}}:"
        cached = self._lockout_text  # one tuple: read and replaced atomically (threads)
        if cached[0] is not lockout:
            cached = self._lockout_text = (lockout, _lockout(lockout))
        arg = (
            f"{number(now)} {safe_token(code_digest, 'code digest')} "
            f"{safe_token(context_digest, 'context digest')} {int(max_attempts)} {cached[1]}"
        )
        if purpose:
            arg += f" {safe_token(purpose, 'purpose')}"
        keys: tuple[Arg, ...] = (f"{tag}c:{nonce}".encode(), f"{tag}s".encode())
        if then_put is None:
            return Call(
                self.scripts["check"],
                keys,
                (arg.encode(),),
                lambda reply: _decode_outcome(challenge_id, reply),
            )

        def decode(reply: object) -> Outcome:
            # the script approved (and wrote the state), yet this is no approval: see the store
            try:
                outcome = _decode_outcome(challenge_id, reply)
            except Exception:
                if approved(reply):
                    raise StaleApproval() from None
                raise
            if outcome.result is not Result.APPROVED and approved(reply):
                raise StaleApproval()
            return outcome

        keys += (self.state_key(then_put.key),)
        args = (arg.encode(), then_put.value, max(1, int(then_put.ttl)))
        return Call(self.scripts["check"], keys, args, decode)

    def settle_attempt(
        self,
        subject_key: str,
        success: bool,
        now: float,
        lockout: LockoutPolicy,
        totp_step: int | None = None,
        then_put: StateWrite | None = None,
    ) -> Call[Outcome]:
        """``then_put``: as in :meth:`check_code`."""
        step = "" if totp_step is None else str(int(totp_step))
        arg = f"{number(now)} {1 if success else 0} {step} {_lockout(lockout)}"
        keys: list[Arg] = [self.subject_state_key(subject_key)]
        args: list[Arg] = [arg]
        if then_put is not None:
            keys.append(self.state_key(then_put.key))
            args += [then_put.value, max(1, int(then_put.ttl))]
        return self._call("settle", keys, args, lambda reply: _decode_outcome(None, reply))

    def cancel(self, challenge_id: str, now: float) -> Call[bool]:
        return self._call(
            "cancel", [self.challenge_key(challenge_id)], [], lambda reply: reply == 1
        )

    def unlock(self, subject_key: str) -> Call[None]:
        return self._call("unlock", [self.subject_state_key(subject_key)], [], _decode_none)
