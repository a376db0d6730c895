"""Adding a factor: what starting its set-up hands over (``gate.setup``).

A factor that proves itself by a challenge (SMS) starts one for ``enroll``; a factor whose
set-up is not a challenge says what to show instead by implementing ``setup`` / ``asetup``:
an app's secret to scan (``totp``), a sheet of recovery codes (``recovery``). An integration
shows what the :class:`FactorSetup` holds, then proves the factor where it needs proof with
``gate.verify(..., purpose="enroll")``; it never needs to know which factor it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..challenge import Challenge
    from ..totp import TotpEnrollment


@dataclass(frozen=True)
class SetupRequest:
    """What ``gate.setup`` hands a factor: ``label`` names the account in an app or an
    authenticator (a user name or an email, not an id); ``destination`` where to deliver
    (the number typed); ``name`` the user's own name for the factor ("Work laptop")."""

    label: str | None = None
    destination: str | None = None
    client_ip: str | None = None
    locale: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class FactorSetup:
    """What starting to add ``factor`` handed over, to show once and never log: the code sent
    (``challenge``; for a passkey its ``browser_options`` are the creation options), an app's
    secret (``enrollment``), or new recovery codes (``codes``).
    ``needs_proof``: a code must then confirm it (``gate.verify(..., purpose="enroll")``)."""

    factor: str
    needs_proof: bool
    challenge: Challenge | None = None
    enrollment: TotpEnrollment | None = field(default=None, repr=False)
    codes: tuple[str, ...] = field(default=(), repr=False)

    def secrets(self) -> dict[str, Any]:
        """What to show the user, JSON-able (an app's secret and QR, or the codes); the
        challenge is left to the integration, which has its own shape for it."""
        shown: dict[str, Any] = {}
        if self.enrollment is not None:
            shown.update(
                secret=self.enrollment.secret,
                otpauth_uri=self.enrollment.uri,
                qr_svg=self.enrollment.qr_svg,
            )
        if self.codes:
            shown["recovery_codes"] = list(self.codes)
        return shown
