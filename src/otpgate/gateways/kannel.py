"""Kannel: the ``cgi-bin/sendsms`` interface of an smsbox, and its delivery reports.

The text travels in a POST body (``text/plain; charset=UTF-8``) and the parameters in
``X-Kannel-*`` headers (username, password, from, to, coding, dlr-mask, dlr-url), so no
number, code or password ends up in a URL or an access log. UCS-2 texts are sent with
coding 2. Long texts are split by Kannel: give the sendsms-user ``max-messages`` ≥
``max_sms_segments`` and ``concatenation = true``.

Delivery reports: with ``dlr_url`` set, smsbox calls that URL with ``ref`` (the challenge id),
a keyed ``token`` and ``type`` (Kannel's ``%d``). Hand the query parameters to
:meth:`KannelGateway.receipt` and its answer to ``gate.delivery_report``::

    receipt = kannel.receipt(request.GET)   # InvalidCallback (403) if forged
    if receipt:
        gate.delivery_report(*receipt)
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from otpgate.core.errors import ConfigurationError

from .base import (
    GatewayError,
    HttpReply,
    HttpRequest,
    InvalidCallback,
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

#: Reports asked for: delivered to the phone (1), not delivered to the phone (2), refused
#: by the SMSC (16). Intermediate ones (4 queued, 8 accepted by the SMSC) are not needed.
DLR_MASK = 1 | 2 | 16
_STATUSES = {1: "delivered", 2: "undelivered", 16: "failed"}


class KannelGateway:
    """Request building and reply parsing for a Kannel smsbox (no I/O).

    ``url`` is the smsbox's sendsms address (``http://127.0.0.1:13013``; ``/cgi-bin/sendsms``
    is added when missing); ``sender`` the ``from`` (number or alphanumeric id). ``dlr_url``
    is where the application receives reports, signed with ``dlr_secret``; ``smsc`` routes
    to one SMSC of the bearerbox.
    """

    name = "kannel"

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        sender: str,
        *,
        dlr_url: str | None = None,
        dlr_secret: str | None = None,
        dlr_mask: int = DLR_MASK,
        smsc: str | None = None,
    ) -> None:
        url = check_url(url, "kannel url").rstrip("/")
        self.url = url if url.endswith("/cgi-bin/sendsms") else url + "/cgi-bin/sendsms"
        self.username = require(username, "kannel username")
        self._password = require(password, "kannel password")
        self.sender = require(sender, "kannel sender")
        for setting, value in (("kannel sender", sender), ("kannel smsc", smsc or "")):
            if not value.isascii() or not value.isprintable():
                raise ConfigurationError(setting, "must be printable ASCII")
        self.dlr_url = check_url(dlr_url, "kannel dlr_url") if dlr_url else None
        if self.dlr_url and (not dlr_secret or len(dlr_secret) < 16):
            raise ConfigurationError(
                "kannel dlr_secret", "a secret of at least 16 characters signs dlr_url"
            )
        self._secret = dlr_secret or ""
        if not 0 < dlr_mask < 32:
            raise ConfigurationError("kannel dlr_mask", "expected a bit mask between 1 and 31")
        self.dlr_mask = dlr_mask
        self.smsc = smsc

    def build_request(self, to: str, text: str, reference: str) -> HttpRequest:
        """The POST to ``cgi-bin/sendsms``."""
        headers = {
            "Content-Type": "text/plain; charset=UTF-8",
            "X-Kannel-Username": self.username,
            "X-Kannel-Password": self._password,
            "X-Kannel-From": self.sender,
            "X-Kannel-To": to,
            "X-Kannel-Coding": "2" if encoding_of(text) == "UCS-2" else "0",
        }
        if self.smsc:
            headers["X-Kannel-SMSC"] = self.smsc
        reference = safe_reference(self.name, reference)
        if self.dlr_url and reference:
            headers["X-Kannel-DLR-Mask"] = str(self.dlr_mask)
            headers["X-Kannel-DLR-Url"] = signed_callback(
                self.dlr_url, self._secret, self.name, reference, raw="type=%d"
            )
        return HttpRequest("POST", self.url, headers=headers, content=text.encode("utf-8"))

    def parse_reply(self, reply: HttpReply) -> str:
        """``0: Accepted for delivery`` or ``3: Queued for later delivery`` → a message id.

        Kannel 1.4 returns no id of its own, so the id is made here.
        """
        if not 200 <= reply.status < 300:
            raise http_failure(self.name, reply)
        if not reply.text.startswith(("0:", "3:")):
            raise GatewayError(
                self.name, f"unexpected answer (HTTP {reply.status})", retryable=True
            )
        return f"kannel-{uuid.uuid4().hex}"

    def receipt(self, params: Mapping[str, str]) -> Receipt | None:
        """The receipt in a ``dlr_url`` callback (see :func:`kannel_receipt`)."""
        if not self._secret:
            raise ConfigurationError("kannel dlr_secret", "no dlr_url was configured")
        return kannel_receipt(params, self._secret)

    def __repr__(self) -> str:
        return f"KannelGateway({self.url!r}, username={self.username!r})"


def kannel_receipt(params: Mapping[str, str], secret: str) -> Receipt | None:
    """Parse the query of a Kannel delivery report into ``(challenge_id, status)``.

    ``status`` is ``delivered`` (type 1), ``undelivered`` (2) or ``failed`` (16); other types
    (queued, accepted by the SMSC) give None. A missing or wrong token raises
    :class:`InvalidCallback`.
    """
    reference = verified_reference(params, secret, "kannel")
    try:
        kind = int(first(params, "type"))
    except ValueError:
        raise InvalidCallback("The delivery report has no valid type.") from None
    status = _STATUSES.get(kind)
    return Receipt(reference, status) if status else None


class KannelSender(HttpSender[KannelGateway]):
    """Sends through Kannel with ``httpx.Client``: ``KannelSender(KannelGateway(...))``."""


class AsyncKannelSender(AsyncHttpSender[KannelGateway]):
    """Sends through Kannel with ``httpx.AsyncClient``."""
