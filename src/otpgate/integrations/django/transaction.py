"""Transaction confirmation: a code that only confirms these exact details, with any factor.

In the view that is about to carry out an action, pass the action's details::

    def transfer(request):
        form = TransferForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            details = {"ref": data["ref"], "amount": str(data["amount"]), "iban": data["iban"]}
            result = confirm_transaction(request, details, summary=f"EUR {details['amount']}")
            if isinstance(result, HttpResponse):
                return result          # the code page (first time, or a wrong code)
            execute_transfer(...)      # a code confirmed exactly these details
        ...

``details`` name one transaction: equal details (for the same user and action) are one
transaction, executed once, so include what tells two equal transfers apart (``ref``: your
transfer's id, or a reference the form carries, made for each form shown).

The first call opens a confirmation on the user's preferred factor among those that may
confirm a transaction (``OTPGATE_TRANSACTION_FACTORS``: an authenticator app or an SMS by
default, never a recovery code) and answers with a page that shows ``summary``, posts the
same form fields back with the code, and offers the user's other factors. An authenticator
app sends nothing: the user approves the details shown on the page. An SMS carries
``summary`` (PSD2 dynamic linking: the user checks the details in the message). Either way
the server-side challenge is bound to ``details`` and to the action: changed details, or the
same details posted to another view (a standing order instead of a payment, a cancel instead
of an execute), are refused. The action is the resolved view name
(``request.resolver_match.view_name``) unless ``action=`` names it; give two views the same
``action=`` only if a code for one may confirm the other. A user with no factor that may
confirm gets a page (409 ``factor_setup_required``) linking to where to add one; "Cancel"
cancels the pending confirmation and goes to ``cancel_url`` (default: the safe ``?next=``,
else ``LOGIN_REDIRECT_URL``). Only a POST (PUT, PATCH, DELETE) confirms: a GET, HEAD or
OPTIONS (a link preview, a crawler) is answered 405 ``method_not_allowed`` with an ``Allow``
header, and nothing is sent or recorded. ``aconfirm_transaction`` is the same for async views.

A right code claims the execution for this request alone; ``OtpgateMiddleware`` records how
the view answered (see ``executions.py``). If the view raises (or answers 5xx), the
transaction is ``failed`` and posting the same form with the same code (or a new app code)
again retries it, within the confirmation's lifetime; once executed, posting it again
answers ``transaction_executed`` instead of executing twice. :func:`transaction_state` reads
where a transaction is; :func:`record_outcome` adds to what its execution is recorded as.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from otpgate.core.challenge import Challenge, Verification
from otpgate.core.confirmations import PURPOSE, AsyncConfirmations, Confirmations, split_token
from otpgate.core.errors import (
    ChallengeExpired,
    FactorSetupRequired,
    MaxAttemptsReached,
    OtpgateError,
)
from otpgate.core.factors import FactorOption, browser
from otpgate.core.transactions import TransactionExecuted

from . import runtime
from .confirm_page import (
    TEMPLATE,
    action_of,
    addable,
    ask_of,
    canceled,
    ends,
    entry_token,
    method_refusal,
    render,
)
from .executions import claimed
from .session import SessionData, client_ip, locale_of

#: Answers after which the pending confirmation is of no more use.
_ENDED = (ChallengeExpired, MaxAttemptsReached, TransactionExecuted)


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
    cancel_url: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Verification | HttpResponse:
    """The :class:`~otpgate.Verification` once a code for exactly ``context`` and this
    view (or ``action``) was entered, else the page to send (the code form, with an error
    after a wrong code; where to add a factor if the user has none that may confirm).

    Without a ``summary`` the page lists the details: ``labels`` names them for people
    (``{"amount": _("Amount")}``; a key without a label is shown as it is)."""
    refused = method_refusal(request)
    if refused is not None:
        return refused
    bound = action_of(request, action)
    loaded = _load(request)
    if loaded is None:
        return redirect_to_login(request.get_full_path())
    subject, data = loaded
    gate = runtime.get_verifier()
    confirmations = Confirmations(gate)
    key = confirmations.key(subject, bound, context)
    pending: dict[str, Any] = dict(data.extra.get("tx") or {})
    ask = ask_of(request, entry_token(pending.get(name)))
    error: OtpgateError | None = None
    challenge: Challenge | None = None
    options: list[FactorOption] | None = None
    try:
        if ask.kind == "cancel":
            confirmations.cancel_transaction(subject, bound, context)
            pending.pop(name, None)
            return canceled(request, cancel_url)
        if ask.kind == "confirm":
            try:
                verification = confirmations.confirm_code(
                    subject, bound, context, ask.token, ask.code
                )
            except _ENDED:
                if ends(pending.get(name), key):
                    pending.pop(name)
                raise
            claimed(request, key, split_token(ask.token)[1])  # kept: a failed view may retry
            return verification
        if ask.kind == "resend":
            challenge = confirmations.resend(subject, ask.token, client_ip=client_ip(request))
        else:
            opened = confirmations.open(
                subject,
                bound,
                context,
                method=request.method or "",
                factor=ask.factor,
                summary=summary or None,
                client_ip=client_ip(request),
                locale=locale_of(request),
            )
            pending[name] = [opened.token, key]
            challenge, options = opened.challenge, list(opened.options)
    except OtpgateError as failure:
        error = failure
    finally:
        data.extra["tx"] = pending
        data.save()
    token = entry_token(pending.get(name))
    again = browser.reopen_factor(gate.registry, gate.settings, token, challenge, error)
    if again is not None:  # a passkey's page needs a new challenge (the last one was spent)
        with suppress(OtpgateError):
            opened = confirmations.open(
                subject,
                bound,
                context,
                method=request.method or "",
                factor=again,
                summary=summary or None,
                client_ip=client_ip(request),
                locale=locale_of(request),
            )
            pending[name] = [opened.token, key]
            data.extra["tx"] = pending
            data.save()
            token, challenge = opened.token, opened.challenge
    if options is None:
        options = gate.offer(subject, PURPOSE)
    can_add: list[str] = []
    if isinstance(error, FactorSetupRequired):
        can_add = addable(gate.registry, gate.settings, gate.offer(subject, "enroll"))
    if challenge is None and token:
        try:
            challenge = confirmations.pending(subject, token)
        except OtpgateError:
            challenge = None
    return render(
        request,
        summary=summary,
        details=context,
        token=token,
        chosen=ask.factor,
        options=options,
        challenge=challenge,
        now=gate.clock(),
        error=error,
        template_name=template_name,
        cancel_url=cancel_url,
        can_add=can_add,
        labels=labels,
    )


async def aconfirm_transaction(
    request: HttpRequest,
    context: Mapping[str, Any],
    *,
    summary: str = "",
    name: str = "transaction",
    template_name: str = TEMPLATE,
    action: str | None = None,
    cancel_url: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Verification | HttpResponse:
    """:func:`confirm_transaction` for async views, on the async verifier."""
    refused = await sync_to_async(method_refusal)(request)
    if refused is not None:
        return refused
    bound = action_of(request, action)
    loaded = await sync_to_async(_load)(request)
    if loaded is None:
        return redirect_to_login(request.get_full_path())
    subject, data = loaded
    gate = runtime.get_async_verifier()
    confirmations = AsyncConfirmations(gate)
    key = confirmations.key(subject, bound, context)
    pending: dict[str, Any] = dict(data.extra.get("tx") or {})
    ask = ask_of(request, entry_token(pending.get(name)))
    error: OtpgateError | None = None
    challenge: Challenge | None = None
    options: list[FactorOption] | None = None
    try:
        if ask.kind == "cancel":
            await confirmations.cancel_transaction(subject, bound, context)
            pending.pop(name, None)
            return canceled(request, cancel_url)
        if ask.kind == "confirm":
            try:
                verification = await confirmations.confirm_code(
                    subject, bound, context, ask.token, ask.code
                )
            except _ENDED:
                if ends(pending.get(name), key):
                    pending.pop(name)
                raise
            claimed(request, key, split_token(ask.token)[1])  # kept: a failed view may retry
            return verification
        if ask.kind == "resend":
            challenge = await confirmations.resend(subject, ask.token, client_ip=client_ip(request))
        else:
            opened = await confirmations.open(
                subject,
                bound,
                context,
                method=request.method or "",
                factor=ask.factor,
                summary=summary or None,
                client_ip=client_ip(request),
                locale=locale_of(request),
            )
            pending[name] = [opened.token, key]
            challenge, options = opened.challenge, list(opened.options)
    except OtpgateError as failure:
        error = failure
    finally:
        data.extra["tx"] = pending
        await sync_to_async(data.save)()
        await runtime.flush_events()
    token = entry_token(pending.get(name))
    again = browser.reopen_factor(gate.registry, gate.settings, token, challenge, error)
    if again is not None:  # a passkey's page needs a new challenge (the last one was spent)
        with suppress(OtpgateError):
            opened = await confirmations.open(
                subject,
                bound,
                context,
                method=request.method or "",
                factor=again,
                summary=summary or None,
                client_ip=client_ip(request),
                locale=locale_of(request),
            )
            pending[name] = [opened.token, key]
            data.extra["tx"] = pending
            await sync_to_async(data.save)()
            token, challenge = opened.token, opened.challenge
    if options is None:
        options = await gate.offer(subject, PURPOSE)
    can_add: list[str] = []
    if isinstance(error, FactorSetupRequired):
        can_add = addable(gate.registry, gate.settings, await gate.offer(subject, "enroll"))
    if challenge is None and token:
        try:
            challenge = await confirmations.pending(subject, token)
        except OtpgateError:
            challenge = None
    return render(
        request,
        summary=summary,
        details=context,
        token=token,
        chosen=ask.factor,
        options=options,
        challenge=challenge,
        now=gate.clock(),
        error=error,
        template_name=template_name,
        cancel_url=cancel_url,
        can_add=can_add,
        labels=labels,
    )
