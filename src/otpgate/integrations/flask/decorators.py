"""``@otp_required``, ``@fresh_otp`` and ``confirm_transaction`` for the app's own views.

The decorators accept sync and async views (``current_app.ensure_sync``). Pages get a
detour (sign-in, verification and back, or set-up); API calls (JSON body, or an Accept
header preferring JSON) get a 401 problem body whose ``code`` says what is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from inspect import iscoroutinefunction
from typing import Any, TypeVar, overload

from flask import current_app

from otpgate.core.errors import OtpgateError
from otpgate.core.web import SecondFactorState, guard_error

from .extension import gate_state
from .transaction import confirm_transaction  # noqa: F401  (moved to transaction.py)
from .web import has_factor, load_state, request_context, state

View = TypeVar("View", bound=Callable[..., Any])


def demand(max_age: int | None) -> str:
    """The signed-in subject, if it passed a second factor in this session (within
    ``max_age`` seconds when given); else raise what is missing."""
    context = request_context()  # the app and the session without a proxy each
    gate = gate_state(context.app)
    subject = gate.users.current_subject() or ""
    if max_age is None and SecondFactorState.passed_in(context.session, subject):
        return subject  # the core's has_passed, read from the session's raw value
    missing = guard_error(
        load_state(),
        subject,
        gate.verifier.clock(),
        max_age=max_age,
        has_factor=lambda: has_factor(subject),
    )
    if missing is not None:
        raise missing
    return subject


def _guarded(view: View, max_age: Callable[[], int | None] | None) -> View:
    """``view`` behind :func:`demand`; ``max_age`` (called on each request) None: any
    second factor of this session will do (``@otp_required``, no call made)."""
    # A sync view is called as it is (what Flask's ``ensure_sync`` returns for it), decided
    # once here rather than inspected on every request; a coroutine goes through the app's
    # ``ensure_sync``.
    is_async = iscoroutinefunction(view)

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            demand(max_age() if max_age is not None else None)
        except OtpgateError as error:
            from .blueprint import answer_error
            from .replay import detour

            return detour(error) or answer_error(error)  # a form's POST is kept: replay.py
        if is_async:
            return current_app.ensure_sync(view)(*args, **kwargs)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def otp_required(view: View) -> View:
    """The view opens only once this session passed a second factor."""
    return _guarded(view, None)


@overload
def fresh_otp(view: View, *, max_age: int | None = None) -> View: ...
@overload
def fresh_otp(view: None = None, *, max_age: int | None = None) -> Callable[[View], View]: ...
def fresh_otp(view: View | None = None, *, max_age: int | None = None) -> Any:
    """Step-up: the view opens only if this session passed a second factor within
    ``max_age`` seconds (default ``OTPGATE_STEP_UP_MAX_AGE``, 300). Use bare or called."""

    def age() -> int:
        return max_age if max_age is not None else state().settings.step_up_max_age

    def decorate(target: View) -> View:
        return _guarded(target, age)

    return decorate(view) if view is not None else decorate
