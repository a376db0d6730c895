"""The test site plus views built on django-otp and Django REST framework."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django_otp.admin import OTPAdminSite
from django_otp.decorators import otp_required as django_otp_required

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


urlpatterns = [
    path("otp-status/", otp_status, name="otp_status"),
    path("otp-status-async/", otp_status_async, name="otp_status_async"),
    path("django-otp-page/", django_otp_page, name="django_otp_page"),
    path("otpadmin/", otp_admin.urls),
    *base.urlpatterns,
]
