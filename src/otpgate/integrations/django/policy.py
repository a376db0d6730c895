"""Who needs a second factor (``OTPGATE_REQUIRED``) and who has one, sync and async."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from otpgate.core.factors import selection

from . import runtime
from .conf import Requirement


def has_factor(subject: str) -> bool:
    """True if the user has a second factor: any factor registered in the core counts
    (the core's decision, ``selection.has_factor``), not only otpgate's own."""
    gate = runtime.get_verifier()
    return selection.has_factor(gate.registry, gate.factors(subject))


async def ahas_factor(subject: str) -> bool:
    gate = runtime.get_async_verifier()
    return selection.has_factor(gate.registry, await gate.factors(subject))


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
