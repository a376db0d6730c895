"""``SimSwapClient`` and ``AsyncSimSwapClient``: the CAMARA SIM Swap API driven by httpx,
as the verifier's ``sim_swap`` check.

Answers are kept briefly per number (``cache_seconds``, default 300 s; an ``unknown`` answer
at most 30 s) so a burst of sign-ins costs one call per number, and an outage is not hammered.
The cache is keyed by a digest under a key made per process: no number is kept in clear.
Every call has a timeout (default 3 s); a timeout is an ``unknown`` answer, never an
exception, and ``Settings.sim_swap_on_error`` decides what that means.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Generator

try:
    import httpx
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'otpgate\'s SIM-swap client needs httpx: pip install "otpgate[gateways]"'
    ) from exc

from otpgate.core.errors import ConfigurationError
from otpgate.core.simswap import SimSwapAnswer

from .base import HttpReply, HttpRequest
from .camara import AccessToken, CamaraSimSwap, Outcome
from .transport import ahttp_call, http_call

logger = logging.getLogger("otpgate.gateways")

#: The longest an ``unknown`` answer is kept (seconds).
UNKNOWN_CACHE_SECONDS = 30.0
Steps = Generator[HttpRequest, Outcome, tuple[SimSwapAnswer, AccessToken | None]]


class _Answers:
    """A bounded, expiring map of answers by keyed digest of (number, window)."""

    def __init__(self, seconds: float, size: int) -> None:
        self.seconds = seconds
        self.size = size
        self._key = secrets.token_bytes(32)
        self._items: OrderedDict[bytes, tuple[float, SimSwapAnswer]] = OrderedDict()

    def key(self, e164: str, max_age_hours: int) -> bytes:
        return hmac.new(self._key, f"{e164}|{max_age_hours}".encode(), hashlib.sha256).digest()

    def get(self, key: bytes, now: float) -> SimSwapAnswer | None:
        item = self._items.get(key)
        if item is None or item[0] <= now:
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: bytes, answer: SimSwapAnswer, now: float) -> None:
        seconds = self.seconds
        if answer.verdict == "unknown":
            seconds = min(seconds, UNKNOWN_CACHE_SECONDS)
        if seconds <= 0 or self.size <= 0:
            return
        self._items[key] = (now + seconds, answer)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


def _failure(error: httpx.HTTPError) -> str:
    return "timeout" if isinstance(error, httpx.TimeoutException) else "connect"


class _Base:
    def __init__(
        self,
        api: CamaraSimSwap,
        *,
        timeout: float,
        cache_seconds: float,
        cache_size: int,
        clock: Callable[[], float],
    ) -> None:
        if not timeout > 0:
            raise ConfigurationError("sim swap timeout", "must be a positive number of seconds")
        if cache_seconds < 0 or cache_size < 0:
            raise ConfigurationError("sim swap cache", "seconds and size must be >= 0")
        self.api = api
        self.timeout = timeout
        self.clock = clock
        self._answers = _Answers(cache_seconds, cache_size)
        self._token: AccessToken | None = None

    def _begin(self, e164: str, max_age_hours: int) -> tuple[bytes, SimSwapAnswer | None, Steps]:
        now = self.clock()
        key = self._answers.key(e164, max_age_hours)
        return (
            key,
            self._answers.get(key, now),
            self.api.exchange(e164, max_age_hours, self._token, now),
        )

    def _end(self, key: bytes, answer: SimSwapAnswer, token: AccessToken | None) -> SimSwapAnswer:
        self._token = token
        self._answers.put(key, answer, self.clock())
        if answer.verdict == "unknown":
            logger.warning("otpgate: SIM swap check gave no answer (%s)", answer.reason)
        return answer

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.api!r}, timeout={self.timeout!r})"


class SimSwapClient(_Base):
    """A :class:`~otpgate.core.simswap.SimSwapCheck` over ``httpx.Client``.

    ``SimSwapClient(CamaraSimSwap(base_url, token_url, client_id, client_secret))``; pass
    ``client`` to share a pool (closed by its owner), else :meth:`close` closes this one's.
    """

    def __init__(
        self,
        api: CamaraSimSwap,
        *,
        timeout: float = 3.0,
        cache_seconds: float = 300.0,
        cache_size: int = 10_000,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            api, timeout=timeout, cache_seconds=cache_seconds, cache_size=cache_size, clock=clock
        )
        self._own = client is None
        self._client = client if client is not None else httpx.Client()

    def check(self, e164: str, max_age_hours: int) -> SimSwapAnswer:
        """Whether ``e164``'s SIM changed within ``max_age_hours`` (never raises)."""
        key, cached, steps = self._begin(e164, max_age_hours)
        if cached is not None:
            return cached
        try:
            request = next(steps)
            while True:
                request = steps.send(self._call(request))
        except StopIteration as done:
            answer, token = done.value
        return self._end(key, answer, token)

    def _call(self, request: HttpRequest) -> Outcome:
        try:
            reply = http_call(self._client, request, self.timeout)
        except httpx.HTTPError as error:
            return _failure(error)
        return HttpReply(reply.status_code, reply.content)

    def close(self) -> None:
        if self._own:
            self._client.close()


class AsyncSimSwapClient(_Base):
    """An :class:`~otpgate.core.simswap.AsyncSimSwapCheck` over ``httpx.AsyncClient``."""

    def __init__(
        self,
        api: CamaraSimSwap,
        *,
        timeout: float = 3.0,
        cache_seconds: float = 300.0,
        cache_size: int = 10_000,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            api, timeout=timeout, cache_seconds=cache_seconds, cache_size=cache_size, clock=clock
        )
        self._own = client is None
        self._client = client if client is not None else httpx.AsyncClient()

    async def check(self, e164: str, max_age_hours: int) -> SimSwapAnswer:
        """Whether ``e164``'s SIM changed within ``max_age_hours`` (never raises)."""
        key, cached, steps = self._begin(e164, max_age_hours)
        if cached is not None:
            return cached
        try:
            request = next(steps)
            while True:
                request = steps.send(await self._call(request))
        except StopIteration as done:
            answer, token = done.value
        return self._end(key, answer, token)

    async def _call(self, request: HttpRequest) -> Outcome:
        try:
            reply = await ahttp_call(self._client, request, self.timeout)
        except httpx.HTTPError as error:
            return _failure(error)
        return HttpReply(reply.status_code, reply.content)

    async def aclose(self) -> None:
        if self._own:
            await self._client.aclose()
