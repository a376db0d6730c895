"""Whose second-factor state a DRF request reads and writes: its session's, or its token's.

A request authenticated by DRF's ``SessionAuthentication`` uses the browser session's state,
the one otpgate's pages and ``OtpgateMiddleware`` use. Any other authenticator (a token, a
JWT) has no session: its state is kept in otpgate's store per token (the core's
:class:`~otpgate.core.token_state.TokenStates`), under a keyed digest of the request's
``Authorization`` header (or, without one, of ``request.auth``'s ``key`` or text). A request
with neither has no state: nothing passed, never an approval.
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from otpgate.core.challenge import Verification
from otpgate.core.token_state import TokenStates
from otpgate.core.web import SecondFactorState

from .. import runtime
from ..session import VERIFIED, Actor, SessionData, complete

#: How long a token's passed second factor is remembered (the longest ``max_age`` a
#: ``FreshSecondFactor`` may ask for; ``SecondFactorPassed`` on a token means "within it").
TOKEN_STATE_TTL = 12 * 3600
NAMESPACE = "django-drf-token"


def uses_session(request: Request) -> bool:
    """True if DRF's session authentication authenticated this request."""
    return isinstance(getattr(request, "successful_authenticator", None), SessionAuthentication)


def token_of(request: Request) -> str:
    """What identifies this request's token ("" if nothing does)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if isinstance(header, str) and header.strip():
        return header.strip()
    auth = getattr(request, "auth", None)
    key = getattr(auth, "key", auth)
    return key if isinstance(key, str) else ""


def subject_of(request: Request) -> str:
    user = getattr(request, "user", None)
    return str(user.pk) if user is not None and user.is_authenticated else ""


def token_states() -> TokenStates:
    return TokenStates(runtime.get_verifier(), NAMESPACE, TOKEN_STATE_TTL)


def load(request: Request) -> SecondFactorState:
    """This request's second-factor state (its session's or its token's)."""
    if uses_session(request):
        return SessionData(request._request.session).state
    token = token_of(request)
    return token_states().load(token) if token else SecondFactorState()


def record(request: Request, verification: Verification) -> None:
    """This request's session or token passed ``verification``: a session's id is rotated
    (``session.complete``, signals included), a token's state is written to the store."""
    if uses_session(request):
        session = request._request.session
        user: Any = request.user
        actor = Actor(str(user.pk), VERIFIED, user)
        complete(request._request, SessionData(session), actor, verification, "/")
        return
    token = token_of(request)
    if token:
        token_states().passed(token, verification)
