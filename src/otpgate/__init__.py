"""otpgate: SMS one-time codes, authenticator apps and recovery codes as a second factor.

The public API is the framework-free core (``otpgate.core``), re-exported here; integrations
live in ``otpgate.integrations``.
"""

from __future__ import annotations

from otpgate.core import *  # noqa: F403  (the core's __all__ is the public API)
from otpgate.core import __all__ as _core_all

__version__ = "0.1.0.dev0"

__all__ = sorted(["__version__", *_core_all])
