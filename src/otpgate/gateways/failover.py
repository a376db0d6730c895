"""Failover: ordered gateways, each behind a circuit breaker.

``FailoverSender([kannel, twilio, sns])`` tries the gateways in order. A retryable error
(timeout, connection refused, 5xx, throttling, account trouble) moves on to the next; a
non-retryable one (the number or the message was refused) stops the chain, since no other
gateway would do better. After ``failures`` consecutive retryable failures a gateway is
skipped for ``cooldown`` seconds; then one message is let through to probe it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from otpgate.core.adapters import as_async
from otpgate.core.errors import ConfigurationError, DeliveryFailed
from otpgate.core.phone import mask
from otpgate.core.senders import AsyncSender, Sender

from .base import GatewayError

logger = logging.getLogger("otpgate.gateways")


@dataclass
class _State:
    failures: int = 0
    open_until: float = 0.0


class CircuitBreaker:
    """Counts consecutive failures per key; open (skipped) for ``cooldown`` seconds after
    ``failures`` of them. Thread-safe; ``clock`` is injectable for tests."""

    def __init__(
        self,
        failures: int = 3,
        cooldown: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1 or cooldown <= 0:
            raise ConfigurationError("circuit breaker", "failures ≥ 1 and cooldown > 0")
        self.failures = failures
        self.cooldown = cooldown
        self.clock = clock
        self._states: dict[int, _State] = {}
        self._lock = threading.Lock()

    def allows(self, key: int) -> bool:
        """False while ``key``'s circuit is open."""
        with self._lock:
            state = self._states.get(key)
            return state is None or self.clock() >= state.open_until

    def is_open(self, key: int) -> bool:
        """True while ``key`` is being skipped."""
        return not self.allows(key)

    def success(self, key: int) -> None:
        """Forget ``key``'s failures: its circuit closes."""
        with self._lock:
            self._states.pop(key, None)

    def failure(self, key: int) -> bool:
        """Count a failure; True when it opened the circuit."""
        with self._lock:
            state = self._states.setdefault(key, _State())
            state.failures += 1
            if state.failures >= self.failures:
                state.open_until = self.clock() + self.cooldown
                return True
            return False


def _name(sender: object) -> str:
    return str(getattr(sender, "name", type(sender).__name__))


class _Chain:
    def __init__(
        self,
        senders: Sequence[Any],
        failures: int,
        cooldown: float,
        clock: Callable[[], float],
    ) -> None:
        if not senders:
            raise ConfigurationError("FailoverSender", "needs at least one sender")
        self.names = [_name(s) for s in senders]
        self.breaker = CircuitBreaker(failures, cooldown, clock=clock)

    def _open(self, index: int, to: str) -> bool:
        if self.breaker.allows(index):
            return False
        logger.info("failover: skipping %s (circuit open) for %s", self.names[index], mask(to))
        return True

    def _failed(self, index: int, error: Exception, to: str) -> GatewayError:
        """Record a failure; raise at once if it is final, else return it for the summary."""
        name = self.names[index]
        if isinstance(error, DeliveryFailed) and not error.retryable:
            raise error
        if isinstance(error, GatewayError):
            failure = error
        elif isinstance(error, DeliveryFailed):
            failure = GatewayError(name, "delivery failed", retryable=True)
        else:
            failure = GatewayError(name, f"unexpected {type(error).__name__}", retryable=True)
        if self.breaker.failure(index):
            logger.warning(
                "failover: %s failed %d times in a row; skipping it for %.0f s",
                name,
                self.breaker.failures,
                self.breaker.cooldown,
            )
        logger.info("failover: %s failed for %s, trying the next gateway", name, mask(to))
        return failure

    def _exhausted(self, failures: list[GatewayError]) -> GatewayError:
        if not failures:
            return GatewayError("failover", "every gateway's circuit is open", retryable=True)
        detail = "; ".join(f"{f.gateway}: {f.detail}" for f in failures)
        return GatewayError("failover", f"every gateway failed ({detail})", retryable=True)


class FailoverSender(_Chain):
    """A :class:`~otpgate.core.senders.Sender` over ordered senders (see module docs)."""

    def __init__(
        self,
        senders: Sequence[Sender],
        *,
        failures: int = 3,
        cooldown: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(senders, failures, cooldown, clock)
        self.senders = list(senders)

    def send(self, to: str, text: str, *, reference: str = "") -> str:
        """Send through the first gateway that takes the message; its message id."""
        failures: list[GatewayError] = []
        for index, sender in enumerate(self.senders):
            if self._open(index, to):
                continue
            try:
                message_id = sender.send(to, text, reference=reference)
            except Exception as error:  # every failure is typed and counted
                failures.append(self._failed(index, error, to))
                continue
            self.breaker.success(index)
            return message_id
        raise self._exhausted(failures)


class AsyncFailoverSender(_Chain):
    """An :class:`~otpgate.core.senders.AsyncSender` over ordered senders: async ones, or
    synchronous ones that never block (``nonblocking = True``)."""

    def __init__(
        self,
        senders: Sequence[AsyncSender | Sender],
        *,
        failures: int = 3,
        cooldown: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(senders, failures, cooldown, clock)
        self.senders: list[AsyncSender] = [as_async(s, "sender", "send") for s in senders]

    async def send(self, to: str, text: str, *, reference: str = "") -> str:
        """Send through the first gateway that takes the message; its message id."""
        failures: list[GatewayError] = []
        for index, sender in enumerate(self.senders):
            if self._open(index, to):
                continue
            try:
                message_id = await sender.send(to, text, reference=reference)
            except Exception as error:  # every failure is typed and counted
                failures.append(self._failed(index, error, to))
                continue
            self.breaker.success(index)
            return message_id
        raise self._exhausted(failures)
