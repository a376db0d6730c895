"""The test site plus views built on django-otp and Django REST framework."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django_otp.admin import OTPAdminSite
from django_otp.decorators import otp_required as django_otp_required
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from otpgate.integrations.django.drf import (
    FreshSecondFactor,
    SecondFactorPassed,
    confirm_transaction,
)
from tests.integrations.django import urls as base

otp_admin = OTPAdminSite(name="otpadmin")


def otp_status(request: HttpRequest) -> JsonResponse:
    """What an app built on django-otp sees of this session."""
    user = request.user
    device = getattr(user, "otp_device", None)
    return JsonResponse(
        {
            "verified": user.is_verified(),
            "factor": getattr(device, "factor", None),
            "persistent_id": getattr(device, "persistent_id", None),
        }
    )


async def otp_status_async(request: HttpRequest) -> JsonResponse:
    user = await request.auser() if hasattr(request, "auser") else request.user
    verified = await sync_to_async(user.is_verified)()
    return JsonResponse({"verified": verified})


@django_otp_required
def django_otp_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("PROTECTED by django-otp's otp_required")


class Profile(APIView):
    permission_classes = (IsAuthenticated & SecondFactorPassed,)  # DRF composition works

    def get(self, request: Request) -> Response:
        return Response({"profile": request.user.get_username()})


class Payout(APIView):
    permission_classes = (IsAuthenticated, FreshSecondFactor(max_age=60))

    def post(self, request: Request) -> Response:
        return Response({"paid": True})


class DefaultHandlerPayout(Payout):
    """A project whose EXCEPTION_HANDLER is DRF's own."""

    def get_exception_handler(self):
        return exception_handler


#: The transfers the API executed (reset by the tests); ``fail_next`` makes the bank fail.
BANK: dict[str, object] = {"executed": [], "fail_next": 0}


def _transfer_details(request: Request) -> dict[str, str]:
    return {"amount": str(request.data.get("amount", "")), "to": str(request.data.get("to", ""))}


class Transfer(APIView):
    permission_classes = (IsAuthenticated,)

    @confirm_transaction(_transfer_details, summary=lambda d: f"EUR {d['amount']} to {d['to']}")
    def post(self, request: Request) -> Response:
        if request.data.get("to") == "nobody":
            raise ValidationError({"to": "unknown payee"})
        if BANK["fail_next"]:
            BANK["fail_next"] = 0
            raise RuntimeError("the bank is down")
        BANK["executed"].append(request.otpgate_transaction.details)
        request.otpgate_transaction.outcome["reference"] = f"T{len(BANK['executed'])}"
        return Response({"transferred": request.data.get("amount")}, status=201)


@api_view(["POST"])
@permission_classes([IsAuthenticated])
@confirm_transaction(lambda request: {"order": str(request.data.get("order", ""))})
def cancel_order(request: Request) -> Response:
    return Response({"canceled": request.otpgate_transaction.details["order"]})


@api_view(["GET", "POST"])
@permission_classes([IsAuthenticated])
@confirm_transaction(lambda request: {"order": str(request.query_params.get("order", ""))})
def lookup_order(request: Request) -> Response:
    """Decorated for GET too (a mistake): a GET must never send a code (405)."""
    return Response({"order": request.otpgate_transaction.details["order"]})


urlpatterns = [
    path("api/profile/", Profile.as_view(), name="api_profile"),
    path("api/payout/", Payout.as_view(), name="api_payout"),
    path("api/payout-default/", DefaultHandlerPayout.as_view(), name="api_payout_default"),
    path("api/transfer/", Transfer.as_view(), name="api_transfer"),
    path("api/cancel-order/", cancel_order, name="api_cancel_order"),
    path("api/lookup-order/", lookup_order, name="api_lookup_order"),
    path("api/2fa/", include("otpgate.integrations.django.drf.urls")),
    path("otp-status/", otp_status, name="otp_status"),
    path("otp-status-async/", otp_status_async, name="otp_status_async"),
    path("django-otp-page/", django_otp_page, name="django_otp_page"),
    path("otpadmin/", otp_admin.urls),
    *base.urlpatterns,
]
