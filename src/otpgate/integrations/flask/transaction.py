"""``confirm_transaction``: a view's transaction confirmed with any factor that may confirm one.

The core (:class:`~otpgate.core.confirmations.Confirmations`) picks the factor (the user's
preferred among those ``OTPGATE_TRANSACTION_FACTORS`` allows), starts it (an SMS carries the
details; an app sends nothing), binds the server-side challenge to the details and the view's
action, and checks the code. This module only reads the request's fields and headers and
answers with the confirmation page or its JSON. No factor is named here: the template labels
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from typing import Any, NoReturn

from flask import flash, redirect, request, url_for
from werkzeug.exceptions import abort
from werkzeug.wrappers import Response

from otpgate.core.challenge import Verification
from otpgate.core.confirmations import (
    PURPOSE,
    Confirmations,
    PendingConfirmation,
    require_state_changing,
    split_token,
)
from otpgate.core.errors import (
    ChallengeExpired,
    ConfirmationRequired,
    FactorSetupRequired,
    LoginRequired,
    MalformedInput,
    MaxAttemptsReached,
    MethodNotAllowed,
    OtpgateError,
)
from otpgate.core.factors import browser
from otpgate.core.factors.base import FactorOption
from otpgate.core.transactions import TransactionExecuted
from otpgate.core.web import view_action

from .browser_pages import factor_template
from .executions import claimed, executions
from .web import (
    client_ip,
    json_error,
    json_ok,
    locale,
    now,
    render,
    state,
    translate,
    wait_seconds,
    wants_json,
)

CHALLENGE_FIELD = "otpgate_challenge"
CODE_FIELD = "otpgate_code"
ACTION_FIELD = "otpgate_action"
FACTOR_FIELD = "otpgate_factor"
CHALLENGE_HEADER = "X-Otpgate-Challenge"
CODE_HEADER = "X-Otpgate-Code"
ACTION_HEADER = "X-Otpgate-Action"
FACTOR_HEADER = "X-Otpgate-Factor"
_OWN_FIELDS = {CHALLENGE_FIELD, CODE_FIELD, ACTION_FIELD, FACTOR_FIELD}
_LIVE = {"pending", "failed"}
#: The longest code field: a passkey's answer (the browser's JSON) is a code too.
_MAX_CODE = 32_768


def confirm_transaction(
    context: Mapping[str, Any],
    summary: str | None = None,
    *,
    template: str = "otpgate/confirm.html",
    action: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Verification:
    """Return only once the user confirmed exactly ``context`` with a second factor, in this
    view (``action``, by default the view's endpoint name).

    Call it in the view that executes the transaction, with the details the view is about
    to act on (amount, currency, payee...). The first call opens the confirmation on the
    user's preferred factor among those that may confirm a transaction (an SMS code is sent
    with ``summary``, PSD2's dynamic linking; an authenticator app sends nothing) and aborts
    with the confirmation page: it shows the summary and the details, asks for the code,
    offers the other factors (``otpgate_factor``), "Send a new code" for a factor that sends,
    and a cancel button; it posts the same form back. API clients get a 401
    ``confirmation_required`` whose ``confirmation`` token (also ``challenge_id`` and the
    ``OTP-Challenge`` header), ``factor``, ``factors`` and ``challenge`` (SMS only) say how to
    go on: the same request again with ``X-Otpgate-Challenge: <token>`` and
    ``X-Otpgate-Code``; ``X-Otpgate-Factor`` (without a code) opens it with another factor,
    ``X-Otpgate-Action: resend`` sends the SMS again, ``cancel`` cancels it. A user with no
    factor that may confirm it gets ``factor_setup_required`` (409) with the page that links
    to adding one (JSON: ``enroll_url``). The page lists the details under their keys, or
    under the names ``labels`` gives them (``labels={"amount": gettext("Amount")}``).

    The confirmation is bound to ``context`` and ``action`` on the server for every factor:
    changing the amount or payee voids it, and so does presenting it to another view with
    the same details, or to the same view with another method; ``action`` defaults to
    ``request.endpoint`` (preceded by the method for methods other than GET, HEAD and POST;
    see :func:`otpgate.core.web.view_action`). Views that pass the same ``action=`` accept
    each other's confirmations.

    The right code claims the execution for this request alone, and the view's answer is
    recorded (see ``executions.py``): if the view raises or answers 5xx, the same request
    with the same code (or a new app code) retries it, within the code's lifetime; once it
    answered, the same request answers ``transaction_executed`` (409, with the recorded
    ``outcome``) instead of executing twice. ``transaction_state(context)`` reads where a
    transaction is.

    Only a state-changing request (POST, PUT, PATCH, DELETE) confirms: GET, HEAD, OPTIONS or
    TRACE (a link preview, a crawler) aborts with 405 ``method_not_allowed`` and an ``Allow``
    header before anything is sent or recorded.
    """
    try:
        require_state_changing(request.method)
    except MethodNotAllowed as wrong_method:
        _stop(_answer(wrong_method))
    bound = (
        action
        if action is not None
        else view_action(request.method, request.endpoint or request.path)
    )
    subject = state().users.current_subject()
    if not subject:
        _stop(_answer(LoginRequired()))
    tx = executions()
    error: OtpgateError | None = None
    pending: PendingConfirmation | None = None
    token = factor = ""
    try:
        token = _value(CHALLENGE_HEADER, CHALLENGE_FIELD)
        code = _value(CODE_HEADER, CODE_FIELD, limit=_MAX_CODE)
        step = _value(ACTION_HEADER, ACTION_FIELD)
        factor = _value(FACTOR_HEADER, FACTOR_FIELD)
        if step == "cancel":
            tx.cancel_transaction(subject, bound, context)
            _stop(_canceled(tx.state(subject, bound, context).state))
        if token and code and step != "resend":
            verification = tx.confirm_code(subject, bound, context, token, code)
            claimed(tx.key(subject, bound, context), split_token(token)[1])
            return verification
        if token and step == "resend" and not factor:
            tx.resend(subject, token, client_ip=client_ip())
        elif not token or step == "new" or factor:
            pending = tx.open(
                subject,
                bound,
                context,
                method=request.method,
                factor=factor or None,
                summary=summary,
                client_ip=client_ip(),
                locale=locale(),
            )
    except (ChallengeExpired, MaxAttemptsReached, TransactionExecuted) as ended:
        error, token = ended, ""
    except OtpgateError as failed:
        error = failed
    if pending is None and token:
        pending = _revive(tx, subject, bound, context, token)
    if pending is not None:
        pending = _reopened(tx, pending, error, subject, bound, context, summary)
    if wants_json():
        _stop(_json(error, pending))
    refused = factor if error is not None and pending is None else ""
    _stop(_page(template, error, pending, subject, summary, context, refused, labels))


def _stop(response: Response) -> NoReturn:
    abort(response)


def _value(header: str, name: str, *, limit: int = 256) -> str:
    value = request.headers.get(header) or request.form.get(name) or ""
    if len(value) > limit:
        raise MalformedInput("A confirmation field is too long.")
    return value


def _revive(
    tx: Confirmations, subject: str, action: str, context: Mapping[str, Any], token: str
) -> PendingConfirmation | None:
    """The confirmation ``token`` names, while it is still pending for these details and
    this action (None once it is over, or for other details)."""
    try:
        factor, reference = split_token(token)
        status = tx.state(subject, action, context)
        if status.state not in _LIVE or status.challenge_id != reference:
            return None
        challenge = tx.pending(subject, token)
        options = tuple(tx.verifier.offer(subject, PURPOSE))
    except OtpgateError:
        return None
    if factor not in {option.name for option in options}:
        return None
    return PendingConfirmation(token, factor, status.expires_at or now(), challenge, options)


def _reopened(
    tx: Confirmations,
    pending: PendingConfirmation,
    error: OtpgateError | None,
    subject: str,
    action: str,
    context: Mapping[str, Any],
    summary: str | None,
) -> PendingConfirmation:
    """``pending``, or for a factor the browser answers whose challenge was spent (a passkey
    answer refused), the same confirmation opened again: its page needs a new challenge."""
    gate = state()
    again = browser.reopen_factor(
        gate.verifier.registry, gate.settings, pending.token, pending.challenge, error
    )
    if again is None:
        return pending
    with suppress(OtpgateError):
        return tx.open(
            subject,
            action,
            context,
            method=request.method,
            factor=again,
            summary=summary,
            client_ip=client_ip(),
            locale=locale(),
        )
    return pending


def _offered(subject: str) -> tuple[FactorOption, ...]:
    with suppress(OtpgateError):
        return tuple(state().verifier.offer(subject, PURPOSE))
    return ()


def _enroll_url() -> str:
    return url_for(state().endpoint("manage"))


def _json(error: OtpgateError | None, pending: PendingConfirmation | None) -> Response:
    """The 401 ``confirmation_required`` (or the error) with what the client needs to go on."""
    extra: dict[str, Any] = pending.view(now()) if pending is not None else {"challenge": None}
    if isinstance(error, FactorSetupRequired):
        extra["enroll_url"] = _enroll_url()
    if error is None:
        error = ConfirmationRequired(challenge_id=pending.token if pending else None)
    return json_error(error, **extra)


def _page(
    template: str,
    error: OtpgateError | None,
    pending: PendingConfirmation | None,
    subject: str,
    summary: str | None,
    context: Mapping[str, Any],
    refused: str = "",
    labels: Mapping[str, str] | None = None,
) -> Response:
    """The confirmation page: the details, the code of the pending factor (or a way to start
    again, or to add a factor), the other factors (but ``refused``, the one that just could
    not be opened: its SMS budget spent...), and cancel."""
    options = pending.options if pending is not None else _offered(subject)
    option = next((o for o in options if pending and o.name == pending.factor), None)
    challenge = pending.challenge if pending is not None else None
    fields = [
        (name, value) for name, value in request.form.items(multi=True) if name not in _OWN_FIELDS
    ]
    setup = isinstance(error, FactorSetupRequired) or not options
    return render(
        template,
        error=error,
        summary=summary,
        details=[((labels or {}).get(str(k), str(k)), str(v)) for k, v in context.items()],
        token=pending.token if pending is not None else "",
        option=option,
        options=options,
        restart_sends=bool(options) and options[0].sends,
        refused=refused,
        setup_url=_enroll_url() if setup else "",
        challenge=challenge,
        wait=wait_seconds(challenge),
        fields=fields,
        action_url=request.full_path.rstrip("?"),
        digits=state().settings.code_digits,
        factor_template=factor_template(option.name) if option is not None else "",
        browser_options=browser.options_of(challenge),
    )


def _canceled(transaction_state: str) -> Response:
    """After cancel: JSON says so; a page goes home (the app's configured home, never a URL
    from the request)."""
    if wants_json():
        return json_ok({"status": "canceled", "transaction_state": transaction_state})
    flash(translate("The transaction was canceled."), "otpgate-info")
    return redirect(state().home_url, code=303)


def _answer(error: OtpgateError) -> Response:
    if wants_json():
        return json_error(error, challenge=None)
    from .blueprint import answer_error

    return answer_error(error)
