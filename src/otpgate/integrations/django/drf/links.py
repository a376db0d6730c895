"""Where a DRF client goes when a second factor is missing: the ``links`` of the answer,
like the FastAPI integration's (the endpoints of ``drf/urls.py``, if installed)."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from otpgate.core.errors import (
    EnrollmentRequired,
    FactorNotEnrolled,
    FreshOtpRequired,
    OtpgateError,
    OtpRequired,
)

_MISSING_FACTOR = (OtpRequired, FreshOtpRequired, EnrollmentRequired, FactorNotEnrolled)


def _path(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def step_up_links(error: OtpgateError) -> dict[str, str]:
    """``offer``, ``enroll``, ``start`` and ``verify`` for an error saying a second factor
    is missing, else ``{}``."""
    if not isinstance(error, _MISSING_FACTOR):
        return {}
    factors, start, verify = (_path(f"otpgate_drf:{n}") for n in ("factors", "start", "verify"))
    if factors is None or start is None or verify is None:
        return {}
    return {
        "offer": f"{factors}?purpose=action",
        "enroll": f"{factors}?purpose=enroll",
        "start": start,
        "verify": verify,
    }


def setup_url() -> str:
    """Where a user adds a factor: the endpoint listing what can be added, else otpgate's
    factors page, else ""."""
    factors = _path("otpgate_drf:factors")
    if factors is not None:
        return f"{factors}?purpose=enroll"
    return _path("otpgate:manage") or ""
