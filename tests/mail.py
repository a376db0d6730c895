"""A real SMTP server on loopback (aiosmtpd) for the email tests, and its TLS material.

``MailServer`` keeps every message it accepts; ``fail_with`` makes it answer each
``DATA`` with an SMTP error (``"451 4.3.0 try later"``: an outage), ``stop()`` closes the
port (a server that is down). ``mail_server`` is started once per test session.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import re
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.delivery.servers import free_port

USER, PASSWORD = "mailer", "s3cret-pass"


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage
    tls: bool
    user: str | None

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def code(self) -> str | None:
        found = re.search(r"(?<!\d)\d{6,10}(?!\d)", self.subject)
        return found.group(0) if found else None

    def body(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        if self.server.fail_with:
            return self.server.fail_with
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.server.add(
            Received(
                envelope.mail_from,
                tuple(envelope.rcpt_tos),
                message,
                smtp.transport.get_extra_info("ssl_object") is not None,
                session.auth_data.decode() if isinstance(session.auth_data, bytes) else None,
            )
        )
        return "250 Message accepted for delivery"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, auth_data=data.login if ok else None)


class MailServer:
    """An aiosmtpd server in its own thread. ``tls``: "none", "starttls" (AUTH required,
    after STARTTLS) or "implicit"."""

    def __init__(self, tls: str = "none", context: ssl.SSLContext | None = None) -> None:
        self.port = free_port()
        self.messages: list[Received] = []
        self.fail_with = ""
        self._lock = threading.Lock()
        kwargs: dict[str, Any] = {}
        if tls == "starttls":
            kwargs.update(
                tls_context=context,
                require_starttls=True,
                authenticator=_authenticate,
                auth_required=True,
            )
        elif tls == "implicit":
            kwargs.update(ssl_context=context)
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **kwargs
        )
        self._running = False

    def start(self) -> MailServer:
        self._controller.start()
        self._running = True
        return self

    def stop(self) -> None:
        if self._running:
            self._controller.stop()
            self._running = False
        if not self._controller.loop.is_closed():
            self._controller.loop.close()

    def add(self, received: Received) -> None:
        with self._lock:
            self.messages.append(received)

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if address in m.recipients]

    def last_code_for(self, address: str) -> str | None:
        sent = self.to(address)
        return sent[-1].code if sent else None


class DownServer:
    """A port nothing listens on: a mail server that is down."""

    def __init__(self) -> None:
        self.port = free_port()


@pytest.fixture(scope="session")
def mail_server() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail(mail_server: MailServer) -> MailServer:
    """The session's server, healthy and empty."""
    mail_server.fail_with = ""
    with mail_server._lock:
        mail_server.messages.clear()
    return mail_server


def self_signed(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a certificate of 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client
