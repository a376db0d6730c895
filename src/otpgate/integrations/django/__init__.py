"""otpgate for Django: a drop-in app adding a second factor to ``django.contrib.auth``.

    INSTALLED_APPS += ["otpgate.integrations.django"]
    MIDDLEWARE += ["otpgate.integrations.django.middleware.OtpgateMiddleware"]  # after auth
    urlpatterns += [path("account/2fa/", include("otpgate.integrations.django.urls"))]
    OTPGATE_SECRET_KEYS = ["..."]  # `otpgate keygen`

The names below are imported lazily, so listing the app in ``INSTALLED_APPS`` never imports
models before Django is ready.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

try:
    import django  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        'otpgate.integrations.django needs Django; install it with: pip install "otpgate[django]"'
    ) from error

if TYPE_CHECKING:
    from .decorators import OtpRequiredMixin, otp_required
    from .devices import forget_devices
    from .executions import record_outcome, transaction_state
    from .login import OtpLoginView, begin_second_step
    from .runtime import configure, get_async_verifier, get_verifier
    from .transaction import aconfirm_transaction, confirm_transaction

_EXPORTS = {
    "OtpLoginView": "login",
    "OtpRequiredMixin": "decorators",
    "aconfirm_transaction": "transaction",
    "begin_second_step": "login",
    "configure": "runtime",
    "confirm_transaction": "transaction",
    "forget_devices": "devices",
    "get_async_verifier": "runtime",
    "get_verifier": "runtime",
    "otp_required": "decorators",
    "record_outcome": "executions",
    "transaction_state": "executions",
}

__all__ = [
    "OtpLoginView",
    "OtpRequiredMixin",
    "aconfirm_transaction",
    "begin_second_step",
    "configure",
    "confirm_transaction",
    "forget_devices",
    "get_async_verifier",
    "get_verifier",
    "otp_required",
    "record_outcome",
    "transaction_state",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
