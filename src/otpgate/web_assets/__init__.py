"""First-party browser scripts shipped in the wheel, for every integration to serve from the
site's own origin (no CDN): ``otpgate-webauthn.js`` asks the browser for a passkey;
``otpgate-recovery.js`` runs the recovery codes page's Copy and Print buttons."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

#: The passkey script's file name (serve it under this name).
WEBAUTHN_SCRIPT = "otpgate-webauthn.js"
#: The recovery codes page's script (Copy, Print).
RECOVERY_SCRIPT = "otpgate-recovery.js"


@lru_cache(maxsize=4)
def asset(name: str) -> str:
    """The text of the shipped asset ``name`` (FileNotFoundError for any other name)."""
    if name not in (WEBAUTHN_SCRIPT, RECOVERY_SCRIPT):
        raise FileNotFoundError(name)
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


def webauthn_script() -> str:
    """The text of ``otpgate-webauthn.js``."""
    return asset(WEBAUTHN_SCRIPT)


def recovery_script() -> str:
    """The text of ``otpgate-recovery.js``."""
    return asset(RECOVERY_SCRIPT)
