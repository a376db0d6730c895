"""Twilio Programmable Messaging, and its signed status callbacks.

A message is ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form-encoded, basic
auth with the Account SID and Auth Token, or an API key and its secret) with ``To``,
``Body``, ``From`` or ``MessagingServiceSid``, and ``StatusCallback``.

Status callbacks arrive signed (``X-Twilio-Signature``: HMAC-SHA1 of the full URL followed by
the sorted POST parameters, base64, keyed with the Auth Token). Hand them to
:meth:`TwilioGateway.receipt` with the URL exactly as Twilio requested it::

    receipt = twilio.receipt(request.url, request.form, request.headers["X-Twilio-Signature"])
    if receipt:
        gate.delivery_report(*receipt)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import TypeAlias
from urllib.parse import parse_qs, urlsplit, urlunsplit

from otpgate.core.errors import ConfigurationError

from .base import (
    GatewayError,
    HttpReply,
    HttpRequest,
    InvalidCallback,
    Receipt,
    add_query,
    check_url,
    first,
    http_failure,
    require,
    safe_reference,
)
from .transport import AsyncHttpSender, HttpSender

#: Twilio error codes that are this account's problem, not the number's: another gateway
#: may deliver (permissions for the country, the From number, queue or rate limits).
ACCOUNT_ERRORS = frozenset(
    {20003, 20429, 21212, 21408, 21603, 21606, 21611, 21612, 21659, 21704, 30002}
)
_STATUSES = {
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}
_ALGORITHMS = {"HMAC_SHA1": hashlib.sha1, "HMAC_SHA256": hashlib.sha256}

#: Callback parameters: one value per name, or several (``parse_qs``, multi-dicts' lists).
Params: TypeAlias = "Mapping[str, str] | Mapping[str, Sequence[str]]"


class TwilioGateway:
    """Request building and reply parsing for Twilio (no I/O).

    Give ``sender`` (a Twilio number or alphanumeric id) or ``messaging_service_sid``.
    ``status_callback`` is the URL where the application receives status callbacks; each
    message's challenge id is added to it as ``ref``. ``api_key`` (SID, secret) replaces
    the Auth Token for sending; callbacks are still signed with the Auth Token.
    """

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        sender: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
        api_key: tuple[str, str] | None = None,
        base_url: str = "https://api.twilio.com",
    ) -> None:
        self.account_sid = require(account_sid, "twilio account_sid")
        self._token = require(auth_token, "twilio auth_token")
        if (sender is None) == (messaging_service_sid is None):
            raise ConfigurationError("twilio sender", "give sender or messaging_service_sid")
        self.sender = sender
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = (
            check_url(status_callback, "twilio status_callback") if status_callback else None
        )
        self._auth = api_key or (self.account_sid, self._token)
        base = check_url(base_url, "twilio base_url").rstrip("/")
        self.url = f"{base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def build_request(self, to: str, text: str, reference: str) -> HttpRequest:
        """The form POST that creates a Message."""
        form = {"To": to, "Body": text}
        if self.messaging_service_sid:
            form["MessagingServiceSid"] = self.messaging_service_sid
        else:
            form["From"] = str(self.sender)
        reference = safe_reference(self.name, reference)
        if self.status_callback:
            params = {"ref": reference} if reference else {}
            form["StatusCallback"] = add_query(self.status_callback, params)
        return HttpRequest("POST", self.url, form=form, auth=self._auth)

    def parse_reply(self, reply: HttpReply) -> str:
        """A created Message's ``sid``, or the error with Twilio's numeric code."""
        try:
            body = json.loads(reply.body)
        except ValueError:
            body = None
        payload = body if isinstance(body, dict) else {}
        if 200 <= reply.status < 300 and isinstance(payload.get("sid"), str):
            return str(payload["sid"])
        if 200 <= reply.status < 300:
            raise GatewayError(self.name, f"no sid (HTTP {reply.status})", retryable=True)
        code = payload.get("code")
        error = http_failure(self.name, reply, code if isinstance(code, int) else None)
        if code in ACCOUNT_ERRORS:
            error.retryable = True
        raise error

    def receipt(self, url: str, params: Params, signature: str) -> Receipt | None:
        """The receipt in a signed status callback (see :func:`twilio_receipt`)."""
        return twilio_receipt(url, params, signature, self._token)

    def __repr__(self) -> str:
        return f"TwilioGateway(account_sid={self.account_sid!r})"


def _values(params: Params, name: str) -> list[str]:
    value = params[name]
    return [value] if isinstance(value, str) else [str(v) for v in value]


def twilio_signature(
    url: str, params: Params, auth_token: str, *, algorithm: str = "HMAC_SHA1"
) -> str:
    """The ``X-Twilio-Signature`` Twilio computes for a request to ``url`` with ``params``."""
    digest = _ALGORITHMS.get(algorithm.upper())
    if digest is None:
        raise ValueError(f"unsupported signature algorithm {algorithm!r}")
    payload = url + "".join(
        name + value for name in sorted(set(params)) for value in sorted(set(_values(params, name)))
    )
    mac = hmac.new(auth_token.encode(), payload.encode("utf-8"), digest)
    return base64.b64encode(mac.digest()).decode()


def _with_and_without_port(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.username:
        userinfo = parts.username + (f":{parts.password}" if parts.password else "")
        host = f"{userinfo}@{host}"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return (
        urlunsplit(parts._replace(netloc=f"{host}:{port}")),
        urlunsplit(parts._replace(netloc=host)),
    )


def validate_twilio_signature(
    url: str, params: Params, signature: str, auth_token: str, *, algorithm: str = "HMAC_SHA1"
) -> bool:
    """Whether ``signature`` is Twilio's for this request. As Twilio's own validator does,
    the URL is tried with and without its port; comparison is in constant time."""
    if not signature or algorithm.upper() not in _ALGORITHMS:
        return False
    given = signature.encode()
    return any(
        hmac.compare_digest(
            twilio_signature(u, params, auth_token, algorithm=algorithm).encode(), given
        )
        for u in _with_and_without_port(url)
    )


def twilio_status(message_status: str) -> str | None:
    """Twilio's ``MessageStatus`` as a receipt status; None while it is not final."""
    return _STATUSES.get(message_status.strip().lower())


def twilio_receipt(url: str, params: Params, signature: str, auth_token: str) -> Receipt | None:
    """Verify a status callback and read ``(challenge_id, status)`` from it.

    Raises :class:`InvalidCallback` when the signature does not verify; returns None for
    statuses that are not final (queued, sending, sent…) or callbacks without ``ref``.
    """
    if not validate_twilio_signature(url, params, signature, auth_token):
        raise InvalidCallback()
    reference = first(parse_qs(urlsplit(url).query), "ref")
    flat = {name: _values(params, name)[0] for name in params if _values(params, name)}
    status = twilio_status(first(flat, "MessageStatus", "SmsStatus"))
    return Receipt(reference, status) if reference and status else None


class TwilioSender(HttpSender[TwilioGateway]):
    """Sends through Twilio with ``httpx.Client``: ``TwilioSender(TwilioGateway(...))``."""


class AsyncTwilioSender(AsyncHttpSender[TwilioGateway]):
    """Sends through Twilio with ``httpx.AsyncClient``."""
