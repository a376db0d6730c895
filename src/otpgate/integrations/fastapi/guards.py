"""The one guard of the FastAPI routes that show or change a subject's factors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from otpgate.core.errors import FreshOtpRequired, OtpRequired
from otpgate.core.factors.selection import has_factor
from otpgate.core.web import SecondFactorState, manage_error

if TYPE_CHECKING:
    from .gate import OtpGate


async def guard_factors(
    gate: OtpGate, subject: str, session_key: str, operation: Literal["view", "change"]
) -> None:
    """Raise what keeps this token from seeing (``view``) or changing (``change``) the
    subject's factors: the core's :func:`~otpgate.core.web.manage_error`, with
    ``otp_required`` asked as ``fresh_otp_required`` (this API asks every token for step-up
    alike). Any factor registered in the core counts as having one."""
    verifier = gate.verifier
    has_any = has_factor(verifier.registry, await verifier.factors(subject))
    state = await gate.load_state(session_key) if has_any else None
    missing = manage_error(
        state or SecondFactorState(),
        subject,
        gate.clock(),
        operation=operation,
        step_up_max_age=gate.settings.step_up_max_age,
        has_factor=has_any,
    )
    if isinstance(missing, OtpRequired):
        raise FreshOtpRequired(max_age=gate.settings.step_up_max_age)
    if missing is not None:
        raise missing
