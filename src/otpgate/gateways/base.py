"""What every gateway shares, with no I/O: the request and reply shapes, typed errors, the
retry rules, signed callback URLs and safe logging.

A gateway (``KannelGateway``, ``TwilioGateway``, ``VonageGateway``) turns a text into an
:class:`HttpRequest` and a provider's :class:`HttpReply` into a message id or a
:class:`GatewayError`. ``HttpSender`` and ``AsyncHttpSender`` (in ``transport``) do the I/O,
so the sync and async senders decide exactly alike.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

from otpgate.core.errors import ConfigurationError, DeliveryFailed, OtpgateError
from otpgate.core.message import sms_info
from otpgate.core.phone import mask

logger = logging.getLogger("otpgate.gateways")

#: Seconds a network call may take (connect, each read and write) before it fails.
DEFAULT_TIMEOUT = 5.0

#: The statuses ``Verifier.delivery_report`` accepts.
RECEIPT_STATUSES = frozenset({"delivered", "failed", "undelivered"})

_REFERENCE = re.compile(r"[A-Za-z0-9._~-]{1,128}")


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP call to a provider. ``form`` is sent url-encoded, ``content`` as is."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] | None = None
    content: bytes | None = None
    auth: tuple[str, str] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class HttpReply:
    """A provider's answer."""

    status: int
    body: bytes = b""

    @property
    def text(self) -> str:
        """The body as text (UTF-8, undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")


class HttpGateway(Protocol):
    """Builds a provider's request and reads its reply; no I/O."""

    name: str

    def build_request(self, to: str, text: str, reference: str) -> HttpRequest:
        """The request that sends ``text`` to ``to`` (``reference``: the challenge id)."""
        ...

    def parse_reply(self, reply: HttpReply) -> str:
        """The provider's message id, or raise :class:`GatewayError`."""
        ...


class GatewayError(DeliveryFailed):
    """A gateway could not take the message.

    ``retryable``: another gateway (or a later try) may succeed: timeouts, connection
    errors, 5xx, throttling, and this account's own problems (credentials, credit, sender
    id). Not retryable: the provider refused the number or the message itself. ``detail``
    is for logs (HTTP status, the provider's error code); it never holds a phone number,
    the text or a code, and the message shown to users stays the generic one.
    """

    def __init__(self, gateway: str, detail: str, *, retryable: bool) -> None:
        self.gateway = gateway
        self.detail = detail
        super().__init__(None, retryable=retryable)

    def __repr__(self) -> str:
        return (
            f"GatewayError(gateway={self.gateway!r}, detail={self.detail!r}, "
            f"retryable={self.retryable!r})"
        )


class InvalidCallback(OtpgateError):
    """A delivery receipt whose signature or token does not verify: answer 403, ignore it."""

    code = "invalid_callback"
    http_status = 403
    default_message = "This callback could not be verified."


class Receipt(NamedTuple):
    """A delivery receipt for ``Verifier.delivery_report(challenge_id, status)``."""

    challenge_id: str
    status: str


def retryable_status(status: int) -> bool:
    """Whether an HTTP error status means another gateway may succeed.

    5xx, 408 and 429 are the provider's trouble; 401, 402 and 403 are this account's
    (credentials, credit, permissions). Other 4xx refuse the request itself.
    """
    return status >= 500 or status in {401, 402, 403, 408, 425, 429}


def http_failure(gateway: str, reply: HttpReply, vendor_code: object = None) -> GatewayError:
    """The error for a non-2xx reply (never quoting the provider's text, which may echo
    the number)."""
    detail = f"HTTP {reply.status}" + (f", error {vendor_code}" if vendor_code else "")
    return GatewayError(gateway, detail, retryable=retryable_status(reply.status))


def encoding_of(text: str) -> str:
    """``GSM-7`` or ``UCS-2``: how the text will travel."""
    return sms_info(text).encoding


def require(value: object, setting: str) -> str:
    """``value`` as non-empty text, or a ConfigurationError naming ``setting``."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(setting, "must be a non-empty string")
    return value


def check_url(url: str, setting: str) -> str:
    """An absolute http(s) URL, or a ConfigurationError naming ``setting``."""
    parts = urlsplit(require(url, setting))
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigurationError(setting, "expected an absolute http:// or https:// URL")
    return url


def safe_reference(gateway: str, reference: str) -> str:
    """The reference (a challenge id) if it can travel in a URL unescaped, else ''."""
    if not reference:
        return ""
    if _REFERENCE.fullmatch(reference):
        return reference
    logger.warning("%s: reference has unexpected characters; no receipt will match", gateway)
    return ""


# -- signed callback URLs --------------------------------------------------------------------


def callback_token(secret: str, gateway: str, reference: str) -> str:
    """A keyed token that proves a callback URL was made by this application."""
    mac = hmac.new(
        secret.encode(), f"otpgate-receipt\0{gateway}\0{reference}".encode(), hashlib.sha256
    )
    return base64.urlsafe_b64encode(mac.digest()[:18]).decode()


def add_query(url: str, params: Mapping[str, str], *, raw: str = "") -> str:
    """``url`` with ``params`` (url-encoded) and ``raw`` (appended verbatim) in its query."""
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(dict(params)), raw) if q)
    return urlunsplit(parts._replace(query=query))


def signed_callback(url: str, secret: str, gateway: str, reference: str, *, raw: str = "") -> str:
    """The callback URL for ``reference``, carrying the reference and its token."""
    params = {"ref": reference, "token": callback_token(secret, gateway, reference)}
    return add_query(url, params if reference else {}, raw=raw)


def verified_reference(params: Mapping[str, object], secret: str, gateway: str) -> str:
    """The ``ref`` of a callback whose ``token`` verifies; InvalidCallback otherwise."""
    reference, token = first(params, "ref"), first(params, "token")
    expected = callback_token(secret, gateway, reference)
    if not reference or not hmac.compare_digest(token.encode(), expected.encode()):
        raise InvalidCallback()
    return reference


# -- logging -----------------------------------------------------------------------------


def log_sent(gateway: str, to: str, message_id: str, text: str) -> None:
    """Log an accepted message: masked number, encoding and segments; never the text."""
    info = sms_info(text)
    logger.info(
        "%s accepted an SMS to %s (%s, %d segment(s)): %s",
        gateway,
        mask(to),
        info.encoding,
        info.segments,
        message_id,
    )


def log_failed(error: GatewayError, to: str) -> None:
    """Log a failed send with the masked number and the error's safe detail."""
    logger.warning(
        "%s could not send an SMS to %s: %s (%s)",
        error.gateway,
        mask(to),
        error.detail,
        "retryable" if error.retryable else "not retryable",
    )


def first(params: Mapping[str, object], *names: str) -> str:
    """The first present, non-empty parameter among ``names``, as text."""
    for name in names:
        value = params.get(name)
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        if value not in (None, ""):
            return str(value)
    return ""
