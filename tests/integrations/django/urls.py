"""The test site: otpgate's pages, the admin, and protected views of every kind."""

from __future__ import annotations

import functools

from asgiref.sync import sync_to_async
from django.contrib import admin
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.urls import include, path
from django.views import View

from otpgate.integrations.django import (
    OtpLoginView,
    OtpRequiredMixin,
    aconfirm_transaction,
    begin_second_step,
    confirm_transaction,
    otp_required,
    record_outcome,
    transaction_state,
)

#: How many more times the flaky transfers fail (the bank is down), set by the tests.
FLAKY = {"fail_next": 0, "executed": 0}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("PROTECTED home")


def public(request: HttpRequest) -> HttpResponse:
    return HttpResponse("PROTECTED public page (any logged-in session is stopped)")


def async_login_required(view):
    """``login_required`` for async views (Django 4.2's is sync only)."""

    @functools.wraps(view)
    async def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not await sync_to_async(lambda: request.user.is_authenticated)():
            return redirect_to_login(request.get_full_path())
        return await view(request, *args, **kwargs)

    return wrapper


@async_login_required
async def async_home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("PROTECTED async home")


@otp_required
def secret(request: HttpRequest) -> HttpResponse:
    return HttpResponse("PROTECTED step-up")


@otp_required(max_age=60)
def short(request: HttpRequest) -> HttpResponse:
    return HttpResponse("PROTECTED short step-up")


@otp_required
async def secret_async(request: HttpRequest) -> HttpResponse:
    return HttpResponse("PROTECTED async step-up")


#: What ``/note/`` received by POST, in order (reset by the tests).
NOTES: list[list[tuple[str, str]]] = []


@otp_required
def note(request: HttpRequest) -> HttpResponse:
    """A step-up form: records every POST it executes (its fields, the CSRF token left out)."""
    if request.method != "POST":
        return HttpResponse("PROTECTED note form")
    NOTES.append(
        [(k, v) for k, vs in request.POST.lists() for v in vs if k != "csrfmiddlewaretoken"]
    )
    return HttpResponse(f"PROTECTED noted {request.POST.get('text', '')}")


class StepUpView(OtpRequiredMixin, View):
    otp_max_age = 120

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("PROTECTED class-based step-up")

    def post(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("PROTECTED class-based step-up")


class AsyncStepUpView(OtpRequiredMixin, View):
    async def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("PROTECTED async class-based step-up")


#: The transfer form (for the browser test): the fields ``_details`` reads.
TRANSFER_FORM = engines["django"].from_string(
    "<!doctype html><title>Transfer</title><p>PROTECTED transfer form</p>"
    '<form method="post">{% csrf_token %}'
    '<label>Amount <input name="amount"></label><label>Payee <input name="payee"></label>'
    '<button type="submit">Transfer</button></form>'
)


def _details(request: HttpRequest) -> dict[str, str]:
    return {"amount": request.POST.get("amount", ""), "payee": request.POST.get("payee", "")}


@login_required
def transfer(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(TRANSFER_FORM.render(request=request))
    details = _details(request)
    result = confirm_transaction(request, details, summary=f"EUR {details['amount'][:20]}")
    if isinstance(result, HttpResponse):
        return result
    return HttpResponse(f"PROTECTED transferred {details['amount']} to {details['payee']}")


@async_login_required
async def transfer_async(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse("PROTECTED async transfer form")
    details = _details(request)
    result = await aconfirm_transaction(request, details, summary=f"EUR {details['amount'][:20]}")
    if isinstance(result, HttpResponse):
        return result
    return HttpResponse(f"PROTECTED async transferred {details['amount']}")


@login_required
def standing_order(request: HttpRequest) -> HttpResponse:
    """Another action on the same details as ``transfer``: its codes must not confirm it."""
    details = _details(request)
    result = confirm_transaction(request, details, summary=f"Monthly {details['amount'][:20]}")
    if isinstance(result, HttpResponse):
        return result
    return HttpResponse(f"PROTECTED standing order {details['amount']} to {details['payee']}")


@login_required
def transfer_alias(request: HttpRequest) -> HttpResponse:
    """A second URL for the transfer, naming its action explicitly."""
    details = _details(request)
    result = confirm_transaction(request, details, action="transfer", labels={"amount": "Amount"})
    if isinstance(result, HttpResponse):
        return result
    return HttpResponse(f"PROTECTED alias transferred {details['amount']}")


@async_login_required
async def standing_order_async(request: HttpRequest) -> HttpResponse:
    details = _details(request)
    result = await aconfirm_transaction(request, details, summary="Monthly")
    if isinstance(result, HttpResponse):
        return result
    return HttpResponse(f"PROTECTED async standing order {details['amount']}")


@async_login_required
async def transfer_async_alias(request: HttpRequest) -> HttpResponse:
    details = _details(request)
    result = await aconfirm_transaction(request, details, action="transfer_async")
    if isinstance(result, HttpResponse):
        return result
    return HttpResponse(f"PROTECTED async alias transferred {details['amount']}")


def _flaky_execute(request: HttpRequest, details: dict[str, str]) -> HttpResponse:
    if FLAKY["fail_next"] > 0:
        FLAKY["fail_next"] -= 1
        raise RuntimeError("the bank is down")
    FLAKY["executed"] += 1
    record_outcome(request, payee=details["payee"])
    return HttpResponse(f"PROTECTED flaky transferred {details['amount']}")


@login_required
def flaky_transfer(request: HttpRequest) -> HttpResponse:
    """A transfer whose execution fails while ``FLAKY["fail_next"]`` counts down."""
    details = _details(request)
    result = confirm_transaction(request, details)
    if isinstance(result, HttpResponse):
        return result
    return _flaky_execute(request, details)


@async_login_required
async def flaky_transfer_async(request: HttpRequest) -> HttpResponse:
    details = _details(request)
    result = await aconfirm_transaction(request, details)
    if isinstance(result, HttpResponse):
        return result
    return _flaky_execute(request, details)


@login_required
def transfer_state(request: HttpRequest) -> HttpResponse:
    """Where the flaky transfer of the posted details is (``?action=``: of which view)."""
    action = request.GET.get("action", "flaky_transfer")
    status = transaction_state(request, _details(request), action=action)
    return JsonResponse({"state": status.state, "outcome": status.outcome})


def custom_login(request: HttpRequest) -> HttpResponse:
    """A hand-written login view using the documented hook."""
    if request.method == "POST":
        user = authenticate(
            request,
            username=request.POST.get("username", ""),
            password=request.POST.get("password", ""),
        )
        if user is not None:
            return begin_second_step(request, user, request.POST.get("next", ""))
        return HttpResponse("bad credentials", status=400)
    return HttpResponse("custom login form")


urlpatterns = [
    path("", home, name="home"),
    path("public/", public, name="public"),
    path("async/", async_home, name="async_home"),
    path("secret/", secret, name="secret"),
    path("short/", short, name="short"),
    path("note/", note, name="note"),
    path("secret-async/", secret_async, name="secret_async"),
    path("cbv/", StepUpView.as_view(), name="cbv"),
    path("cbv-async/", AsyncStepUpView.as_view(), name="cbv_async"),
    path("transfer/", transfer, name="transfer"),
    path("transfer-async/", transfer_async, name="transfer_async"),
    path("standing-order/", standing_order, name="standing_order"),
    path("transfer-alias/", transfer_alias, name="transfer_alias"),
    path("standing-order-async/", standing_order_async, name="standing_order_async"),
    path("transfer-async-alias/", transfer_async_alias, name="transfer_async_alias"),
    path("flaky-transfer/", flaky_transfer, name="flaky_transfer"),
    path("flaky-transfer-async/", flaky_transfer_async, name="flaky_transfer_async"),
    path("transfer-state/", transfer_state, name="transfer_state"),
    path("accounts/login/", OtpLoginView.as_view(), name="login"),
    path("accounts/custom-login/", custom_login, name="custom_login"),
    path("accounts/plain-login/", auth_views.LoginView.as_view(), name="plain_login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("2fa/", include("otpgate.integrations.django.urls")),
    path("admin/", admin.site.urls),
]
