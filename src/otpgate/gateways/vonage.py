"""Vonage (Nexmo) SMS API, and its delivery receipts.

A message is ``POST https://rest.nexmo.com/sms/json`` (form-encoded) with ``api_key``,
``api_secret``, ``from``, ``to`` (E.164 without ``+``), ``text``, ``type=unicode`` for UCS-2
texts, ``callback`` and ``client-ref``. The answer is JSON: one entry per segment in
``messages``, each with ``status`` ("0" is success) and ``message-id``.

Delivery receipts go to ``callback_url`` with ``ref`` and a keyed ``token`` added to it;
hand the callback's parameters (its query merged with a form or JSON body) to
:meth:`VonageGateway.receipt`::

    receipt = vonage.receipt({**request.GET.dict(), **request.POST.dict()})
    if receipt:
        gate.delivery_report(*receipt)
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from otpgate.core.errors import ConfigurationError

from .base import (
    GatewayError,
    HttpReply,
    HttpRequest,
    Receipt,
    check_url,
    encoding_of,
    first,
    http_failure,
    require,
    safe_reference,
    signed_callback,
    verified_reference,
)
from .transport import AsyncHttpSender, HttpSender

#: Statuses that refuse the number or the message itself (invalid parameters, invalid
#: message, number barred, message too long): another gateway would not do better.
FINAL_ERRORS = frozenset({"3", "6", "7", "12"})
_STATUSES = {
    "delivered": "delivered",
    "expired": "undelivered",
    "failed": "failed",
    "rejected": "failed",
}


class VonageGateway:
    """Request building and reply parsing for the Vonage SMS API (no I/O).

    ``sender`` is the ``from`` (a number, or up to 11 letters and digits). With
    ``callback_url`` set, receipts are signed with ``callback_secret``.
    """

    name = "vonage"

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        sender: str,
        *,
        callback_url: str | None = None,
        callback_secret: str | None = None,
        base_url: str = "https://rest.nexmo.com",
    ) -> None:
        self.api_key = require(api_key, "vonage api_key")
        self._secret = require(api_secret, "vonage api_secret")
        self.sender = require(sender, "vonage sender")
        self.callback_url = check_url(callback_url, "vonage callback_url") if callback_url else None
        if self.callback_url and (not callback_secret or len(callback_secret) < 16):
            raise ConfigurationError(
                "vonage callback_secret", "a secret of at least 16 characters signs callback_url"
            )
        self._callback_secret = callback_secret or ""
        self.url = check_url(base_url, "vonage base_url").rstrip("/") + "/sms/json"

    def build_request(self, to: str, text: str, reference: str) -> HttpRequest:
        """The form POST to ``/sms/json``."""
        form = {
            "api_key": self.api_key,
            "api_secret": self._secret,
            "from": self.sender,
            "to": to.lstrip("+"),
            "text": text,
        }
        if encoding_of(text) == "UCS-2":
            form["type"] = "unicode"
        reference = safe_reference(self.name, reference)
        if reference:
            form["client-ref"] = reference
            if self.callback_url:
                form["callback"] = signed_callback(
                    self.callback_url, self._callback_secret, self.name, reference
                )
        return HttpRequest("POST", self.url, form=form)

    def parse_reply(self, reply: HttpReply) -> str:
        """The first segment's ``message-id`` when every segment has status ``0``."""
        if not 200 <= reply.status < 300:
            raise http_failure(self.name, reply)
        try:
            body = json.loads(reply.body)
            messages = [m for m in body["messages"] if isinstance(m, dict)]
        except (ValueError, KeyError, TypeError):
            raise GatewayError(self.name, "unreadable answer", retryable=True) from None
        for message in messages:
            status = str(message.get("status", ""))
            if status != "0":
                raise GatewayError(
                    self.name, f"status {status}", retryable=status not in FINAL_ERRORS
                )
        if not messages or not isinstance(messages[0].get("message-id"), str):
            raise GatewayError(self.name, "no message-id", retryable=True)
        return str(messages[0]["message-id"])

    def receipt(self, params: Mapping[str, str]) -> Receipt | None:
        """The receipt in a callback (see :func:`vonage_receipt`)."""
        if not self._callback_secret:
            raise ConfigurationError("vonage callback_secret", "no callback_url was configured")
        return vonage_receipt(params, self._callback_secret)

    def __repr__(self) -> str:
        return f"VonageGateway(api_key={self.api_key!r})"


def vonage_status(status: str) -> str | None:
    """A Vonage receipt ``status`` as ours; None for accepted, buffered and unknown."""
    return _STATUSES.get(status.strip().lower())


def vonage_receipt(params: Mapping[str, str], secret: str) -> Receipt | None:
    """Verify a delivery receipt's token and read ``(challenge_id, status)`` from it.

    Raises :class:`~otpgate.gateways.base.InvalidCallback` for a missing or wrong token.
    """
    reference = verified_reference(params, secret, "vonage")
    status = vonage_status(first(params, "status"))
    return Receipt(reference, status) if status else None


class VonageSender(HttpSender[VonageGateway]):
    """Sends through Vonage with ``httpx.Client``: ``VonageSender(VonageGateway(...))``."""


class AsyncVonageSender(AsyncHttpSender[VonageGateway]):
    """Sends through Vonage with ``httpx.AsyncClient``."""
