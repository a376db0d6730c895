"""``OtpGate``'s step-up state: what a token/session passed, remembered devices, and the
per-request locale and account label."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from otpgate.core.challenge import Verification
from otpgate.core.token_state import AsyncTokenStates
from otpgate.core.web import SecondFactorState

from . import step_up
from .gate_lifespan import GateLifespan
from .problems import request_locale


class GateState(GateLifespan):
    """The step-up state half of :class:`~otpgate.integrations.fastapi.OtpGate` (its
    attributes are set by ``OtpGate.__init__``)."""

    state_ttl: int
    account_label: Callable[[str], str | Awaitable[str]] | None

    # -- step-up state -------------------------------------------------------------------------

    def _token_states(self) -> AsyncTokenStates:
        return AsyncTokenStates(self.verifier, "fastapi-session", self.state_ttl)

    async def load_state(self, session_key: str) -> SecondFactorState:
        """The second-factor state of a token/session (the core's ``AsyncTokenStates``)."""
        return await self._token_states().load(session_key)

    async def passed(
        self,
        session_key: str,
        verification: Verification,
        state: SecondFactorState | None = None,
    ) -> str:
        """Record that this token/session passed a second factor (step-up becomes fresh);
        ``state``: its state as just loaded, if at hand. Returns a step-up token for the
        ``OTP-Step-Up`` header (see :mod:`otpgate.integrations.fastapi.step_up`), which
        spares ``require_second_factor`` the store round trip until it expires.

        The state is written, not read first: a token's state holds nothing that passing
        keeps (no pending sign-in here), so the write is the one store round trip."""
        fresh = state if state is not None else SecondFactorState()
        await self._token_states().passed(session_key, verification, fresh)
        return step_up.issue(self.verifier.keyring, session_key, verification, self.state_ttl)

    async def verify_and_pass(
        self,
        session_key: str,
        subject: str,
        factor: str,
        answer: str,
        *,
        purpose: str,
        challenge_id: str | None = None,
        may_change_factors: bool = True,
    ) -> tuple[Verification, str]:
        """``verifier.verify`` then :meth:`passed`, the state written by the check's own store
        step where the store can (one round trip less: ``otpgate.core.state_write``), else
        right after it. Returns the verification and the step-up token."""
        verification = await self.verifier.verify(
            subject,
            factor,
            answer,
            purpose=purpose,
            challenge_id=challenge_id,
            may_change_factors=may_change_factors,
            then_put=self._token_states().then_put(session_key),
        )
        token = step_up.issue(self.verifier.keyring, session_key, verification, self.state_ttl)
        return verification, token

    async def remembered(self, session_key: str, subject: str) -> None:
        """Record that a remembered device let this token/session skip the sign-in second
        step (``state.has_passed``; never fresh: step-up and transactions still ask)."""
        states = self._token_states()
        state = await states.load(session_key)
        state.remembered(subject, self.clock())
        await states.save(session_key, state)

    async def forget_devices(self, subject: str) -> int:
        """Void every remembered device of ``subject``: call it when the user's password
        changes or they sign out everywhere (factor changes void them on their own)."""
        return await self.verifier.devices.revoke_all(subject, reason="credentials_changed")

    def locale(self, request: Request) -> str | None:
        """The language for texts sent to this request's user (None: the number's region
        decides)."""
        return request_locale(request)

    async def label(self, subject: str, given: str | None) -> str:
        """The account name for an app or passkey set up now: ``given`` (the request's),
        else ``account_label(subject)``, else the subject."""
        if given:
            return given
        if self.account_label is None:
            return subject
        label = self.account_label(subject)
        if not isinstance(label, str):
            label = await label
        return label.strip() or subject
