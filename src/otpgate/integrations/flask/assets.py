"""The recovery codes page's first-party script, served from the site's origin (no CDN)."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

from otpgate.web_assets import recovery_script


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/recovery.js", "recovery_js", recovery_js, methods=["GET"])


def recovery_js() -> Response:
    """``otpgate-recovery.js``: the Copy and Print buttons of the recovery codes page."""
    response = Response(recovery_script(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
