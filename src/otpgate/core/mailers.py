"""Email senders deliver a rendered :class:`~otpgate.core.mail.EmailMessage`.

SMTP lives in ``otpgate.gateways.smtp``; here are the development and test senders and the
failover chain. A sender's method is ``send_email`` (not ``send``), so one object may carry
texts and emails alike (the dev inbox does).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO, runtime_checkable

from .adapters import as_async
from .address import mask_email
from .errors import ConfigurationError, DeliveryFailed
from .mail import EmailMessage

logger = logging.getLogger("otpgate")


@runtime_checkable
class EmailSender(Protocol):
    def send_email(self, message: EmailMessage, *, reference: str = "") -> str:
        """Deliver ``message``; return the message id. Raise :class:`DeliveryFailed`
        (``retryable``: another server may succeed)."""


@runtime_checkable
class AsyncEmailSender(Protocol):
    async def send_email(self, message: EmailMessage, *, reference: str = "") -> str: ...


class ConsoleEmailSender:
    """Prints each email's text with the address masked, for local development."""

    nonblocking = True

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send_email(self, message: EmailMessage, *, reference: str = "") -> str:
        stream = self._stream or sys.stdout
        print(
            f"--- Email to {mask_email(message.to)} ---\nSubject: {message.subject}\n\n"
            f"{message.text}---",
            file=stream,
            flush=True,
        )
        return f"console-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class SentEmail:
    message: EmailMessage = field(repr=False)
    sent_at: float
    message_id: str
    reference: str = ""

    @property
    def to(self) -> str:
        return self.message.to

    @property
    def code(self) -> str | None:
        """The first run of 6 to 10 digits in the subject line."""
        match = re.search(r"(?<!\d)\d{6,10}(?!\d)", self.message.subject)
        return match.group(0) if match else None


class OutboxEmailSender:
    """Keeps emails in a list for tests. Set ``failing`` to make sends fail."""

    nonblocking = True

    def __init__(self) -> None:
        self.messages: list[SentEmail] = []
        self.failing: DeliveryFailed | None = None
        self._lock = threading.Lock()

    def send_email(self, message: EmailMessage, *, reference: str = "") -> str:
        if self.failing is not None:
            raise self.failing
        sent = SentEmail(message, time.time(), f"outbox-{uuid.uuid4().hex[:12]}", reference)
        with self._lock:
            self.messages.append(sent)
        return sent.message_id

    def last_code_for(self, address: str) -> str | None:
        """The code in the newest email to ``address`` (as normalised), or None."""
        sent = [m for m in self.messages if m.to == address]
        return sent[-1].code if sent else None

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()


class FailoverEmailSender:
    """Tries ``senders`` in order: a retryable failure moves on to the next, a refusal (not
    retryable: the address was refused) stops the chain. The last failure is raised."""

    def __init__(self, senders: Sequence[EmailSender]) -> None:
        if not senders:
            raise ConfigurationError("email sender", "a failover chain needs a sender")
        self.senders = list(senders)

    def send_email(self, message: EmailMessage, *, reference: str = "") -> str:
        failure: DeliveryFailed = DeliveryFailed()
        for sender in self.senders:
            try:
                return sender.send_email(message, reference=reference)
            except DeliveryFailed as error:
                failure = error
            except Exception as error:  # a sender's own bug or outage: try the next
                logger.warning("otpgate email sender raised %s", type(error).__name__)
                failure = DeliveryFailed()
            if not failure.retryable:
                break
        raise failure


class AsyncFailoverEmailSender:
    """:class:`FailoverEmailSender` for ``AsyncVerifier`` (async or non-blocking senders)."""

    def __init__(self, senders: Sequence[AsyncEmailSender | EmailSender]) -> None:
        if not senders:
            raise ConfigurationError("email sender", "a failover chain needs a sender")
        self.senders: list[Any] = [as_async(s, "email sender", "send_email") for s in senders]

    async def send_email(self, message: EmailMessage, *, reference: str = "") -> str:
        failure: DeliveryFailed = DeliveryFailed()
        for sender in self.senders:
            try:
                result: str = await sender.send_email(message, reference=reference)
                return result
            except DeliveryFailed as error:
                failure = error
            except Exception as error:
                logger.warning("otpgate email sender raised %s", type(error).__name__)
                failure = DeliveryFailed()
            if not failure.retryable:
                break
        raise failure
