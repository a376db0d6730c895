"""Blinker signals, one per core event, sent with the Flask app as sender::

    from otpgate.integrations.flask import SIGNALS
    from otpgate import EventName

    @SIGNALS[EventName.SUBJECT_LOCKED].connect
    def alert(app, event): ...   # event: otpgate.Event (ids, masked number; never a code)

``second_factor_passed`` fires when a session passes a second factor (``verification``,
``login``: True for the second step of a sign-in, False for step-up).
"""

from __future__ import annotations

from collections.abc import Callable

from blinker import Namespace, Signal
from flask import Flask

from otpgate.core.events import Event, EventName
from otpgate.core.verifier import Verifier

_namespace = Namespace()

#: ``EventName`` → signal named ``otpgate.<event name>``.
SIGNALS: dict[EventName, Signal] = {
    name: _namespace.signal(f"otpgate.{name.value}") for name in EventName
}
second_factor_passed = _namespace.signal("otpgate.second_factor_passed")


def connect(app: Flask, verifier: Verifier) -> Callable[[], None]:
    """Forward the verifier's events as signals from ``app``; returns the disconnect."""

    def forward(event: Event) -> None:
        SIGNALS[event.name].send(app, event=event)

    return verifier.subscribe(forward)
