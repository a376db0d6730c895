"""Transaction confirmation (dynamic linking): a code that only confirms these exact details.

In the view that is about to carry out an action, pass the action's details::

    def transfer(request):
        form = TransferForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            details = {"amount": str(data["amount"]), "iban": data["iban"]}
            result = confirm_transaction(request, details, summary=f"EUR {details['amount']}")
            if isinstance(result, HttpResponse):
                return result          # the code page (first time, or a wrong code)
            execute_transfer(...)      # the code matched exactly these details
        ...

The first call sends an SMS bound to ``details`` and to the action (the text shows
``summary``) and answers with a page that posts the same form fields back, plus the code. The
next call checks the code against the details computed from *that* request and against *that*
view: changed details, or the same details posted to another view (a standing order instead
of a payment, a cancel instead of an execute), fail with ``context_mismatch``. The action is
the resolved view name (``request.resolver_match.view_name``) unless ``action=`` names it;
give two views the same ``action=`` only if a code for one may confirm the other.
``aconfirm_transaction`` is the same for async views. Needs a verified phone.

A right code claims the execution for this request alone; ``OtpgateMiddleware`` records how
the view answered (see ``executions.py``). If the view raises (or answers 5xx), the
transaction is ``failed`` and posting the same form with the same code again retries it,
within the code's lifetime; once executed, posting it again answers
``transaction_executed`` instead of executing twice. :func:`transaction_state` reads where a
transaction is; :func:`record_outcome` adds to what its execution is recorded as.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from otpgate.core.challenge import Challenge, Verification
from otpgate.core.errors import ChallengeExpired, MaxAttemptsReached, OtpgateError
from otpgate.core.executions import AsyncExecutions, Executions
from otpgate.core.transactions import TransactionExecuted
from otpgate.core.web import challenge_view, view_action

from . import runtime
from .executions import claimed
from .session import SessionData, client_ip, locale_of
from .views.common import page

TEMPLATE = "otpgate/confirm.html"
_SKIP = {"csrfmiddlewaretoken", "otp_code", "otp_action"}
#: Answers after which the pending challenge is of no more use.
_ENDED = (ChallengeExpired, MaxAttemptsReached, TransactionExecuted)


def _fields(request: HttpRequest) -> list[tuple[str, str]]:
    return [
        (name, value)
        for name, values in request.POST.lists()
        if name not in _SKIP
        for value in values
    ]


def _page(
    request: HttpRequest,
    summary: str,
    challenge: Challenge | None,
    now: float,
    error: OtpgateError | None,
    template_name: str,
) -> HttpResponse:
    context = {
        "summary": summary,
        "fields": _fields(request),
        "challenge": challenge_view(challenge, now) if challenge else None,
        "action_url": request.get_full_path(),
    }
    return page(request, template_name, context, error=error)


def _action_of(request: HttpRequest, action: str | None = None) -> str:
    """What a transaction code is bound to besides its details: ``action`` if given, else
    the view that resolved this request (its URL name with namespaces, or its dotted path),
    preceded by the method for methods other than GET, HEAD and POST."""
    if action is not None:
        return action
    match = getattr(request, "resolver_match", None)
    name = match.view_name if match is not None else request.path
    return view_action(request.method or "GET", name)


def _load(request: HttpRequest) -> tuple[str, SessionData] | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    data = SessionData(request.session)
    return str(user.pk), data


def confirm_transaction(
    request: HttpRequest,
    context: Mapping[str, Any],
    *,
    summary: str = "",
    name: str = "transaction",
    template_name: str = TEMPLATE,
    action: str | None = None,
) -> Verification | HttpResponse:
    """The :class:`~otpgate.Verification` once a code for exactly ``context`` and this
    view (or ``action``) was entered, else the page to send (the code form, with an error
    after a wrong code)."""
    bound = _action_of(request, action)
    loaded = _load(request)
    if loaded is None:
        return redirect_to_login(request.get_full_path())
    subject, data = loaded
    gate = runtime.get_verifier()
    executions = Executions(gate)
    key = executions.key(subject, bound, context)
    pending: dict[str, str] = dict(data.extra.get("tx") or {})
    error: OtpgateError | None = None
    challenge: Challenge | None = None
    try:
        if request.method == "POST" and "otp_code" in request.POST and name in pending:
            challenge_id, code = pending[name], request.POST["otp_code"]
            try:
                verification = executions.confirm(
                    key,
                    subject,
                    challenge_id,
                    code,
                    lambda: gate.check(
                        challenge_id, code, context=context, subject=subject, action=bound
                    ),
                )
            except _ENDED:
                pending.pop(name)
                raise
            claimed(request, key, challenge_id)  # kept: a failed view may retry this code
            return verification
        if request.POST.get("otp_action") == "resend" and name in pending:
            challenge = gate.resend(pending[name], client_ip=client_ip(request))
        else:
            executions.guard(key)
            challenge = gate.start_sms(
                subject,
                purpose="transaction",
                context=context,
                action=bound,
                summary=summary or None,
                client_ip=client_ip(request),
                locale=locale_of(request),
            )
            executions.begin(key, challenge)
            pending[name] = challenge.id
    except OtpgateError as failure:
        error = failure
        if challenge is None and name in pending:
            try:
                challenge = gate.get(pending[name], subject=subject)
            except OtpgateError:
                challenge = None
    finally:
        data.extra["tx"] = pending
        data.save()
    return _page(request, summary, challenge, gate.clock(), error, template_name)


async def aconfirm_transaction(
    request: HttpRequest,
    context: Mapping[str, Any],
    *,
    summary: str = "",
    name: str = "transaction",
    template_name: str = TEMPLATE,
    action: str | None = None,
) -> Verification | HttpResponse:
    """:func:`confirm_transaction` for async views, on the async verifier."""
    bound = _action_of(request, action)
    loaded = await sync_to_async(_load)(request)
    if loaded is None:
        return redirect_to_login(request.get_full_path())
    subject, data = loaded
    gate = runtime.get_async_verifier()
    executions = AsyncExecutions(gate)
    key = executions.key(subject, bound, context)
    pending: dict[str, str] = dict(data.extra.get("tx") or {})
    error: OtpgateError | None = None
    challenge: Challenge | None = None
    try:
        if request.method == "POST" and "otp_code" in request.POST and name in pending:
            challenge_id, code = pending[name], request.POST["otp_code"]

            async def check() -> Verification:
                return await gate.check(
                    challenge_id, code, context=context, subject=subject, action=bound
                )

            try:
                verification = await executions.confirm(key, subject, challenge_id, code, check)
            except _ENDED:
                pending.pop(name)
                raise
            claimed(request, key, challenge_id)  # kept: a failed view may retry this code
            return verification
        if request.POST.get("otp_action") == "resend" and name in pending:
            challenge = await gate.resend(pending[name], client_ip=client_ip(request))
        else:
            await executions.guard(key)
            challenge = await gate.start_sms(
                subject,
                purpose="transaction",
                context=context,
                action=bound,
                summary=summary or None,
                client_ip=client_ip(request),
                locale=locale_of(request),
            )
            await executions.begin(key, challenge)
            pending[name] = challenge.id
    except OtpgateError as failure:
        error = failure
        if challenge is None and name in pending:
            try:
                challenge = await gate.get(pending[name], subject=subject)
            except OtpgateError:
                challenge = None
    finally:
        data.extra["tx"] = pending
        await sync_to_async(data.save)()
        await runtime.flush_events()
    return _page(request, summary, challenge, gate.clock(), error, template_name)
