"""Who needs a second factor (``OTPGATE_REQUIRED``) and who has one, sync and async."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet

from .conf import Requirement
from .models import RecoveryCode, TotpDevice, VerifiedPhone


def _with_factor(subject: str) -> QuerySet[Any]:
    """The user ``subject`` if it has a phone, a confirmed app or an unused recovery code."""
    user = OuterRef("pk")
    found: QuerySet[Any] = (
        get_user_model()
        ._default_manager.filter(pk=subject)
        .filter(
            Exists(VerifiedPhone.objects.filter(user=user))
            | Exists(TotpDevice.objects.filter(user=user, confirmed=True))
            | Exists(RecoveryCode.objects.filter(user=user, used_at__isnull=True))
        )
    )
    return found


def has_factor(subject: str) -> bool:
    """True if the user can pass a second factor (one query)."""
    return _with_factor(subject).exists()


async def ahas_factor(subject: str) -> bool:
    return await _with_factor(subject).aexists()


def _groups(user: Any, names: tuple[str, ...]) -> QuerySet[Any]:
    groups: QuerySet[Any] = user.groups.filter(name__in=names)
    return groups


def is_required(user: Any, requirement: Requirement) -> bool:
    """True if ``OTPGATE_REQUIRED`` makes ``user`` set up a second factor."""
    if requirement.kind == "all":
        return True
    if requirement.kind == "staff":
        return bool(user.is_staff or user.is_superuser)
    if requirement.kind == "groups":
        return bool(
            getattr(user, "groups", None) is not None and _groups(user, requirement.groups).exists()
        )
    return False


async def ais_required(user: Any, requirement: Requirement) -> bool:
    if requirement.kind == "groups":
        if getattr(user, "groups", None) is None:
            return False
        return await _groups(user, requirement.groups).aexists()
    return is_required(user, requirement)
