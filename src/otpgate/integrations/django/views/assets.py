"""The recovery codes page's first-party script, served from the site's origin (no CDN)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from otpgate.web_assets import recovery_script


def recovery_js(request: HttpRequest) -> HttpResponse:
    """``otpgate-recovery.js``: the Copy and Print buttons of the recovery codes page."""
    response = HttpResponse(recovery_script(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
