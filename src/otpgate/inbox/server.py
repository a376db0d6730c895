"""``otpgate inbox``: a local web page and JSON API over an :class:`InboxSender` file.

Routes: ``/`` (the page; ``?to=`` filters, ``?lang=en|zh`` overrides Accept-Language),
``/fragment`` (the list, for the page's refresh), ``GET /api/messages?to=&after=&limit=``
(newest first), ``GET /api/messages/latest?to=`` (404 when there is none),
``GET /api/numbers``, ``DELETE /api/messages?to=``.

The inbox shows codes and full numbers, so it binds to loopback addresses only unless
``allow_remote`` is set, and answers only requests addressed to a loopback host name (no
DNS rebinding from a web page).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from otpgate.core.framing import framing_headers

from .assets import SCRIPT, STYLE
from .page import pick_language, render_list, render_page
from .store import InboxSender

logger = logging.getLogger("otpgate.inbox")

_MAX_LIMIT = 500
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # the core's framing protection (X-Frame-Options: DENY, frame-ancestors 'none')
    **framing_headers(policy="default-src 'self'"),
}


class RemoteBindRefused(ValueError):
    """The address is not a loopback one and ``allow_remote`` was not given."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) only means this machine."""
    name = host.strip("[]")
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def check_bind(host: str, *, allow_remote: bool = False) -> None:
    """Raise RemoteBindRefused unless ``host`` is loopback or ``allow_remote`` is set."""
    if not allow_remote and not is_loopback(host):
        raise RemoteBindRefused(
            f"refusing to serve the inbox on {host}: it shows codes and phone numbers; "
            "use a loopback address such as 127.0.0.1, or pass --allow-remote"
        )


def normalise_number(raw: str) -> str:
    """``?to=+33…`` arrives as `` 33…`` (a ``+`` in a query is a space): put it back. An
    email address (``?to=alice@example.org``) is taken as it is."""
    digits = "".join(raw.split())
    if "@" in digits:
        return digits
    return digits if not digits or digits.startswith("+") else "+" + digits


class InboxServer(ThreadingHTTPServer):
    """The inbox's HTTP server; ``server_address`` holds the port it got."""

    daemon_threads = True

    def __init__(
        self,
        inbox: InboxSender,
        host: str = "127.0.0.1",
        port: int = 8025,
        *,
        allow_remote: bool = False,
    ) -> None:
        check_bind(host, allow_remote=allow_remote)
        self.inbox = inbox
        self.allow_remote = allow_remote
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.address_family = family
        super().__init__((host.strip("[]"), port), _Handler)

    @property
    def url(self) -> str:
        """The inbox page's address, e.g. ``http://127.0.0.1:8025/``."""
        host, port = str(self.server_address[0]), int(self.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"


class _Handler(BaseHTTPRequestHandler):
    server: InboxServer
    server_version = "otpgate-inbox"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        # The default access log would print query strings, which hold numbers.
        logger.debug("%s %s", self.command, urlsplit(self.path).path)

    def _host_allowed(self) -> bool:
        if self.server.allow_remote:
            return True
        host = urlsplit("//" + self.headers.get("Host", "")).hostname or ""
        return host == "localhost" or host.endswith(".localhost") or _is_ip_loopback(host)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in _SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: object) -> None:
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def _html(self, text: str) -> None:
        self._send(200, text.encode("utf-8"), "text/html; charset=utf-8")

    def _query(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        return parts.path, query

    def do_GET(self) -> None:
        if not self._host_allowed():
            self._json(403, {"error": "the inbox only answers requests to a loopback host"})
            return
        path, query = self._query()
        inbox = self.server.inbox
        to = normalise_number(query.get("to", ""))
        language = pick_language(self.headers.get("Accept-Language"), query.get("lang"))
        try:
            after = max(0, int(query.get("after", "0") or 0))
            limit = min(_MAX_LIMIT, max(1, int(query.get("limit", "200") or 200)))
        except ValueError:
            self._json(400, {"error": "after and limit are whole numbers"})
            return
        if path == "/":
            messages = inbox.messages(to or None, limit=limit)
            self._html(render_page(messages, language, to, str(inbox.path)))
        elif path == "/fragment":
            self._html(render_list(inbox.messages(to or None, limit=limit), language))
        elif path == "/api/messages":
            found = inbox.messages(to or None, after=after, limit=limit)
            self._json(200, [m.as_dict() for m in found])
        elif path == "/api/messages/latest":
            latest = inbox.latest(to) if to else None
            if latest is None:
                self._json(404, {"error": "no message to this number" if to else "give ?to="})
            else:
                self._json(200, latest.as_dict())
        elif path == "/api/numbers":
            rows = inbox.numbers()
            self._json(200, [{"to": n, "count": c, "latest_id": i} for n, c, i in rows])
        elif path == "/inbox.js":
            self._send(200, SCRIPT.encode(), "text/javascript; charset=utf-8")
        elif path == "/inbox.css":
            self._send(200, STYLE.encode(), "text/css; charset=utf-8")
        else:
            self._json(404, {"error": "not found"})

    do_HEAD = do_GET

    def do_DELETE(self) -> None:
        if not self._host_allowed():
            self._json(403, {"error": "the inbox only answers requests to a loopback host"})
            return
        path, query = self._query()
        if path != "/api/messages":
            self._json(404, {"error": "not found"})
            return
        deleted = self.server.inbox.clear(normalise_number(query.get("to", "")) or None)
        self._json(200, {"deleted": deleted})


def _is_ip_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_inbox(
    path: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8025,
    *,
    allow_remote: bool = False,
) -> int:
    """Serve the inbox until interrupted (what ``otpgate inbox`` runs)."""
    check_bind(host, allow_remote=allow_remote)
    inbox = InboxSender(path)
    with InboxServer(inbox, host, port, allow_remote=allow_remote) as server:
        print(f"otpgate inbox: {server.url}  (file {inbox.path}; Ctrl+C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("\notpgate inbox stopped.")
    return 0
