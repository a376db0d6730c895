"""The demo site's URLs: otpgate's login view, its pages, and a few protected views."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from otpgate.integrations.django import OtpLoginView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("transfer/", views.transfer, name="transfer"),
    path("settings/", views.account_settings, name="account_settings"),
    path("accounts/login/", OtpLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("account/2fa/", include("otpgate.integrations.django.urls")),
    path("admin/", admin.site.urls),
]
