"""Pre-encoded, pipelined script calls over raw sockets, each sent to the master of its slot:
a driver whose client cost per call is a small fraction of the server's, so that the
servers, not the Python driving them, bound the throughput (``bench/cluster_masters.py``).

The calls are otpgate's own: challenges planned by a real ``Verifier`` and created with the
store's ``create`` script, then checked with the store's ``check`` script, built exactly as
``Verifier.check`` builds them (``Verifier._plan_check`` and ``Codec.check_code``). Every
reply is read and classified (``approved``, another result, or an error), never assumed.
"""

from __future__ import annotations

import selectors
import socket
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from redis.crc import key_slot

from otpgate import Verifier
from otpgate.core.phone import parse_phone
from otpgate.redis import RedisStore

#: One command: the slot of its first key, and its RESP bytes.
Command = tuple[int, bytes]


def encode(*args: str | bytes | int) -> bytes:
    """One command as a RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _command(args: Sequence[str | bytes | int]) -> Command:
    key = args[3]
    return key_slot(key if isinstance(key, bytes) else key.encode()), encode(*args)


@dataclass
class Challenges:
    """Challenges a ``Verifier`` planned: the commands that create them, and those that
    check them with the right code (one approval each) or a wrong one."""

    creates: list[Command] = field(default_factory=list)
    checks: list[Command] = field(default_factory=list)
    wrong: list[Command] = field(default_factory=list)
    ids: list[tuple[str, str]] = field(default_factory=list)


def plan(gate: Verifier, count: int, tag: str = "u") -> Challenges:
    """``count`` pending sign-in challenges of distinct subjects (so their keys spread over
    the slots as production keys do), as commands for ``gate``'s ``RedisStore``."""
    store = gate.store
    assert isinstance(store, RedisStore)
    codec = store._codec
    number = parse_phone("+33612345678", gate.settings)
    out = Challenges()
    now = gate.clock()
    for n in range(count):
        start = gate._plan_start(f"{tag}-{n}", number, "login", None, None, None, None)
        record = start.record
        create = codec.create_challenge(record, record.id.split(".")[0], now, gate.lockout)
        out.creates.append(_command(create.evalsha()))
        for code, into in ((start.code, out.checks), (_wrong(start.code), out.wrong)):
            challenge_id, digest, context_digest, _ = gate._plan_check(record.id, code, None, None)
            check = codec.check_code(
                challenge_id, digest, context_digest, now, gate.settings.max_attempts, gate.lockout
            )
            into.append(_command(check.evalsha()))
        out.ids.append((record.id, start.code))
    return out


def _wrong(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


def slot_owners(port: int) -> dict[int, int]:
    """Slot -> the port of its master, from ``CLUSTER SLOTS`` on the node at ``port``."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(encode("CLUSTER", "SLOTS"))
        reply = _read_all(sock)
    owners: dict[int, int] = {}
    for start, end, master, *_ in reply:
        owners.update(dict.fromkeys(range(start, end + 1), master[1]))
    return owners


def _read_all(sock: socket.socket) -> object:
    """One reply of any RESP2 type (for the small set-up commands only)."""
    with sock.makefile("rb") as reader:
        return _read_one(reader)


def _read_one(reader: BinaryIO) -> object:
    line = reader.readline()[:-2]
    kind, rest = line[:1], line[1:]
    if kind == b"*":
        return [_read_one(reader) for _ in range(int(rest))]
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else reader.read(size + 2)[:-2]
    if kind == b":":
        return int(rest)
    if kind == b"-":
        raise RuntimeError(rest.decode())
    return rest


def by_master(commands: Iterable[Command], owners: dict[int, int], batch: int) -> dict[int, list]:
    """The commands as pipelines of ``batch`` (bytes, how many) per master port."""
    grouped: dict[int, list[bytes]] = {}
    for slot, data in commands:
        grouped.setdefault(owners[slot], []).append(data)
    return {
        port: [
            (b"".join(datas[i : i + batch]), len(datas[i : i + batch]))
            for i in range(0, len(datas), batch)
        ]
        for port, datas in grouped.items()
    }


@dataclass
class Tally:
    """The replies read: by script result (``approved``, ``expired``, ...) and errors."""

    results: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def replies(self) -> int:
        return sum(self.results.values()) + sum(self.errors.values())


class _Reader:
    """Counts the RESP replies on one connection as they arrive (bulk strings and errors:
    what otpgate's scripts answer)."""

    def __init__(self, tally: Tally) -> None:
        self.buffer = b""
        self.tally = tally

    def feed(self, data: bytes) -> int:
        """Take ``data``; how many replies it completed. (The hot loop of the driver: an
        approval is recognised by its prefix, any other reply is named in full.)"""
        buf = self.buffer + data if self.buffer else data
        pos, size, done, approved = 0, len(buf), 0, 0
        find, startswith = buf.find, buf.startswith
        while pos < size:
            line = find(b"\r\n", pos)
            if line < 0:
                break
            if buf[pos] == 36:  # $: a bulk string, "result|..."
                end = line + 4 + int(buf[pos + 1 : line])
                if end > size:
                    break
                if startswith(b"approved|", line + 2):
                    approved += 1
                else:
                    bar = find(b"|", line + 2, end)
                    self.tally.results[buf[line + 2 : bar if bar >= 0 else end - 2].decode()] += 1
                pos = end
            else:  # -ERR ..., or a type no script here returns
                self.tally.errors[buf[pos:line].decode(errors="replace")[:60]] += 1
                pos = line + 2
            done += 1
        if approved:
            self.tally.results["approved"] += approved
        self.buffer = buf[pos:]
        return done


def drive(pipelines: dict[int, list], window: int = 2) -> Tally:
    """Send every master its pipelines over one connection each, at most ``window`` in
    flight per connection, and read every reply."""
    tally = Tally()
    selector = selectors.DefaultSelector()
    socks = []
    for port, batches in pipelines.items():
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(sock)
        state = (_Reader(tally), deque(batches), deque())
        selector.register(sock, selectors.EVENT_READ, state)
        for _ in range(window):
            _send_next(sock, state)
    try:
        while selector.get_map():
            for key, _ in selector.select():
                sock, (reader, todo, flying) = key.fileobj, key.data  # type: ignore[misc]
                data = sock.recv(1 << 20)
                if not data:
                    raise ConnectionError("a master closed the connection")
                count = reader.feed(data)
                while count:
                    taken = min(count, flying[0])
                    flying[0] -= taken
                    count -= taken
                    if not flying[0]:
                        flying.popleft()
                        _send_next(sock, key.data)
                if not flying and not todo:
                    selector.unregister(sock)
    finally:
        selector.close()
        for sock in socks:
            sock.close()
    return tally


def _send_next(sock: socket.socket, state: tuple[_Reader, deque, deque]) -> None:
    _, todo, flying = state
    if todo:
        data, count = todo.popleft()
        sock.sendall(data)
        flying.append(count)
