"""``HttpVoiceSender`` and ``AsyncHttpVoiceSender``: a voice gateway's pure call building and
reply parsing (``TwilioVoiceGateway``, ``VonageVoiceGateway``), driven by httpx.

They are :class:`~otpgate.core.voice.VoiceSender` s: ``call(to, speech, reference=...)``.
Give one to a verifier as ``voice_sender`` (or join it to an SMS sender with
``PhoneSender``). Failures are retryable or final :class:`GatewayError` s, as for SMS; logs
name the masked number and the language, never what is said.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

import httpx

from otpgate.core.errors import ConfigurationError
from otpgate.core.phone import mask
from otpgate.core.voice import Speech

from .base import DEFAULT_TIMEOUT, GatewayError, HttpReply, HttpRequest, log_failed, logger
from .transport import _transport_error, ahttp_call, http_call


class VoiceGateway(Protocol):
    """Builds a provider's call request and reads its reply; no I/O."""

    name: str

    def build_call(self, to: str, speech: Speech, reference: str) -> HttpRequest:
        """The request that calls ``to`` and says ``speech``."""
        ...

    def parse_call_reply(self, reply: HttpReply) -> str:
        """The provider's call id, or raise :class:`GatewayError`."""
        ...


V = TypeVar("V", bound=VoiceGateway)


class _VoiceBase:
    def __init__(self, gateway: VoiceGateway, timeout: float) -> None:
        if not timeout > 0:
            raise ConfigurationError("timeout", "must be a positive number of seconds")
        self.gateway = gateway
        self.timeout = timeout

    @property
    def name(self) -> str:
        return self.gateway.name

    def _finish(self, to: str, speech: Speech, reply: HttpReply) -> str:
        try:
            call_id = self.gateway.parse_call_reply(reply)
        except GatewayError as error:
            log_failed(error, to)
            raise
        logger.info(
            "%s placed a call to %s (%s): %s", self.name, mask(to), speech.language, call_id
        )
        return call_id

    def _failed(self, to: str, error: httpx.HTTPError) -> GatewayError:
        failure = _transport_error(self.gateway.name, error)
        log_failed(failure, to)
        return failure

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.gateway!r}, timeout={self.timeout!r})"


class HttpVoiceSender(_VoiceBase):
    """A synchronous voice sender over ``gateway`` (``client``: a shared ``httpx.Client``)."""

    def __init__(
        self,
        gateway: VoiceGateway,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        client: httpx.Client | None = None,
    ) -> None:
        super().__init__(gateway, timeout)
        self._own = client is None
        self._client = client if client is not None else httpx.Client()

    def call(self, to: str, speech: Speech, *, reference: str = "") -> str:
        """Call ``to`` and say ``speech``; the provider's call id, or a GatewayError."""
        request = self.gateway.build_call(to, speech, reference)
        try:
            response = http_call(self._client, request, self.timeout)
        except httpx.HTTPError as error:
            raise self._failed(to, error) from None
        return self._finish(to, speech, HttpReply(response.status_code, response.content))

    def close(self) -> None:
        """Close the client this sender made (a client passed in stays open)."""
        if self._own:
            self._client.close()


class AsyncHttpVoiceSender(_VoiceBase):
    """An async voice sender over ``gateway`` (``client``: a shared ``httpx.AsyncClient``)."""

    def __init__(
        self,
        gateway: VoiceGateway,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(gateway, timeout)
        self._own = client is None
        self._client = client if client is not None else httpx.AsyncClient()

    async def call(self, to: str, speech: Speech, *, reference: str = "") -> str:
        """Call ``to`` and say ``speech``; the provider's call id, or a GatewayError."""
        request = self.gateway.build_call(to, speech, reference)
        try:
            response = await ahttp_call(self._client, request, self.timeout)
        except httpx.HTTPError as error:
            raise self._failed(to, error) from None
        return self._finish(to, speech, HttpReply(response.status_code, response.content))

    async def aclose(self) -> None:
        """Close the client this sender made (a client passed in stays open)."""
        if self._own:
            await self._client.aclose()
