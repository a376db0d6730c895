"""otpgate's framework-free core. Importing it never imports a web framework."""

from __future__ import annotations

from .aio import AsyncVerifier
from .challenge import Challenge, Status, Verification
from .credentials import (
    AsyncCredentials,
    Credentials,
    Factors,
    MemoryCredentials,
    PasskeyCredential,
    TotpCredential,
)
from .devices import AsyncDeviceRepository, DeviceRecord, DeviceRepository, DeviceView
from .errors import (
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
    FactorNotAllowed,
    FactorNotEnrolled,
    FactorSetupRequired,
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
    PasskeyRejected,
    PhoneNetworkNotAllowed,
    PhoneRegionNotAllowed,
    PhoneRejected,
    PhoneTypeNotAllowed,
    PrimaryFactorRequired,
    RateLimited,
    ResendCooldown,
    SendLimitReached,
    SignCountRegression,
    SmsTemporarilyUnavailable,
    StorageUnavailable,
    UnknownFactor,
    VerificationFailed,
)
from .events import Event, EventName
from .factors import (
    Factor,
    FactorOption,
    FactorRegistry,
    InputSpec,
    WebAuthnFactor,
    register_factor,
)
from .http import ErrorResponse, error_response
from .memory_store import MemoryStore
from .phone import PhoneNumber, mask, parse_phone
from .senders import AsyncSender, ConsoleSender, OutboxMessage, OutboxSender, Sender
from .settings import RateLimit, Settings, generate_secret_key
from .simswap import (
    AsyncNoSimSwapCheck,
    AsyncSimSwapCheck,
    NoSimSwapCheck,
    SimSwapAnswer,
    SimSwapCheck,
)
from .store import AsyncStore, Store
from .totp import TotpEnrollment
from .verifier import Verifier
from .voice import (
    AsyncPhoneSender,
    AsyncVoiceSender,
    ConsoleVoiceSender,
    OutboxVoiceSender,
    PhoneSender,
    Speech,
    VoiceSender,
)
from .web import DeviceTokens, SecondFactorState, challenge_view, safe_next

__all__ = [
    "AsyncCredentials",
    "AsyncDeviceRepository",
    "AsyncNoSimSwapCheck",
    "AsyncPhoneSender",
    "AsyncSender",
    "AsyncSimSwapCheck",
    "AsyncStore",
    "AsyncVerifier",
    "AsyncVoiceSender",
    "AuthenticationRequired",
    "BackendError",
    "Challenge",
    "ChallengeExpired",
    "CodeReplayed",
    "ConfigurationError",
    "ConfirmationRequired",
    "ConsoleSender",
    "ConsoleVoiceSender",
    "ContextMismatch",
    "Credentials",
    "CsrfFailed",
    "DeliveryFailed",
    "DeviceRecord",
    "DeviceRepository",
    "DeviceTokens",
    "DeviceView",
    "EnrollmentRequired",
    "ErrorResponse",
    "Event",
    "EventName",
    "Factor",
    "FactorAlreadyEnrolled",
    "FactorNotAllowed",
    "FactorNotEnrolled",
    "FactorOption",
    "FactorRegistry",
    "FactorSetupRequired",
    "Factors",
    "FreshOtpRequired",
    "InputSpec",
    "InvalidCode",
    "InvalidPhoneNumber",
    "LastFactor",
    "LockedOut",
    "LoginRequired",
    "MalformedInput",
    "MaxAttemptsReached",
    "MemoryCredentials",
    "MemoryStore",
    "NoSimSwapCheck",
    "OtpRequired",
    "OtpgateError",
    "OutboxMessage",
    "OutboxSender",
    "OutboxVoiceSender",
    "PhoneNetworkNotAllowed",
    "PhoneNumber",
    "PhoneRegionNotAllowed",
    "PhoneRejected",
    "PhoneSender",
    "PhoneTypeNotAllowed",
    "PrimaryFactorRequired",
    "RateLimit",
    "RateLimited",
    "ResendCooldown",
    "SecondFactorState",
    "SendLimitReached",
    "Sender",
    "Settings",
    "SimSwapAnswer",
    "SimSwapCheck",
    "SmsTemporarilyUnavailable",
    "Speech",
    "Status",
    "StorageUnavailable",
    "Store",
    "TotpCredential",
    "TotpEnrollment",
    "UnknownFactor",
    "Verification",
    "VerificationFailed",
    "Verifier",
    "VoiceSender",
    "challenge_view",
    "error_response",
    "generate_secret_key",
    "mask",
    "parse_phone",
    "register_factor",
    "safe_next",
]

# Exactly-once, observable execution of confirmed transactions (issue 11).
from .executions import AsyncExecutions, Executions, TransactionStatus
from .transactions import TransactionExecuted, TransactionInProgress

# Passkeys (issue 12): the webauthn factor; py_webauthn is imported only when one is used.
__all__ += ["PasskeyCredential", "PasskeyRejected", "SignCountRegression", "WebAuthnFactor"]

__all__ += [
    "AsyncExecutions",
    "Executions",
    "TransactionExecuted",
    "TransactionInProgress",
    "TransactionStatus",
]
