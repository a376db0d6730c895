"""How a ``ChallengeRecord`` is kept in Redis, and read back exactly.

One string per challenge: ``t|a|r|w|e|d|x|rest``, the fields the scripts read and change
first (status letter, attempts, sends, next_send_at, expires_at, code digest, context
digest), then ``rest``: a compact JSON array of what only the client reads (the format
number, purpose, masked phone, sealed subject, sealed delivery (number, code, summary),
created_at, locale). Nothing personal is in clear: the record comes sealed from the core (see
``otpgate.core.sealed``). A string costs Redis less to hand to a script than a hash (one
value instead of a field/value array), and has no per-field size limit to fall out of the
compact encoding. A pending challenge takes about 450 bytes.

A challenge written by an earlier otpgate (subject, phone and summary in clear, no format
number) reads as :class:`StaleRecord`, which the codec answers as an expired challenge: such
challenges lived a few minutes, and are never served, and never crash a request.

Numbers are written in their shortest exact form, so every float reads back bit for bit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from otpgate.core.challenge import ChallengeRecord, Status

Arg = str | bytes | int

STATUS_CODES = {
    Status.PENDING: "p",
    Status.APPROVED: "a",
    Status.CANCELED: "c",
    Status.EXPIRED: "e",
    Status.MAX_ATTEMPTS_REACHED: "m",
    Status.FAILED: "f",
}
_STATUSES = {code: status for status, code in STATUS_CODES.items()}
_COMPACT = (",", ":")
_SEPARATOR = re.compile(r"[\s|]").search
_loads = json.JSONDecoder().decode

#: The first element of ``rest``; records without it are from an earlier otpgate.
FORMAT = 2


class StaleRecord(ValueError):
    """A challenge in a format this otpgate does not read (an earlier version wrote it)."""


def number(value: float) -> str:
    """Shortest text that reads back as the same double (``1800000000`` for ``1.8e9``)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def as_text(value: object) -> str:
    """A reply as text (bytes from a client without ``decode_responses``)."""
    if isinstance(value, bytes):
        # Subjects are opaque strings; keep even lone surrogates intact on the way through.
        return value.decode("utf-8", "surrogatepass")
    return str(value)


def safe_token(value: str, what: str) -> str:
    """``value`` (a digest) as it may sit between separators: no ``|``, no whitespace."""
    if _SEPARATOR(value):
        raise ValueError(f"the {what} holds a separator")
    return value


def encode_record(record: ChallengeRecord) -> str:
    """The record as the one string a challenge is kept as."""
    rest = json.dumps(
        [
            FORMAT,
            record.purpose,
            record.masked_phone,
            record.sealed_subject,
            record.sealed_delivery,
            float(record.created_at),
            record.locale,
        ],
        separators=_COMPACT,
    )  # ASCII: anything else is \u-escaped, lone surrogates included
    return "|".join(
        (
            STATUS_CODES[Status(record.status)],
            str(int(record.attempts)),
            str(int(record.sends)),
            number(record.next_send_at),
            number(record.expires_at),
            safe_token(record.code_digest, "code digest"),
            safe_token(record.context_digest, "context digest"),
            rest,
        )
    )


def decode_record(challenge_id: str, fields: Sequence[str]) -> ChallengeRecord:
    """A record from the eight ``|``-separated fields of its string; StaleRecord if an
    earlier otpgate wrote it."""
    status, attempts, sends, next_send_at, expires_at, code_digest, context_digest, rest = fields
    values = _loads(rest)
    if not isinstance(values, list) or len(values) != 7 or values[0] != FORMAT:
        raise StaleRecord("a challenge in an earlier format")
    _, purpose, masked_phone, sealed_subject, sealed_delivery, created_at, locale = values
    return ChallengeRecord(
        id=challenge_id,
        purpose=purpose,
        masked_phone=masked_phone,
        sealed_subject=sealed_subject,
        sealed_delivery=sealed_delivery,
        code_digest=code_digest,
        created_at=created_at,
        expires_at=float(expires_at),
        next_send_at=float(next_send_at),
        context_digest=context_digest,
        locale=locale,
        status=_STATUSES[status],
        attempts=int(attempts),
        sends=int(sends),
    )
