"""``HttpSender`` and ``AsyncHttpSender``: one gateway's pure request building and reply
parsing, driven by ``httpx.Client`` or ``httpx.AsyncClient``.

Every call has a timeout (default 5 s). A timeout or connection error becomes a retryable
:class:`GatewayError`; nothing from httpx (whose messages hold URLs) reaches the caller.
"""

from __future__ import annotations

from typing import Generic, TypeVar

try:
    import httpx
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'otpgate\'s HTTP gateways need httpx: pip install "otpgate[gateways]"'
    ) from exc

from otpgate.core.errors import ConfigurationError

from .base import (
    DEFAULT_TIMEOUT,
    GatewayError,
    HttpGateway,
    HttpReply,
    HttpRequest,
    log_failed,
    log_sent,
)

G = TypeVar("G", bound=HttpGateway)


def _transport_error(gateway: str, error: httpx.HTTPError) -> GatewayError:
    if isinstance(error, httpx.TimeoutException):
        return GatewayError(gateway, f"timeout ({type(error).__name__})", retryable=True)
    return GatewayError(gateway, f"connection failed ({type(error).__name__})", retryable=True)


def http_call(client: httpx.Client, request: HttpRequest, timeout: float) -> httpx.Response:
    """Make ``request`` with ``client`` (``timeout`` for every phase); httpx's errors pass."""
    return client.request(
        request.method,
        request.url,
        headers=dict(request.headers),
        data=None if request.form is None else dict(request.form),
        content=request.content,
        auth=request.auth,
        timeout=timeout,
    )


async def ahttp_call(
    client: httpx.AsyncClient, request: HttpRequest, timeout: float
) -> httpx.Response:
    """:func:`http_call` with ``httpx.AsyncClient``."""
    return await client.request(
        request.method,
        request.url,
        headers=dict(request.headers),
        data=None if request.form is None else dict(request.form),
        content=request.content,
        auth=request.auth,
        timeout=timeout,
    )


class _Base(Generic[G]):
    def __init__(self, gateway: G, timeout: float) -> None:
        if not timeout > 0:
            raise ConfigurationError("timeout", "must be a positive number of seconds")
        self.gateway = gateway
        self.timeout = timeout

    @property
    def name(self) -> str:
        """The gateway's name, for logs and failover chains."""
        return self.gateway.name

    def _finish(self, to: str, text: str, reply: HttpReply) -> str:
        try:
            message_id = self.gateway.parse_reply(reply)
        except GatewayError as error:
            log_failed(error, to)
            raise
        log_sent(self.gateway.name, to, message_id, text)
        return message_id

    def _failed(self, to: str, error: httpx.HTTPError) -> GatewayError:
        failure = _transport_error(self.gateway.name, error)
        log_failed(failure, to)
        return failure

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.gateway!r}, timeout={self.timeout!r})"


class HttpSender(_Base[G]):
    """A synchronous :class:`~otpgate.core.senders.Sender` over ``gateway``.

    Pass ``client`` to share a pool (its own timeout is ignored: ``timeout`` applies to
    every call); otherwise the sender makes one and :meth:`close` closes it.
    """

    def __init__(
        self, gateway: G, *, timeout: float = DEFAULT_TIMEOUT, client: httpx.Client | None = None
    ) -> None:
        super().__init__(gateway, timeout)
        self._own = client is None
        self._client = client if client is not None else httpx.Client()

    def send(self, to: str, text: str, *, reference: str = "") -> str:
        """Send ``text`` to ``to``; the provider's message id, or a :class:`GatewayError`."""
        request = self.gateway.build_request(to, text, reference)
        try:
            response = http_call(self._client, request, self.timeout)
        except httpx.HTTPError as error:
            raise self._failed(to, error) from None
        return self._finish(to, text, HttpReply(response.status_code, response.content))

    def close(self) -> None:
        """Close the client this sender made (a client passed in stays open)."""
        if self._own:
            self._client.close()

    def __enter__(self) -> HttpSender[G]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncHttpSender(_Base[G]):
    """An :class:`~otpgate.core.senders.AsyncSender` over ``gateway`` (see HttpSender)."""

    def __init__(
        self,
        gateway: G,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(gateway, timeout)
        self._own = client is None
        self._client = client if client is not None else httpx.AsyncClient()

    async def send(self, to: str, text: str, *, reference: str = "") -> str:
        """Send ``text`` to ``to``; the provider's message id, or a :class:`GatewayError`."""
        request = self.gateway.build_request(to, text, reference)
        try:
            response = await ahttp_call(self._client, request, self.timeout)
        except httpx.HTTPError as error:
            raise self._failed(to, error) from None
        return self._finish(to, text, HttpReply(response.status_code, response.content))

    async def aclose(self) -> None:
        """Close the client this sender made (a client passed in stays open)."""
        if self._own:
            await self._client.aclose()

    async def __aenter__(self) -> AsyncHttpSender[G]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
