"""The DRF step-up endpoints: ``path("api/2fa/", include("otpgate.integrations.django.drf.urls"))``
(namespace ``otpgate_drf``)."""

from __future__ import annotations

from django.urls import path

from .views import FactorsView, StartView, VerifyView

app_name = "otpgate_drf"

urlpatterns = [
    path("factors/", FactorsView.as_view(), name="factors"),
    path("start/", StartView.as_view(), name="start"),
    path("verify/", VerifyView.as_view(), name="verify"),
]
