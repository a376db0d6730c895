"""``FactorRegistry``: the factors a verifier offers, by name.

Every verifier uses :data:`registry` (the built-in ``sms``, ``voice``, ``totp`` and
``recovery``) unless given its own; :func:`register_factor` adds a factor to it, and from then on
``gate.offer``, ``gate.start`` and ``gate.verify`` serve it like the built-in ones.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator

from ..challenge import PURPOSES
from ..errors import ConfigurationError, UnknownFactor
from .base import Factor
from .email import EmailFactor
from .recovery import RecoveryCodeFactor
from .sms import SmsFactor
from .totp import AuthenticatorFactor
from .voice import VoiceFactor
from .webauthn import WebAuthnFactor

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}", re.ASCII)


class FactorRegistry:
    """Factors by name; iterating yields them strongest first (by ``rank``, then name)."""

    def __init__(self, factors: Iterable[Factor] = ()) -> None:
        self._factors: dict[str, Factor] = {}
        for factor in factors:
            self.register(factor)

    def register(self, factor: Factor, *, replace: bool = False) -> Factor:
        """Add ``factor``; ConfigurationError if its declaration is wrong or its name is
        taken (unless ``replace``). Returns it, so this works as a class decorator's body."""
        name = getattr(factor, "name", None)
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigurationError("factor", f"{name!r} is not a factor name ([a-z0-9_-])")
        if not isinstance(factor, Factor):
            raise ConfigurationError("factor", f"{name} does not implement the Factor protocol")
        if not isinstance(factor.rank, int) or not set(factor.purposes) <= PURPOSES:
            raise ConfigurationError("factor", f"{name}: an int rank and known purposes")
        if not isinstance(getattr(factor, "preferable", True), bool):
            raise ConfigurationError("factor", f"{name}: preferable is True or False")
        if name in self._factors and not replace:
            raise ConfigurationError("factor", f"{name} is registered already")
        self._factors[name] = factor
        return factor

    def unregister(self, name: str) -> Factor | None:
        """Remove the factor called ``name``; it, or None if there was none."""
        return self._factors.pop(name, None)

    def get(self, name: object) -> Factor:
        """The factor called ``name``; UnknownFactor if there is none."""
        factor = self._factors.get(name) if isinstance(name, str) else None
        if factor is None:
            raise UnknownFactor()
        return factor

    def names(self) -> tuple[str, ...]:
        return tuple(factor.name for factor in self)

    def without(self, names: Collection[str]) -> FactorRegistry:
        """A registry of the same factors but those called ``names`` (no validation again:
        a request may ask for it)."""
        kept = FactorRegistry()
        kept._factors = {name: f for name, f in self._factors.items() if name not in names}
        return kept

    def copy(self) -> FactorRegistry:
        """A registry with the same factors, to change without touching this one."""
        return FactorRegistry(self._factors.values())

    def __iter__(self) -> Iterator[Factor]:
        return iter(sorted(self._factors.values(), key=lambda f: (-f.rank, f.name)))

    def __contains__(self, name: object) -> bool:
        return name in self._factors

    def __len__(self) -> int:
        return len(self._factors)


def builtin_factors() -> FactorRegistry:
    """A new registry holding otpgate's own factors: ``webauthn`` (offered only where
    configured), ``totp``, ``sms``, ``voice`` (offered only by a verifier that can place
    calls), ``email`` (only by one with an email sender) and ``recovery``."""
    return FactorRegistry(
        [
            WebAuthnFactor(),
            AuthenticatorFactor(),
            SmsFactor(),
            VoiceFactor(),
            EmailFactor(),
            RecoveryCodeFactor(),
        ]
    )


#: The registry every verifier uses unless given another one.
registry = builtin_factors()


def register_factor(factor: Factor, *, replace: bool = False) -> Factor:
    """Add ``factor`` to the default :data:`registry` (see :meth:`FactorRegistry.register`)."""
    return registry.register(factor, replace=replace)
