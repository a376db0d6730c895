"""A loopback TCP proxy to a redis-server that breaks one call's bytes at a chosen point, for
the lean call's review (tests/redis/test_lean_review.py).

``arm(marker, action)``: the next request holding ``marker`` (seen passing client to server)
gets ``action`` on its connection:

- ``"hold-request"``: the chunk holding the marker is passed on, then nothing more from the
  client is read (a large command stalls mid-send: the client's buffers fill);
- ``"hold"``: the server's reply is swallowed (nothing reaches the client, the connection
  stays open) until the server closes it;
- ``"half-hold"``: the first half of the reply's first chunk reaches the client, the rest is
  swallowed;
- ``"half-reset"``: the first half reaches the client, then both sides are reset;
- ``"append"``: the reply reaches the client with ``forged`` bytes after it (a reply no
  command asked for).

``chaos``: any reply is cut at a random byte and both sides reset, at that rate.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading


class _Pair:
    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.action = ""
        self.release = threading.Event()

    def close(self) -> None:
        for s in (self.client, self.server):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


class BreakingProxy:
    """See the module."""

    def __init__(self, port: int) -> None:
        self.target = ("127.0.0.1", port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._marker = b""
        self._action = ""
        self._lock = threading.Lock()
        #: Set once an armed action has been applied (the request was seen).
        self.triggered = threading.Event()
        self.pairs: list[_Pair] = []
        #: Chaos: the chance that a reply chunk is cut at a random byte, then both sides reset.
        self.chaos = 0.0
        self.cuts = 0
        self.forged = b"$6\r\nforged\r\n"
        self._rng = random.Random(7)
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, marker: bytes, action: str) -> None:
        with self._lock:
            self._marker, self._action = marker, action
        self.triggered.clear()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            pair = _Pair(client, server)
            self.pairs.append(pair)
            threading.Thread(target=self._up, args=(pair,), daemon=True).start()
            threading.Thread(target=self._down, args=(pair,), daemon=True).start()

    def _up(self, pair: _Pair) -> None:
        try:
            while data := pair.client.recv(65536):
                with self._lock:
                    if self._marker and self._marker in data:
                        pair.action, self._marker = self._action, b""
                        hit = True
                    else:
                        hit = False
                pair.server.sendall(data)
                if hit:
                    self.triggered.set()
                if hit and pair.action == "hold-request":
                    pair.release.wait(30)  # read nothing more from the client
                    break
        except OSError:
            pass
        pair.close()

    def _down(self, pair: _Pair) -> None:
        swallowing = False
        try:
            while data := pair.server.recv(65536):
                if swallowing:
                    continue
                action = pair.action if pair.action != "hold-request" else ""
                if action:
                    pair.action = ""
                    if action == "hold":
                        swallowing = True
                        continue
                    if action == "append":
                        pair.client.sendall(data + self.forged)
                        continue
                    pair.client.sendall(data[: max(1, len(data) // 2)])
                    if action == "half-reset":
                        break
                    swallowing = True
                    continue
                if self.chaos and self._cut(data):
                    pair.client.sendall(data[: self._rng.randrange(len(data))])
                    break
                pair.client.sendall(data)
        except OSError:
            pass
        pair.close()

    def _cut(self, data: bytes) -> bool:
        with self._lock:
            if self._rng.random() >= self.chaos:
                return False
            self.cuts += 1
            return True

    def release(self) -> None:
        """End every held request: both sides of its connection are closed."""
        for pair in self.pairs:
            pair.release.set()

    def close(self) -> None:
        self.listener.close()
        for pair in self.pairs:
            pair.release.set()
            pair.close()
