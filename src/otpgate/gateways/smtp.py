"""SMTP: email codes through a mail server, with ``smtplib`` or (async) ``aiosmtplib``.

``SmtpSender`` (for ``Verifier``) and ``AsyncSmtpSender`` (for ``AsyncVerifier``, needs the
``otpgate[email]`` extra's ``aiosmtplib``) send one multipart message (plain text and HTML)
per code over one connection each: STARTTLS (``tls="starttls"``, port 587), implicit TLS
(``tls="implicit"``, port 465) or none (``tls="none"``: a relay on localhost only), with
optional ``AUTH``. A server that refuses the recipient is a non-retryable DeliveryFailed;
anything else (unreachable, timeout, 4xx, a dropped connection) a retryable one.
"""

from __future__ import annotations

import email.message
import email.utils
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from typing import Any, Literal

from otpgate.core.errors import ConfigurationError, DeliveryFailed
from otpgate.core.mail import EmailMessage

logger = logging.getLogger("otpgate.gateways")

TlsMode = Literal["none", "starttls", "implicit"]
_TLS_MODES = ("none", "starttls", "implicit")


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send; ``sender`` is the From address (``Bank <no-reply@bank.example>``)."""

    host: str
    port: int
    sender: str
    tls: TlsMode = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 10.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.tls not in _TLS_MODES:
            raise ConfigurationError("smtp tls", f"one of {', '.join(_TLS_MODES)}")
        if not self.host or not 0 < self.port < 65536:
            raise ConfigurationError("smtp host", "a host name and a port (1-65535)")
        if not self.sender or "\n" in self.sender or "\r" in self.sender:
            raise ConfigurationError("smtp from", "a From address on one line")
        if bool(self.username) != bool(self.password):
            raise ConfigurationError("smtp user", "a user name and a password, or neither")
        if self.timeout <= 0:
            raise ConfigurationError("smtp timeout", "more than 0 seconds")

    def context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()


def build_message(config: SmtpConfig, message: EmailMessage) -> email.message.EmailMessage:
    """The MIME message: plain text and an HTML alternative, a fresh Message-ID."""
    mime = email.message.EmailMessage()
    mime["From"] = config.sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.formatdate(localtime=False)
    domain = email.utils.parseaddr(config.sender)[1].rpartition("@")[2] or None
    mime["Message-ID"] = email.utils.make_msgid("otpgate", domain=domain)
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    return mime


def _abort(client: Any) -> None:
    """Drop an aiosmtplib connection at once (no TLS close handshake to wait for), so no
    socket outlives the send, whatever the event loop does next."""
    transport = getattr(client, "transport", None)
    if transport is not None:
        transport.abort()
    client.close()


def _failure(error: BaseException, refused: bool) -> DeliveryFailed:
    logger.warning("otpgate SMTP send failed: %s", type(error).__name__)
    return DeliveryFailed(retryable=not refused)


class SmtpSender:
    """Sends each email over its own SMTP connection (``smtplib``)."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def send_email(self, message: EmailMessage, *, reference: str = "") -> str:
        c = self.config
        mime = build_message(c, message)
        try:
            client: smtplib.SMTP
            if c.tls == "implicit":
                client = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=c.context())
            else:
                client = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            with client:
                if c.tls == "starttls":
                    client.starttls(context=c.context())
                if c.username:
                    client.login(c.username, c.password)
                client.send_message(mime)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
            raise _failure(error, refused=True) from None
        except (smtplib.SMTPException, OSError) as error:
            raise _failure(error, refused=False) from None
        return str(mime["Message-ID"])


class AsyncSmtpSender:
    """:class:`SmtpSender` for ``AsyncVerifier``, with ``aiosmtplib``."""

    def __init__(self, config: SmtpConfig) -> None:
        try:
            import aiosmtplib  # noqa: F401
        except ImportError:  # pragma: no cover - installed with the extra
            raise ConfigurationError(
                "email sender", "AsyncSmtpSender needs aiosmtplib: pip install 'otpgate[email]'"
            ) from None
        self.config = config

    async def send_email(self, message: EmailMessage, *, reference: str = "") -> str:
        import aiosmtplib

        c = self.config
        mime = build_message(c, message)
        client = aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            username=c.username or None,
            password=c.password or None,
            use_tls=c.tls == "implicit",
            start_tls=c.tls == "starttls",
            tls_context=c.context() if c.tls != "none" else None,
            timeout=c.timeout,
        )
        try:
            try:
                await client.connect()
                await client.send_message(mime)
                await client.execute_command(b"QUIT")  # the server's 221: we are done
                _abort(client)  # then drop it at once, without a TLS close handshake
            except BaseException:
                _abort(client)  # after a failure: the socket is closed now, not left open
                raise
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPSenderRefused) as error:
            raise _failure(error, refused=True) from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise _failure(error, refused=False) from None
        return str(mime["Message-ID"])
