"""The pure parts of confirming a transaction, shared by ``Confirmations`` and
``AsyncConfirmations`` (:mod:`otpgate.core.confirmations`, which re-exports the public ones):
the state-changing-method rule, the token that names a factor and its challenge, the
:class:`PendingConfirmation` a page or an API answers, and the answers to a retry.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .challenge import Challenge, Status
from .errors import (
    ChallengeExpired,
    CodeReplayed,
    FactorSetupRequired,
    MalformedInput,
    MethodNotAllowed,
)
from .executions import _raise_for
from .factors.base import FactorOption
from .transactions import Answer, TxResult, TxState
from .web import challenge_view

if TYPE_CHECKING:
    from .settings import Settings


PURPOSE = "transaction"
#: Between the factor's name and its challenge in a token ("totp~…", "sms~<challenge id>").
SEPARATOR = "~"
_MAX_TOKEN = 200
#: The methods that may confirm a transaction (the ``Allow`` of a refusal).
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def require_state_changing(method: object) -> str:
    """``method`` (upper case) if it may confirm a transaction, else :class:`MethodNotAllowed`:
    a safe method (GET, HEAD, OPTIONS, TRACE) or anything unknown never sends a code."""
    verb = method.upper() if isinstance(method, str) else ""
    if verb not in STATE_CHANGING:
        raise MethodNotAllowed(allowed=STATE_CHANGING)
    return verb


@dataclass(frozen=True)
class PendingConfirmation:
    """A transaction waiting for its code: ``token`` goes back with the code; ``challenge``
    is what a sending factor sent (None for an app); ``options`` the factors that may
    confirm it instead (a page offers to switch)."""

    token: str
    factor: str
    expires_at: float
    challenge: Challenge | None
    options: tuple[FactorOption, ...]

    def view(self, now: float) -> dict[str, Any]:
        """JSON-able, for a page or an API answer (nothing secret)."""
        return {
            "confirmation": self.token,
            "factor": self.factor,
            "expires_in": max(0, int(self.expires_at - now + 0.999)),
            "challenge": challenge_view(self.challenge, now) if self.challenge else None,
            "factors": [option.as_dict() for option in self.options],
        }


def split_token(token: object) -> tuple[str, str]:
    """``(factor, challenge)`` of a token; a bare challenge id (as answered before tokens
    named their factor) is an SMS challenge. MalformedInput for anything else."""
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN:
        raise MalformedInput("The confirmation is malformed.")
    factor, separator, challenge_id = token.partition(SEPARATOR)
    if not separator:
        return "sms", token
    if not factor or not challenge_id:
        raise MalformedInput("The confirmation is malformed.")
    return factor, challenge_id


def _reference(challenge: Challenge | None, now: float, settings: Settings) -> tuple[str, float]:
    """The server-side challenge a pending transaction waits on: the one a factor sent, else
    a new one that lives as long as a code would."""
    if challenge is not None:
        return challenge.id, challenge.expires_at
    return secrets.token_urlsafe(16), now + settings.code_lifetime


def _options(offered: list[FactorOption], purpose: str) -> tuple[FactorOption, ...]:
    if not offered:
        raise FactorSetupRequired(purpose=purpose)
    return tuple(offered)


def _chosen(options: tuple[FactorOption, ...], factor: str | None) -> str:
    """The factor to start: ``factor`` if given (the gate checks it may), else the first
    offered (the subject's preferred)."""
    return factor if factor is not None else options[0].name


def _racing(result: TxResult) -> bool:
    """A retry found the transaction still pending on this challenge: either a concurrent
    request checked the same code and is about to claim it, or the challenge ended
    otherwise (canceled, expired, too many wrong codes) — its status tells which."""
    pending = result.record is not None and result.record.state is TxState.PENDING
    return result.answer is Answer.IN_PROGRESS and pending


def _approved(challenge: Challenge | None) -> bool:
    return challenge is not None and challenge.status is Status.APPROVED


def _settle_retry(result: TxResult, spent: Exception) -> None:
    """The answer to a retry after the factor refused the code as spent (an SMS challenge
    used, an app code used): still pending means the code was spent elsewhere (or by a
    concurrent request that is about to claim it) — the factor's own answer then."""
    if isinstance(spent, CodeReplayed) and (_racing(result) or result.answer is Answer.EXPIRED):
        raise spent
    _raise_for(result, spent if isinstance(spent, ChallengeExpired) else None)
