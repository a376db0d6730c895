"""``Verifier``'s account side: a subject's factors, removing them, a reset, lifting locks and
pumping blocks, and the authenticator-app and recovery-code checks (``aio_accounts.py`` is
this file with ``await``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .challenge import Verification
from .credentials import Credentials, Factors, PasskeyCredential
from .device_service import RememberedDevices
from .engine import LOST_RACE
from .factors import reads
from .factors.gate import FactorGate
from .factors.webauthn_manage import Passkeys
from .guard import lift_key
from .mailers import EmailSender
from .passkey_settings import webauthn_configured
from .policy import Result
from .pumping import Block
from .state_write import answered, claim, final_check, store_keywords
from .store import Store

if TYPE_CHECKING:
    from .verifier_factors import RecoveryFactor, TotpFactor


class VerifierAccounts(FactorGate):
    """Verifier's account side (mixed in): what it reads, removes and lifts for a subject."""

    # Set by ``Verifier.__init__``.
    store: Store
    credentials: Credentials
    email_sender: EmailSender | None
    devices: RememberedDevices
    totp: TotpFactor
    recovery: RecoveryFactor
    passkeys: Passkeys

    def _emails(self, subject: str, *, always: bool = False) -> list[str]:
        """The subject's verified addresses; none read (no query) without an email sender
        unless ``always``: a site that sends no email codes pays nothing for them."""
        reader = getattr(self.credentials, "emails", None)
        if self.email_sender is None and not always:
            return []
        return list(reader(subject)) if reader is not None else []

    def factors(self, subject: str) -> Factors:
        """The subject's second factors: masked numbers, authenticator app, recovery codes."""
        subject = self._subject(subject)
        return self._factors(
            self.credentials.phones(subject),
            self.credentials.get_totp(subject),
            self.credentials.recovery_codes_left(subject),
            self._emails(subject),
            self._passkeys_of(subject),
        )

    def remove_email(self, subject: str, email: str) -> bool:
        """Remove a verified address (as stored or as typed); True if it was there."""
        subject = self._subject(subject)
        address = self._email_to_remove(email)
        remover = getattr(self.credentials, "remove_email", None)
        removed = bool(remover(subject, address)) if remover is not None else False
        self._finish_removed(subject, "email", removed)
        if removed:
            self.devices.revoke_all(subject, reason="factors_changed")
        return removed

    def _passkeys_of(self, subject: str, *, every: bool = False) -> list[PasskeyCredential]:
        """The subject's passkeys: none read where passkeys are not configured (a site
        without them reads nothing more than before), unless ``every`` (a reset)."""
        reader = getattr(self.credentials, "passkeys", None)
        if reader is None or not (every or webauthn_configured(self.settings)):
            return []
        keys: list[PasskeyCredential] = reader(subject)
        return keys

    def remove_phone(self, subject: str, phone: str) -> bool:
        """Remove a verified number (E.164 or as typed); True if it was there."""
        subject = self._subject(subject)
        e164 = self._phone_to_remove(phone)
        removed = bool(self.credentials.remove_phone(subject, e164))
        self._finish_removed(subject, "sms", removed, e164)
        if removed:
            self.devices.revoke_all(subject, reason="factors_changed")
        return removed

    def reset(self, subject: str) -> list[str]:
        """Remove every factor of ``subject`` and lift any lock (support's last resort);
        returns the kinds removed (``sms``, ``totp``, ``recovery``, ``webauthn``)."""
        subject = self._subject(subject)
        phones = [self.remove_phone(subject, p) for p in self.credentials.phones(subject)]
        emails = [self.remove_email(subject, a) for a in self._emails(subject, always=True)]
        totp, recovery = self.totp.remove(subject), self.recovery.remove(subject)
        keys = [
            self.passkeys.remove(subject, key.credential_id)
            for key in self._passkeys_of(subject, every=True)
        ]
        self.unlock(subject)
        return self._kinds_removed(any(phones), totp, recovery, any(emails), any(keys))

    def pumping_blocks(self) -> list[Block]:
        """The number ranges the SMS pumping guard blocks now."""
        return self.store.pumping_blocks(self.clock())

    def lift_pumping_block(self, prefix: str) -> bool:
        """Lift the block of ``prefix`` (``+44 7700``, or a country as ``+44``); False if
        it had none. ValueError for text that is not a prefix."""
        key, _ = lift_key(self.keyring, prefix)
        return self.store.lift_pumping_block(key)

    def unlock(self, subject: str) -> None:
        """Lift a lockout (soft or hard), e.g. after support verified the user."""
        self.store.unlock(self.subject_key(self._subject(subject)))

    @final_check
    def check_totp(self, subject: str, code: str, purpose: str = "login") -> Verification:
        """Check an authenticator code; each time step is accepted once per subject."""
        subject, clean = self._plan_totp_check(subject, code)
        credential = reads.known_app(self, subject)  # read by this verify already?
        if isinstance(credential, reads.Unknown):
            credential = self.credentials.get_totp(subject)
        resealed = self._resealed(subject, credential) if credential is not None else None
        # verify(then_put=): the write rides on the settle, unless a credential write (key
        # rotation) follows, which may fail, or the app is being confirmed (``enroll``)
        folds = resealed is None and purpose != "enroll"
        fold = claim(self, subject, "check_totp", folds)
        now = self.clock() if fold is None else fold.now
        step = self._totp_step(subject, clean, credential, confirmed=True, now=now)
        key = self.subject_key(subject)
        outcome = self.store.settle_attempt(
            key, step is not None, now, self.lockout, step, **store_keywords(fold)
        )
        answered(fold, outcome.result is Result.APPROVED)
        at = None if fold is None else now
        verification = self._finish_subject_check(outcome, subject, "totp", purpose, at)
        if resealed is not None:
            self.credentials.set_totp(subject, resealed)  # key rotation, lazily
        return verification

    def check_recovery(self, subject: str, code: str, purpose: str = "login") -> Verification:
        """Check a recovery code and use it up."""
        subject, digests = self._recovery_digests(subject, code)
        found = self.credentials.has_recovery_code(subject, digests)
        outcome = self.store.settle_attempt(
            self.subject_key(subject), found, self.clock(), self.lockout
        )
        verification = self._finish_subject_check(outcome, subject, "recovery", purpose)
        if not self.credentials.use_recovery_code(subject, digests):
            self._finish_subject_check(LOST_RACE, subject, "recovery", purpose)
        return verification
