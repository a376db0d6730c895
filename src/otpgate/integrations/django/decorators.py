"""Step-up: views that need a second factor passed within the last ``max_age`` seconds.

    @otp_required                    # OTPGATE_STEP_UP_MAX_AGE (default 300 s)
    def settings_page(request): ...

    @otp_required(max_age=60)
    async def payout(request): ...   # async views work too

    class Export(OtpRequiredMixin, View):
        otp_max_age = 120

An anonymous request goes to ``LOGIN_URL``; a user without a factor to enrollment; a stale
session to ``otpgate:verify`` (and back to ``next``; a form's POST is kept and sent again
afterwards, see ``views/replay.py``). API clients get a 401/403 problem body.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast, overload

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from otpgate.core.errors import EnrollmentRequired, LoginRequired
from otpgate.core.web import SecondFactorState, guard_error

from . import policy, runtime
from .errors import problem, wants_json
from .middleware import ENROLL, VERIFY, blocked
from .session import SessionData
from .views.common import with_next
from .views.replay import keep_submission

V = TypeVar("V", bound=Callable[..., Any])


def step_up_response(request: HttpRequest, max_age: int | None = None) -> HttpResponse | None:
    """None if this session passed a second factor within ``max_age`` seconds, else the
    response that gets one (login, enrollment or the second step). Synchronous."""
    gate = runtime.get_verifier()
    age = gate.settings.step_up_max_age if max_age is None else max_age
    user = getattr(request, "user", None)
    subject = str(user.pk) if user is not None and user.is_authenticated else ""
    state = SessionData(request.session).state if subject else SecondFactorState()
    missing = guard_error(
        state, subject, gate.clock(), max_age=age, has_factor=lambda: policy.has_factor(subject)
    )
    if missing is None:
        return None
    if isinstance(missing, EnrollmentRequired):
        return blocked(request, ENROLL)
    if wants_json(request):
        return problem(missing, request)
    if isinstance(missing, LoginRequired):
        return redirect_to_login(request.get_full_path())
    if request.method == "POST":  # a form: kept, and sent again after the second step
        # (if it could not be kept, the user comes back to the page by GET)
        replay = keep_submission(request, subject) or request.get_full_path()
        response = HttpResponseRedirect(with_next(VERIFY, replay))
        response.status_code = 303
        return response
    return blocked(request, VERIFY)


async def astep_up_response(
    request: HttpRequest, max_age: int | None = None
) -> HttpResponse | None:
    """:func:`step_up_response` for async views (sessions load synchronously everywhere)."""
    return await sync_to_async(step_up_response)(request, max_age)


@overload
def otp_required(view: V) -> V: ...
@overload
def otp_required(*, max_age: int | None = None) -> Callable[[V], V]: ...


def otp_required(view: Any = None, *, max_age: int | None = None) -> Any:
    """Require a second factor passed within ``max_age`` seconds (sync or async view)."""

    def decorate(function: V) -> V:
        if iscoroutinefunction(function):

            @functools.wraps(function)
            async def async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                refused = await astep_up_response(request, max_age)
                if refused is not None:
                    return refused
                return await function(request, *args, **kwargs)

            markcoroutinefunction(async_view)
            return cast(V, async_view)

        @functools.wraps(function)
        def sync_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refused = step_up_response(request, max_age)
            if refused is not None:
                return refused
            return function(request, *args, **kwargs)

        return cast(V, sync_view)

    return decorate(view) if view is not None else decorate


class OtpRequiredMixin:
    """Class-based views: a second factor within ``otp_max_age`` seconds (None: the
    ``OTPGATE_STEP_UP_MAX_AGE`` setting). Works for sync and async views."""

    otp_max_age: int | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        parent = super().dispatch  # type: ignore[misc]
        if getattr(self, "view_is_async", False):

            async def checked() -> Any:
                refused = await astep_up_response(request, self.otp_max_age)
                if refused is not None:
                    return refused
                return await parent(request, *args, **kwargs)

            return checked()
        refused = step_up_response(request, self.otp_max_age)
        if refused is not None:
            return refused
        return parent(request, *args, **kwargs)
