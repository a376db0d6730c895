"""Protected views of the demo site: a home page, a step-up page, a bound transfer."""

from __future__ import annotations

import secrets

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from otpgate.core.devices import REMEMBERED
from otpgate.core.web import SecondFactorState
from otpgate.integrations.django import confirm_transaction, otp_required


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Says how the user signed in: with a second factor, or let through by a remembered
    device (the session's state knows)."""
    remembered = SecondFactorState.load(request.session).verified_factor == REMEMBERED
    return render(request, "demo_site/home.html", {"remembered": remembered})


@otp_required(max_age=120)
def account_settings(request: HttpRequest) -> HttpResponse:
    """Needs a second factor passed within the last two minutes."""
    return render(request, "demo_site/home.html", {"step_up": True})


@login_required
def transfer(request: HttpRequest) -> HttpResponse:
    """A transfer confirmed by a code (the app, or an SMS naming it) bound to its amount and
    payee."""
    if request.method != "POST":
        return render(request, "demo_site/transfer.html", {"reference": secrets.token_hex(6)})
    details = {  # a reference per form: equal details are one transaction (executed once)
        "reference": request.POST.get("reference", "")[:16],
        "amount": request.POST.get("amount", "")[:12],
        "payee": request.POST.get("payee", "")[:34],
    }
    result = confirm_transaction(
        request,
        details,
        summary=f"payment of {details['amount']} EUR to {details['payee']}"[:60],
        labels={"amount": "Amount", "payee": "Payee"},  # shown if there is no summary
    )
    if isinstance(result, HttpResponse):
        return result
    context = {"done": details, "reference": secrets.token_hex(6)}  # the next transfer's
    return render(request, "demo_site/transfer.html", context)
