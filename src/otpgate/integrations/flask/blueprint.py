"""The blueprint: second step and factor management pages, each also answering JSON."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from otpgate.core.errors import (
    EnrollmentRequired,
    FreshOtpRequired,
    LoginRequired,
    MalformedInput,
    OtpgateError,
    OtpRequired,
)
from otpgate.core.web import safe_next

from . import (
    i18n,  # noqa: F401  (documents where the page strings come from)
    methods,
)
from .notices import notify
from .web import check_body, check_csrf, json_error, protect, render, state, wants_json


def make_blueprint(name: str) -> Blueprint:
    """A new blueprint (one per app, so apps never share view state)."""
    from . import (
        assets,
        devices,
        replay,
        views_factors,
        views_manage,
        views_passkeys,
        views_verify,
    )

    blueprint = Blueprint(name, __name__, template_folder="templates")
    blueprint.before_request(before_view)
    blueprint.after_request(after_view)
    blueprint.register_error_handler(OtpgateError, answer_error)
    blueprint.register_error_handler(RequestEntityTooLarge, answer_too_large)
    views_verify.register(blueprint)
    views_manage.register(blueprint)
    devices.register(blueprint)
    views_factors.register(blueprint)
    views_passkeys.register(blueprint)
    replay.register(blueprint)
    assets.register(blueprint)
    return blueprint


def before_view() -> None:
    """Before each of otpgate's views (one hook: each costs Flask a dispatch): a HEAD's
    session kept as it is (no side effect on it), a body otpgate cannot read refused, and the
    CSRF token checked (every method but GET, HEAD and OPTIONS)."""
    methods.remember_session()
    check_body()
    check_csrf()


def after_view(response: Response) -> Response:
    """After each of otpgate's views: framing protection on every answer, and a HEAD's
    session put back as it was."""
    return methods.restore_session(protect(response))


def answer_too_large(_error: RequestEntityTooLarge) -> Response:
    """A body werkzeug cut off (over otpgate's or the app's limit): MalformedInput."""
    return answer_error(MalformedInput("The request body is too large."))


def back_url() -> str:
    """Where to return after a detour: this page for GET, the referring page for a POST."""
    gate = state()
    if request.method in {"GET", "HEAD"}:
        return request.full_path.rstrip("?")
    home = url_for(gate.endpoint("manage")) if request.blueprint == gate.blueprint else "/"
    return safe_next(request.referrer, request.host, fallback=home)


def login_url() -> str:
    gate = state()
    view = gate.login_view or getattr(
        getattr(current_app, "login_manager", None), "login_view", None
    )
    target = url_for(view) if view else gate.home_url
    return f"{target}?next={_quote(back_url())}"


def _quote(url: str) -> str:
    from urllib.parse import quote

    return quote(url, safe="/")


def answer_error(error: OtpgateError) -> Response:
    """The answer to any otpgate error: problem JSON for API calls; for pages, a detour to
    sign-in, verification or set-up, or the error page."""
    gate = state()
    if wants_json():
        extra = {}
        if isinstance(error, (OtpRequired, FreshOtpRequired)):
            extra["verify_url"] = url_for(gate.endpoint("verify"))
        if isinstance(error, LoginRequired):
            extra["login_url"] = login_url()
        return json_error(error, **extra)
    if isinstance(error, LoginRequired):
        return redirect(login_url(), code=303)
    if isinstance(error, (OtpRequired, FreshOtpRequired)):
        return redirect(url_for(gate.endpoint("verify"), next=back_url()), code=303)
    if isinstance(error, EnrollmentRequired):
        notify(error.message, "otpgate-error")
        return redirect(url_for(gate.endpoint("manage")), code=303)
    return render("otpgate/message.html", error=error)
