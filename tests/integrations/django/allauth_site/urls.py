"""allauth's pages under /accounts/, otpgate's under /2fa/, and a home page for the signed in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.utils.html import format_html, format_html_join


@login_required
def home(request: HttpRequest) -> HttpResponse:
    notes = format_html_join("", "<li>{}</li>", ((str(m),) for m in messages.get_messages(request)))
    body = format_html(
        '<!DOCTYPE html><html lang="en"><title>Home</title><main><h1>Home of {}</h1>'
        "<ul>{}</ul></main></html>",
        request.user.get_username(),
        notes,
    )
    return HttpResponse(body)


urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("2fa/", include("otpgate.integrations.django.urls")),
    path("", home, name="home"),
]
