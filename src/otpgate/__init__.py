"""otpgate: SMS one-time codes, authenticator apps and recovery codes as a second factor.

The public API is the framework-free core; integrations live in ``otpgate.integrations``.
"""

from __future__ import annotations

from otpgate.core.aio import AsyncVerifier
from otpgate.core.challenge import Challenge, Status, Verification
from otpgate.core.credentials import (
    AsyncCredentials,
    Credentials,
    Factors,
    MemoryCredentials,
    TotpCredential,
)
from otpgate.core.errors import (
    AuthenticationRequired,
    BackendError,
    ChallengeExpired,
    CodeReplayed,
    ConfigurationError,
    ConfirmationRequired,
    ContextMismatch,
    CsrfFailed,
    DeliveryFailed,
    EnrollmentRequired,
    FactorAlreadyEnrolled,
    FactorNotEnrolled,
    FreshOtpRequired,
    InvalidCode,
    InvalidPhoneNumber,
    LastFactor,
    LockedOut,
    LoginRequired,
    MalformedInput,
    MaxAttemptsReached,
    OtpgateError,
    OtpRequired,
    PhoneRegionNotAllowed,
    PhoneRejected,
    PhoneTypeNotAllowed,
    PrimaryFactorRequired,
    RateLimited,
    ResendCooldown,
    SendLimitReached,
    StorageUnavailable,
    VerificationFailed,
)
from otpgate.core.events import Event, EventName
from otpgate.core.http import ErrorResponse, error_response
from otpgate.core.memory_store import MemoryStore
from otpgate.core.phone import PhoneNumber, mask, parse_phone
from otpgate.core.senders import AsyncSender, ConsoleSender, OutboxMessage, OutboxSender, Sender
from otpgate.core.settings import RateLimit, Settings, generate_secret_key
from otpgate.core.store import AsyncStore, Store
from otpgate.core.totp import TotpEnrollment
from otpgate.core.verifier import Verifier
from otpgate.core.web import DeviceTokens, SecondFactorState, challenge_view, safe_next

__version__ = "0.1.0.dev0"

__all__ = [
    "AsyncCredentials",
    "AsyncSender",
    "AsyncStore",
    "AsyncVerifier",
    "AuthenticationRequired",
    "BackendError",
    "Challenge",
    "ChallengeExpired",
    "CodeReplayed",
    "ConfigurationError",
    "ConfirmationRequired",
    "ConsoleSender",
    "ContextMismatch",
    "Credentials",
    "CsrfFailed",
    "DeliveryFailed",
    "DeviceTokens",
    "EnrollmentRequired",
    "ErrorResponse",
    "Event",
    "EventName",
    "FactorAlreadyEnrolled",
    "FactorNotEnrolled",
    "Factors",
    "FreshOtpRequired",
    "InvalidCode",
    "InvalidPhoneNumber",
    "LastFactor",
    "LockedOut",
    "LoginRequired",
    "MalformedInput",
    "MaxAttemptsReached",
    "MemoryCredentials",
    "MemoryStore",
    "OtpRequired",
    "OtpgateError",
    "OutboxMessage",
    "OutboxSender",
    "PhoneNumber",
    "PhoneRegionNotAllowed",
    "PhoneRejected",
    "PhoneTypeNotAllowed",
    "PrimaryFactorRequired",
    "RateLimit",
    "RateLimited",
    "ResendCooldown",
    "SecondFactorState",
    "SendLimitReached",
    "Sender",
    "Settings",
    "Status",
    "StorageUnavailable",
    "Store",
    "TotpCredential",
    "TotpEnrollment",
    "Verification",
    "VerificationFailed",
    "Verifier",
    "__version__",
    "challenge_view",
    "error_response",
    "generate_secret_key",
    "mask",
    "parse_phone",
    "safe_next",
]
