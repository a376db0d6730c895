"""Where ``otpgate check`` reads a configuration: ``OTPGATE_*`` environment variables, a
Django settings module, any Python module with ``OTPGATE_*`` names (a Flask config file), or
a Flask app (``--app module:app``, or ``module:create_app``: the factory is called).
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from otpgate.core import wiring
from otpgate.core.settings import INTEGRATION_KEYS

ENVIRONMENT = "env"


@dataclass
class Config:
    """One configuration to diagnose."""

    origin: str
    values: dict[str, Any]
    django: bool = False
    problems: list[str] = field(default_factory=list)
    #: The store's class when the app was given one in code (Flask ``OtpGate(store=...)``).
    store_in_code: str | None = None
    #: The sender the app was given in code, if any.
    sender_in_code: Any = None

    @property
    def core_values(self) -> dict[str, Any]:
        return {k: v for k, v in self.values.items() if k not in INTEGRATION_KEYS}

    def wiring(self) -> tuple[wiring.Wiring, list[str]]:
        """The store, sender and database named (ConfigurationError if invalid), and the
        deprecation messages of old names."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DeprecationWarning)
            parts = wiring.read(self.values)
        return parts, [str(w.message) for w in caught if w.category is DeprecationWarning]


def _importable_from_here() -> None:
    """Modules in the working directory import, as ``flask`` and ``manage.py`` let them
    (a console script's ``sys.path`` starts at its own folder, not the working directory)."""
    here = os.getcwd()
    if here not in sys.path and "" not in sys.path:
        sys.path.insert(0, here)


def from_environment(environ: dict[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    values = {k: v for k, v in env.items() if k.startswith("OTPGATE_")}
    return Config("the environment (OTPGATE_* variables)", values)


def from_module(name: str) -> Config:
    """A Django settings module (set up as Django would), or a plain module's ``OTPGATE_*``
    names. An import failure is reported, not raised."""
    _importable_from_here()
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
    return config


def from_app(target: str) -> Config:
    """A Flask app: ``module:app`` (an app object) or ``module:create_app`` (a factory called
    without arguments); ``module`` alone looks for ``app``, then ``create_app``.

    The module is imported and the factory called with ``OtpGate.init_app`` only recording
    the app and what it was given in code, so that nothing is built (no database file, no
    connection) and invalid settings are all reported rather than the first one raised.
    Failures are reported, not raised.
    """
    config = Config(f"Flask app {target}", {})
    module_name, _, attribute = target.partition(":")
    names = [attribute] if attribute else ["app", "create_app"]
    seen: list[tuple[Any, dict[str, Any]]] = []
    _importable_from_here()
    try:
        with _recording_init_app(seen):
            module = importlib.import_module(module_name)
            found: Any = next((getattr(module, n) for n in names if hasattr(module, n)), None)
            app: Any = found() if callable(found) and not hasattr(found, "config") else found
    except Exception as error:  # anything an app module or factory raises
        config.problems.append(f"{target}: {type(error).__name__}: {error}")
        return config
    if found is None:
        config.problems.append(f"{module_name!r} has no {' or '.join(map(repr, names))}")
        return config
    if not hasattr(app, "config"):
        config.problems.append(f"{target} is not a Flask app, nor a factory that returns one")
        return config
    config.values = {k: v for k, v in app.config.items() if k.startswith("OTPGATE_")}
    given = next((kwargs for seen_app, kwargs in seen if seen_app is app), {})
    store = given.get("store")
    if store is not None and type(store).__name__ != "MemoryStore":
        config.store_in_code = type(store).__name__
    config.sender_in_code = given.get("sender")
    return config


@contextmanager
def _recording_init_app(seen: list[tuple[Any, dict[str, Any]]]) -> Iterator[None]:
    try:
        from otpgate.integrations.flask.extension import OtpGate
    except ImportError:  # not a Flask installation: the import of the app will say so
        yield
        return

    def record(self: OtpGate, app: Any, **given: Any) -> None:
        defaults = getattr(self, "_defaults", {})
        seen.append((app, {**defaults, **{k: v for k, v in given.items() if v is not None}}))

    original = OtpGate.init_app
    setattr(OtpGate, "init_app", record)  # noqa: B010 - restored below
    try:
        yield
    finally:
        setattr(OtpGate, "init_app", original)  # noqa: B010


def load(source: str) -> Config:
    """``env`` (the default) or a dotted module name."""
    return from_environment() if source == ENVIRONMENT else from_module(source)
