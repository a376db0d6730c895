"""The records a credential repository keeps and returns: a TOTP secret (sealed), a passkey,
and the masked :class:`Factors` snapshot of a subject's second factors, with the passkey
counter rule (:func:`counter_regressed`) every repository applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TotpCredential:
    sealed_secret: str = field(repr=False)
    confirmed: bool
    created_at: float


@dataclass(frozen=True)
class PasskeyCredential:
    """One registered passkey (WebAuthn credential). Nothing here is secret: the public key
    only checks signatures; the credential id is base64url text, unique across subjects."""

    credential_id: str
    public_key: bytes = field(repr=False)
    sign_count: int
    #: The user's name for it ("Work laptop"): shown in lists, never logged.
    name: str = field(repr=False)
    created_at: float
    last_used_at: float | None = None
    #: How the browser can reach it ("internal", "usb", "hybrid", ...).
    transports: tuple[str, ...] = ()
    #: It may be synced to other devices (multi-device), and it is backed up now.
    backup_eligible: bool = False
    backup_state: bool = False


def counter_regressed(stored: int, presented: int) -> bool:
    """True if a passkey's counter went backwards (or stood still while counting): an
    authenticator that does not count always reports 0, and 0 after 0 is fine."""
    return (stored > 0 or presented > 0) and presented <= stored


@dataclass(frozen=True)
class Factors:
    """What second factors a subject has, safe to show (numbers masked)."""

    masked_phones: tuple[str, ...]
    totp: bool
    recovery_codes_left: int
    #: Changes whenever the factors change; voids "remember this device" tokens.
    fingerprint: str
    #: Verified email addresses, masked (``a••••@example.com``).
    masked_emails: tuple[str, ...] = ()
    #: The names of the subject's passkeys, oldest first.
    passkeys: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        """True if the subject can pass a second factor at all."""
        return bool(
            self.masked_phones
            or self.masked_emails
            or self.totp
            or self.recovery_codes_left
            or self.passkeys
        )

    @property
    def primary_count(self) -> int:
        """Phone numbers, addresses, authenticator app and passkeys: what recovery codes
        back up."""
        return (
            len(self.masked_phones) + len(self.masked_emails) + int(self.totp) + len(self.passkeys)
        )
