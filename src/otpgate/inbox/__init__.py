"""A development SMS inbox: ``InboxSender`` keeps every SMS in a SQLite file and
``otpgate inbox`` shows them on a local web page and JSON API (stdlib only).

::

    gate = Verifier(settings, sender=InboxSender("otpgate-inbox.sqlite3"))
    # then: otpgate inbox --db otpgate-inbox.sqlite3   →  http://127.0.0.1:8025/

Tests read codes back with ``InboxSender(path).last_code_for("+33612345678")`` or
``GET /api/messages/latest?to=+33612345678``.
"""

from __future__ import annotations

from .server import InboxServer, RemoteBindRefused, is_loopback, serve_inbox
from .store import DEFAULT_INBOX_PATH, InboxMessage, InboxSender, default_inbox_path, extract_code

__all__ = [
    "DEFAULT_INBOX_PATH",
    "InboxMessage",
    "InboxSender",
    "InboxServer",
    "RemoteBindRefused",
    "default_inbox_path",
    "extract_code",
    "is_loopback",
    "serve_inbox",
]
