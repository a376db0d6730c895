"""Pydantic v2 models of the factor-generic routes (``factor_routes.py``): a factor is named
by the core's registry, so nothing here lists the built-in ones."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from otpgate.core.factors import FactorOption

from .models import ChallengeOut, _Request

#: A factor's registered name (``sms``, ``totp``, ``recovery`` or one the site added).
FactorName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
#: A code as typed, for any factor: letters, digits, blanks and dashes (its factor checks it).
AnyCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[0-9A-Za-z -]+$"
    ),
]


class VerifyFactor(_Request):
    """A code for one of the factors ``GET /factors/offer`` lists."""

    factor: FactorName = Field(description="The factor's name, from the offer.")
    code: AnyCode
    purpose: Literal["login", "action"] = Field(
        "action", description="`login` after a password, `action` for step-up."
    )
    challenge_id: Annotated[str, StringConstraints(max_length=128)] | None = Field(
        None, description="For a factor that sends (the offer's `sends`): the challenge started."
    )
    remember_device: bool = Field(
        False,
        description="With `purpose: login`: don't ask again on this device for "
        "`OTPGATE_REMEMBER_DEVICE_DAYS` days; the answer carries a `device_token`.",
    )


class StartFactor(_Request):
    """Start one of the offered factors (for one that ``sends``: deliver its code)."""

    factor: FactorName = Field(description="The factor's name, from the offer.")
    purpose: Literal["login", "action"] = Field(
        "action", description="`login` after a password, `action` for step-up."
    )


class SetupFactor(_Request):
    """Start adding a factor that proves itself with a code it sends (``email``, ``sms``):
    the code goes to ``destination``; confirm it with ``POST /factors/confirm``."""

    factor: FactorName = Field(description="The factor's name, from the offer's `can_add`.")
    destination: Annotated[str, StringConstraints(min_length=1, max_length=254)] = Field(
        description="Where to send the code: the address or number being added."
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

    kind: Literal["numeric", "text"]
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


class FactorSetupOut(BaseModel):
    """What starting to add a factor sent: the challenge whose code confirms it."""

    factor: str
    needs_proof: bool
    challenge: ChallengeOut | None


class PreferredFactorOut(BaseModel):
    """The factor the second step opens on (the stored choice, else the strongest); null:
    the subject has no factor."""

    factor: str | None
