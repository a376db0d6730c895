"""The account name authenticator apps and passkeys show beside the brand (``OTPGATE_BRAND``).

Default, as in every integration (:mod:`otpgate.core.accounts`): the user's email (the
model's ``EMAIL_FIELD``), else the user name (``USERNAME_FIELD``), else the primary key.
``OTPGATE_ACCOUNT_LABEL`` names another function (a dotted path, or the function itself)
taking the user and returning the label.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings as django_settings
from django.utils.module_loading import import_string

from otpgate.core.accounts import first_text

SETTING = "OTPGATE_ACCOUNT_LABEL"


def default_label(user: Any) -> str:
    """The user's email, else user name, else primary key."""
    get_email_field = getattr(user, "get_email_field_name", None)
    email_field = get_email_field() if callable(get_email_field) else "email"
    get_username = getattr(user, "get_username", None)
    username = get_username() if callable(get_username) else getattr(user, "username", None)
    return first_text([getattr(user, email_field, None), username]) or str(user.pk)


def account_label(user: Any) -> str:
    """The label for ``user``: ``OTPGATE_ACCOUNT_LABEL``'s function, else :func:`default_label`."""
    chosen: Any = getattr(django_settings, SETTING, None)
    function: Callable[[Any], object] = (
        import_string(chosen) if isinstance(chosen, str) else chosen or default_label
    )
    return first_text([function(user)]) or default_label(user)
