"""otpgate's URLs; include them once, e.g. ``path("account/2fa/", include(...urls))``.

The namespace is ``otpgate``; the middleware lets every one of these through, and each view
checks for itself who may see it. Every one answers with framing protection
(``framing.frame_protected``).
"""

from __future__ import annotations

from django.urls import path

from .bodies import checked_body
from .framing import frame_protected
from .methods import answering
from .views import (
    api,
    api_enroll,
    assets,
    devices,
    factors,
    manage,
    passkeys,
    preferred,
    replay,
    verify,
)

app_name = "otpgate"

urlpatterns = [
    path("verify/", verify.verify, name="verify"),
    path("replay/", replay.replay, name="replay"),
    path("verify/cancel/", verify.cancel, name="verify_cancel"),
    path("", manage.manage, name="manage"),
    path("phone/add/", factors.add, {"factor": "sms"}, name="phone_add"),
    path("phone/verify/", factors.verify, {"factor": "sms"}, name="phone_verify"),
    path("phone/<int:pk>/remove/", factors.remove, {"factor": "sms"}, name="phone_remove"),
    path("email/add/", factors.add, {"factor": "email"}, name="email_add"),
    path("email/verify/", factors.verify, {"factor": "email"}, name="email_verify"),
    path("email/<int:pk>/remove/", factors.remove, {"factor": "email"}, name="email_remove"),
    path("app/", manage.totp_setup, name="totp_setup"),
    path("app/remove/", factors.remove, {"factor": "totp"}, name="totp_remove"),
    path("recovery/", manage.recovery, name="recovery"),
    path("recovery.js", assets.recovery_js, name="recovery_js"),
    path("passkey/add/", passkeys.passkey_add, name="passkey_add"),
    path(
        "passkey/<str:credential_id>/remove/",
        factors.remove,
        {"factor": "webauthn"},
        name="passkey_remove",
    ),
    path("passkey/<str:credential_id>/rename/", passkeys.passkey_rename, name="passkey_rename"),
    path("webauthn.js", passkeys.script, name="webauthn_js"),
    path("preferred/", preferred.preferred, name="preferred"),
    path("devices/forget/", devices.revoke, name="device_revoke"),
    path("devices/forget-all/", devices.revoke_all, name="devices_revoke"),
    path("api/status", api.status, name="api_status"),
    path("api/start", api.start, name="api_start"),
    path("api/resend", api.resend, name="api_resend"),
    path("api/check", api.check, name="api_check"),
    path("api/enroll", api_enroll.enroll, name="api_enroll"),
    path("api/preferred", preferred.api_preferred, name="api_preferred"),
]

#: The methods each URL answers (a page: GET and POST); OPTIONS and HEAD follow (methods.py).
PAGE = ("GET", "POST")
METHODS: dict[str, tuple[str, ...]] = {
    "replay": ("GET",),
    "recovery_js": ("GET",),
    "webauthn_js": ("GET",),
    "api_status": ("GET",),
    **dict.fromkeys(
        ("preferred", "device_revoke", "devices_revoke", "api_start", "api_resend"),
        ("POST",),
    ),
    **dict.fromkeys(("api_check", "api_enroll", "api_preferred"), ("POST",)),
}

# Every view first refuses a body it cannot read safely (400 malformed_input; see bodies.py),
# and no page of otpgate's may be framed unless the settings say so (the refusals included);
# OPTIONS answers Allow, HEAD runs a GET with no side effects (methods.py).
for _pattern in urlpatterns:
    _methods = METHODS.get(_pattern.name or "", PAGE)
    _pattern.callback = frame_protected(checked_body(answering(*_methods)(_pattern.callback)))
