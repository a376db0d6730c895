"""Helpers for the Django tests."""

from __future__ import annotations

import pyotp


def totp_now(secret: str, at: float) -> str:
    """The authenticator app's code for ``secret`` at time ``at``."""
    return pyotp.TOTP(secret).at(int(at))
