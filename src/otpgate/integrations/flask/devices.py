"""Remembered devices in Flask: the cookie, the sign-in shortcut and the management views.

With ``OTPGATE_REMEMBER_DEVICE`` on, the second step shows "Don't ask again on this device
for N days". Ticked, a passed sign-in sets the ``otpgate_device`` cookie: the device token
(whose secret the server keeps only as a keyed digest), signed with the app's
``SECRET_KEY``, HttpOnly, Secure when the request is, SameSite=Lax, expiring with the device.
``OtpGate.begin_login`` then signs the user in without the second step while the device is
valid for them (sign-in only: step-up and transactions still ask). The management page
lists the devices; ``POST …/devices/revoke`` forgets one, ``…/devices/revoke-all`` all
(ticking the confirmation box). Call ``otpgate.forget_devices(user)`` when a user's password
changes or they sign out everywhere; factor changes void devices on their own.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, current_app, redirect, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from otpgate.core.devices import DeviceView
from otpgate.core.errors import MalformedInput, OtpgateError
from otpgate.core.i18n import N_
from otpgate.core.web import SecondFactorState

from .notices import notify
from .web import (
    client_ip,
    field,
    json_ok,
    now,
    rotate_session,
    save_state,
    state,
    text_field,
    translate,
    wants_json,
)

#: The cookie holding a remembered device's (signed) token.
COOKIE = "otpgate_device"
_SALT = "otpgate.device"


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/devices/revoke", "device_revoke", revoke, methods=["POST"])
    blueprint.add_url_rule("/devices/revoke-all", "devices_revoke", revoke_all, methods=["POST"])


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt=_SALT)


def cookie_token() -> str | None:
    """The device token of this request's cookie, if its signature holds."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 512:
        return None
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def enabled() -> bool:
    return bool(state().verifier.devices.enabled)


def wants_remembering(is_login: bool) -> bool:
    """The second step's box is ticked (only a sign-in's, only when the feature is on)."""
    return is_login and enabled() and field("remember_device") in ("1", "on", "true", True)


def remember(response: Response, subject: str) -> None:
    """Remember this device for ``subject`` and set its cookie on ``response``. A storage
    failure leaves the user signed in, just not remembered."""
    devices = state().verifier.devices
    with suppress(OtpgateError):
        token = devices.remember(
            subject, user_agent=request.user_agent.string, client_ip=client_ip()
        )
        response.set_cookie(
            COOKIE,
            _serializer().dumps(token),
            max_age=devices.days * 86400,
            httponly=True,
            secure=request.is_secure,
            samesite="Lax",
        )


def is_remembered(subject: str) -> bool:
    """Whether this device is remembered for ``subject`` at sign-in (a store or database
    error: not remembered, the second step asks as usual)."""
    if not enabled():
        return False
    try:
        return bool(state().verifier.devices.check(cookie_token(), subject, purpose="login"))
    except OtpgateError:
        return False


def sign_in_remembered(subject: str, remember_me: bool) -> bool:
    """Sign ``subject`` in without the second step if this device is remembered for them."""
    if not is_remembered(subject):
        return False
    rotate_session(keep_auth=False)
    state().users.log_in(subject, remember_me)
    _count_as_remembered(subject)
    return True


def resume_remembered(subject: str) -> bool:
    """A session signed in without otpgate's second step (Flask-Login's "remember me"
    cookie, or ``login_user`` called directly) on a device remembered for ``subject``: it
    counts as a remembered sign-in, as if the password step had just found the device."""
    if not is_remembered(subject):
        return False
    rotate_session(keep_auth=True)
    _count_as_remembered(subject)
    return True


def _count_as_remembered(subject: str) -> None:
    current = SecondFactorState()
    current.remembered(subject, now())
    save_state(current)


def forget(user_or_subject: object) -> int:
    """Void every remembered device of a user (password change, sign out everywhere)."""
    from .users import subject_of

    subject = user_or_subject if isinstance(user_or_subject, str) else subject_of(user_or_subject)
    return int(state().verifier.devices.revoke_all(subject, reason="credentials_changed"))


def _when(timestamp: float) -> dict[str, str]:
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return {"iso": moment.isoformat(), "text": moment.strftime("%Y-%m-%d %H:%M UTC")}


def rows(subject: str) -> list[dict[str, Any]]:
    """The subject's devices as the management page and its JSON show them."""
    if not enabled():
        return []
    found: list[DeviceView] = state().verifier.devices.list(subject)
    return [
        {
            "ref": d.ref,
            "label": d.label,
            "place": d.place,
            "first_seen": _when(d.created_at),
            "last_seen": _when(d.last_seen),
            "expires": _when(d.expires_at),
        }
        for d in found
    ]


def revoke() -> Response:
    from .views_manage import signed_in

    subject, _ = signed_in("view")
    state().verifier.devices.revoke(subject, text_field("device"))
    return _done(translate("The device will be asked for a code again."))


def revoke_all() -> Response:
    from .views_manage import signed_in

    subject, _ = signed_in("view")
    if field("confirm") not in ("1", "on", "true", True):
        raise MalformedInput(N_("Tick the box to confirm."))
    state().verifier.devices.revoke_all(subject)
    return _done(translate("Every device will be asked for a code again."))


def _done(message: str) -> Response:
    if wants_json():
        return json_ok({"status": "ok"})
    notify(message)
    return redirect(url_for(state().endpoint("manage")), code=303)
