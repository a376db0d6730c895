"""The SIM-swap signal: a recent SIM change makes SMS codes to that number untrustworthy.

A SIM swap moves a phone number to a new SIM card; done by a fraudster (social engineering at
the operator's shop), every SMS code for that number reaches the fraudster. Operators answer
"was this number's SIM changed in the last N hours?" through the GSMA/CAMARA *SIM Swap* network
API (``otpgate.gateways.camara``). This module is the core's side of it, with no I/O:

- :class:`SimSwapCheck` / :class:`AsyncSimSwapCheck`: what the verifier calls before an SMS
  code is sent to a verified number (sign-in, step-up, transaction, proving a factor change);
- :class:`NoSimSwapCheck`: the default, which never reports a swap;
- :func:`sms_refused`: the decision, from the answer and ``Settings.sim_swap_on_error``.

A check never raises for an API failure: it answers ``unknown`` with a short reason (never
the number), and the setting decides what that means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from .errors import SmsTemporarilyUnavailable
from .events import EventName

if TYPE_CHECKING:
    from .engine import StartPlan
    from .settings import Settings

#: What the operator said: the SIM changed within the window, it did not, or no answer.
SimSwapVerdict = Literal["swapped", "not_swapped", "unknown"]

#: What ``unknown`` means for sending an SMS: send anyway, or refuse the SMS factor.
ON_ERROR_CHOICES = ("allow", "refuse")

#: Purposes whose SMS codes the check guards: a code to a number already on file. An
#: ``enroll`` code to a number being added proves only that number, and is not checked.
GUARDED_PURPOSES = frozenset({"login", "action", "transaction"})


@dataclass(frozen=True)
class SimSwapAnswer:
    """One answer of a SIM-swap check. ``reason`` explains ``unknown`` (``timeout``,
    ``http_503``, ``IDENTIFIER_NOT_FOUND``...); it never holds the number."""

    verdict: SimSwapVerdict
    reason: str = ""

    @property
    def swapped(self) -> bool:
        return self.verdict == "swapped"


NOT_SWAPPED = SimSwapAnswer("not_swapped")


@runtime_checkable
class SimSwapCheck(Protocol):
    """Asks whether ``e164``'s SIM changed within ``max_age_hours``; never raises for an
    outage (answers ``unknown``)."""

    def check(self, e164: str, max_age_hours: int) -> SimSwapAnswer: ...


@runtime_checkable
class AsyncSimSwapCheck(Protocol):
    """:class:`SimSwapCheck` for ``AsyncVerifier``."""

    async def check(self, e164: str, max_age_hours: int) -> SimSwapAnswer: ...


class NoSimSwapCheck:
    """The default: no operator is asked, no swap is ever reported."""

    def check(self, e164: str, max_age_hours: int) -> SimSwapAnswer:
        return NOT_SWAPPED

    def __repr__(self) -> str:
        return "NoSimSwapCheck()"


class AsyncNoSimSwapCheck:
    """:class:`NoSimSwapCheck` for ``AsyncVerifier``."""

    async def check(self, e164: str, max_age_hours: int) -> SimSwapAnswer:
        return NOT_SWAPPED

    def __repr__(self) -> str:
        return "AsyncNoSimSwapCheck()"


def sim_swap_guarded(purpose: str, max_age_hours: int, on_file: bool) -> bool:
    """Whether an SMS for ``purpose`` must be checked first: the check is on
    (``max_age_hours`` > 0) and the code goes to a number on file for a guarded purpose."""
    return max_age_hours > 0 and purpose in GUARDED_PURPOSES and on_file


def sms_refused(answer: SimSwapAnswer, on_error: str) -> bool:
    """True if the SMS must not be sent: a recent swap, or no answer under ``refuse``."""
    if answer.verdict == "swapped":
        return True
    return answer.verdict == "unknown" and on_error == "refuse"


class SimSwapDecisions:
    """The verifiers' side of the check (mixed into ``BaseVerifier``): when to ask, and what
    an answer means. The verifier does the asking (sync or async)."""

    settings: Settings

    if TYPE_CHECKING:

        def _emit(self, name: EventName, subject: str, **fields: Any) -> None: ...

    def _sim_swap_due(self, purpose: str, number: object, known: list[str]) -> bool:
        """True if a code to ``number`` must wait for the operator's answer: a phone
        channel's (SMS, call) only, never an email address's."""
        from .phone import PhoneNumber  # (bounds imports this module; phone imports bounds)

        if not isinstance(number, PhoneNumber):
            return False
        return sim_swap_guarded(purpose, self.settings.sim_swap_max_age, number.e164 in known)

    def _finish_sim_swap(self, answer: SimSwapAnswer, plan: StartPlan) -> None:
        """Emit what the operator said (nothing for "not swapped"); raise
        SmsTemporarilyUnavailable when no code may be sent to (or read out on) the number."""
        if answer.verdict != "not_swapped":
            name = EventName.SIM_SWAP_DETECTED if answer.swapped else EventName.SIM_SWAP_UNKNOWN
            self._emit(
                name,
                plan.delivery.subject,
                factor=plan.delivery.channel,
                purpose=plan.record.purpose,
                masked_phone=plan.phone.masked,
                detail={"reason": answer.reason, "max_age_hours": self.settings.sim_swap_max_age},
            )
        if sms_refused(answer, self.settings.sim_swap_on_error):
            raise SmsTemporarilyUnavailable("sim_swap" if answer.swapped else "sim_swap_unknown")
