"""A hot route that reads what a dependency would give from the request itself, and steps
aside for a twin route depending on it where the app overrides that dependency: the app's
``dependency_overrides`` keep working, the usual request pays one FastAPI dependency less."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from fastapi import Request

if TYPE_CHECKING:
    from .gate import OtpGate


def reads_client_ip(gate: OtpGate) -> bool:
    """True if ``gate.client_ip`` is the default one (``request.client.host``): the hot
    ``POST /verify`` then reads it itself, and steps aside (:func:`step_aside`) for a twin
    route that depends on it where the app overrides it in ``dependency_overrides``."""
    from .gate import OtpGate  # the module imports this one

    return gate.client_ip is OtpGate._client_ip


def client_address(request: Request) -> str | None:
    """What the default ``gate.client_ip`` answers: the client's address, or None."""
    client = request.client
    return client.host if client else None


#: The attribute of a route's endpoint naming the dependency whose override in the app's
#: ``dependency_overrides`` makes the route not match (see :func:`step_aside`).
STEPS_ASIDE = "otpgate_steps_aside_for"


def step_aside(endpoint: Callable[..., Any], dependency: Callable[..., Any]) -> None:
    """Mark ``endpoint``'s route to step aside (not match, so the next route of its path
    and method answers) while the app overrides ``dependency``: the route reads what
    ``dependency`` gives itself, which an override would not change."""
    setattr(endpoint, STEPS_ASIDE, dependency)


def overridden(scope: Mapping[str, Any], dependency: Any, provider: Any = None) -> bool:
    """True if the app of ``scope`` (or ``provider``, the route's) overrides ``dependency``."""
    for owner in (scope.get("app"), provider):
        overrides = getattr(owner, "dependency_overrides", None)
        if overrides and dependency in overrides:
            return True
    return False
