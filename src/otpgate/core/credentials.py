"""The credential repository: a subject's persistent factors.

Phones are E.164 text; the TOTP secret is stored sealed (encrypted); recovery codes only as
keyed digests; passkeys as their public keys (nothing secret) with their counters. Django
keeps these in ORM models, Flask and FastAPI in SQLAlchemy tables;
``MemoryCredentials`` serves tests, demos and single-process tools.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol, runtime_checkable

from .credential_records import Factors as Factors
from .credential_records import PasskeyCredential as PasskeyCredential
from .credential_records import TotpCredential as TotpCredential
from .credential_records import counter_regressed as counter_regressed
from .devices import DeviceRecord


@runtime_checkable
class Credentials(Protocol):
    def phones(self, subject: str) -> list[str]:
        """The subject's verified numbers (E.164), the preferred one first."""

    def add_phone(self, subject: str, e164: str) -> None:
        """Add a verified number (no-op if present)."""

    def remove_phone(self, subject: str, e164: str) -> bool: ...

    def get_totp(self, subject: str) -> TotpCredential | None: ...

    def set_totp(self, subject: str, credential: TotpCredential) -> None:
        """Store a pending (unconfirmed) or confirmed authenticator secret, replacing any."""

    def remove_totp(self, subject: str) -> bool: ...

    def recovery_codes_left(self, subject: str) -> int: ...

    def replace_recovery_codes(self, subject: str, digests: Sequence[str]) -> None:
        """Void every old code of the subject and keep these digests instead."""

    def has_recovery_code(self, subject: str, digests: Sequence[str]) -> bool:
        """True if an unused code matches any of ``digests`` (nothing is changed)."""

    def use_recovery_code(self, subject: str, digests: Sequence[str]) -> bool:
        """Atomically mark the unused code matching any of ``digests`` as used. True once."""

    def preferred_factor(self, subject: str) -> str | None:
        """The factor name the subject chose to be asked for first, or None."""

    def set_preferred_factor(self, subject: str, name: str | None) -> None:
        """Store the subject's choice (a factor name), or forget it (None)."""

    def passkeys(self, subject: str) -> list[PasskeyCredential]:
        """The subject's passkeys, oldest first."""

    def add_passkey(self, subject: str, credential: PasskeyCredential) -> bool:
        """Keep a new passkey; False (nothing stored) if its credential id is known already."""

    def use_passkey(
        self, subject: str, credential_id: str, sign_count: int, backup_state: bool, at: float
    ) -> bool:
        """Record a use atomically: the new counter, backup state and last-used time, unless
        :func:`counter_regressed`. False: refused (or no such passkey)."""

    def rename_passkey(self, subject: str, credential_id: str, name: str) -> bool: ...

    def remove_passkey(self, subject: str, credential_id: str) -> bool: ...


@runtime_checkable
class EmailCredentials(Protocol):
    """The verified email addresses of a subject: a repository that has these methods
    (every built-in one does) lets subjects use the ``email`` factor."""

    def emails(self, subject: str) -> list[str]:
        """The subject's verified addresses (normalised), the preferred one first."""

    def add_email(self, subject: str, address: str) -> None:
        """Add a verified address (no-op if present)."""

    def remove_email(self, subject: str, address: str) -> bool: ...


@runtime_checkable
class AsyncCredentials(Protocol):
    """:class:`Credentials` with every method a coroutine."""

    async def phones(self, subject: str) -> list[str]: ...
    async def add_phone(self, subject: str, e164: str) -> None: ...
    async def remove_phone(self, subject: str, e164: str) -> bool: ...
    async def get_totp(self, subject: str) -> TotpCredential | None: ...
    async def set_totp(self, subject: str, credential: TotpCredential) -> None: ...
    async def remove_totp(self, subject: str) -> bool: ...
    async def recovery_codes_left(self, subject: str) -> int: ...
    async def replace_recovery_codes(self, subject: str, digests: Sequence[str]) -> None: ...
    async def has_recovery_code(self, subject: str, digests: Sequence[str]) -> bool: ...
    async def use_recovery_code(self, subject: str, digests: Sequence[str]) -> bool: ...
    async def preferred_factor(self, subject: str) -> str | None: ...
    async def set_preferred_factor(self, subject: str, name: str | None) -> None: ...
    async def passkeys(self, subject: str) -> list[PasskeyCredential]: ...
    async def add_passkey(self, subject: str, credential: PasskeyCredential) -> bool: ...
    async def use_passkey(
        self, subject: str, credential_id: str, sign_count: int, backup_state: bool, at: float
    ) -> bool: ...
    async def rename_passkey(self, subject: str, credential_id: str, name: str) -> bool: ...
    async def remove_passkey(self, subject: str, credential_id: str) -> bool: ...


class MemoryCredentials:
    """Factors in a dict. Thread-safe; lost when the process ends."""

    nonblocking = True  # AsyncVerifier may call it directly

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._phones: dict[str, list[str]] = {}
        self._totp: dict[str, TotpCredential] = {}
        self._recovery: dict[str, set[str]] = {}
        self._preferred: dict[str, str] = {}
        self._devices: dict[str, DeviceRecord] = {}
        self._emails: dict[str, list[str]] = {}
        self._passkeys: dict[str, list[PasskeyCredential]] = {}

    def phones(self, subject: str) -> list[str]:
        with self._lock:
            return list(self._phones.get(subject, ()))

    def add_phone(self, subject: str, e164: str) -> None:
        with self._lock:
            numbers = self._phones.setdefault(subject, [])
            if e164 not in numbers:
                numbers.append(e164)

    def remove_phone(self, subject: str, e164: str) -> bool:
        with self._lock:
            numbers = self._phones.get(subject, [])
            if e164 not in numbers:
                return False
            numbers.remove(e164)
            return True

    def emails(self, subject: str) -> list[str]:
        with self._lock:
            return list(self._emails.get(subject, ()))

    def add_email(self, subject: str, address: str) -> None:
        with self._lock:
            addresses = self._emails.setdefault(subject, [])
            if address not in addresses:
                addresses.append(address)

    def remove_email(self, subject: str, address: str) -> bool:
        with self._lock:
            addresses = self._emails.get(subject, [])
            if address not in addresses:
                return False
            addresses.remove(address)
            return True

    def get_totp(self, subject: str) -> TotpCredential | None:
        return self._totp.get(subject)

    def set_totp(self, subject: str, credential: TotpCredential) -> None:
        with self._lock:
            self._totp[subject] = credential

    def remove_totp(self, subject: str) -> bool:
        with self._lock:
            return self._totp.pop(subject, None) is not None

    def recovery_codes_left(self, subject: str) -> int:
        with self._lock:
            return len(self._recovery.get(subject, ()))

    def replace_recovery_codes(self, subject: str, digests: Sequence[str]) -> None:
        with self._lock:
            self._recovery[subject] = set(digests)

    def has_recovery_code(self, subject: str, digests: Sequence[str]) -> bool:
        with self._lock:
            unused = self._recovery.get(subject, set())
            return any(digest in unused for digest in digests)

    def use_recovery_code(self, subject: str, digests: Sequence[str]) -> bool:
        with self._lock:
            unused = self._recovery.get(subject, set())
            for digest in digests:
                if digest in unused:
                    unused.discard(digest)
                    return True
            return False

    def preferred_factor(self, subject: str) -> str | None:
        with self._lock:
            return self._preferred.get(subject)

    def set_preferred_factor(self, subject: str, name: str | None) -> None:
        with self._lock:
            if name is None:
                self._preferred.pop(subject, None)
            else:
                self._preferred[subject] = name

    # -- remembered devices (DeviceRepository) ------------------------------------------------

    def add_device(self, record: DeviceRecord) -> None:
        with self._lock:
            self._devices[record.ref] = record

    def get_device(self, ref: str) -> DeviceRecord | None:
        with self._lock:
            return self._devices.get(ref)

    def list_devices(self, subject: str) -> list[DeviceRecord]:
        with self._lock:
            mine = [r for r in self._devices.values() if r.subject == subject]
        return sorted(mine, key=lambda r: (-r.last_seen, r.ref))

    def touch_device(self, ref: str, last_seen: float) -> None:
        with self._lock:
            record = self._devices.get(ref)
            if record is not None:
                self._devices[ref] = replace(record, last_seen=last_seen)

    def remove_device(self, subject: str, ref: str) -> bool:
        with self._lock:
            record = self._devices.get(ref)
            if record is None or record.subject != subject:
                return False
            del self._devices[ref]
            return True

    def remove_devices(self, subject: str) -> int:
        with self._lock:
            refs = [ref for ref, r in self._devices.items() if r.subject == subject]
            for ref in refs:
                del self._devices[ref]
            return len(refs)

    def passkeys(self, subject: str) -> list[PasskeyCredential]:
        with self._lock:
            return list(self._passkeys.get(subject, ()))

    def add_passkey(self, subject: str, credential: PasskeyCredential) -> bool:
        with self._lock:
            known = (c.credential_id for keys in self._passkeys.values() for c in keys)
            if credential.credential_id in set(known):
                return False
            self._passkeys.setdefault(subject, []).append(credential)
            return True

    def use_passkey(
        self, subject: str, credential_id: str, sign_count: int, backup_state: bool, at: float
    ) -> bool:
        with self._lock:
            keys = self._passkeys.get(subject, [])
            for index, key in enumerate(keys):
                if key.credential_id == credential_id:
                    if counter_regressed(key.sign_count, sign_count):
                        return False
                    keys[index] = replace(
                        key, sign_count=sign_count, backup_state=backup_state, last_used_at=at
                    )
                    return True
            return False

    def rename_passkey(self, subject: str, credential_id: str, name: str) -> bool:
        with self._lock:
            keys = self._passkeys.get(subject, [])
            for index, key in enumerate(keys):
                if key.credential_id == credential_id:
                    keys[index] = replace(key, name=name)
                    return True
            return False

    def remove_passkey(self, subject: str, credential_id: str) -> bool:
        with self._lock:
            keys = self._passkeys.get(subject, [])
            kept = [key for key in keys if key.credential_id != credential_id]
            self._passkeys[subject] = kept
            return len(kept) != len(keys)
