"""Events: what happened, for audit logs, notifications and framework signals.

Payloads hold ids, the subject, the purpose, the factor and a masked number; never a code,
a secret or a full phone number. A listener that raises is logged and ignored: an audit
hook must not be able to approve or block a verification.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

logger = logging.getLogger("otpgate")


class EventName(str, Enum):
    CHALLENGE_STARTED = "challenge_started"
    CHALLENGE_SENT = "challenge_sent"
    CHALLENGE_DELIVERED = "challenge_delivered"
    CHALLENGE_APPROVED = "challenge_approved"
    CHALLENGE_FAILED = "challenge_failed"
    DELIVERY_FAILED = "delivery_failed"
    VERIFICATION_FAILED = "verification_failed"
    SUBJECT_LOCKED = "subject_locked"
    REPLAY_DETECTED = "replay_detected"
    FACTOR_ADDED = "factor_added"
    FACTOR_REMOVED = "factor_removed"
    #: The operator reports the number's SIM changed within ``sim_swap_max_age`` hours.
    SIM_SWAP_DETECTED = "sim_swap_detected"
    #: The SIM-swap check gave no answer (``detail["reason"]``); ``sim_swap_on_error`` applied.
    SIM_SWAP_UNKNOWN = "sim_swap_unknown"
    DEVICE_REMEMBERED = "device_remembered"
    DEVICE_USED = "device_used"
    DEVICE_REVOKED = "device_revoked"
    #: The pumping guard blocked a number range (``detail``: scope, prefix, the counts).
    PUMPING_BLOCKED = "pumping_blocked"
    FACTOR_RENAMED = "factor_renamed"
    #: A passkey's signature counter did not increase: maybe a cloned authenticator.
    PASSKEY_COUNTER_REGRESSION = "passkey_counter_regression"


@dataclass(frozen=True)
class Event:
    name: EventName
    subject: str
    at: float
    factor: str = ""
    purpose: str = ""
    challenge_id: str = ""
    masked_phone: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Event], object]


class EventBus:
    """Calls every subscribed listener with each event, in subscription order."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add ``listener``; returns a function that removes it again."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def __bool__(self) -> bool:
        """True while a listener is subscribed (an event nobody hears need not be built)."""
        return bool(self._listeners)

    def emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                logger.exception("otpgate event listener failed on %s", event.name.value)
