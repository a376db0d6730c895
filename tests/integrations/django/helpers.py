"""Helpers for the Django tests."""

from __future__ import annotations

import re
from typing import Any

import pyotp

#: The one-time token of the "make new recovery codes" form (core.form_once).
ONCE = re.compile(r'name="once" value="([^"]+)"')


def totp_now(secret: str, at: float) -> str:
    """The authenticator app's code for ``secret`` at time ``at``."""
    return pyotp.TOTP(secret).at(int(at))


def recovery_form(client: Any) -> dict[str, str]:
    """The "make new recovery codes" form as the page renders it, with its one-time token."""
    page = client.get("/2fa/recovery/").content.decode()
    return {"action": "generate", "once": ONCE.search(page)[1]}
