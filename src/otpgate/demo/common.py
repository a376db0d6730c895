"""What the demo sites share: their users, and the sender and store they read from the
environment (so ``otpgate demo`` can point all three at the dev inbox, or at Redis).

``DEMO_OTPGATE_SENDER``  ``console`` (default: each SMS printed), ``inbox`` (an
                         :class:`~otpgate.inbox.InboxSender` on ``$OTPGATE_INBOX_DB``, which
                         takes the email codes too), or a dotted path to a sender class,
                         factory or instance
``DEMO_OTPGATE_STORE``   ``memory`` (default: one process) or a Redis URL

No site has a public key: each takes its keys from the environment, else makes random ones
(:func:`demo_key`). Nothing here imports a web framework.
"""

from __future__ import annotations

import importlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from otpgate.core.errors import ConfigurationError
from otpgate.core.senders import ConsoleSender
from otpgate.core.settings import generate_secret_key

SENDER_ENV = "DEMO_OTPGATE_SENDER"
STORE_ENV = "DEMO_OTPGATE_STORE"
#: Each site's keys start with its own prefix, so the three can share one Redis.
REDIS_PREFIX = "otpgate-demo:{site}:"


@dataclass(frozen=True)
class DemoUser:
    name: str
    password: str
    phone: str | None
    note: str


DJANGO_USERS = (
    DemoUser("alice", "otpgate-demo", "+33612345678", "a code after the password"),
    DemoUser("bob", "otpgate-demo", None, "staff: must set up a second factor first"),
)
FLASK_USERS = (
    DemoUser("alice", "demo-password", "+447911123456", "a code after the password"),
    DemoUser("bob", "demo-password", None, "no second factor yet"),
)
#: The payments API's users sign in with bearer tokens (``alice-token``, ``bob-token``).
FASTAPI_USERS = (
    DemoUser("alice", "alice-token", "+33612345678", "bearer token"),
    DemoUser("bob", "bob-token", "+4915112345678", "bearer token"),
)


def _import(path: str) -> Any:
    module, _, name = path.rpartition(".")
    if not module:
        raise ConfigurationError(SENDER_ENV, f"expected a dotted path, got {path!r}")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise ConfigurationError(SENDER_ENV, f"cannot import {path!r} ({error})") from None


def demo_sender() -> Any:
    """The sender ``DEMO_OTPGATE_SENDER`` names (a console sender by default)."""
    value = os.environ.get(SENDER_ENV, "").strip() or "console"
    if value == "console":
        return ConsoleSender()
    if value == "inbox":
        from otpgate.inbox import InboxSender

        return InboxSender()  # $OTPGATE_INBOX_DB, else ./otpgate-inbox.sqlite3
    target = _import(value)
    if isinstance(target, type) or (callable(target) and not hasattr(target, "send")):
        target = target()
    if not callable(getattr(target, "send", None)):
        raise ConfigurationError(SENDER_ENV, f"{value!r} is not a sender (no send method)")
    return target


def demo_email_sender() -> Any:
    """The demo's email sender: the dev inbox when ``DEMO_OTPGATE_SENDER`` is ``inbox`` (as
    ``otpgate demo`` sets it: emails then show beside the texts), else None (no email codes)."""
    if os.environ.get(SENDER_ENV, "").strip() != "inbox":
        return None
    from otpgate.inbox import InboxSender

    return InboxSender()


def demo_redis_url() -> str | None:
    """The Redis URL ``DEMO_OTPGATE_STORE`` names, or None for the in-memory store."""
    value = os.environ.get(STORE_ENV, "").strip()
    return None if value in {"", "memory"} else value


def redis_prefix(site: str) -> str:
    return REDIS_PREFIX.format(site=site)


def demo_key(env: str, keep: str | Path | None = None) -> str:
    """The key ``$env`` holds; else a random one: for this run only (``keep`` None), or kept
    in the file ``keep`` (made on first use, readable by this user only), so that what was
    sealed under it, next to that file, stays readable on the next run."""
    given = os.environ.get(env, "").strip()
    if given:
        return given
    if keep is None:
        return generate_secret_key()
    path = Path(keep)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        handle = os.open(path, flags, 0o600)
    except FileExistsError:
        return _read_private(path, env)
    key = generate_secret_key()
    with os.fdopen(handle, "w") as file:
        file.write(key + "\n")
    return key


def _read_private(path: Path, env: str) -> str:
    info = path.lstat()
    private = stat.S_ISREG(info.st_mode) and (os.name == "nt" or not info.st_mode & 0o077)
    if hasattr(os, "getuid"):
        private = private and info.st_uid == os.getuid()
    key = path.read_text().strip() if private else ""
    if len(key) < 16:
        raise ConfigurationError(
            env, f"{path} is not a private key file of this user: remove it, or set {env}"
        )
    return key
