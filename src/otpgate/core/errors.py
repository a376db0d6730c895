"""The error tree. Every error has a stable ``.code``; rate limits carry ``.retry_after``.

Messages are safe to show: they never contain a code, a secret or a full phone number.
Integrations translate messages by ``.code``; the English text here is the fallback.
"""

from __future__ import annotations

from typing import ClassVar

from .error_base import OtpgateError as OtpgateError
from .web_errors import (
    AuthenticationRequired as AuthenticationRequired,
)
from .web_errors import (
    ConfirmationRequired as ConfirmationRequired,
)
from .web_errors import (
    CsrfFailed as CsrfFailed,
)
from .web_errors import (
    EnrollmentRequired as EnrollmentRequired,
)
from .web_errors import (
    FreshOtpRequired as FreshOtpRequired,
)
from .web_errors import (
    LastFactor as LastFactor,
)
from .web_errors import (
    LoginRequired as LoginRequired,
)
from .web_errors import (
    MethodNotAllowed as MethodNotAllowed,
)
from .web_errors import (
    OtpRequired as OtpRequired,
)
from .web_errors import (
    PrimaryFactorRequired as PrimaryFactorRequired,
)

# --- configuration -------------------------------------------------------------------------


class ConfigurationError(OtpgateError):
    """A setting is missing or out of its bounds; raised at start-up, names the setting."""

    code = "configuration_error"
    http_status = 500
    default_message = "Two-step verification is not set up correctly on this site."

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        super().__init__(f"{setting}: {problem}")


class MalformedInput(OtpgateError):
    """An argument has the wrong type or shape (a code with letters, a 10 kB string, None)."""

    code = "malformed_input"
    default_message = "The request was malformed."


class FactorNotEnrolled(OtpgateError):
    """The subject has no such factor (no verified phone, no confirmed authenticator app)."""

    code = "factor_not_enrolled"
    http_status = 409
    default_message = "This second factor is not set up for this account."


class FactorSetupRequired(FactorNotEnrolled):
    """The subject has no factor that can serve this purpose (none at all, or only ones that
    cannot be used for it, such as recovery codes for a transaction): a page links to adding
    one, an API names where to add one. ``.purpose`` says what it was needed for ("" when
    not said)."""

    code = "factor_setup_required"
    http_status = 409
    default_message = "No second factor of this account can be used for this. Add one first."

    def __init__(self, message: str | None = None, *, purpose: str = "") -> None:
        self.purpose = purpose
        super().__init__(message)


class PasskeyNotFound(OtpgateError):
    """The subject has no passkey of that id (someone else's, removed meanwhile, or made up):
    renaming and removing one answer it alike (404)."""

    code = "passkey_not_found"
    http_status = 404
    default_message = "No such passkey."


class UnknownFactor(MalformedInput):
    """No factor of that name is registered (a typo, or a factor this site does not offer)."""

    code = "unknown_factor"
    default_message = "This second factor is not available."


class FactorNotAllowed(OtpgateError):
    """The factor may not serve this purpose (a recovery code never confirms a transaction)."""

    code = "factor_not_allowed"
    http_status = 403
    default_message = "This second factor cannot be used for this. Choose another one."


class FactorNotPreferable(OtpgateError):
    """The factor may not be the subject's preferred one, the one a step opens on (a
    single-use recovery code is a fallback, never the default; see the factor's
    ``preferable``)."""

    code = "factor_not_preferable"
    http_status = 409
    default_message = "This second factor cannot be your preferred one. Choose another one."


class SmsTemporarilyUnavailable(OtpgateError):
    """Codes to the subject's phone (SMS, voice calls) are paused: ``.reason`` says why
    (``sim_swap``: the operator reports the number's SIM changed recently; ``sim_swap_unknown``:
    the operator could not be asked and ``sim_swap_on_error`` is ``refuse``;
    ``prefix_blocked`` / ``country_blocked``: the SMS pumping guard paused codes to new
    numbers of this range or country, ``retry_after`` says for how long). Another factor
    still serves; an SMS-only user waits (a pumping block) or needs the site's support."""

    code = "sms_temporarily_unavailable"
    http_status = 409
    default_message = (
        "Codes to your phone (text message or call) are paused for this account right now. "
        "Use another way to verify, or contact support."
    )

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        self.reason = reason
        super().__init__(retry_after=retry_after)


class FactorAlreadyEnrolled(OtpgateError):
    """An authenticator app is already active; remove it (or pass ``replace=True``) first."""

    code = "factor_already_enrolled"
    http_status = 409
    default_message = "An authenticator app is already set up for this account."


# --- phone numbers -------------------------------------------------------------------------


class PhoneRejected(OtpgateError):
    """A phone number cannot receive codes; ``.reason`` says why."""

    code = "phone_rejected"
    http_status = 422
    reason: ClassVar[str] = "rejected"
    default_message = "This phone number cannot receive codes."


class InvalidPhoneNumber(PhoneRejected):
    code = "phone_invalid"
    reason = "invalid"
    default_message = "This is not a valid phone number. Enter it with its country code."


class PhoneRegionNotAllowed(PhoneRejected):
    code = "phone_region_not_allowed"
    reason = "region"
    default_message = "Codes cannot be sent to phone numbers in this country."


class EmailRejected(OtpgateError):
    """An email address cannot receive codes (not a valid address); ``.reason`` says why."""

    code = "email_invalid"
    http_status = 422
    reason: ClassVar[str] = "invalid"
    default_message = "This is not a valid email address."


class PhoneNetworkNotAllowed(PhoneRejected):
    """A number of an international network (satellite, UIFN, ...: region ``001``), refused
    unless ``allow_international_networks`` is set."""

    code = "phone_network_not_allowed"
    reason = "international_network"
    default_message = "Codes cannot be sent to satellite phones or other non-geographic numbers."


class PhoneTypeNotAllowed(PhoneRejected):
    code = "phone_type_not_allowed"
    reason = "number_type"
    default_message = "Codes can only be sent to mobile phone numbers."


# --- checks of a challenge or factor --------------------------------------------------------


class VerificationFailed(OtpgateError):
    """A code was presented and not accepted."""

    code = "verification_failed"
    http_status = 400


class InvalidCode(VerificationFailed):
    code = "invalid_code"
    default_message = "That code is not correct."

    def __init__(self, message: str | None = None, *, attempts_left: int | None = None) -> None:
        self.attempts_left = attempts_left
        super().__init__(message)


class PasskeyRejected(InvalidCode):
    """A passkey's answer did not verify: another origin or site, a bad signature, a
    credential the subject does not have, or the answer to another challenge."""

    code = "passkey_rejected"
    default_message = "That passkey could not be verified."


class SignCountRegression(VerificationFailed):
    """A passkey's signature counter went backwards: the authenticator may have been
    cloned. Refused, and reported as a ``passkey_counter_regression`` event."""

    code = "sign_count_regression"
    default_message = "That passkey could not be verified."


class ChallengeExpired(VerificationFailed):
    """Expired, used, canceled or unknown: deliberately one answer for all of them."""

    code = "expired"
    http_status = 410
    default_message = "This code has expired. Request a new one."


class MaxAttemptsReached(VerificationFailed):
    code = "max_attempts_reached"
    http_status = 410
    default_message = "Too many wrong codes. Request a new one."


class ContextMismatch(VerificationFailed):
    code = "context_mismatch"
    http_status = 409
    default_message = "This code was issued for a different transaction."


class CodeReplayed(VerificationFailed):
    code = "replayed"
    default_message = "This code was already used. Wait for the next one."


# --- rate limits ----------------------------------------------------------------------------


class RateLimited(OtpgateError):
    code = "rate_limited"
    http_status = 429
    default_message = "Too many requests."
    #: Added to the message when no ``retry_after`` says when (pages show the wait instead).
    later_message: ClassVar[str] = "Try again later."


class ResendCooldown(RateLimited):
    code = "resend_cooldown"
    default_message = "Wait a little before requesting another code."
    later_message = ""


class SendLimitReached(RateLimited):
    """A send budget is spent; ``.scope`` is for logs: ``phone`` (this subject's sends to this
    number), ``enrollment`` (codes to verify this number, every account together),
    ``subject``, ``ip``, ``country`` or ``challenge``."""

    code = "send_limit_reached"
    default_message = "Too many codes were requested."

    def __init__(self, scope: str, *, retry_after: float | None = None) -> None:
        self.scope = scope
        super().__init__(retry_after=retry_after)


class LockedOut(RateLimited):
    """Too many failed checks for this subject. ``retry_after`` is None for the hard lock."""

    code = "locked_out"
    default_message = "Too many failed attempts."
    hard_message: ClassVar[str] = (
        "Too many failed attempts. This account's second factor is locked; contact support."
    )

    def __init__(self, *, retry_after: float | None = None) -> None:
        self.hard = retry_after is None
        super().__init__(self.hard_message if self.hard else None, retry_after=retry_after)


# --- backends -------------------------------------------------------------------------------


class BackendError(OtpgateError):
    code = "backend_error"
    http_status = 503
    default_message = "The second factor service is unavailable. Try again shortly."


class StorageUnavailable(BackendError):
    code = "storage_unavailable"


class DeliveryFailed(BackendError):
    """The text could not be delivered. ``retryable``: another gateway may succeed."""

    code = "delivery_failed"
    http_status = 502
    default_message = "The code could not be sent. Try again or use another method."

    def __init__(
        self, message: str | None = None, *, retryable: bool = True, challenge_id: str | None = None
    ) -> None:
        self.retryable = retryable
        #: The challenge whose code could not be sent: the user may resend it.
        self.challenge_id = challenge_id
        super().__init__(message)
