"""Finding the user a command is about."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def find_user(username: str) -> Any:
    """The user whose ``USERNAME_FIELD`` is ``username``; CommandError if there is none."""
    model = get_user_model()
    try:
        return model._default_manager.get_by_natural_key(username)
    except model.DoesNotExist:
        raise CommandError(f"No user {username!r}.") from None
