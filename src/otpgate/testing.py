"""Pytest fixtures for testing a site's own second-factor flows (a pytest plugin).

Installing otpgate registers this plugin with pytest (entry point ``pytest11``), so these
fixtures need no import:

``sms_outbox``
    An :class:`~otpgate.core.senders.OutboxSender`: give it to the verifier your app uses,
    then read what was sent. ``sms_outbox.messages`` lists every message (``.to``, ``.text``,
    ``.code``, ``.reference``); ``sms_outbox.last_code_for("+33612345678")`` is the code in
    the newest message to that E.164 number; set ``sms_outbox.failing = DeliveryFailed()``
    to simulate an outage.

``voice_outbox``
    An :class:`~otpgate.core.voice.OutboxVoiceSender`: give it to the verifier as
    ``voice_sender`` (or join it to ``sms_outbox`` with ``PhoneSender``) and the ``voice``
    factor is offered; ``voice_outbox.last_code_for(number)`` is the code the newest call
    to that number said.

``sms_inbox``
    An :class:`~otpgate.inbox.InboxSender` in the test's temporary directory, for flows
    that run in another process (a live server, a browser) and share the SQLite file.

Example::

    def test_login_asks_for_the_sms_code(client, sms_outbox, settings):
        app.gate.sender = sms_outbox
        client.post("/login", data={"username": "alice", "password": "..."})
        code = sms_outbox.last_code_for("+33612345678")
        assert client.post("/login/code", data={"code": code}).status_code == 302
"""

from __future__ import annotations

from pathlib import Path

import pytest

from otpgate.core.senders import OutboxSender
from otpgate.core.voice import OutboxVoiceSender
from otpgate.inbox.store import InboxSender

__all__ = ["sms_inbox", "sms_outbox", "voice_outbox"]


@pytest.fixture
def sms_outbox() -> OutboxSender:
    """An empty in-memory outbox: ``.messages``, ``.last_code_for(number)``, ``.failing``."""
    return OutboxSender()


@pytest.fixture
def voice_outbox() -> OutboxVoiceSender:
    """An empty in-memory list of calls: ``.calls``, ``.last_code_for(number)``, ``.failing``."""
    return OutboxVoiceSender()


@pytest.fixture
def sms_inbox(tmp_path: Path) -> InboxSender:
    """An empty SQLite inbox in ``tmp_path`` (``.path`` is its file)."""
    return InboxSender(tmp_path / "otpgate-inbox.sqlite3")
