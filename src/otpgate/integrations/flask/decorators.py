"""``@otp_required``, ``@fresh_otp`` and ``confirm_transaction`` for the app's own views.

The decorators accept sync and async views (``current_app.ensure_sync``). Pages get a
detour (sign-in, verification and back, or set-up); API calls (JSON body, or an Accept
header preferring JSON) get a 401 problem body whose ``code`` says what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar, overload

from flask import current_app, request
from werkzeug.exceptions import abort
from werkzeug.wrappers import Response

from otpgate.core.challenge import Challenge, Verification
from otpgate.core.errors import (
    ChallengeExpired,
    ConfirmationRequired,
    LoginRequired,
    MalformedInput,
    MaxAttemptsReached,
    OtpgateError,
)
from otpgate.core.transactions import TransactionExecuted
from otpgate.core.web import guard_error, view_action

from .executions import claimed, executions
from .web import (
    challenge_json,
    client_ip,
    has_factor,
    json_error,
    load_state,
    locale,
    now,
    render,
    state,
    wait_seconds,
    wants_json,
)

View = TypeVar("View", bound=Callable[..., Any])

CHALLENGE_FIELD = "otpgate_challenge"
CODE_FIELD = "otpgate_code"
ACTION_FIELD = "otpgate_action"
CHALLENGE_HEADER = "X-Otpgate-Challenge"
CODE_HEADER = "X-Otpgate-Code"
ACTION_HEADER = "X-Otpgate-Action"


def demand(max_age: int | None) -> str:
    """The signed-in subject, if it passed a second factor in this session (within
    ``max_age`` seconds when given); else raise what is missing."""
    gate = state()
    subject = gate.users.current_subject() or ""
    missing = guard_error(
        load_state(),
        subject,
        now(),
        max_age=max_age,
        has_factor=lambda: has_factor(subject),
    )
    if missing is not None:
        raise missing
    return subject


def _guarded(view: View, max_age: Callable[[], int | None]) -> View:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            demand(max_age())
        except OtpgateError as error:
            from .blueprint import answer_error

            return answer_error(error)
        return current_app.ensure_sync(view)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def otp_required(view: View) -> View:
    """The view opens only once this session passed a second factor."""
    return _guarded(view, lambda: None)


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


def confirm_transaction(
    context: Mapping[str, Any],
    summary: str | None = None,
    *,
    template: str = "otpgate/confirm.html",
    action: str | None = None,
) -> Verification:
    """Return only once the user entered the SMS code sent for exactly ``context``, in
    this view (``action``, by default the view's endpoint name).

    Call it in the view that executes the transaction, with the details the view is about
    to act on (amount, currency, payee...). The first call sends a code bound to a digest
    of ``context`` (``summary`` is shown in the SMS and on the page) and aborts with the
    confirmation page, which posts the same form back with the code; API clients get a 401
    ``confirmation_required`` with the challenge and send the same request again with
    ``X-Otpgate-Challenge`` and ``X-Otpgate-Code`` headers. A code issued for other
    details fails with ``context_mismatch``: changing the amount or payee voids it, and
    so does presenting it to another view with the same details (a standing order instead
    of a payment), or to the same view with another method (DELETE instead of POST): the code
    is bound to ``action``, unless given ``request.endpoint`` (preceded by the method for
    methods other than GET, HEAD and POST; see :func:`otpgate.core.web.view_action`).
    Views that pass the same ``action=`` accept each other's codes.

    The right code claims the execution for this request alone, and the view's answer is
    recorded (see ``executions.py``): if the view raises or answers 5xx, the same request
    with the same code retries it, within the code's lifetime; once it answered, the same
    request answers ``transaction_executed`` (409, with the recorded ``outcome``) instead of
    executing twice. ``transaction_state(context)`` reads where a transaction is.
    """
    bound = (
        action
        if action is not None
        else view_action(request.method, request.endpoint or request.path)
    )
    gate = state()
    subject = gate.users.current_subject()
    if not subject:
        abort(_answer(LoginRequired()))
    error: OtpgateError | None = None
    challenge_id = ""
    verifier = gate.verifier
    transactions = executions()
    key = transactions.key(subject, bound, context)
    try:
        challenge_id = _value(CHALLENGE_HEADER, CHALLENGE_FIELD)
        code = _value(CODE_HEADER, CODE_FIELD)
        step = _value(ACTION_HEADER, ACTION_FIELD)
        if challenge_id and code and step != "resend":
            verification = transactions.confirm(
                key,
                subject,
                challenge_id,
                code,
                lambda: verifier.check(
                    challenge_id, code, context=context, subject=subject, action=bound
                ),
            )
            claimed(key, challenge_id)  # the view's answer settles it
            return verification
        if challenge_id and step == "resend":
            verifier.get(challenge_id, subject)
            verifier.resend(challenge_id, client_ip())
        elif not challenge_id or step == "new":
            transactions.guard(key)
            started = verifier.start_sms(
                subject,
                purpose="transaction",
                context=context,
                action=bound,
                summary=summary,
                client_ip=client_ip(),
                locale=locale(),
            )
            transactions.begin(key, started)
            challenge_id = started.id
    except (ChallengeExpired, MaxAttemptsReached, TransactionExecuted) as ended:
        error, challenge_id = ended, ""
    except OtpgateError as failed:
        error = failed
    challenge = _challenge(challenge_id, subject)
    if wants_json():
        abort(_answer(error or ConfirmationRequired(challenge=challenge), challenge))
    fields = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name not in {CHALLENGE_FIELD, CODE_FIELD, ACTION_FIELD}
    ]
    page = render(
        template,
        error=error,
        challenge=challenge,
        wait=wait_seconds(challenge),
        summary=summary,
        fields=fields,
        action_url=request.full_path.rstrip("?"),
        digits=gate.settings.code_digits,
    )
    abort(page)


def _value(header: str, name: str) -> str:
    value = request.headers.get(header) or request.form.get(name) or ""
    if len(value) > 256:
        raise MalformedInput("A confirmation field is too long.")
    return value


def _challenge(challenge_id: str, subject: str) -> Challenge | None:
    if not challenge_id:
        return None
    try:
        return state().verifier.get(challenge_id, subject)
    except OtpgateError:
        return None


def _answer(error: OtpgateError, challenge: Challenge | None = None) -> Response:
    if wants_json():
        return json_error(error, challenge=challenge_json(challenge))
    from .blueprint import answer_error

    return answer_error(error)
