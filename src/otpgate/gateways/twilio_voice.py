"""Twilio Programmable Voice: the code read out by a call, and its signed status callbacks.

A call is ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` (form-encoded, basic auth as
for messages) with ``To``, ``From`` (a Twilio voice number), ``Twiml`` (what the call does:
here one ``<Say>`` in the speech's language, the digits separated by pauses and said twice)
and, optionally, ``StatusCallback`` (our URL with the send's reference as ``ref``). Status
callbacks are signed like a message's (``X-Twilio-Signature``); hand them to
:meth:`TwilioVoiceGateway.receipt`::

    receipt = voice.receipt(request.url, request.form, request.headers["X-Twilio-Signature"])
    if receipt:
        gate.delivery_report(*receipt)
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

from otpgate.core.voice import Speech

from .base import (
    HttpReply,
    HttpRequest,
    InvalidCallback,
    Receipt,
    add_query,
    check_url,
    first,
    require,
    safe_reference,
)
from .twilio import Params, TwilioGateway, _values, validate_twilio_signature
from .voice_transport import AsyncHttpVoiceSender, HttpVoiceSender

#: ``CallStatus`` values that end a call: answered (the code was read out) or not.
_CALL_STATUSES = {
    "completed": "delivered",
    "busy": "undelivered",
    "no-answer": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


def twiml(speech: Speech, *, voice: str | None = None) -> str:
    """The TwiML document that says ``speech`` (text and attributes XML-escaped)."""
    attributes = f" language={quoteattr(speech.language)}"
    if voice:
        attributes += f" voice={quoteattr(voice)}"
    return f"<Response><Say{attributes}>{escape(speech.text)}</Say></Response>"


class TwilioVoiceGateway:
    """Call building and reply parsing for Twilio Programmable Voice (no I/O).

    ``caller`` is the Twilio voice number calls come from (E.164). ``voice`` names a
    text-to-speech voice (e.g. ``"Polly.Joanna"``; None: Twilio's default for the
    language). ``status_callback``: where Twilio reports how each call ended.
    """

    name = "twilio-voice"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        caller: str,
        voice: str | None = None,
        status_callback: str | None = None,
        api_key: tuple[str, str] | None = None,
        base_url: str = "https://api.twilio.com",
    ) -> None:
        self.account_sid = require(account_sid, "twilio account_sid")
        self._token = require(auth_token, "twilio auth_token")
        self.caller = require(caller, "twilio caller")
        self.voice = voice
        self.status_callback = (
            check_url(status_callback, "twilio status_callback") if status_callback else None
        )
        self._auth = api_key or (self.account_sid, self._token)
        base = check_url(base_url, "twilio base_url").rstrip("/")
        self.url = f"{base}/2010-04-01/Accounts/{self.account_sid}/Calls.json"
        self._messages = TwilioGateway(
            account_sid, auth_token, sender=self.caller, base_url=base_url
        )

    def build_call(self, to: str, speech: Speech, reference: str) -> HttpRequest:
        """The form POST that creates a Call saying ``speech``."""
        form = {"To": to, "From": self.caller, "Twiml": twiml(speech, voice=self.voice)}
        reference = safe_reference(self.name, reference)
        if self.status_callback:
            form["StatusCallback"] = add_query(
                self.status_callback, {"ref": reference} if reference else {}
            )
            form["StatusCallbackMethod"] = "POST"
        return HttpRequest("POST", self.url, form=form, auth=self._auth)

    def parse_call_reply(self, reply: HttpReply) -> str:
        """A created Call's ``sid`` (``CA…``), or the error with Twilio's numeric code."""
        return self._messages.parse_reply(reply)

    def receipt(self, url: str, params: Params, signature: str) -> Receipt | None:
        """The receipt in a signed call status callback (see :func:`twilio_call_receipt`)."""
        return twilio_call_receipt(url, params, signature, self._token)

    def __repr__(self) -> str:
        return f"TwilioVoiceGateway(account_sid={self.account_sid!r})"


def twilio_call_status(call_status: str) -> str | None:
    """Twilio's ``CallStatus`` as a receipt status; None while the call is not over."""
    return _CALL_STATUSES.get(call_status.strip().lower())


def twilio_call_receipt(
    url: str, params: Params, signature: str, auth_token: str
) -> Receipt | None:
    """Verify a call status callback and read ``(reference, status)`` from it: a call that
    was not answered (busy, no answer, failed) fails the challenge, so the user may resend
    or switch at once. InvalidCallback when the signature does not verify."""
    if not validate_twilio_signature(url, params, signature, auth_token):
        raise InvalidCallback()
    reference = first(parse_qs(urlsplit(url).query), "ref")
    flat = {name: _values(params, name)[0] for name in params if _values(params, name)}
    status = twilio_call_status(first(flat, "CallStatus"))
    return Receipt(reference, status) if reference and status else None


class TwilioVoiceSender(HttpVoiceSender):
    """Calls through Twilio with ``httpx.Client``: ``TwilioVoiceSender(gateway)``."""


class AsyncTwilioVoiceSender(AsyncHttpVoiceSender):
    """Calls through Twilio with ``httpx.AsyncClient``."""
