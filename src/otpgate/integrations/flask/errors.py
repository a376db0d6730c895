"""Errors of the web layer, in the core's tree so ``error_response`` maps them like any other.

Each has a stable machine-readable ``.code`` for API clients (401 bodies say what to do next).
"""

from __future__ import annotations

from otpgate.core.errors import OtpgateError


class LoginRequired(OtpgateError):
    """No signed-in user (or the second step of a sign-in went stale)."""

    code = "login_required"
    http_status = 401
    default_message = "Sign in to continue."


class OtpRequired(OtpgateError):
    """This session has not passed a second factor yet."""

    code = "otp_required"
    http_status = 401
    default_message = "Confirm it's you with your second factor."


class FreshOtpRequired(OtpRequired):
    """A sensitive action: the last second factor of this session is too old (step-up)."""

    code = "fresh_otp_required"
    default_message = "Confirm it's you again to continue."


class EnrollmentRequired(OtpgateError):
    """The user has no second factor to pass; set one up first."""

    code = "enrollment_required"
    http_status = 403
    default_message = "Set up a second factor to continue."


class ConfirmationRequired(OtpgateError):
    """A transaction waits for the code sent for exactly its details."""

    code = "confirmation_required"
    http_status = 401
    default_message = "Enter the code we sent to confirm this transaction."


class CsrfFailed(OtpgateError):
    """The form or request lacked this session's CSRF token."""

    code = "csrf_failed"
    http_status = 403
    default_message = "This form has expired. Reload the page and try again."
