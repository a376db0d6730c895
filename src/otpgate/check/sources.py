"""Where ``otpgate check`` reads a configuration: ``OTPGATE_*`` environment variables, a
Django settings module, or any Python module with ``OTPGATE_*`` names (a Flask config file).
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from otpgate.core.errors import ConfigurationError
from otpgate.core.settings import INTEGRATION_KEYS

ENVIRONMENT = "env"


@dataclass
class Config:
    """One configuration to diagnose."""

    origin: str
    values: dict[str, Any]
    django: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def core_values(self) -> dict[str, Any]:
        return {k: v for k, v in self.values.items() if k not in INTEGRATION_KEYS}

    @property
    def store_url(self) -> str | None:
        """The Redis URL (``OTPGATE_STORE`` or ``OTPGATE_REDIS_URL``), or None for memory."""
        value = self.values.get("OTPGATE_STORE") or self.values.get("OTPGATE_REDIS_URL")
        if not value or value == "memory":
            return None
        return str(value)

    @property
    def store_key(self) -> str:
        return "OTPGATE_REDIS_URL" if self.values.get("OTPGATE_REDIS_URL") else "OTPGATE_STORE"

    def store_options(self) -> dict[str, Any]:
        """``OTPGATE_STORE_OPTIONS``: a dict, or JSON text in the environment."""
        raw = self.values.get("OTPGATE_STORE_OPTIONS") or {}
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise ConfigurationError(
                    "OTPGATE_STORE_OPTIONS", 'expected JSON such as {"cluster": true}'
                ) from None
        if not isinstance(raw, Mapping):
            raise ConfigurationError("OTPGATE_STORE_OPTIONS", "expected a mapping")
        return dict(raw)


def from_environment(environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    values = {k: v for k, v in env.items() if k.startswith("OTPGATE_")}
    return Config("the environment (OTPGATE_* variables)", values)


def from_module(name: str) -> Config:
    """A Django settings module (set up as Django would), or a plain module's ``OTPGATE_*``
    names. An import failure is reported, not raised."""
    try:
        module = importlib.import_module(name)
    except Exception as error:  # anything a settings module raises at import
        config = Config(f"module {name}", {})
        config.problems.append(f"cannot import {name!r}: {type(error).__name__}: {error}")
        return config
    if hasattr(module, "INSTALLED_APPS"):
        return _from_django(name)
    values = {k: getattr(module, k) for k in dir(module) if k.startswith("OTPGATE_")}
    return Config(f"module {name}", values)


def _from_django(name: str) -> Config:
    config = Config(f"Django settings {name}", {}, django=True)
    try:
        import django
        from django.conf import settings
    except ImportError:
        config.problems.append('this is a Django settings module: pip install "otpgate[django]"')
        return config
    os.environ["DJANGO_SETTINGS_MODULE"] = name
    try:
        django.setup()
    except Exception as error:
        config.problems.append(f"Django cannot start: {type(error).__name__}: {error}")
        return config
    config.values = {k: getattr(settings, k) for k in dir(settings) if k.startswith("OTPGATE_")}
    config.values.setdefault("OTPGATE_SENDER", "console")
    config.values.setdefault("OTPGATE_STORE", "memory")
    return config


def load(source: str) -> Config:
    """``env`` (the default) or a dotted module name."""
    return from_environment() if source == ENVIRONMENT else from_module(source)
