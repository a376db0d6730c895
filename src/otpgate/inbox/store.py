"""``InboxSender``: every SMS, voice call and email kept in a SQLite file, for development and
end-to-end tests. A call is kept beside the texts as what it says, marked with
:data:`CALL_PREFIX`; its code is read back from the digits said. An email's recipient is its
address, its text the subject line and body.

The file outlives the process, so ``otpgate inbox`` (another process) can show what the
application sent, and tests can read codes back. Each call opens its own connection, so
one sender may be shared by threads and several processes may use one file.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from otpgate.core.mail import EmailMessage
from otpgate.core.voice import spoken_codes

if TYPE_CHECKING:
    from otpgate.core.voice import Speech

#: Where the inbox lives unless told otherwise (``OTPGATE_INBOX_DB`` overrides it).
DEFAULT_INBOX_PATH = "otpgate-inbox.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient TEXT NOT NULL,
    body TEXT NOT NULL,
    code TEXT,
    sent_at REAL NOT NULL,
    reference TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS messages_by_recipient ON messages (recipient, id);
"""
#: What a stored call's text starts with (then its language and what it says).
CALL_PREFIX = "[voice call] "
_WEBOTP = re.compile(r"(?m)^@\S+ #(\d{4,10})\s*$")
_DIGITS = re.compile(r"(?<!\d)\d{6,10}(?!\d)")


def default_inbox_path() -> str:
    """``$OTPGATE_INBOX_DB``, else ``otpgate-inbox.sqlite3`` in the working directory."""
    return os.environ.get("OTPGATE_INBOX_DB") or DEFAULT_INBOX_PATH


def extract_code(text: str) -> str | None:
    """The code of an SMS: the WebOTP line's when there is one, else the first run of 6 to
    10 digits; of a call, the digits said (``1, 2, 3…``)."""
    if text.startswith(CALL_PREFIX):
        codes = spoken_codes(text)
        return codes[0] if codes else None
    webotp = _WEBOTP.search(text)
    if webotp:
        return webotp.group(1)
    digits = _DIGITS.search(text)
    return digits.group(0) if digits else None


@dataclass(frozen=True)
class InboxMessage:
    """One stored SMS, call or email."""

    id: int
    to: str
    text: str = field(repr=False)
    code: str | None = field(repr=False)
    sent_at: float
    reference: str = ""

    @property
    def kind(self) -> str:
        """``"call"`` for a voice call, ``"email"`` for an email, ``"sms"`` for a text."""
        if self.text.startswith(CALL_PREFIX):
            return "call"
        return "email" if "@" in self.to else "sms"

    @property
    def message_id(self) -> str:
        """The id ``send`` returned for this message."""
        return f"inbox-{self.id}"

    def as_dict(self) -> dict[str, object]:
        """The JSON form the inbox API serves."""
        return {
            "id": self.id,
            "to": self.to,
            "text": self.text,
            "code": self.code,
            "sent_at": self.sent_at,
            "sent_at_iso": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.sent_at)),
            "reference": self.reference,
            "message_id": self.message_id,
            "kind": self.kind,
        }


class InboxSender:
    """A :class:`~otpgate.core.senders.Sender` that stores each SMS in SQLite at ``path``.

    Never use it in production: the inbox holds codes in plain text on purpose.
    """

    nonblocking = True  # a local insert: AsyncVerifier may call it directly

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path if path is not None else default_inbox_path())
        self._lock = threading.Lock()
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            with db:  # one transaction, committed on success
                yield db

    def send(self, to: str, text: str, *, reference: str = "") -> str:
        """Store the message; its id is ``inbox-<row id>``."""
        with self._lock, self._connect() as db:
            cursor = db.execute(
                "INSERT INTO messages (recipient, body, code, sent_at, reference) "
                "VALUES (?, ?, ?, ?, ?)",
                (to, text, extract_code(text), time.time(), reference),
            )
        return f"inbox-{cursor.lastrowid}"

    def call(self, to: str, speech: Speech, *, reference: str = "") -> str:
        """Store a voice call (what it says, in its language) beside the texts; a verifier
        given this sender offers the ``voice`` factor."""
        return self.send(to, f"{CALL_PREFIX}({speech.language}) {speech.text}", reference=reference)

    def send_email(self, message: EmailMessage, *, reference: str = "") -> str:
        """Store an email (an :class:`~otpgate.core.mailers.EmailSender`): its subject line
        and plain text, to the address; the code is the subject line's (it holds it)."""
        text = f"Subject: {message.subject}\n\n{message.text}"
        code = _DIGITS.search(message.subject)
        with self._lock, self._connect() as db:
            cursor = db.execute(
                "INSERT INTO messages (recipient, body, code, sent_at, reference) "
                "VALUES (?, ?, ?, ?, ?)",
                (message.to, text, code.group(0) if code else None, time.time(), reference),
            )
        return f"inbox-{cursor.lastrowid}"

    def messages(
        self, to: str | None = None, *, after: int = 0, limit: int = 200
    ) -> list[InboxMessage]:
        """Stored messages, newest first; only those to ``to`` when given."""
        query = "SELECT id, recipient, body, code, sent_at, reference FROM messages"
        query += " WHERE id > ?" + (" AND recipient = ?" if to else "")
        query += " ORDER BY id DESC LIMIT ?"
        parameters: tuple[object, ...] = (after, to, limit) if to else (after, limit)
        with self._connect() as db:
            rows = db.execute(query, parameters).fetchall()
        return [InboxMessage(*row) for row in rows]

    def latest(self, to: str) -> InboxMessage | None:
        """The newest message to ``to``, or None."""
        found = self.messages(to, limit=1)
        return found[0] if found else None

    def last_code_for(self, number: str) -> str | None:
        """The code in the newest message to ``number`` (E.164, or an email address), or None."""
        message = self.latest(number)
        return message.code if message else None

    def numbers(self) -> list[tuple[str, int, int]]:
        """``(number, message count, newest id)`` for each number, most recent first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT recipient, COUNT(*), MAX(id) FROM messages "
                "GROUP BY recipient ORDER BY MAX(id) DESC"
            ).fetchall()
        return [(str(r[0]), int(r[1]), int(r[2])) for r in rows]

    def clear(self, to: str | None = None) -> int:
        """Delete the messages (to ``to`` only, when given); how many were deleted."""
        with self._lock, self._connect() as db:
            if to:
                return db.execute("DELETE FROM messages WHERE recipient = ?", (to,)).rowcount
            return db.execute("DELETE FROM messages").rowcount

    def __repr__(self) -> str:
        return f"InboxSender({str(self.path)!r})"
