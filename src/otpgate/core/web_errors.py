"""The web layer's errors: what integrations answer before a verifier is involved (a
sign-in, a fresh factor or a confirmation missing, a wrong method, a failed CSRF check, a
change that would leave no factor). :mod:`otpgate.core.errors` re-exports every one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .error_base import OtpgateError

if TYPE_CHECKING:
    from .challenge import Challenge


class AuthenticationRequired(OtpgateError):
    """The request needs something the session does not have yet."""

    code = "authentication_required"
    http_status = 401
    default_message = "Sign in to continue."


class LoginRequired(AuthenticationRequired):
    code = "login_required"
    default_message = "Sign in to continue."


class OtpRequired(AuthenticationRequired):
    code = "otp_required"
    default_message = "Confirm it is you with your second factor."


class FreshOtpRequired(AuthenticationRequired):
    """Step-up: a second factor newer than ``max_age`` seconds is needed (RFC 9470)."""

    code = "fresh_otp_required"
    default_message = "Confirm it is you again to continue."

    def __init__(self, message: str | None = None, *, max_age: int | None = None) -> None:
        self.max_age = max_age
        super().__init__(message)


class ConfirmationRequired(AuthenticationRequired):
    """A transaction needs confirming with a second factor; ``challenge_id`` names what to
    send back with the code (a confirmation token, or an SMS challenge)."""

    code = "confirmation_required"
    default_message = "Confirm this transaction with a code from your second factor."

    def __init__(
        self,
        message: str | None = None,
        *,
        challenge_id: str | None = None,
        challenge: Challenge | None = None,
    ) -> None:
        self.challenge = challenge
        self.challenge_id = challenge.id if challenge is not None else challenge_id
        super().__init__(message)


class EnrollmentRequired(OtpgateError):
    code = "enrollment_required"
    http_status = 403
    default_message = "Set up a second factor to continue."


class MethodNotAllowed(OtpgateError):
    """A request with a safe method (GET, HEAD, OPTIONS, TRACE: a link preview, a crawler,
    a prefetch) asked for something only a state-changing one may do, such as confirming
    a transaction (which sends a code). ``.allowed`` lists the methods that may (the
    ``Allow`` header); nothing was sent, spent or recorded."""

    code = "method_not_allowed"
    http_status = 405
    default_message = "This request method is not allowed here."

    def __init__(self, message: str | None = None, *, allowed: tuple[str, ...] = ("POST",)) -> None:
        self.allowed = tuple(allowed)
        super().__init__(message)


class CsrfFailed(OtpgateError):
    code = "csrf_failed"
    http_status = 403
    default_message = "The form expired. Reload the page and try again."


class PrimaryFactorRequired(OtpgateError):
    """Recovery codes back up a phone number or an authenticator app: set one up first."""

    code = "primary_factor_required"
    http_status = 409
    default_message = "Set up a phone number or an authenticator app first."


class LastFactor(OtpgateError):
    """Removing this factor would leave a user who must use a second factor without one."""

    code = "last_factor"
    http_status = 409
    default_message = "This is your last second factor; add another before removing it."
