"""The factor model: one protocol, one registry, pure decisions.

Each second factor (``webauthn``, ``totp``, ``sms``, ``recovery``) is one object that declares what
it is and how to start and check it; ``gate.offer``, ``gate.start``, ``gate.verify`` and
``gate.preferred_factor`` serve every registered factor alike. See ``docs/factors.rst``.
"""

from __future__ import annotations

from .base import CheckRequest, Factor, FactorOption, InputSpec, PassiveStart, StartRequest
from .email import EmailFactor
from .recovery import RecoveryCodeFactor
from .registry import FactorRegistry, builtin_factors, register_factor, registry
from .setup import FactorSetup, SetupRequest
from .sms import SmsFactor
from .totp import AuthenticatorFactor
from .voice import VoiceFactor
from .webauthn import WebAuthnFactor

__all__ = [
    "AuthenticatorFactor",
    "CheckRequest",
    "EmailFactor",
    "Factor",
    "FactorOption",
    "FactorRegistry",
    "FactorSetup",
    "InputSpec",
    "PassiveStart",
    "RecoveryCodeFactor",
    "SetupRequest",
    "SmsFactor",
    "StartRequest",
    "VoiceFactor",
    "WebAuthnFactor",
    "builtin_factors",
    "register_factor",
    "registry",
]
