"""``FactorDecisions``: the decisions about a subject's factors, as pure code (a base of
``Decisions``): the factors summary, what a removal names, which email address a code goes
to, a TOTP enrolment, step and reseal, and the digests a recovery code may be stored under.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .address import EmailAddress, mask_email, parse_email
from .bounds import NUMBER_TYPES as _ALL_NUMBER_TYPES
from .codes import (
    IMPORTED_RECOVERY,
    clean_imported_code,
    clean_numeric_code,
    clean_recovery_code,
)
from .credentials import Factors, PasskeyCredential, TotpCredential
from .crypto import Keyring
from .errors import (
    ConfigurationError,
    EmailRejected,
    FactorAlreadyEnrolled,
    FactorNotEnrolled,
    MalformedInput,
    PhoneRejected,
)
from .events import EventName
from .phone import mask, parse_phone
from .settings import Settings
from .totp import TotpEnrollment, enrollment, match_step
from .web import factors_fingerprint


class FactorDecisions:
    """What a subject's factors are, and the pure decisions about changing and checking them."""

    settings: Settings
    keyring: Keyring
    clock: Callable[[], float]

    if TYPE_CHECKING:

        @staticmethod
        def _subject(subject: object) -> str: ...

        def _emit(self, name: EventName, subject: str, **fields: Any) -> None: ...

    def _factors(
        self,
        phones: list[str],
        totp: TotpCredential | None,
        recovery_left: int,
        emails: list[str] | None = None,
        passkeys: Sequence[PasskeyCredential] = (),
        *,
        fingerprinted: bool = True,
    ) -> Factors:
        """The snapshot; ``fingerprinted=False``: its ``fingerprint`` left empty (a partial
        read for a decision only, ``reads.py``: never what a device token is bound to)."""
        active = totp is not None and totp.confirmed
        addresses = emails or []
        fingerprint = ""
        if fingerprinted:
            fingerprint = factors_fingerprint(
                phones,
                totp.created_at if totp and active else None,
                recovery_left,
                addresses,
                [key.credential_id for key in passkeys],
            )
        return Factors(
            masked_phones=tuple(mask(phone) for phone in phones),
            totp=active,
            recovery_codes_left=recovery_left,
            fingerprint=fingerprint,
            masked_emails=tuple(mask_email(address) for address in addresses),
            passkeys=tuple(key.name for key in passkeys),
        )

    def _phone_to_remove(self, phone: object) -> str:
        if not isinstance(phone, str) or len(phone) > 64:
            raise MalformedInput("The phone number must be a string.")
        try:
            return parse_phone(
                phone,
                self.settings.replace(
                    allowed_regions=frozenset(),
                    denied_regions=frozenset(),
                    allowed_number_types=frozenset(_ALL_NUMBER_TYPES),
                ),
            ).e164
        except PhoneRejected:
            return phone

    def _finish_removed(self, subject: str, factor: str, removed: bool, phone: str = "") -> None:
        if removed:
            masked = mask(phone) if phone else ""
            self._emit(EventName.FACTOR_REMOVED, subject, factor=factor, masked_phone=masked)

    @staticmethod
    def _kinds_removed(
        sms: bool, totp: bool, recovery: bool, email: bool = False, webauthn: bool = False
    ) -> list[str]:
        kinds = (
            ("sms", sms),
            ("email", email),
            ("totp", totp),
            ("recovery", recovery),
            ("webauthn", webauthn),
        )
        return [kind for kind, done in kinds if done]

    @staticmethod
    def _email_to_remove(email: object) -> str:
        if not isinstance(email, str) or len(email) > 254:
            raise MalformedInput("The email address must be a string.")
        try:
            return parse_email(email).address
        except EmailRejected:
            return email

    def _choose_email(self, purpose: str, email: str | None, known: list[str]) -> EmailAddress:
        if email is None:
            if purpose == "enroll":
                raise MalformedInput("Enter the email address to verify.")
            if not known:
                raise FactorNotEnrolled("No verified email address is set up for this account.")
            return parse_email(known[0])
        address = parse_email(email)
        if purpose != "enroll" and address.address not in known:
            raise FactorNotEnrolled("This email address is not verified for this account.")
        return address

    @staticmethod
    def _no_email_sender() -> ConfigurationError:
        return ConfigurationError("email_sender", "no email sender is configured")

    def _pending_enrollment(
        self, subject: str, credential: TotpCredential | None, account: str
    ) -> TotpEnrollment | None:
        if credential is None or credential.confirmed:
            return None
        key = bytes.fromhex(self.keyring.open(credential.sealed_secret, context=subject))
        secret = base64.b32encode(key).decode("ascii").rstrip("=")
        return enrollment(secret, account, self.settings)

    @staticmethod
    def _check_can_enroll(current: TotpCredential | None, replace: bool) -> None:
        if current is not None and current.confirmed and not replace:
            raise FactorAlreadyEnrolled()

    def _plan_totp_check(self, subject: object, code: object) -> tuple[str, str]:
        return self._subject(subject), clean_numeric_code(code, self.settings.totp_digits)

    def _totp_step(
        self,
        subject: str,
        code: str,
        credential: TotpCredential | None,
        *,
        confirmed: bool,
        now: float | None = None,
    ) -> int | None:
        if credential is None or credential.confirmed is not confirmed:
            what = "authenticator app" if confirmed else "pending authenticator app set-up"
            raise FactorNotEnrolled(f"No {what} for this account.")
        key = bytes.fromhex(self.keyring.open(credential.sealed_secret, context=subject))
        return match_step(key, code, self.clock() if now is None else now, self.settings)

    def _resealed(self, subject: str, credential: TotpCredential | None) -> TotpCredential | None:
        """The credential sealed under the current key, if it was sealed under an older one."""
        if credential is None or not self.keyring.needs_rotation(credential.sealed_secret):
            return None
        sealed = self.keyring.rotate(credential.sealed_secret, context=subject)
        return TotpCredential(sealed, credential.confirmed, credential.created_at)

    def _recovery_digests(self, subject: object, code: object) -> tuple[str, list[str]]:
        """The digests ``code`` may be stored under: otpgate's own format, and that of codes
        imported from another library (``otpgate_import_django_otp``: django-otp's tokens)."""
        subject = self._subject(subject)
        imported = clean_imported_code(code)
        try:
            canonical = clean_recovery_code(code)
        except MalformedInput:
            if imported is None:
                raise
            return subject, self.keyring.digests(IMPORTED_RECOVERY, subject, imported)
        digests = self.keyring.digests("recovery", subject, canonical)
        if imported is not None:
            digests += self.keyring.digests(IMPORTED_RECOVERY, subject, imported)
        return subject, digests
