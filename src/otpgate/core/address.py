"""Email addresses as a destination of codes: validated, normalised, masked.

An address is validated and normalised with ``email-validator`` (the ``otpgate[email]``
extra), never with a DNS look-up: the domain is lower-cased and in its IDNA (ASCII) form when
that is how it can be sent to, the local part kept as typed (it may be case-sensitive).
Quoted local parts and domain literals are refused, so a normalised address never holds a
space. :func:`mask_email` shows it as ``a••••@example.com``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigurationError, EmailRejected

_MAX_LENGTH = 254
_DOTS = "••••"


@dataclass(frozen=True)
class EmailAddress:
    """A validated address: ``address`` as codes are sent to it, ``masked`` to show."""

    address: str
    masked: str


def is_email(destination: str) -> bool:
    """True if ``destination`` (a normalised phone number or address) is an email address."""
    return "@" in destination


def mask_email(address: str) -> str:
    """``alice@example.com`` → ``a••••@example.com``: the first character and the domain."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}{_DOTS}@{domain}"


def parse_email(text: object) -> EmailAddress:
    """The normalised form of ``text``; EmailRejected if it is not a deliverable-looking
    address (syntax only: no DNS), ConfigurationError without ``email-validator``."""
    if not isinstance(text, str) or not text.strip() or len(text) > _MAX_LENGTH:
        raise EmailRejected()
    try:
        import email_validator
    except ImportError:  # pragma: no cover - the extra is installed wherever email is used
        raise ConfigurationError(
            "email", "email codes need email-validator: pip install 'otpgate[email]'"
        ) from None
    try:
        valid = email_validator.validate_email(
            text.strip(),
            check_deliverability=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            globally_deliverable=True,
        )
    except email_validator.EmailNotValidError:
        raise EmailRejected() from None
    domain = (valid.ascii_domain or valid.domain).lower()
    address = f"{valid.local_part}@{domain}"
    if " " in address or len(address) > _MAX_LENGTH:
        raise EmailRejected()
    return EmailAddress(address, mask_email(address))
