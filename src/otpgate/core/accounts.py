"""The account name an authenticator app (and a passkey) shows beside the brand.

``OTPGATE_BRAND`` (``Settings.brand``) is the issuer, the part before the colon in
``Acme:alice@example.com``; the account label is the part after it. Every integration picks it
the same way: the user's email, else user name, else name, else the subject (the user id).
"""

from __future__ import annotations

from collections.abc import Iterable

#: The user attributes tried, in order, for the account label.
LABEL_ATTRIBUTES = ("email", "username", "name")


def first_text(values: Iterable[object]) -> str:
    """The first value that is a non-blank string, stripped ("" if none)."""
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def account_label(user: object, fallback: str) -> str:
    """``user``'s email, username or name (the first one set), else ``fallback``."""
    return first_text(getattr(user, name, None) for name in LABEL_ATTRIBUTES) or fallback
