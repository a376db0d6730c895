"""How a ``ChallengeRecord`` is kept in Redis, and read back exactly.

One string per challenge: ``t|a|r|w|e|d|x|rest``, the fields the scripts read and change
first (status letter, attempts, sends, next_send_at, expires_at, code digest, context
digest), then ``rest``: what only the client reads (and the check script the purpose).
Format 6 (bytes, for a client without ``decode_responses``): ``6|purpose|masked phone|age|
locale|`` then raw bytes: the key id both sealed values share (its 6 hex digits as 3 bytes),
the length of the sealed subject's body (one byte), the sealed subject's body and the sealed
delivery's, each as the bytes its base64url text stands for. Each ``•`` of the masked number
is written as ``*`` (one byte instead of three), created_at as its distance to expires_at
(``300``: exact, or the record is written as format 4), the locale as a JSON string, or
nothing when it is empty (it must hold no ``|``); with the 16-character code digest
(``Keyring.code_digest``) a typical challenge takes 296 bytes of Redis memory. A reply is
read as Latin-1 (each byte one character, see :func:`reply_fields`). Format 5 (text, also
written where format 6 cannot hold a record exactly): ``5|purpose|masked phone|sealed
subject|sealed delivery|age|locale``, the sealed delivery without the key id it shares with
the sealed subject (``.rest`` for ``kid.rest``): 328 bytes. Format 4 is the same with the
sealed delivery, created_at and the locale (``""``) in full, as an earlier release wrote it
(with 22-character code digests: the check script compares their first 16): 360; a masked
text that holds a ``*`` itself is written as format 3, the same with the ``•`` as they are.
Nothing personal is in clear: the record comes sealed from the core (see
``otpgate.core.sealed``). Splitting at ``|`` reads it several times faster than JSON (whose
``\\u`` escapes of the masked number's dots alone cost ~10 µs a check), and it is smaller. A
record whose text fields are not all plain (a ``|``, a lone surrogate: never the core's own)
is written as format 2, a compact ASCII JSON array ``[2,purpose,masked,...,locale]``; both
read back. A string costs Redis less to hand to a script than a hash (one value instead of
a field/value array), and has no per-field size limit to fall out of the compact encoding.

A challenge written by an otpgate older than format 2 (subject, phone and summary in clear,
no format number) reads as :class:`StaleRecord`, which the codec answers as an expired
challenge: such challenges lived a few minutes, and are never served, and never crash a
request.

Numbers are written in their shortest exact form, so every float reads back bit for bit.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Sequence
from typing import TypeVar

from otpgate.core.challenge import ChallengeRecord, Status
from otpgate.core.policy import Outcome

T = TypeVar("T")

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
for _cls in (ChallengeRecord, Outcome):  # what ``frozen`` builds
    if hasattr(_cls, "__post_init__") or "__slots__" in vars(_cls):  # pragma: no cover
        raise TypeError(f"records.frozen cannot build {_cls.__name__}")
_COMPACT = (",", ":")
_SEPARATOR = re.compile(r"[\s|]").search
_loads = json.JSONDecoder().decode

#: The first field of ``rest``; JSON records start with ``[2,`` (see above).
FORMAT = 6
_SHORT_FORMAT = 5
_STAR_FORMAT = 4
_PLAIN_FORMAT = 3
_JSON_FORMAT = 2
_DOT, _STAR = "\u2022", "*"
_KEY_ID = re.compile(r"[0-9a-f]{6}").fullmatch
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_b2a = binascii.b2a_base64


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


def _plain(value: str) -> bool:
    """True if ``value`` can sit between ``|`` as it is (UTF-8 text without ``|``)."""
    if "|" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _short(record: ChallengeRecord) -> tuple[str, str, str] | None:
    """Format 5's sealed delivery, created_at and locale, or None if the record needs
    format 4: the sealed delivery without the key id it shares with the sealed subject
    (``kid.rest`` as ``.rest``), created_at as its (exact) distance to expires_at, an empty
    locale as nothing."""
    sealed_subject, delivery = record.sealed_subject, record.sealed_delivery
    kid, dot, _ = sealed_subject.partition(".")
    if dot and kid and delivery.startswith(kid + "."):
        delivery = delivery[len(kid) :]
    elif delivery.startswith("."):
        return None
    expires_at, created_at = float(record.expires_at), float(record.created_at)
    age = number(expires_at - created_at)
    if expires_at - float(age) != created_at or not math.isfinite(expires_at):
        return None
    locale = json.dumps(record.locale) if record.locale else ""
    return delivery, age, locale


def _raw(token: str) -> bytes | None:
    """The bytes of a sealed value's base64url body, if it reads back as the same text."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == token else None


def _binary(record: ChallengeRecord, head: str, delivery: str) -> bytes | None:
    """Format 6's ``rest`` (``head`` is ``purpose|masked|age|locale|``), or None where the
    sealed values are not two base64url bodies under one 6-hex-digit key id."""
    kid, _, subject = record.sealed_subject.partition(".")
    if not _KEY_ID(kid) or delivery[:1] != "." or "|" in head[:-1].split("|", 3)[3]:
        return None
    sealed_subject, sealed_delivery = _raw(subject), _raw(delivery[1:])
    if sealed_subject is None or sealed_delivery is None or len(sealed_subject) > 255:
        return None
    return b"".join(
        (
            f"{FORMAT}|{head}".encode(),
            bytes.fromhex(kid),
            bytes((len(sealed_subject),)),
            sealed_subject,
            sealed_delivery,
        )
    )


def _rest(record: ChallengeRecord, binary: bool) -> str | bytes:
    texts = (record.purpose, record.masked_phone, record.sealed_subject, record.sealed_delivery)
    if all(_plain(text) for text in texts):
        locale = json.dumps(record.locale)  # ASCII: lone surrogates \u-escaped too
        if _STAR in record.masked_phone:
            return f"{_PLAIN_FORMAT}|{'|'.join(texts)}|{number(record.created_at)}|{locale}"
        masked = texts[1].replace(_DOT, _STAR)
        short = _short(record)
        if short is not None:
            delivery, age, locale = short
            if binary:
                raw = _binary(record, f"{texts[0]}|{masked}|{age}|{locale}|", delivery)
                if raw is not None:
                    return raw
            return f"{_SHORT_FORMAT}|{texts[0]}|{masked}|{texts[2]}|{delivery}|{age}|{locale}"
        return f"{_STAR_FORMAT}|{texts[0]}|{masked}|{texts[2]}|{texts[3]}|" + (
            f"{number(record.created_at)}|{locale}"
        )
    return json.dumps(
        [_JSON_FORMAT, *texts, float(record.created_at), record.locale], separators=_COMPACT
    )  # ASCII: anything else is \u-escaped, lone surrogates included


def encode_record(record: ChallengeRecord, binary: bool = False) -> str | bytes:
    """The record as the one string a challenge is kept as (``binary``: format 6, bytes,
    where the record allows it; else text)."""
    rest = _rest(record, binary)
    head = "|".join(
        (
            STATUS_CODES[Status(record.status)],
            str(int(record.attempts)),
            str(int(record.sends)),
            number(record.next_send_at),
            number(record.expires_at),
            safe_token(record.code_digest, "code digest"),
            safe_token(record.context_digest, "context digest"),
            "",
        )
    )
    return head.encode() + rest if isinstance(rest, bytes) else head + rest


def reply_fields(reply: str | bytes) -> list[str]:
    """A reply that may hold a challenge (``4 outcome fields|8 challenge fields``), split at
    its first 11 ``|``: read as Latin-1 (each byte one character: the fastest decoding, and
    format 6's raw bytes come back exactly); a challenge in an earlier format that is not
    all ASCII as UTF-8 (as written). From a client with ``decode_responses`` (text), format
    6's ``rest`` is turned back into its bytes' Latin-1."""
    if isinstance(reply, bytes):
        fields = reply.decode("latin-1").split("|", 11)
        if len(fields) == 12 and fields[11][:2] != "6|" and not fields[11].isascii():
            return reply.decode("utf-8", "surrogatepass").split("|", 11)
        return fields
    fields = reply.split("|", 11)
    if len(fields) == 12 and fields[11][:2] == "6|" and not fields[11].isascii():
        fields[11] = fields[11].encode("utf-8", "surrogateescape").decode("latin-1")
    return fields


def frozen(cls: type[T], **fields: object) -> T:
    """``cls(**fields)`` for a frozen dataclass given every field, 5x faster: its generated
    ``__init__`` sets each field through ``object.__setattr__`` (a read path runs this per
    request). Checked to be equal by the tests; only for classes without ``__post_init__``."""
    made = object.__new__(cls)
    made.__dict__.update(fields)
    return made


def decode_record(challenge_id: str, fields: Sequence[str]) -> ChallengeRecord:
    """A record from the eight ``|``-separated fields of its string: text, but format 6's
    ``rest`` as Latin-1 (each byte one character, see :func:`reply_text`); StaleRecord if an
    earlier otpgate wrote it, or it is damaged."""
    status, attempts, sends, next_send_at, expiry, code_digest, context_digest, rest = fields
    expires_at = float(expiry)
    head = rest[:2]
    if head == "6|":
        _, purpose, masked_phone, created, locale, tail = rest.split("|", 5)
        if not (purpose.isascii() and masked_phone.isascii()):  # UTF-8 read as Latin-1
            purpose = purpose.encode("latin-1").decode()
            masked_phone = masked_phone.encode("latin-1").decode()
        masked_phone = masked_phone.replace(_STAR, _DOT)
        created_at = expires_at - float(created)
        locale = _loads(locale) if locale else ""  # JSON: ASCII
        raw = tail.encode("latin-1")
        if len(raw) < 4 or len(raw) < 4 + raw[3]:
            raise StaleRecord("a damaged challenge")
        kid, size = raw[:3].hex(), 4 + raw[3]
        # Both bodies in one translation (base64 never holds a "."), without their padding.
        subject, _, delivery = (
            (_b2a(raw[4:size], newline=False) + b"." + _b2a(raw[size:], newline=False))
            .translate(_URLSAFE)
            .decode()
            .partition(".")
        )
        sealed_subject = f"{kid}.{subject.rstrip('=')}"
        sealed_delivery = f"{kid}.{delivery.rstrip('=')}"
    elif head == "5|" or head == "4|" or head == "3|":
        _, purpose, masked_phone, sealed_subject, sealed_delivery, created, locale = rest.split(
            "|", 6
        )
        if head != "3|":
            masked_phone = masked_phone.replace(_STAR, _DOT)
        if head == "5|":
            if sealed_delivery[:1] == ".":
                sealed_delivery = sealed_subject.partition(".")[0] + sealed_delivery
            created_at = expires_at - float(created)
            locale = _loads(locale) if locale else ""
        else:
            created_at = float(created)
            locale = "" if locale == '""' else _loads(locale)
    else:
        values = _loads(rest)
        if not isinstance(values, list) or len(values) != 7 or values[0] != _JSON_FORMAT:
            raise StaleRecord("a challenge in an earlier format")
        _, purpose, masked_phone, sealed_subject, sealed_delivery, created_at, locale = values
    return frozen(
        ChallengeRecord,
        id=challenge_id,
        purpose=purpose,
        masked_phone=masked_phone,
        sealed_subject=sealed_subject,
        sealed_delivery=sealed_delivery,
        code_digest=code_digest,
        created_at=created_at,
        expires_at=expires_at,
        next_send_at=float(next_send_at),
        context_digest=context_digest,
        locale=locale,
        status=_STATUSES[status],
        attempts=int(attempts),
        sends=int(sends),
    )
