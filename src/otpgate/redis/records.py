"""How a ``ChallengeRecord`` is kept in Redis, and read back exactly.

One string per challenge: ``t|a|r|w|e|d|x|rest``, the fields the scripts read and change
first (status letter, attempts, sends, next_send_at, expires_at, code digest, context
digest), then ``rest``: a compact JSON array of what only the client reads (subject,
purpose, phone, sealed code, created_at, summary, locale). A string costs Redis less to hand
to a script than a hash (one value instead of a field/value array), and has no per-field
size limit to fall out of the compact encoding. A pending challenge takes about 300 bytes.

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
            record.subject,
            record.purpose,
            record.phone,
            record.sealed_code,
            float(record.created_at),
            record.summary,
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
    """A record from the eight ``|``-separated fields of its string."""
    status, attempts, sends, next_send_at, expires_at, code_digest, context_digest, rest = fields
    subject, purpose, phone, sealed_code, created_at, summary, locale = _loads(rest)
    return ChallengeRecord(
        id=challenge_id,
        subject=subject,
        purpose=purpose,
        phone=phone,
        code_digest=code_digest,
        sealed_code=sealed_code,
        created_at=created_at,
        expires_at=float(expires_at),
        next_send_at=float(next_send_at),
        context_digest=context_digest,
        summary=summary,
        locale=locale,
        status=_STATUSES[status],
        attempts=int(attempts),
        sends=int(sends),
    )
