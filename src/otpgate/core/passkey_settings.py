"""The passkey (WebAuthn) settings, checked when ``Settings`` is built.

A relying-party id and its origins are configuration: a wrong origin would make every
passkey fail, so it is refused at start-up with a ConfigurationError naming the setting,
never discovered as a silent failure at sign-in. No WebAuthn library is imported here.
"""

from __future__ import annotations

import importlib.util
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .errors import ConfigurationError

if TYPE_CHECKING:
    from .settings import Settings

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
#: A relying-party id: a host name (``localhost`` included), no scheme, port or path.
_RP_ID = re.compile(rf"(?=.{{1,253}}$)(?:{_LABEL}\.)*{_LABEL}", re.ASCII)
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


def webauthn_configured(settings: Settings) -> bool:
    """True if passkeys are set up for this site (relying-party id and origins)."""
    return bool(settings.webauthn_rp_id and settings.webauthn_origins)


def rp_name(settings: Settings) -> str:
    """The name authenticators show for the site."""
    return settings.webauthn_rp_name or settings.brand


def _origin_problem(origin: str, rp_id: str) -> str | None:
    """Why ``origin`` cannot ask for passkeys of ``rp_id``, or None if it can."""
    parts = urlsplit(origin)
    try:
        port = parts.port
    except ValueError:
        return f"{origin!r} has a bad port"
    host = parts.hostname or ""
    if origin != f"{parts.scheme}://{parts.netloc}" or not host:
        return f"{origin!r} must be scheme://host[:port], with no path"
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in _LOCAL_HOSTS)
    if not secure:
        return f"{origin!r} must use https (http only for localhost)"
    if port is not None and not 0 < port < 65536:
        return f"{origin!r} has a bad port"
    if host != rp_id and not host.endswith(f".{rp_id}"):
        return f"the host of {origin!r} is neither {rp_id!r} nor one of its subdomains"
    return None


def validate_webauthn(s: Settings) -> None:
    """ConfigurationError naming the first passkey setting that is wrong."""
    origins, rp_id = s.webauthn_origins, s.webauthn_rp_id
    if not isinstance(origins, tuple) or not all(isinstance(o, str) for o in origins):
        raise ConfigurationError("webauthn_origins", "expected a tuple of origins")
    if s.webauthn_rp_name is not None and not (0 < len(s.webauthn_rp_name.strip()) <= 64):
        raise ConfigurationError("webauthn_rp_name", "1 to 64 characters")
    if rp_id is None:
        if origins:
            raise ConfigurationError("webauthn_rp_id", "required when webauthn_origins is set")
        return
    if not isinstance(rp_id, str) or not _RP_ID.fullmatch(rp_id):
        raise ConfigurationError(
            "webauthn_rp_id", "must be a bare host name such as 'shop.example' (no scheme or port)"
        )
    if not origins:
        raise ConfigurationError(
            "webauthn_origins", "required with webauthn_rp_id, e.g. ('https://shop.example',)"
        )
    for origin in origins:
        problem = _origin_problem(origin, rp_id)
        if problem is not None:
            raise ConfigurationError("webauthn_origins", problem)
    if importlib.util.find_spec("webauthn") is None:
        raise ConfigurationError(
            "webauthn_rp_id", "passkeys need the webauthn package: pip install 'otpgate[webauthn]'"
        )
