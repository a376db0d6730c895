"""What ``confirm_transaction`` reads from a request and the confirmation page it answers.

Pure helpers shared by the sync and async flows (``transaction.py``): which step the user
asked for, what this session remembers of a pending confirmation, and the page's context.
The page lists the factors the core offers; it never decides which factor may confirm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from otpgate.core.challenge import Challenge
from otpgate.core.confirmations import PURPOSE, require_state_changing, split_token
from otpgate.core.errors import FactorSetupRequired, MethodNotAllowed, OtpgateError
from otpgate.core.factors import FactorOption, browser
from otpgate.core.factors.registry import FactorRegistry
from otpgate.core.factors.selection import serves
from otpgate.core.settings import Settings
from otpgate.core.transactions import TransactionExecuted
from otpgate.core.web import challenge_view, view_action

from .errors import problem, wants_json
from .session import next_url
from .views.common import factor_template, field, page

TEMPLATE = "otpgate/confirm.html"
#: The page's own fields: never posted back as the action's fields.
_OWN = {"csrfmiddlewaretoken", "otp_code", "otp_action", "otp_factor"}


@dataclass(frozen=True)
class Ask:
    """What this request asks of a confirmation: ``confirm`` a code for the pending one,
    ``resend`` its code, ``cancel`` it, or ``open`` one (``factor``: the one chosen)."""

    kind: str
    token: str = ""
    code: str = ""
    factor: str | None = None


def ask_of(request: HttpRequest, token: str) -> Ask:
    """The step this request asks for (``token``: this session's pending one, or "")."""
    posted = request.method == "POST"
    action = field(request, "otp_action") if posted else ""
    if action == "cancel":
        return Ask("cancel", token)
    if posted and token and "otp_code" in request.POST:
        return Ask("confirm", token, field(request, "otp_code"))
    if action == "resend" and token:
        return Ask("resend", token)
    chosen = field(request, "otp_factor") if posted else ""
    return Ask("open", factor=chosen or None)


def method_refusal(request: HttpRequest) -> HttpResponse | None:
    """405 ``method_not_allowed`` (with ``Allow``) for a request that may not confirm a
    transaction (GET, HEAD, OPTIONS...: a link preview must not send a code): the error page,
    or problem JSON for an API client. None for a state-changing request."""
    try:
        require_state_changing(request.method)
    except MethodNotAllowed as error:
        if wants_json(request):
            return problem(error, request)
        return page(request, "otpgate/manage_error.html", {}, error=error)
    return None


def entry_token(entry: object) -> str:
    """The token a session's entry remembers ([token, transaction key]; a bare token before)."""
    if isinstance(entry, list) and entry and isinstance(entry[0], str):
        return entry[0]
    return entry if isinstance(entry, str) else ""


def ends(entry: object, key: str) -> bool:
    """Whether an answer that ends a confirmation ends this entry's: it is for the same
    transaction (a code posted to another action or other details leaves it pending)."""
    return not (isinstance(entry, list) and len(entry) == 2 and entry[1] != key)


def factor_of(token: str) -> str:
    """The factor a token names ("" for none or a malformed one)."""
    try:
        return split_token(token)[0] if token else ""
    except OtpgateError:
        return ""


def action_of(request: HttpRequest, action: str | None = None) -> str:
    """What a transaction code is bound to besides its details: ``action`` if given, else
    the view that resolved this request (its URL name with namespaces, or its dotted path),
    preceded by the method for methods other than GET, HEAD and POST."""
    if action is not None:
        return action
    match = getattr(request, "resolver_match", None)
    name = match.view_name if match is not None else request.path
    return view_action(request.method or "GET", name)


def back_url(request: HttpRequest, cancel_url: str | None) -> str:
    """Where "Cancel" goes: ``cancel_url``, else the safe ``?next=``, else the home page
    (``LOGIN_REDIRECT_URL``); never somewhere off this site, never the referer."""
    return next_url(request, cancel_url if cancel_url is not None else request.GET.get("next"))


def canceled(request: HttpRequest, cancel_url: str | None) -> HttpResponse:
    return HttpResponseRedirect(back_url(request, cancel_url), status=303)


def _fields(request: HttpRequest) -> list[tuple[str, str]]:
    return [
        (name, value)
        for name, values in request.POST.lists()
        if name not in _OWN
        for value in values
    ]


def addable(
    registry: FactorRegistry, settings: Settings, enrollable: Sequence[FactorOption]
) -> list[str]:
    """Of the factors a user can add (``gate.offer(subject, "enroll")``), those that the
    site's policy lets confirm a transaction: the page links to adding those."""
    return [each.name for each in enrollable if serves(registry.get(each.name), PURPOSE, settings)]


def _enroll_links() -> dict[str, str]:
    return {
        "manage": reverse("otpgate:manage"),
        "app": reverse("otpgate:totp_setup"),
        "phone": reverse("otpgate:phone_add"),
        "passkey": reverse("otpgate:passkey_add"),
    }


def labelled(details: Mapping[str, Any], labels: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """The details as (label, value) pairs: a key's label from ``labels``, else the key."""
    names = labels or {}
    return [(str(names.get(str(k), k)), str(v)) for k, v in details.items()]


def render(
    request: HttpRequest,
    *,
    summary: str,
    details: Mapping[str, Any],
    token: str,
    chosen: str | None,
    options: Sequence[FactorOption],
    challenge: Challenge | None,
    now: float,
    error: OtpgateError | None,
    template_name: str,
    cancel_url: str | None,
    can_add: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
) -> HttpResponse:
    """The confirmation page: the details (``summary``, else ``details``), the factor to
    use (or where to add one), the others to switch to, and a way back."""
    name = factor_of(token) or chosen or (options[0].name if options else "")
    option = next((each for each in options if each.name == name), None)
    view = challenge_view(challenge, now) if challenge is not None else None
    sends = option is not None and option.sends
    ready = bool(token) and (not sends or (view is not None and view["status"] == "pending"))
    spec = option.input if option is not None else None
    context: dict[str, Any] = {
        "summary": summary,
        # Without a summary, the details themselves: what the user approves.
        "details": [] if summary else labelled(details, labels),
        "fields": _fields(request),
        "action_url": request.get_full_path(),
        "factor": name,
        "option": option,
        "code_max": (spec.max_length or spec.length) if spec else 10,
        "sends": sends,
        "ready": ready,
        "challenge": view,
        "others": [each for each in options if each.name != name],
        "setup_required": isinstance(error, FactorSetupRequired),
        "executed": isinstance(error, TransactionExecuted),
        "enroll": _enroll_links(),
        "can_add": list(can_add),
        "back_url": back_url(request, cancel_url),
        "factor_template": factor_template(name) if name else "",
        "browser_options": browser.options_json(browser.options_of(challenge)),
    }
    return page(request, template_name, context, error=error)
