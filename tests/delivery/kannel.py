"""Real Kannel for the tests: Debian's bearerbox and smsbox, and the fake SMSC ``fakesmsc``
(package kannel-extras), on free loopback ports with a generated configuration.

fakesmsc logs each line the bearerbox sends it as ``Got message N: <from to type data>``;
a text with newlines arrives as several lines, which :func:`parse_fakesmsc` joins again.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest

from tests.delivery.servers import free_port

USERNAME = "otpgate"
PASSWORD = "kannel-test-password"
ADMIN_PASSWORD = "kannel-admin-password"
_LINE = re.compile(r"Got message \d+: <(.*)>$")
_HEAD = re.compile(r"^(\S+) (\+?\d+) (text|data|ucs-2|udh) (.*)$", re.DOTALL)


def _binary(name: str, *candidates: str) -> str:
    override = os.environ.get(f"OTPGATE_{name.upper()}")
    for path in (override, shutil.which(name), *candidates):
        if path and os.access(path, os.X_OK):
            return path
    pytest.fail(
        f"{name} not found: the Kannel tests need Debian's kannel and kannel-extras packages "
        "(apt-get install kannel kannel-extras), or set OTPGATE_" + name.upper()
    )


@dataclass
class Received:
    sender: str
    receiver: str
    kind: str
    text: str


def _decode(kind: str, data: str) -> str:
    if kind == "text":
        return data
    raw = unquote_to_bytes(data.replace("+", "%20"))
    return raw.decode("utf-16-be" if kind == "ucs-2" else "utf-8", "replace")


def parse_fakesmsc(log: str) -> list[Received]:
    """The messages fakesmsc received, with multi-line texts joined again."""
    messages: list[Received] = []
    for line in log.splitlines():
        match = _LINE.search(line)
        if not match:
            continue
        content = match.group(1)
        head = _HEAD.match(content)
        if head:
            sender, receiver, kind, data = head.groups()
            messages.append(Received(sender, receiver, kind, data))
        elif messages and messages[-1].kind == "text":
            messages[-1].text += "\n" + content
    for message in messages:
        message.text = _decode(message.kind, message.text)
    return messages


@dataclass
class Kannel:
    """A running bearerbox + fakesmsc + smsbox; ``sendsms_url`` is the smsbox's."""

    directory: Path
    admin_port: int = field(default_factory=free_port)
    box_port: int = field(default_factory=free_port)
    smsc_port: int = field(default_factory=free_port)
    sendsms_port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.sendsms_port}"

    @property
    def fake_log(self) -> Path:
        return self.directory / "fakesmsc.log"

    def config(self, sendsms_port: int, name: str) -> Path:
        path = self.directory / f"{name}.conf"
        path.write_text(
            f"""group = core
admin-port = {self.admin_port}
admin-interface = 127.0.0.1
admin-password = {ADMIN_PASSWORD}
admin-allow-ip = "127.0.0.1"
smsbox-port = {self.box_port}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "{self.directory}/bearerbox.log"
log-level = 0
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
port = {self.smsc_port}
our-host = 127.0.0.1
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.box_port}
sendsms-port = {sendsms_port}
sendsms-interface = 127.0.0.1
log-file = "{self.directory}/{name}.log"
log-level = 0

group = sendsms-user
username = {USERNAME}
password = {PASSWORD}
max-messages = 3
concatenation = true

group = sms-service
keyword = default
text = "This number does not take messages."
"""
        )
        return path

    def _spawn(self, name: str, *argv: str) -> subprocess.Popen[bytes]:
        output = open(self.directory / f"{name}.out", "ab")  # noqa: SIM115
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
        output.close()
        self.processes.append(process)
        return process

    def start(self) -> None:
        bearerbox = _binary("bearerbox", "/usr/sbin/bearerbox")
        smsbox = _binary("smsbox", "/usr/sbin/smsbox")
        fakesmsc = _binary("fakesmsc", "/usr/lib/kannel/test/fakesmsc")
        config = self.config(self.sendsms_port, "smsbox")
        self._spawn("bearerbox", bearerbox, str(config))
        _wait_port(self.smsc_port, "bearerbox's fake SMSC port", self)
        with open(self.fake_log, "ab") as log:
            process = subprocess.Popen(
                [fakesmsc, "-H", "127.0.0.1", "-r", str(self.smsc_port), "-m", "0", "1 2 text -"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        self.start_smsbox(self.sendsms_port, "smsbox", smsbox)
        self._wait_status(("fake[fake]", "online"))

    def start_smsbox(
        self, port: int, name: str, binary: str | None = None
    ) -> subprocess.Popen[bytes]:
        """Another smsbox on ``port``, connected to the same bearerbox."""
        config = self.config(port, name)
        process = self._spawn(name, binary or _binary("smsbox", "/usr/sbin/smsbox"), str(config))
        _wait_port(port, f"{name}'s sendsms port", self)
        return process

    def status(self) -> str:
        url = f"http://127.0.0.1:{self.admin_port}/status.txt?password={ADMIN_PASSWORD}"
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.read().decode()

    def _wait_status(self, needles: tuple[str, str]) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                lines = self.status().splitlines()
            except OSError:
                lines = []
            if any(all(n in line for n in needles) for line in lines):
                return
            time.sleep(0.1)
        pytest.fail(f"Kannel did not come up:\n{self.logs()}")

    def received(self) -> list[Received]:
        return parse_fakesmsc(self.fake_log.read_text("utf-8", "replace"))

    def wait_for(self, receiver: str, count: int = 1, timeout: float = 15) -> list[Received]:
        """The messages fakesmsc got for ``receiver``, once there are ``count`` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.received() if m.receiver == receiver]
            if len(found) >= count:
                time.sleep(0.2)  # the rest of a multi-line text
                return [m for m in self.received() if m.receiver == receiver]
            time.sleep(0.05)
        pytest.fail(f"fakesmsc got no message for {receiver}:\n{self.logs()}")

    def logs(self) -> str:
        parts = []
        for path in sorted(self.directory.glob("*.out")) + sorted(self.directory.glob("*.log")):
            tail = path.read_text("utf-8", "replace").splitlines()[-15:]
            parts.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_port(port: int, what: str, kannel: Kannel) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"{what} ({port}) did not open:\n{kannel.logs()}")
