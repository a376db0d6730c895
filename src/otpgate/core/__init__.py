"""otpgate's framework-free core. Importing it never imports a web framework."""

from __future__ import annotations

from .aio import AsyncVerifier
from .challenge import Challenge, Status, Verification
from .credentials import (
    AsyncCredentials,
    Credentials,
    Factors,
    MemoryCredentials,
    TotpCredential,
)
from .errors import (
    BackendError,
    ChallengeExpired,
    CodeReplayed,
    ConfigurationError,
    ContextMismatch,
    DeliveryFailed,
    FactorAlreadyEnrolled,
    FactorNotEnrolled,
    InvalidCode,
    InvalidPhoneNumber,
    LockedOut,
    MalformedInput,
    MaxAttemptsReached,
    OtpgateError,
    PhoneRegionNotAllowed,
    PhoneRejected,
    PhoneTypeNotAllowed,
    RateLimited,
    ResendCooldown,
    SendLimitReached,
    StorageUnavailable,
    VerificationFailed,
)
from .events import Event, EventName
from .http import ErrorResponse, error_response
from .memory_store import MemoryStore
from .phone import PhoneNumber, mask, parse_phone
from .senders import AsyncSender, ConsoleSender, OutboxMessage, OutboxSender, Sender
from .settings import RateLimit, Settings, generate_secret_key
from .store import AsyncStore, Store
from .totp import TotpEnrollment
from .verifier import Verifier
from .web import DeviceTokens, SecondFactorState, safe_next

__all__ = [
    "AsyncCredentials",
    "AsyncSender",
    "AsyncStore",
    "AsyncVerifier",
    "BackendError",
    "Challenge",
    "ChallengeExpired",
    "CodeReplayed",
    "ConfigurationError",
    "ConsoleSender",
    "ContextMismatch",
    "Credentials",
    "DeliveryFailed",
    "DeviceTokens",
    "ErrorResponse",
    "Event",
    "EventName",
    "FactorAlreadyEnrolled",
    "FactorNotEnrolled",
    "Factors",
    "InvalidCode",
    "InvalidPhoneNumber",
    "LockedOut",
    "MalformedInput",
    "MaxAttemptsReached",
    "MemoryCredentials",
    "MemoryStore",
    "OtpgateError",
    "OutboxMessage",
    "OutboxSender",
    "PhoneNumber",
    "PhoneRegionNotAllowed",
    "PhoneRejected",
    "PhoneTypeNotAllowed",
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
    "error_response",
    "generate_secret_key",
    "mask",
    "parse_phone",
    "safe_next",
]
