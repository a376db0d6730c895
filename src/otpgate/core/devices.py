"""Remembered devices: "don't ask again on this device for N days", as pure decisions.

A remembered device skips the second step **at sign-in only** (purpose ``login``): never a
step-up, never a transaction confirmation. Its record is kept server-side in the credentials
database (so a user can list and revoke devices) and holds:

- ``ref``: a public handle (random, 64 bits) that names the device on management pages;
- ``digest``: a keyed digest of the 256-bit random device secret (the secret itself is only
  in the token the browser or client keeps: ``<ref>.<secret>``);
- ``binding``: a keyed digest of the subject's factors fingerprint and the integration's
  credential stamp (e.g. Django's session auth hash): any factor or password change voids it;
- ``label`` (browser and system, from the user agent), ``place`` (the client's network with
  the host part masked: ``203.0.113.0/24``, never the address itself), first and last seen,
  and the expiry.

The services that do the I/O are in :mod:`otpgate.core.device_service`.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

#: ``SecondFactorState.verified_factor`` of a session a remembered device let in.
REMEMBERED = "remembered_device"
#: Last-seen is written at most this often per device (seconds): not a write per sign-in.
TOUCH_INTERVAL = 3600
#: Devices kept per subject; remembering one more forgets the least recently seen.
MAX_DEVICES = 20

_REF_BYTES, _SECRET_BYTES = 8, 32
_TOKEN = re.compile(r"\A([0-9a-f]{16})\.([A-Za-z0-9_-]{43})\Z")
_MAX_LABEL = 64


@dataclass(frozen=True)
class DeviceRecord:
    """One remembered device of ``subject`` (what the credentials database keeps)."""

    ref: str
    subject: str
    digest: str
    binding: str
    label: str
    place: str
    created_at: float
    last_seen: float
    expires_at: float


@runtime_checkable
class DeviceRepository(Protocol):
    """What a credentials database offers to remember devices (sync)."""

    def add_device(self, record: DeviceRecord) -> None: ...

    def get_device(self, ref: str) -> DeviceRecord | None: ...

    def list_devices(self, subject: str) -> list[DeviceRecord]:
        """The subject's devices, most recently seen first."""

    def touch_device(self, ref: str, last_seen: float) -> None: ...

    def remove_device(self, subject: str, ref: str) -> bool:
        """Forget one device of ``subject``; True if it was there."""

    def remove_devices(self, subject: str) -> int:
        """Forget every device of ``subject``; how many there were."""


@runtime_checkable
class AsyncDeviceRepository(Protocol):
    """:class:`DeviceRepository` with every method a coroutine."""

    async def add_device(self, record: DeviceRecord) -> None: ...
    async def get_device(self, ref: str) -> DeviceRecord | None: ...
    async def list_devices(self, subject: str) -> list[DeviceRecord]: ...
    async def touch_device(self, ref: str, last_seen: float) -> None: ...
    async def remove_device(self, subject: str, ref: str) -> bool: ...
    async def remove_devices(self, subject: str) -> int: ...


@dataclass(frozen=True)
class DeviceView:
    """What a management page or API shows of a device (no secret, no digest)."""

    ref: str
    label: str
    place: str
    created_at: float
    last_seen: float
    expires_at: float


def view(record: DeviceRecord) -> DeviceView:
    return DeviceView(
        record.ref,
        record.label,
        record.place,
        record.created_at,
        record.last_seen,
        record.expires_at,
    )


def new_token() -> tuple[str, str, str]:
    """A fresh ``(token, ref, secret)``: the token is ``<ref>.<secret>``."""
    ref = secrets.token_hex(_REF_BYTES)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    return f"{ref}.{secret}", ref, secret


def parse_token(token: object) -> tuple[str, str] | None:
    """``(ref, secret)`` of a well-formed token, else None (never an error: bad input is
    simply not a remembered device)."""
    if not isinstance(token, str) or len(token) > 128:
        return None
    match = _TOKEN.match(token.strip())
    return (match.group(1), match.group(2)) if match else None


def is_ref(value: object) -> bool:
    """True if ``value`` looks like a device's public handle."""
    return isinstance(value, str) and re.fullmatch(r"[0-9a-f]{16}", value) is not None


def skips_second_step(
    record: DeviceRecord | None,
    *,
    subject: str,
    purpose: str,
    digests: Sequence[str],
    bindings: Sequence[str],
    now: float,
) -> bool:
    """The one decision: may this device skip the second step now?

    Only for ``login``; only the subject's own, unexpired record whose secret digest is one of
    ``digests`` and whose binding (factors and credential stamp) is one of ``bindings``
    (every configured key's digest, so key rotation does not sign everyone out).
    """
    if purpose != "login" or record is None or record.subject != subject:
        return False
    if not now < record.expires_at:
        return False
    if not any(hmac.compare_digest(record.digest, d) for d in digests):
        return False
    return any(hmac.compare_digest(record.binding, b) for b in bindings)


def is_void(record: DeviceRecord, bindings: Sequence[str], now: float) -> bool:
    """True if the record can never skip again (expired, or its factors/stamp changed)."""
    if not now < record.expires_at:
        return True
    return not any(hmac.compare_digest(record.binding, b) for b in bindings)


def due_for_touch(record: DeviceRecord, now: float) -> bool:
    """True if last-seen is worth a write (at most once per :data:`TOUCH_INTERVAL`)."""
    return now - record.last_seen >= TOUCH_INTERVAL


_BROWSERS = (
    ("Edge", r"Edg(?:e|A|iOS)?/"),
    ("Opera", r"OPR/|Opera"),
    ("Samsung Internet", r"SamsungBrowser/"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chrome", r"Chrome/|CriOS/|HeadlessChrome/"),
    ("Safari", r"Safari/"),
)
_SYSTEMS = (
    ("iOS", r"iPhone|iPad|iPod"),
    ("Android", r"Android"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("ChromeOS", r"CrOS"),
    ("Linux", r"Linux|X11"),
)


def device_label(user_agent: object) -> str:
    """ "Firefox on Linux" from a User-Agent header (a small parser: browser family and
    system only, no version); ``""`` when nothing is recognised."""
    if not isinstance(user_agent, str) or not user_agent:
        return ""
    text = user_agent[:512]
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, text)), "")
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, text)), "")
    if browser and system:
        return f"{browser} on {system}"[:_MAX_LABEL]
    return (browser or system)[:_MAX_LABEL]


def approximate_place(client_ip: object) -> str:
    """The client's network with the host part masked (IPv4 ``/24``, IPv6 ``/48``): enough
    to tell "home" from "abroad", not the address. ``""`` for no or a malformed address."""
    if not isinstance(client_ip, str) or not client_ip or len(client_ip) > 64:
        return ""
    try:
        address = ipaddress.ip_address(client_ip.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
