"""How a ``ChallengeRecord`` is kept in a Redis hash, and read back exactly.

Short field names and compact numbers keep a pending challenge in Redis's compact listpack
encoding (well under 512 bytes): ``s`` subject, ``p`` purpose, ``n`` phone, ``d`` code digest,
``k`` sealed code, ``c`` created_at, ``e`` expires_at, ``w`` next_send_at, ``x`` context
digest, ``m`` summary, ``l`` locale, ``t`` status, ``a`` attempts, ``r`` sends. The scripts
read and change ``t``, ``e``, ``w``, ``a``, ``r``, ``d`` and ``x``; the rest is opaque to them.
"""

from __future__ import annotations

from collections.abc import Sequence

from otpgate.core.challenge import ChallengeRecord, Status

#: Redis's default ``hash-max-listpack-value``: a longer value turns the hash into a
#: hashtable, three times the memory, so free text is kept in pieces of this size.
PIECE = 64

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


# -- encoding ---------------------------------------------------------------------------------


def number(value: float) -> str:
    """Shortest text that reads back as the same double (``1800000000`` for ``1.8e9``)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _bytes(text: str) -> bytes:
    # Subjects are opaque strings; keep even lone surrogates intact on the way through.
    return text.encode("utf-8", "surrogatepass")


def as_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogatepass")
    return str(value)


def record_fields(record: ChallengeRecord) -> list[Arg]:
    """The record as hash field/value pairs (short names, empty optional fields left out)."""
    fields: list[Arg] = [
        "p",
        record.purpose,
        "n",
        record.phone,
        "d",
        record.code_digest,
        "k",
        record.sealed_code,
        "c",
        number(record.created_at),
        "e",
        number(record.expires_at),
        "w",
        number(record.next_send_at),
        "t",
        STATUS_CODES[Status(record.status)],
        "a",
        record.attempts,
        "r",
        record.sends,
    ]
    if record.context_digest:
        fields += ["x", record.context_digest]
    for name, value in (("s", record.subject), ("m", record.summary), ("l", record.locale)):
        for index, piece in enumerate(_pieces(value)):
            fields += [f"{name}{index or ''}", piece]
    return fields


def _pieces(text: str) -> list[bytes]:
    """``text`` as UTF-8 in pieces of at most 64 bytes, never cutting a character in two (so
    a client with ``decode_responses=True`` can decode each piece)."""
    data, pieces = _bytes(text), []
    while data:
        cut = min(len(data), PIECE)
        while cut < len(data) and data[cut] & 0xC0 == 0x80:  # a continuation byte
            cut -= 1
        pieces.append(data[:cut])
        data = data[cut:]
    return pieces


# -- decoding ---------------------------------------------------------------------------------


def _joined(fields: dict[str, str], name: str) -> str:
    first = fields.get(name)
    if first is None:
        return ""
    pieces, index = [first], 1
    while (piece := fields.get(f"{name}{index}")) is not None:
        pieces.append(piece)
        index += 1
    return "".join(pieces)


def decode_record(challenge_id: str, flat: Sequence[str]) -> ChallengeRecord:
    """A record from its hash field/value pairs (as the scripts' JSON replies hold them)."""
    it = iter(flat)
    f: dict[str, str] = dict(zip(it, it, strict=True))
    return ChallengeRecord(
        id=challenge_id,
        subject=_joined(f, "s"),
        purpose=f["p"],
        phone=f["n"],
        code_digest=f["d"],
        sealed_code=f["k"],
        created_at=float(f["c"]),
        expires_at=float(f["e"]),
        next_send_at=float(f["w"]),
        context_digest=f.get("x", ""),
        summary=_joined(f, "m"),
        locale=_joined(f, "l"),
        status=_STATUSES[f["t"]],
        attempts=int(f["a"]),
        sends=int(f["r"]),
    )
