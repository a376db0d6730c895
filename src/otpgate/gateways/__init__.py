"""SMS gateways for otpgate's verifiers: Kannel, Twilio, Vonage, Amazon SNS, and failover.

HTTP gateways need httpx (``pip install "otpgate[gateways]"``), SNS needs boto3
(``pip install "otpgate[sns]"``); each is imported when first used, so one gateway's
dependency is never needed by another. Each HTTP gateway is a pure request builder and
reply parser (``KannelGateway``, ``TwilioGateway``, ``VonageGateway``) driven by a sync or an
async sender::

    from otpgate.gateways import FailoverSender, KannelGateway, KannelSender, SnsSender

    kannel = KannelGateway("http://127.0.0.1:13013", "otp", "secret", "Acme",
                           dlr_url="https://example.com/otpgate/kannel", dlr_secret=KEY)
    sender = FailoverSender([KannelSender(kannel), SnsSender(region="eu-west-1")])
    gate = Verifier(settings, sender=sender)

Failures are :class:`GatewayError` (a ``DeliveryFailed``) whose ``retryable`` says whether
another gateway may succeed. Receipts: ``kannel.receipt(params)``,
``twilio.receipt(url, params, signature)``, ``vonage.receipt(params)`` give
``(challenge_id, status)`` for ``gate.delivery_report``, or raise :class:`InvalidCallback`.

``CamaraSimSwap`` driven by ``SimSwapClient`` / ``AsyncSimSwapClient`` asks an operator's
CAMARA SIM Swap API whether a number's SIM changed recently: the verifiers' ``sim_swap``.

Voice calls (the ``voice`` factor: the code read out): ``TwilioVoiceGateway`` (TwiML) and
``VonageVoiceGateway`` (NCCO, application JWT) driven by ``TwilioVoiceSender`` /
``VonageVoiceSender`` (and their async variants); join one to an SMS sender with
``otpgate.PhoneSender(sms, voice)``. Their status callbacks: ``voice.receipt(...)``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .base import DEFAULT_TIMEOUT, GatewayError, InvalidCallback, Receipt
from .failover import AsyncFailoverSender, CircuitBreaker, FailoverSender

if TYPE_CHECKING:
    from .camara import CamaraSimSwap
    from .kannel import AsyncKannelSender, KannelGateway, KannelSender, kannel_receipt
    from .simswap_client import AsyncSimSwapClient, SimSwapClient
    from .sns import AsyncSnsSender, SnsSender
    from .transport import AsyncHttpSender, HttpSender
    from .twilio import (
        AsyncTwilioSender,
        TwilioGateway,
        TwilioSender,
        twilio_receipt,
        twilio_signature,
        validate_twilio_signature,
    )
    from .twilio_voice import (
        AsyncTwilioVoiceSender,
        TwilioVoiceGateway,
        TwilioVoiceSender,
        twilio_call_receipt,
    )
    from .voice_transport import AsyncHttpVoiceSender, HttpVoiceSender
    from .vonage import AsyncVonageSender, VonageGateway, VonageSender, vonage_receipt
    from .vonage_voice import (
        AsyncVonageVoiceSender,
        VonageVoiceGateway,
        VonageVoiceSender,
        verify_vonage_signature,
        vonage_call_receipt,
    )

_LAZY = {
    "AsyncHttpSender": "transport",
    "HttpSender": "transport",
    "AsyncKannelSender": "kannel",
    "KannelGateway": "kannel",
    "KannelSender": "kannel",
    "kannel_receipt": "kannel",
    "AsyncTwilioSender": "twilio",
    "TwilioGateway": "twilio",
    "TwilioSender": "twilio",
    "twilio_receipt": "twilio",
    "twilio_signature": "twilio",
    "validate_twilio_signature": "twilio",
    "AsyncVonageSender": "vonage",
    "VonageGateway": "vonage",
    "VonageSender": "vonage",
    "vonage_receipt": "vonage",
    "CamaraSimSwap": "camara",
    "SimSwapClient": "simswap_client",
    "AsyncSimSwapClient": "simswap_client",
    "AsyncSnsSender": "sns",
    "SnsSender": "sns",
    "AsyncHttpVoiceSender": "voice_transport",
    "HttpVoiceSender": "voice_transport",
    "AsyncTwilioVoiceSender": "twilio_voice",
    "TwilioVoiceGateway": "twilio_voice",
    "TwilioVoiceSender": "twilio_voice",
    "twilio_call_receipt": "twilio_voice",
    "AsyncVonageVoiceSender": "vonage_voice",
    "VonageVoiceGateway": "vonage_voice",
    "VonageVoiceSender": "vonage_voice",
    "verify_vonage_signature": "vonage_voice",
    "vonage_call_receipt": "vonage_voice",
}

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncFailoverSender",
    "AsyncHttpSender",
    "AsyncHttpVoiceSender",
    "AsyncKannelSender",
    "AsyncSimSwapClient",
    "AsyncSnsSender",
    "AsyncTwilioSender",
    "AsyncTwilioVoiceSender",
    "AsyncVonageSender",
    "AsyncVonageVoiceSender",
    "CamaraSimSwap",
    "CircuitBreaker",
    "FailoverSender",
    "GatewayError",
    "HttpSender",
    "HttpVoiceSender",
    "InvalidCallback",
    "KannelGateway",
    "KannelSender",
    "Receipt",
    "SimSwapClient",
    "SnsSender",
    "TwilioGateway",
    "TwilioSender",
    "TwilioVoiceGateway",
    "TwilioVoiceSender",
    "VonageGateway",
    "VonageSender",
    "VonageVoiceGateway",
    "VonageVoiceSender",
    "kannel_receipt",
    "twilio_call_receipt",
    "twilio_receipt",
    "twilio_signature",
    "validate_twilio_signature",
    "verify_vonage_signature",
    "vonage_call_receipt",
    "vonage_receipt",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'otpgate.gateways' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
