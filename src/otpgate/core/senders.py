"""Senders deliver a text to a number. Gateways live in their own modules; these two are for
development (``ConsoleSender``) and tests (``OutboxSender``)."""

from __future__ import annotations

import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol, TextIO, runtime_checkable

from .errors import DeliveryFailed
from .phone import mask


@runtime_checkable
class Sender(Protocol):
    def send(self, to: str, text: str, *, reference: str = "") -> str:
        """Deliver ``text`` to the E.164 number ``to``; return the provider's message id.

        ``reference`` is the challenge id, for gateways that report delivery to a callback
        URL. Raise :class:`DeliveryFailed` (``retryable``: another gateway may succeed).
        """


@runtime_checkable
class AsyncSender(Protocol):
    async def send(self, to: str, text: str, *, reference: str = "") -> str: ...


class ConsoleSender:
    """Prints each message with the number masked, for local development."""

    nonblocking = True

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, to: str, text: str, *, reference: str = "") -> str:
        stream = self._stream or sys.stdout
        print(f"--- SMS to {mask(to)} ---\n{text}\n---", file=stream, flush=True)
        return f"console-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class OutboxMessage:
    to: str
    text: str = field(repr=False)
    sent_at: float
    message_id: str
    reference: str = ""

    @property
    def code(self) -> str | None:
        """The first run of 6 to 10 digits in the text."""
        match = re.search(r"(?<!\d)\d{6,10}(?!\d)", self.text)
        return match.group(0) if match else None


class OutboxSender:
    """Keeps messages in a list for tests. Set ``failing`` to make sends fail."""

    nonblocking = True

    def __init__(self) -> None:
        self.messages: list[OutboxMessage] = []
        self.failing: DeliveryFailed | None = None
        self._lock = threading.Lock()

    def send(self, to: str, text: str, *, reference: str = "") -> str:
        if self.failing is not None:
            raise self.failing
        message_id = f"outbox-{uuid.uuid4().hex[:12]}"
        message = OutboxMessage(to, text, time.time(), message_id, reference)
        with self._lock:
            self.messages.append(message)
        return message.message_id

    def messages_to(self, number: str) -> list[OutboxMessage]:
        return [m for m in self.messages if m.to == number]

    def last_code_for(self, number: str) -> str | None:
        """The code in the newest message to ``number`` (E.164), or None."""
        sent = self.messages_to(number)
        return sent[-1].code if sent else None

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
