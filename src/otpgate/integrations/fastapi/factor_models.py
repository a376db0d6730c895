"""Pydantic v2 models of the factor-generic routes (``factor_routes.py``): a factor is named
by the core's registry, so nothing here lists the built-in ones."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from otpgate.core.factors import FactorOption, FactorSetup

from .models import ChallengeOut, _Request

#: A factor's registered name (``sms``, ``totp``, ``recovery`` or one the site added).
FactorName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
#: A code as typed, for any factor: letters, digits (of any script), blanks and dashes (its
#: factor checks it).
AnyCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w -]+$"),
]


class VerifyFactor(_Request):
    """A code for one of the factors ``GET /factors/offer`` lists; for a factor whose input
    ``kind`` is ``browser`` (a passkey), the browser's answer as ``credential`` instead."""

    factor: FactorName = Field(description="The factor's name, from the offer.")
    code: AnyCode | None = Field(None, description="The code, for a factor one types.")
    credential: dict[str, Any] | None = Field(
        None,
        description="For a factor the browser answers (input `kind` `browser`): the "
        "`PublicKeyCredential.toJSON()` of the answer to the challenge's `browser_options`.",
    )
    purpose: Literal["login", "action", "enroll"] = Field(
        "action",
        description="`login` after a password, `action` for step-up, `enroll` to prove a "
        "factor being added (`POST /factors/setup`; needs a fresh second factor once the "
        "account has one).",
    )
    challenge_id: Annotated[str, StringConstraints(max_length=128)] | None = Field(
        None,
        description="For a factor that was started (`sends`, or a `browser` one): the "
        "challenge's id.",
    )
    remember_device: bool = Field(
        False,
        description="With `purpose: login`: don't ask again on this device for "
        "`OTPGATE_REMEMBER_DEVICE_DAYS` days; the answer carries a `device_token`.",
    )

    @model_validator(mode="after")
    def _one_answer(self) -> VerifyFactor:
        if (self.code is None) == (self.credential is None):
            raise ValueError("send either code or credential")
        return self


class StartFactor(_Request):
    """Start one of the offered factors (for one that ``sends``: deliver its code)."""

    factor: FactorName = Field(description="The factor's name, from the offer.")
    purpose: Literal["login", "action"] = Field(
        "action", description="`login` after a password, `action` for step-up."
    )


class ConfirmFactor(_Request):
    """The code sent by ``POST /factors/setup``: a right one adds the factor."""

    factor: FactorName
    code: AnyCode
    challenge_id: Annotated[str, StringConstraints(max_length=128)] = Field(
        description="The challenge `POST /factors/setup` returned."
    )


class PreferredFactor(_Request):
    """The factor the second step opens on; null: back to the strongest enrolled."""

    factor: FactorName | None = None


class InputSpecOut(BaseModel):
    """How to ask for the factor's code (the HTML input's attributes)."""

    kind: Literal["numeric", "text", "browser"]
    length: int
    max_length: int
    inputmode: str
    autocomplete: str
    pattern: str


class FactorOptionOut(BaseModel):
    """One factor offered; ``sends``: start it (``POST /challenges``) before checking."""

    name: str = Field(examples=["totp"])
    sends: bool
    destination: str = Field(description="Masked destination, or empty.")
    input: InputSpecOut
    binds_details: bool = Field(description="The factor carries a transaction's details.")
    preferred: bool
    alternative_to: str = Field(
        "",
        description="Offered from another factor's step only (`voice`: `sms`, as \"Call me "
        'instead" once a text was sent); empty for a factor of its own.',
    )
    preferable: bool = Field(
        True,
        description="It may be chosen as the preferred factor (`PUT /factors/preferred`; a "
        "preference menu lists only these): false for a single-use fallback (`recovery`) "
        "and for an alternative (`voice`).",
    )


class FactorOfferOut(BaseModel):
    """The factors the subject may use for ``purpose``, the preferred one first. Empty:
    none is suitable; ``can_add`` names the factors the subject can set up."""

    purpose: str
    factors: list[FactorOptionOut]
    can_add: list[str]

    @classmethod
    def of(
        cls, purpose: str, options: list[FactorOption], addable: list[FactorOption]
    ) -> FactorOfferOut:
        return cls(
            purpose=purpose,
            factors=[FactorOptionOut.model_validate(option.as_dict()) for option in options],
            can_add=[option.name for option in addable] if not options else [],
        )


class FactorStartOut(BaseModel):
    """What starting a factor did: the challenge it sent (its id goes with the code to
    ``POST /verify``), or null for a factor that sends nothing (an app: just ask the code)."""

    factor: str
    challenge: ChallengeOut | None


class PreferredFactorOut(BaseModel):
    """The factor the second step opens on (the stored choice, else the strongest); null:
    the subject has no factor."""

    factor: str | None


class SetupFactor(_Request):
    """Start adding a factor (one of ``GET /factors/offer?purpose=enroll``)."""

    factor: FactorName = Field(description="The factor's name, from the offer.")
    name: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="The user's name for it (a passkey: `Work laptop`)."
    )
    label: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="The account name an app or authenticator shows (default: subject)."
    )
    destination: Annotated[str, StringConstraints(min_length=1, max_length=254)] | None = Field(
        None,
        description="Where to deliver, for a factor that sends (`sms`: the number, `email`: "
        "the address); confirm its code with `POST /factors/confirm` or `POST /verify`.",
    )


class FactorSetupOut(BaseModel):
    """What adding the factor needs: a challenge to answer (a passkey: its
    ``browser_options`` are the creation options) and/or what to show once (an app's secret,
    recovery codes). ``needs_proof``: finish with ``POST /verify``, ``purpose`` ``enroll``."""

    factor: str
    needs_proof: bool
    challenge: ChallengeOut | None
    shown: dict[str, Any] = Field(
        description="Shown once, never logged: `secret`, `otpauth_uri`, `qr_svg` (an app) "
        "or `recovery_codes`."
    )

    @classmethod
    def of(cls, setup: FactorSetup, now: float) -> FactorSetupOut:
        challenge = ChallengeOut.of(setup.challenge, now) if setup.challenge else None
        return cls(
            factor=setup.factor,
            needs_proof=setup.needs_proof,
            challenge=challenge,
            shown=setup.secrets(),
        )
