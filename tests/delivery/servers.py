"""Small HTTP servers on free loopback ports for the delivery tests: each request is recorded
and answered by a handler function (a vendor double, a delivery-report receiver)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    url: str

    @property
    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode(), keep_blank_values=True)
        return {name: values[0] for name, values in parsed.items()}

    @property
    def params(self) -> dict[str, str]:
        return {name: values[0] for name, values in self.query.items()}


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Answer]


class FakeServer:
    """A threaded HTTP server; ``handler`` answers each request, ``requests`` records them."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.errors: list[BaseException] = []
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                host, port = owner.server.server_address[:2]
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    f"http://{host}:{port}{self.path}",
                )
                owner.requests.append(request)
                try:
                    answer = owner.handler(request)
                except BaseException as error:  # surfaced by the test through .errors
                    owner.errors.append(error)
                    answer = Answer(500, b"handler failed")
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:  # the client gave up (a timeout test)
                    self.close_connection = True

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Recording:
    """Wraps a sender and keeps what otpgate handed it: (to, text, reference)."""

    def __init__(self, sender: object) -> None:
        self.sender = sender
        self.sent: list[tuple[str, str, str]] = []
        self.name = getattr(sender, "name", "recording")

    def send(self, to: str, text: str, *, reference: str = "") -> str:
        self.sent.append((to, text, reference))
        return self.sender.send(to, text, reference=reference)  # type: ignore[attr-defined]
