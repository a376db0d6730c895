"""The factor protocol: what each second factor (``sms``, ``totp``, ``recovery``, ...) declares
and how it is started and checked, like Keycloak's authenticator SPI.

A factor object holds no I/O state: it declares facts about itself and calls the verifier it
is handed (``Verifier`` or ``AsyncVerifier``) to start and check. ``gate.verify``,
``gate.start`` and ``gate.offer`` dispatch through the registry, so an integration never names
a factor in its control flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from ..state_write import final_check

if TYPE_CHECKING:
    from ..aio import AsyncVerifier
    from ..challenge import Challenge, Verification
    from ..credentials import Factors
    from ..settings import Settings
    from ..verifier import Verifier

#: What a second factor may serve: the second step of a sign-in, a step-up before a sensitive
#: action, the confirmation of a transaction's details, or proving a factor being added.
Purpose = Literal["login", "action", "transaction", "enroll"]


@dataclass(frozen=True)
class InputSpec:
    """How a page or a client asks for the factor's code.

    ``kind`` is ``"numeric"`` (exactly ``length`` digits, of any script), ``"text"`` (up to
    ``max_length`` characters, ``length`` then being the significant characters) or
    ``"browser"``: no input, the page renders a button that hands the challenge's
    ``browser_options`` to the browser (``otpgate-webauthn.js``) and posts its JSON answer as
    the code;
    ``inputmode`` and ``autocomplete`` are the HTML attributes to give the input
    (``one-time-code`` lets a phone fill in a code from an SMS), ``pattern`` an HTML pattern.
    """

    kind: Literal["numeric", "text", "browser"]
    length: int
    inputmode: str
    autocomplete: str
    pattern: str = ""
    max_length: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, for an API answer."""
        return {
            "kind": self.kind,
            "length": self.length,
            "max_length": self.max_length or self.length,
            "inputmode": self.inputmode,
            "autocomplete": self.autocomplete,
            "pattern": self.pattern,
        }


@dataclass(frozen=True)
class FactorOption:
    """One factor offered to a subject for a purpose: all a page or an API needs to render
    it, safe to show (a destination is masked)."""

    name: str
    #: Starting it delivers something (an SMS): the page shows "send"/"resend".
    sends: bool
    #: The masked destination a start sends to ("+33 ••• ••• 5678"), or "".
    destination: str
    input: InputSpec
    #: The factor carries a transaction's details to the user itself (the SMS text does).
    binds_details: bool
    #: The subject's preferred factor (stored choice, else the strongest they have).
    preferred: bool
    #: Offered from another factor's step, not on its own: ``voice`` says ``"sms"`` (a page
    #: shows "Call me instead" once an SMS was started). "" for every other factor.
    alternative_to: str = ""
    #: It may be chosen as the preferred factor (a "preferred factor" menu lists it): False
    #: for a single-use fallback (``recovery``) and for an alternative (``voice``).
    preferable: bool = True

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, for an API answer."""
        return {
            "name": self.name,
            "sends": self.sends,
            "destination": self.destination,
            "input": self.input.as_dict(),
            "binds_details": self.binds_details,
            "preferred": self.preferred,
            "alternative_to": self.alternative_to,
            "preferable": self.preferable,
        }


@dataclass(frozen=True)
class StartRequest:
    """What ``gate.start`` hands a factor (already validated)."""

    purpose: str
    context: Mapping[str, Any] | None = None
    action: str | None = None
    client_ip: str | None = None
    locale: str | None = None
    summary: str | None = None
    #: Where to deliver, for a factor being added (SMS: the number typed); None: the default.
    destination: str | None = None


@dataclass(frozen=True)
class CheckRequest:
    """What ``gate.verify`` hands a factor (already validated)."""

    purpose: str
    challenge_id: str | None = None
    context: Mapping[str, Any] | None = None
    action: str | None = None
    may_change_factors: bool = True


@runtime_checkable
class Factor(Protocol):
    """A second factor. Attributes are facts; the methods do the work through ``gate``.

    ``rank`` orders strength (higher is stronger; the default preference is the strongest
    factor a subject has): ``webauthn`` 40, ``totp`` 30, ``sms`` 20, ``email`` and ``voice``
    15 (ties go by name), ``recovery`` 10.

    Four optional attributes: ``alternative_to`` (the factor whose step offers this one as
    its way out, e.g. ``voice`` says ``"sms"``; never the preferred factor),
    ``preferable: bool`` (default True; False: the subject may not choose it as the factor
    a step opens on, e.g. ``recovery``, a single-use fallback),
    ``available(gate) -> bool`` (False: this verifier cannot serve it, so it is neither
    offered nor started, e.g. ``voice`` without a voice sender, ``email`` without an email
    sender) and
    ``configured(settings) -> bool`` (False while the site has not configured it, e.g.
    ``webauthn`` without a relying party: neither offered nor started).
    """

    name: str
    rank: int
    #: The purposes it may serve (a subset of :data:`~otpgate.core.challenge.PURPOSES`).
    purposes: frozenset[str]
    #: The factor carries the details to the user itself (SMS: they are in the message).
    binds_details: bool
    #: Starting it delivers something; if False, :meth:`start` does nothing and returns None.
    sends: bool

    def input_spec(self, settings: Settings) -> InputSpec:
        """How to ask for the code under ``settings``."""

    def enrolled(self, factors: Factors) -> bool:
        """True if the subject whose snapshot this is has the factor."""

    def destination(self, factors: Factors) -> str:
        """The masked destination a start would send to ("" for none)."""

    def start(self, gate: Verifier, subject: str, request: StartRequest) -> Challenge | None:
        """Deliver what the user needs (maybe nothing: return None)."""

    async def astart(
        self, gate: AsyncVerifier, subject: str, request: StartRequest
    ) -> Challenge | None:
        """:meth:`start` on the async verifier."""

    def check(self, gate: Verifier, subject: str, code: str, request: CheckRequest) -> Verification:
        """Check ``code``; a :class:`Verification` or a typed error."""

    async def acheck(
        self, gate: AsyncVerifier, subject: str, code: str, request: CheckRequest
    ) -> Verification:
        """:meth:`check` on the async verifier."""


class PassiveStart:
    """Mixin for factors whose start delivers nothing (an app, a code sheet)."""

    sends = False

    def destination(self, factors: Factors) -> str:
        return ""

    def start(self, gate: Verifier, subject: str, request: StartRequest) -> Challenge | None:
        return None

    async def astart(
        self, gate: AsyncVerifier, subject: str, request: StartRequest
    ) -> Challenge | None:
        return None


class SentCode:
    """Mixin for factors that deliver a code as a challenge (``sms``, ``email``, ``voice``):
    asked for like an SMS code, and checked by ``gate.check`` of the challenge started, the
    verification naming the factor."""

    name: str
    sends = True

    def input_spec(self, settings: Settings) -> InputSpec:
        return numeric_input(settings.code_digits)

    @final_check
    def check(self, gate: Verifier, subject: str, code: str, request: CheckRequest) -> Verification:
        return gate.check(
            request.challenge_id or "",  # none started: the answer is "expired"
            code,
            request.context,
            subject=subject,
            action=request.action,
            purpose=request.purpose,
            may_change_factors=request.may_change_factors,
            factor=self.name,
        )

    @final_check
    async def acheck(
        self, gate: AsyncVerifier, subject: str, code: str, request: CheckRequest
    ) -> Verification:
        return await gate.check(
            request.challenge_id or "",
            code,
            request.context,
            subject=subject,
            action=request.action,
            purpose=request.purpose,
            may_change_factors=request.may_change_factors,
            factor=self.name,
        )


def numeric_input(digits: int) -> InputSpec:
    """The input of a numeric one-time code of ``digits`` digits, of any script: the HTML
    pattern is ``\\p{Nd}`` (any decimal digit; an HTML pattern is a Unicode regular
    expression), as the core reads Arabic-Indic, fullwidth... digits as ASCII ones."""
    return InputSpec(
        kind="numeric",
        length=digits,
        inputmode="numeric",
        autocomplete="one-time-code",
        pattern=f"\\p{{Nd}}{{{digits}}}",
    )


#: Answered by the browser, not typed: the code is the JSON the browser returns.
BROWSER_INPUT = InputSpec(
    kind="browser", length=0, inputmode="none", autocomplete="off", max_length=0
)


def available(factor: Factor, settings: Settings | None) -> bool:
    """True unless ``factor`` says the site has not configured it (its optional
    ``configured(settings)``; without ``settings``, a factor that needs configuring is not
    available)."""
    check = getattr(factor, "configured", None)
    return check is None or (settings is not None and bool(check(settings)))
