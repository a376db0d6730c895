"""otpgate for Flask: a second factor at login and step-up for sensitive actions.

::

    gate = OtpGate(app)                  # or gate = OtpGate(); gate.init_app(app)

    @app.post("/login")
    def login():
        user = check_password(...)
        return gate.begin_login(user, next_url=request.args.get("next"))

    @app.route("/settings/delete", methods=["GET", "POST"])
    @fresh_otp(max_age=300)
    def delete_account(): ...

Needs Flask 3 (``pip install "otpgate[flask]"``); uses Flask-Login when it is installed.
"""

from __future__ import annotations

try:
    import flask as _flask  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        'otpgate.integrations.flask needs Flask: pip install "otpgate[flask]"'
    ) from error

from otpgate.core.errors import (
    ConfirmationRequired,
    CsrfFailed,
    FreshOtpRequired,
    LoginRequired,
    OtpRequired,
)

from .decorators import fresh_otp, otp_required
from .executions import record_outcome, transaction_state
from .extension import GateState, OtpGate, gate_state
from .signals import SIGNALS, second_factor_passed
from .transaction import confirm_transaction
from .users import CallbackUsers, FlaskLoginUsers, NoUserToSignIn, UserHooks
from .web import check_csrf, csrf_token

__all__ = [
    "SIGNALS",
    "CallbackUsers",
    "ConfirmationRequired",
    "CsrfFailed",
    "FlaskLoginUsers",
    "FreshOtpRequired",
    "GateState",
    "LoginRequired",
    "NoUserToSignIn",
    "OtpGate",
    "OtpRequired",
    "UserHooks",
    "check_csrf",
    "confirm_transaction",
    "csrf_token",
    "fresh_otp",
    "gate_state",
    "otp_required",
    "record_outcome",
    "second_factor_passed",
    "transaction_state",
]
