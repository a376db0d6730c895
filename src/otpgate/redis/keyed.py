"""The script calls of the session-state and transaction methods (pure, like ``codec.py``).

Keys (``P`` the prefix, ``K`` a keyed digest the caller made): ``P{K}:v`` a session/token
state, ``P{K}:x`` a transaction (``state|challenge|proof|expires_at|attempts|updated_at|
outcome``, see ``scripts/transaction.lua``). Each key is its own hash tag, so each call is
one key, one slot, one script: one round trip, on a Cluster too. Every key has a TTL.
"""

from __future__ import annotations

from otpgate.core.transactions import Answer, TxRecord, TxResult, TxState, TxStep

from .codec import Call, Codec
from .records import Arg, as_text, number, safe_token

_STATE_CODES = {
    TxState.PENDING: "p",
    TxState.CONFIRMED: "c",
    TxState.EXECUTED: "x",
    TxState.FAILED: "f",
    TxState.EXPIRED: "e",
    TxState.CANCELED: "n",
}
_STATES = {code: state for state, code in _STATE_CODES.items()}
_ANSWERS = {answer.value: answer for answer in Answer}


def _key(codec: Codec, key: str, kind: str) -> str:
    return f"{codec.prefix}{{{safe_token(key, 'key')}}}:{kind}"


def _text_or_none(reply: object) -> str | None:
    return None if reply is None else as_text(reply)


def _none(reply: object) -> None:
    return None


def decode_transaction(text: str) -> TxRecord:
    """A record from its stored string."""
    state, challenge_id, proof, expires_at, attempts, updated_at, outcome = text.split("|", 6)
    return TxRecord(
        state=_STATES[state],
        challenge_id=challenge_id,
        proof=proof,
        expires_at=float(expires_at),
        attempts=int(attempts),
        outcome=outcome,
        updated_at=float(updated_at),
    )


def get_state(codec: Codec, key: str) -> Call[str | None]:
    return Call(codec.scripts["state_get"], [codec.state_key(key)], [], _text_or_none)


def put_state(codec: Codec, key: str, value: str, ttl: int) -> Call[None]:
    args: list[Arg] = [value, int(ttl)]  # 0 or less: forget any
    return Call(codec.scripts["state_put"], [codec.state_key(key)], args, _none)


def get_transaction(codec: Codec, key: str, now: float) -> Call[TxRecord | None]:
    def decode(reply: object) -> TxRecord | None:
        if reply is None:
            return None
        return decode_transaction(as_text(reply)).seen_at(now)

    return Call(codec.scripts["tx_get"], [_key(codec, key, "x")], [], decode)


def step_transaction(codec: Codec, key: str, step: TxStep, now: float, keep: int) -> Call[TxResult]:
    args: list[Arg] = [
        number(now),
        step.kind.value,
        safe_token(step.challenge_id, "challenge id"),
        safe_token(step.proof, "proof"),
        number(step.expires_at),
        1 if step.success else 0,
        int(step.max_attempts),
        max(1, int(keep)),
        step.outcome,
    ]

    def decode(reply: object) -> TxResult:
        answer, _, record = as_text(reply).partition("|")
        return TxResult(_ANSWERS[answer], decode_transaction(record) if record else None)

    return Call(codec.scripts["transaction"], [_key(codec, key, "x")], args, decode)
