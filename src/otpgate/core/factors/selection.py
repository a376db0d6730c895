"""The pure decisions of the factor model: which factor a subject prefers, which factors are
offered for a purpose and in what order, and whether a factor may be used. No I/O: each
takes the subject's :class:`~otpgate.core.credentials.Factors` snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..challenge import PURPOSES
from ..errors import (
    FactorNotAllowed,
    FactorNotEnrolled,
    FactorNotPreferable,
    FactorSetupRequired,
    FreshOtpRequired,
    MalformedInput,
)
from .base import FactorOption, available

if TYPE_CHECKING:
    from ..credentials import Factors
    from ..settings import Settings
    from .base import Factor
    from .registry import FactorRegistry


def check_purpose(purpose: object) -> str:
    """``purpose`` if it is one of ``PURPOSES``, else MalformedInput."""
    if not isinstance(purpose, str) or purpose not in PURPOSES:
        raise MalformedInput(f"The purpose must be one of {sorted(PURPOSES)}.")
    return purpose


def has_factor(registry: FactorRegistry, factors: Factors) -> bool:
    """True if the subject has any registered factor (built-in or not): the one answer to
    "has this user a second factor?" (sign-in, enforcement, step-up, management)."""
    return any(factor.enrolled(factors) for factor in registry)


def setup_required(options: list[FactorOption]) -> FactorSetupRequired | None:
    """The error for a step whose offer is empty (no factor can serve its purpose: the
    subject must add one first), else None."""
    return FactorSetupRequired() if not options else None


def usable(registry: FactorRegistry, gate: object) -> FactorRegistry:
    """``registry`` without the factors ``gate`` cannot serve (a factor's optional
    ``available(gate)``: ``voice`` needs a voice sender); ``registry`` itself if it has none."""
    missing = [
        factor.name
        for factor in registry
        if (check := getattr(factor, "available", None)) is not None and not check(gate)
    ]
    return registry.without(missing) if missing else registry


def alternative_to(factor: Factor) -> str:
    """The factor whose step ``factor`` is offered from ("" if it stands on its own)."""
    value = getattr(factor, "alternative_to", "")
    return value if isinstance(value, str) else ""


def preferable(factor: Factor) -> bool:
    """True if the subject may choose ``factor`` as the one a step opens on: its optional
    ``preferable`` (default True; ``recovery``, a single-use fallback, says False), and it
    is not offered only as another's alternative (``voice``)."""
    return getattr(factor, "preferable", True) is not False and not alternative_to(factor)


def preferable_options(options: Iterable[FactorOption]) -> list[FactorOption]:
    """What a "preferred factor" menu lists: the ``options`` (``gate.offer``'s) that may be
    chosen, in their order."""
    return [option for option in options if option.preferable]


def preferred(registry: FactorRegistry, factors: Factors, stored: str | None) -> Factor | None:
    """The subject's preferred factor: the stored choice while the subject still has it and
    it is :func:`preferable`, else the strongest preferable factor they have (an app before
    SMS); a subject with none but factors that may not be preferred (recovery codes alone)
    opens on the strongest of those; else None. A factor offered only as another's
    alternative (``voice``) is never the one a step opens on."""
    enrolled = [
        factor for factor in registry if factor.enrolled(factors) and not alternative_to(factor)
    ]
    choices = [factor for factor in enrolled if preferable(factor)]
    for factor in choices:
        if factor.name == stored:
            return factor
    fallback = choices or enrolled
    return fallback[0] if fallback else None


def serves(factor: Factor, purpose: str, settings: Settings | None = None) -> bool:
    """True if ``factor`` may serve ``purpose``: it declares it, and for a transaction the
    site's policy lets it confirm one (``settings.transaction_factors``); a factor the site
    has not configured (passkeys without a relying party) serves nothing."""
    if purpose not in factor.purposes or not available(factor, settings):
        return False
    allowed = settings.transaction_factors if settings is not None else None
    return purpose != "transaction" or allowed is None or factor.name in allowed


def offered(
    registry: FactorRegistry,
    factors: Factors,
    purpose: str,
    stored: str | None,
    settings: Settings | None = None,
) -> list[Factor]:
    """The factors the subject may use for ``purpose``, the preferred one first, then the
    strongest. For ``enroll`` (proving a factor being added) the subject need not have it."""
    usable = [
        factor
        for factor in registry
        if serves(factor, purpose, settings) and (purpose == "enroll" or factor.enrolled(factors))
    ]
    first = preferred(registry, factors, stored)
    return sorted(usable, key=lambda factor: factor is not first)  # stable: rank order stays


def options(
    registry: FactorRegistry,
    factors: Factors,
    purpose: str,
    stored: str | None,
    settings: Settings,
) -> list[FactorOption]:
    """:func:`offered`, each with what a page or an API needs to render it."""
    first = preferred(registry, factors, stored)
    return [
        FactorOption(
            name=factor.name,
            sends=factor.sends,
            destination=factor.destination(factors) if purpose != "enroll" else "",
            input=factor.input_spec(settings),
            binds_details=factor.binds_details,
            preferred=factor is first,
            alternative_to=alternative_to(factor),
            preferable=preferable(factor),
        )
        for factor in offered(registry, factors, purpose, stored, settings)
    ]


def choose(
    registry: FactorRegistry,
    name: object,
    purpose: str,
    factors: Factors,
    settings: Settings | None = None,
) -> Factor:
    """The factor called ``name`` if the subject may use it for ``purpose``: UnknownFactor,
    FactorNotAllowed (it never serves this purpose, or the policy says no) or
    FactorNotEnrolled otherwise."""
    factor = registry.get(name)
    if not serves(factor, purpose, settings):
        raise FactorNotAllowed()
    if purpose != "enroll" and not factor.enrolled(factors):
        raise FactorNotEnrolled()
    return factor


def preference(registry: FactorRegistry, name: object, factors: Factors) -> str | None:
    """What to store as the subject's preference: ``name`` if that factor is
    :func:`preferable` and they have it (None clears the choice); UnknownFactor,
    FactorNotPreferable or FactorNotEnrolled otherwise."""
    if name is None:
        return None
    factor = registry.get(name)
    if not preferable(factor):
        raise FactorNotPreferable()
    if not factor.enrolled(factors):
        raise FactorNotEnrolled()
    return factor.name


def change_refusal(
    factors: Factors,
    may_change_factors: bool,
    settings: Settings,
    registry: FactorRegistry | None = None,
) -> FreshOtpRequired | None:
    """The error for proving a factor being added when the caller's session may not change
    factors, unless the subject has none yet (the rule ``check`` applies to SMS numbers);
    with ``registry``, a factor of any registered kind counts (:func:`has_factor`)."""
    has_any = has_factor(registry, factors) if registry is not None else factors.any
    if may_change_factors or not has_any:
        return None
    return FreshOtpRequired(max_age=settings.step_up_max_age)
