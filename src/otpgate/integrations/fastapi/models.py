"""Pydantic v2 models of every request and response body of the otpgate API.

Codes and phone numbers are bounded strings whose content the core judges (its one rule for
every integration: any script's decimal digits read as ASCII ones); responses carry masked
numbers, never a code, a full number or a secret, except the one-time TOTP enrollment and
recovery-code responses, which exist to show them once.
"""

from __future__ import annotations

from datetime import datetime, timezone
from json.encoder import encode_basestring as _json_string
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from otpgate.core.challenge import Challenge, Verification
from otpgate.core.credentials import Factors
from otpgate.core.totp import TotpEnrollment
from otpgate.core.web import challenge_view

#: A one-time code as typed: 6 to 10 digits, of any script (``\d``: Arabic-Indic, fullwidth...
#: are read as ASCII by the core); surrounding blanks are dropped.
Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=6, max_length=10, pattern=r"^\d+$"),
]
#: A recovery code such as ``ABCD-EFGH-JKMN`` (dashes or blanks optional, any case, digits of
#: any script), or one imported from django-otp (8 letters and digits): the core judges it.
RecoveryCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=14,
        pattern=r"^[\dA-Za-z](?:[- ]?[\dA-Za-z]){7,11}$",
    ),
]
#: A phone number with its country code, as people write it: ``+33 6 12 34 56 78``. Only its
#: length is bounded here: the core's parsing judges the rest (``phone_invalid``), as for the
#: other integrations.
Phone = Annotated[str, StringConstraints(max_length=64)]

ChallengeStatus = Literal[
    "pending", "approved", "canceled", "expired", "max_attempts_reached", "failed"
]


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartChallenge(_Request):
    """Send a code by SMS. Without ``phone``, to the subject's verified number."""

    purpose: Literal["login", "action", "enroll"] = Field(
        "action",
        description="`action` for step-up, `login` after a password, `enroll` to verify and "
        "add `phone` (needs a fresh second factor once the account has one).",
    )
    phone: Phone | None = Field(None, description="E.164 or national with country code.")


class CheckCode(_Request):
    """A code from the SMS (or from the authenticator app)."""

    code: Code


class CheckRecoveryCode(_Request):
    """One of the subject's recovery codes; it is used up."""

    code: RecoveryCode


class EnrollTotp(_Request):
    """Start setting up an authenticator app."""

    account: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="The account name the app shows (default: the subject)."
    )
    replace: bool = Field(False, description="Replace an active authenticator app.")


class ChallengeOut(BaseModel):
    """The public state of a challenge (an SMS, a passkey's; the core's ``challenge_view``,
    shared by every integration): times are relative, in seconds, so client clocks do not
    matter."""

    id: str
    purpose: str
    status: ChallengeStatus
    masked_phone: str = Field(examples=["+33 ••• ••• 5678"])
    attempts_left: int
    sends_left: int
    expires_in: int = Field(description="Seconds until the code expires.")
    resend_in: int = Field(description="Seconds until a resend is allowed.")
    bound_to_context: bool = Field(description="True for a code bound to a transaction.")
    browser_options: dict[str, Any] | None = Field(
        None,
        description="A passkey's challenge: the WebAuthn request (or creation) options as "
        "JSON, for `PublicKeyCredential.parseRequestOptionsFromJSON` (or "
        "`parseCreationOptionsFromJSON`); `otpgate-webauthn.js` does it all.",
    )

    @classmethod
    def of(cls, challenge: Challenge, now: float) -> ChallengeOut:
        return cls.model_validate(challenge_view(challenge, now))


class VerificationOut(BaseModel):
    """A second factor passed; this session counts as verified from ``verified_at``."""

    factor: str = Field(examples=["totp"], description="The factor that passed.")
    purpose: str
    verified_at: datetime
    device_token: str | None = Field(
        None,
        description="Only after `POST /verify` with `purpose: login` and "
        "`remember_device: true` (and `OTPGATE_REMEMBER_DEVICE` on): send it back as the "
        "`OTP-Device` header of `POST /device-check` at the next sign-in to skip the "
        "second step. Keep it like a password.",
    )

    @classmethod
    def of(cls, verification: Verification, device_token: str | None = None) -> VerificationOut:
        return cls(
            factor=verification.factor,
            purpose=verification.purpose,
            verified_at=_utc(verification.verified_at),
            device_token=device_token,
        )


class FactorsOut(BaseModel):
    """The subject's second factors, numbers masked."""

    masked_phones: list[str]
    masked_emails: list[str] = Field(default_factory=list)
    totp: bool
    recovery_codes_left: int
    passkeys: list[str] = Field(
        default_factory=list, description="The names of the subject's passkeys."
    )
    preferred: str | None = Field(
        None, description="The factor the second step opens on (`PUT /factors/preferred`)."
    )

    @classmethod
    def of(cls, factors: Factors, preferred: str | None = None) -> FactorsOut:
        return cls(
            masked_phones=list(factors.masked_phones),
            masked_emails=list(factors.masked_emails),
            totp=factors.totp,
            recovery_codes_left=factors.recovery_codes_left,
            passkeys=list(factors.passkeys),
            preferred=preferred,
        )


class TotpEnrollmentOut(BaseModel):
    """Shown once: add it to the app (scan ``qr_svg`` or open ``uri``), then confirm a code."""

    secret: str = Field(description="Base32 secret, for typing into the app by hand.")
    uri: str = Field(description="The otpauth:// URI.")
    qr_svg: str = Field(description="The URI as an SVG QR code.")

    @classmethod
    def of(cls, enrollment: TotpEnrollment) -> TotpEnrollmentOut:
        return cls(secret=enrollment.secret, uri=enrollment.uri, qr_svg=enrollment.qr_svg)


class RecoveryCodesOut(BaseModel):
    """New recovery codes, shown once; every older code stops working."""

    codes: list[str]


class InputError(BaseModel):
    """Where a request was malformed (the value itself is never echoed)."""

    loc: list[str | int]
    type: str
    msg: str


class ProblemLinks(BaseModel):
    """Where to go on when a second factor is missing (paths of otpgate's router)."""

    offer: str | None = Field(
        None,
        description="`GET`: the factors the subject may use for a step-up, the preferred one "
        "first; empty with `can_add` when none is suitable.",
    )
    enroll: str | None = Field(
        None, description="`GET`: the factors the subject can add (`can_add`)."
    )
    start: str | None = Field(
        None, description="`POST`: start an offered factor (sends its code, if any)."
    )
    verify: str | None = Field(None, description="`POST`: pass the second factor with a code.")
    factors: str | None = Field(
        None,
        description="`factor_setup_required` for a transaction: `GET` the factors that may "
        "confirm it and those the subject can add (`can_add`).",
    )


class Problem(BaseModel):
    """RFC 9457 problem details, with otpgate's stable ``code``."""

    type: str = Field(examples=["https://otpgate.dev/errors/invalid_code"])
    title: str
    status: int
    code: str = Field(description="Stable machine-readable error code.")
    retry_after: int | None = Field(None, description="Seconds; also in `Retry-After`.")
    attempts_left: int | None = None
    max_age: int | None = Field(None, description="Step-up: the freshness required, seconds.")
    challenge_id: str | None = Field(
        None,
        description="The challenge to confirm (`confirmation_required`) or to resend "
        "(`delivery_failed`); also in the `OTP-Challenge` header.",
    )
    challenge: ChallengeOut | None = Field(
        None,
        description="`confirmation_required`: the SMS just sent (null for a factor that "
        "sends nothing, such as an authenticator app).",
    )
    confirmation: str | None = Field(
        None, description="`confirmation_required`: the same as `challenge_id`."
    )
    factor: str | None = Field(
        None, description="`confirmation_required`: the factor whose code confirms it."
    )
    factors: list[dict[str, Any]] | None = Field(
        None,
        description="`confirmation_required`: the factors that may confirm it, preferred "
        "first (as in `GET /factors/offer`); choose one with the `OTP-Factor` header.",
    )
    expires_in: int | None = Field(
        None, description="`confirmation_required`: seconds left to confirm it."
    )
    summary: str | None = Field(
        None, description="`confirmation_required`: what the user approves (the route's summary)."
    )
    detail: str | None = Field(None, description="Which code to enter, in words.")
    errors: list[InputError] | None = None
    links: ProblemLinks | None = Field(
        None,
        description="`fresh_otp_required`, `otp_required`, `enrollment_required`, "
        "`factor_not_enrolled`, `factor_setup_required`: where to find, add, start and pass "
        "a second factor (no dead end).",
    )


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its ``$defs`` inlined, to embed in OpenAPI content."""
    schema = model.model_json_schema(mode="serialization")
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def verification_json(verification: Verification, device_token: str | None = None) -> str:
    """``VerificationOut.of(verification, device_token).model_dump_json()``, the same text,
    without building the model (the hot ``POST /verify`` answers it): the members in the
    model's order, strings as ``json.dumps(..., ensure_ascii=False)`` writes them, and an
    aware UTC datetime as pydantic writes it: ISO 8601 with ``Z``, microseconds only when
    not zero, as ``isoformat`` does with ``+00:00``."""
    stamp = _utc(verification.verified_at).isoformat().removesuffix("+00:00")
    token = "null" if device_token is None else _json_string(device_token)
    return (
        f'{{"factor":{_json_string(verification.factor)},'
        f'"purpose":{_json_string(verification.purpose)},'
        f'"verified_at":"{stamp}Z","device_token":{token}}}'
    )
