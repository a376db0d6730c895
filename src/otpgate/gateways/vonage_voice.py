"""Vonage Voice API: the code read out by a call (an NCCO ``talk``), and signed call events.

A call is ``POST https://api.nexmo.com/v1/calls`` (JSON) authenticated by an application
JWT: RS256, signed with the Vonage application's private key, with ``application_id``,
``iat``, ``exp`` and ``jti`` claims. The body names ``to`` and ``from`` (phone endpoints,
numbers without ``+``), the ``ncco`` (one ``talk`` action: the text, its ``language``) and,
optionally, ``event_url`` (our URL with the send's reference as ``ref``).

Vonage signs the events it posts to ``event_url`` with a JWT in the ``Authorization``
header (HS256, keyed with the account's signature secret, with a ``payload_hash``: the
SHA-256 of the body). Hand them to :meth:`VonageVoiceGateway.receipt`::

    receipt = voice.receipt(request.url, request.body, request.headers.get("Authorization"))
    if receipt:
        gate.delivery_report(*receipt)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from otpgate.core.errors import ConfigurationError
from otpgate.core.voice import Speech

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
from .voice_transport import AsyncHttpVoiceSender, HttpVoiceSender

#: The engine's names where they differ from the speech's BCP 47 tag (Mandarin, Arabic).
LANGUAGES = {"zh-CN": "cmn-CN", "zh-TW": "cmn-TW", "ar-AE": "ar"}
#: Event ``status`` values that end a call: answered (the code was read out) or not.
_CALL_STATUSES = {
    "completed": "delivered",
    "busy": "undelivered",
    "unanswered": "undelivered",
    "timeout": "undelivered",
    "rejected": "failed",
    "failed": "failed",
    "cancelled": "failed",
}
_TOKEN_LIFETIME = 300
#: Seconds a signed event's ``iat`` may lie in the past (or future: clock skew).
EVENT_MAX_AGE = 300


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json_part(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())


class VonageVoiceGateway:
    """Call building and reply parsing for the Vonage Voice API (no I/O).

    ``private_key`` is the application's PEM private key (RSA), ``caller`` the Vonage
    number calls come from. With ``event_url`` set, ``signature_secret`` (the account's
    signature secret) verifies the events Vonage posts there.
    """

    name = "vonage-voice"

    def __init__(
        self,
        application_id: str,
        private_key: str | bytes,
        *,
        caller: str,
        event_url: str | None = None,
        signature_secret: str | None = None,
        base_url: str = "https://api.nexmo.com",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.application_id = require(application_id, "vonage application_id")
        pem = private_key.encode() if isinstance(private_key, str) else private_key
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise ConfigurationError("vonage private_key", "expected a PEM RSA key") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigurationError("vonage private_key", "expected an RSA key (RS256)")
        self._key = key
        self.caller = require(caller, "vonage caller").lstrip("+")
        self.event_url = check_url(event_url, "vonage event_url") if event_url else None
        if self.event_url and (not signature_secret or len(signature_secret) < 16):
            raise ConfigurationError(
                "vonage signature_secret", "the signature secret verifies event_url's events"
            )
        self._signature_secret = signature_secret or ""
        self.url = check_url(base_url, "vonage base_url").rstrip("/") + "/v1/calls"
        self._clock = clock

    def application_jwt(self) -> str:
        """A fresh application JWT (RS256) for one API request."""
        now = int(self._clock())
        claims = {
            "application_id": self.application_id,
            "iat": now,
            "exp": now + _TOKEN_LIFETIME,
            "jti": str(uuid.uuid4()),
        }
        signing_input = f"{_json_part({'alg': 'RS256', 'typ': 'JWT'})}.{_json_part(claims)}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    def build_call(self, to: str, speech: Speech, reference: str) -> HttpRequest:
        """The JSON POST to ``/v1/calls`` whose NCCO says ``speech``."""
        talk = {
            "action": "talk",
            "text": speech.text,
            "language": LANGUAGES.get(speech.language, speech.language),
        }
        body: dict[str, Any] = {
            "to": [{"type": "phone", "number": to.lstrip("+")}],
            "from": {"type": "phone", "number": self.caller},
            "ncco": [talk],
        }
        reference = safe_reference(self.name, reference)
        if self.event_url:
            url = add_query(self.event_url, {"ref": reference} if reference else {})
            body["event_url"] = [url]
            body["event_method"] = "POST"
        headers = {
            "Authorization": f"Bearer {self.application_jwt()}",
            "Content-Type": "application/json",
        }
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return HttpRequest("POST", self.url, headers=headers, content=content)

    def parse_call_reply(self, reply: HttpReply) -> str:
        """The created call's ``uuid``, or the error (Vonage's own text is never quoted)."""
        if not 200 <= reply.status < 300:
            raise http_failure(self.name, reply)
        try:
            body = json.loads(reply.body)
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("uuid"), str):
            return str(body["uuid"])
        raise GatewayError(self.name, f"no uuid (HTTP {reply.status})", retryable=True)

    def receipt(self, url: str, body: bytes, authorization: str | None) -> Receipt | None:
        """The receipt in a signed call event (see :func:`vonage_call_receipt`)."""
        if not self._signature_secret:
            raise ConfigurationError("vonage signature_secret", "no event_url was configured")
        return vonage_call_receipt(
            url, body, authorization, self._signature_secret, now=self._clock()
        )

    def __repr__(self) -> str:
        return f"VonageVoiceGateway(application_id={self.application_id!r})"


def verify_vonage_signature(
    body: bytes, authorization: str | None, secret: str, *, now: float | None = None
) -> dict[str, Any]:
    """The claims of a signed Vonage webhook: its ``Authorization: Bearer`` JWT must be HS256
    with ``secret``, recent (``iat``, :data:`EVENT_MAX_AGE`), and its ``payload_hash`` the
    SHA-256 of ``body``. InvalidCallback otherwise."""
    token = (authorization or "").removeprefix("Bearer ").strip()
    try:
        header_part, claims_part, signature_part = token.split(".")
        header = json.loads(_unb64(header_part))
        claims = json.loads(_unb64(claims_part))
        signature = _unb64(signature_part)
    except (ValueError, TypeError):
        raise InvalidCallback() from None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        raise InvalidCallback()
    expected = hmac.new(
        secret.encode(), f"{header_part}.{claims_part}".encode(), hashlib.sha256
    ).digest()
    if not hmac.compare_digest(signature, expected):
        raise InvalidCallback()
    issued = claims.get("iat")
    moment = time.time() if now is None else now
    if not isinstance(issued, (int, float)) or abs(moment - issued) > EVENT_MAX_AGE:
        raise InvalidCallback()
    payload_hash = claims.get("payload_hash")
    digest = hashlib.sha256(body).hexdigest()
    if not isinstance(payload_hash, str) or not hmac.compare_digest(payload_hash, digest):
        raise InvalidCallback()
    return claims


def vonage_call_status(status: str) -> str | None:
    """A call event's ``status`` as a receipt status; None while the call goes on."""
    return _CALL_STATUSES.get(status.strip().lower())


def vonage_call_receipt(
    url: str, body: bytes, authorization: str | None, secret: str, *, now: float | None = None
) -> Receipt | None:
    """Verify a call event and read ``(reference, status)`` from it (the reference is the
    ``ref`` our ``event_url`` carried). InvalidCallback for a missing or wrong signature."""
    verify_vonage_signature(body, authorization, secret, now=now)
    try:
        event = json.loads(body)
    except ValueError:
        raise InvalidCallback() from None
    reference = first(parse_qs(urlsplit(url).query), "ref")
    status = vonage_call_status(str(event.get("status", ""))) if isinstance(event, dict) else None
    return Receipt(reference, status) if reference and status else None


class VonageVoiceSender(HttpVoiceSender):
    """Calls through Vonage with ``httpx.Client``: ``VonageVoiceSender(gateway)``."""


class AsyncVonageVoiceSender(AsyncHttpVoiceSender):
    """Calls through Vonage with ``httpx.AsyncClient``."""
