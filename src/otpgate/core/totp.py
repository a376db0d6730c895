"""HOTP (RFC 4226) and TOTP (RFC 6238): secrets and URIs from pyotp, QR codes from segno.

Checking a code is the hot path, so it works on the raw key with ``hmac.digest`` instead of
re-decoding the base32 secret for every step as ``pyotp.TOTP.verify`` does; the RFC vectors in
the tests and a comparison with pyotp keep the two in agreement.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import struct
from dataclasses import dataclass

import pyotp

from .settings import Settings


def hotp(key: bytes, counter: int, *, digits: int = 6, algorithm: str = "sha1") -> str:
    """The RFC 4226 value of ``counter`` under ``key`` (dynamic truncation, ``digits`` long)."""
    mac = hmac.digest(key, struct.pack(">Q", counter), algorithm)
    offset = mac[-1] & 0x0F
    binary = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(binary % 10**digits).zfill(digits)


def totp_step(timestamp: float, period: int = 30) -> int:
    """The RFC 6238 time step ``T`` of ``timestamp`` (T0 = 0)."""
    return int(timestamp // period)


def match_step(key: bytes, code: str, timestamp: float, settings: Settings) -> int | None:
    """The time step within ``±totp_window`` whose value equals ``code``, else None.

    Every candidate is compared in constant time, so timing does not reveal which matched.
    """
    current = totp_step(timestamp, settings.totp_period)
    algorithm = settings.totp_algorithm.lower()
    found: int | None = None
    first = max(0, current - settings.totp_window)
    for step in range(first, current + settings.totp_window + 1):
        expected = hotp(key, step, digits=settings.totp_digits, algorithm=algorithm)
        if hmac.compare_digest(expected, code) and found is None:
            found = step
    return found


def new_secret(settings: Settings) -> str:
    """A random base32 secret of ``totp_secret_bytes`` bytes (at least 160 bits)."""
    return pyotp.random_base32(length=_base32_length(settings.totp_secret_bytes))


def _base32_length(byte_count: int) -> int:
    # pyotp wants a multiple of 8 characters; 8 characters carry 5 bytes.
    return -(-byte_count // 5) * 8


def secret_key_bytes(secret: str) -> bytes:
    """The raw key of a base32 secret (padding and case forgiven)."""
    text = secret.strip().replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


@dataclass(frozen=True)
class TotpEnrollment:
    """What a user needs to add the account to an authenticator app. Show once; never log."""

    secret: str
    uri: str
    qr_svg: str

    def __repr__(self) -> str:
        return "TotpEnrollment(secret=<hidden>, uri=<hidden>, qr_svg=<svg>)"


def provisioning_uri(secret: str, account: str, settings: Settings) -> str:
    """The ``otpauth://totp/...`` URI that authenticator apps read."""
    return pyotp.TOTP(
        secret,
        digits=settings.totp_digits,
        interval=settings.totp_period,
        digest=getattr(hashlib, settings.totp_algorithm.lower()),
    ).provisioning_uri(name=account, issuer_name=settings.brand)


def qr_svg(uri: str, *, title: str = "Authenticator app set-up code") -> str:
    """An SVG QR code of ``uri`` with an accessible title."""
    import segno  # only set-up pages draw one: not loaded (nor kept by the GC) elsewhere

    buffer = io.BytesIO()
    segno.make(uri, error="m", micro=False).save(
        buffer, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, title=title
    )
    return buffer.getvalue().decode()


def enrollment(secret: str, account: str, settings: Settings) -> TotpEnrollment:
    uri = provisioning_uri(secret, account, settings)
    return TotpEnrollment(secret=secret, uri=uri, qr_svg=qr_svg(uri))
