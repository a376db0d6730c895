"""Django signals for the core's events, and for a passed second step.

Receivers get ``event`` (an :class:`otpgate.Event`: ids, subject, factor, purpose, a masked
number; never a code, a secret or a full number) and ``subject`` (``str(user.pk)``)::

    from otpgate.integrations.django import signals

    @receiver(signals.factor_added)
    def notify(sender, event, subject, **kwargs):
        send_mail(...)  # "A second factor was added to your account"

``otp_event`` fires for every event; each event also has its own signal, named after it
(``challenge_started``, ``challenge_sent``, ..., ``factor_added``, ``factor_removed``,
``sim_swap_detected``, ``sim_swap_unknown``, ``device_remembered``, ``device_used``,
``device_revoked``; every :class:`~otpgate.EventName`).
``second_factor_passed`` fires after a session passed the second step (``request``, ``user``,
``verification``). A receiver that raises is logged and ignored: it cannot block a sign-in.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

from otpgate.core.events import Event, EventName

logger = logging.getLogger("otpgate")

otp_event = Signal()
challenge_started = Signal()
challenge_sent = Signal()
challenge_delivered = Signal()
challenge_approved = Signal()
challenge_failed = Signal()
delivery_failed = Signal()
verification_failed = Signal()
subject_locked = Signal()
replay_detected = Signal()
factor_added = Signal()
factor_removed = Signal()
sim_swap_detected = Signal()
sim_swap_unknown = Signal()
device_remembered = Signal()
device_used = Signal()
device_revoked = Signal()
second_factor_passed = Signal()

#: The signal of each core event: those above, and one made here for any other event (named
#: after it, a module attribute like the others), so every event has its signal.
BY_NAME: dict[EventName, Signal] = {
    name: globals().setdefault(name.value, Signal()) for name in EventName
}


def _send(signal: Signal, sender: Any, **kwargs: Any) -> None:
    for receiver, result in signal.send_robust(sender=sender, **kwargs):
        if isinstance(result, Exception):
            logger.error(
                "otpgate signal receiver %r failed",
                receiver,
                exc_info=(type(result), result, result.__traceback__),
            )


def dispatch(event: Event) -> None:
    """The verifier's event listener: send ``otp_event`` and the event's own signal."""
    _send(otp_event, "otpgate", event=event, subject=event.subject)
    signal = BY_NAME.get(event.name)
    if signal is not None:
        _send(signal, "otpgate", event=event, subject=event.subject)


def passed(request: Any, user: Any, verification: Any) -> None:
    """Send ``second_factor_passed``."""
    _send(second_factor_passed, "otpgate", request=request, user=user, verification=verification)
