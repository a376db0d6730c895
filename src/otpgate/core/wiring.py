"""Where otpgate's parts come from: one vocabulary for every integration.

The same ``OTPGATE_*`` names choose the store, the sender and the credentials database in
Django settings, Flask's ``app.config`` and the environment FastAPI's ``OtpGate.from_env``
reads (``otpgate check`` reads them too):

``OTPGATE_STORE``          ``"memory"`` (default: one process only) or a Redis URL
                           (``redis://``, ``rediss://``, ``unix://``, ``redis+sentinel://``)
``OTPGATE_STORE_OPTIONS``  keyword arguments for ``RedisStore.from_url`` (``prefix``,
                           ``cluster``, redis-py options): a mapping, or JSON text
``OTPGATE_SENDER``         ``"console"`` (default: prints each SMS), ``"outbox"`` (tests),
                           ``"console+voice"`` / ``"outbox+voice"`` (voice calls too) or
                           the dotted path (``pkg.mod.name`` or ``pkg.mod:name``) of a sender,
                           its class or a factory that builds it
``OTPGATE_DATABASE_URL``   the SQLAlchemy URL of the credentials tables (Flask, FastAPI;
                           ``"memory"``: in memory). Django keeps them in its own database.
``OTPGATE_SIM_SWAP``       the dotted path of the SIM-swap check asked before a code goes
                           to a number on file (with ``OTPGATE_SIM_SWAP_MAX_AGE``): an
                           object with ``check()``, its class or a factory (for FastAPI an
                           async one); unset: none.
``OTPGATE_EMAIL_SENDER``   unset (default: no email codes), ``"console"``, ``"outbox"``,
                           ``"smtp"`` (the ``OTPGATE_SMTP_*`` keys) or a dotted path of an
                           email sender (``send_email``), its class or a factory
``OTPGATE_SMTP_HOST``, ``OTPGATE_SMTP_PORT``, ``OTPGATE_SMTP_TLS`` (``starttls``, default;
``implicit``; ``none``), ``OTPGATE_SMTP_USER``, ``OTPGATE_SMTP_PASSWORD``,
``OTPGATE_SMTP_FROM`` (the From address), ``OTPGATE_SMTP_TIMEOUT`` (seconds, default 10)

Old names keep working with a :class:`DeprecationWarning` naming the new one
(:data:`RENAMED`). This module reads and validates; it imports no framework and builds
only senders (:func:`build_sender`).
"""

from __future__ import annotations

import importlib
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigurationError

STORE = "OTPGATE_STORE"
STORE_OPTIONS = "OTPGATE_STORE_OPTIONS"
SENDER = "OTPGATE_SENDER"
DATABASE_URL = "OTPGATE_DATABASE_URL"
SIM_SWAP = "OTPGATE_SIM_SWAP"
EMAIL_SENDER = "OTPGATE_EMAIL_SENDER"
SMTP_KEYS = (
    "OTPGATE_SMTP_HOST",
    "OTPGATE_SMTP_PORT",
    "OTPGATE_SMTP_TLS",
    "OTPGATE_SMTP_USER",
    "OTPGATE_SMTP_PASSWORD",
    "OTPGATE_SMTP_FROM",
    "OTPGATE_SMTP_TIMEOUT",
)

#: Old name → the name that replaced it (the value means the same).
RENAMED: Mapping[str, str] = {"OTPGATE_REDIS_URL": STORE}

#: Every name this module reads, old ones included.
KEYS = frozenset(
    {STORE, STORE_OPTIONS, SENDER, DATABASE_URL, SIM_SWAP, EMAIL_SENDER, *SMTP_KEYS, *RENAMED}
)

MEMORY = "memory"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "redis+sentinel://")


@dataclass(frozen=True)
class Wiring:
    """The parts one configuration names. ``keys`` maps each new name to the key it was read
    from (an old name, when the configuration still uses one), for messages."""

    store: str = MEMORY
    store_options: Mapping[str, Any] = field(default_factory=dict)
    #: ``"console"``, ``"outbox"``, a dotted path or an object; None when not set.
    sender: Any = None
    #: None when not set (each integration has its default); ``"memory"``: in memory.
    database_url: str | None = None
    keys: Mapping[str, str] = field(default_factory=dict)
    #: A dotted path or an object; None when not set (no SIM-swap check).
    sim_swap: Any = None
    #: ``"console"``, ``"outbox"``, ``"smtp"``, a dotted path or an object; None: no email.
    email_sender: Any = None
    #: The ``OTPGATE_SMTP_*`` values given (for ``"smtp"``).
    smtp: Mapping[str, Any] = field(default_factory=dict)

    @property
    def uses_redis(self) -> bool:
        """The store is Redis (else the in-memory store: one process only)."""
        return self.store != MEMORY

    @property
    def store_key(self) -> str:
        """The name the store was set under (``OTPGATE_STORE`` unless an old name)."""
        return self.keys.get(STORE, STORE)


def read(mapping: Mapping[str, Any], *, stacklevel: int = 2) -> Wiring:
    """The :class:`Wiring` of flat ``OTPGATE_*`` keys (ConfigurationError names the key).

    An old name (:data:`RENAMED`) is read when its new name is absent, with a
    ``DeprecationWarning``; ``stacklevel`` points the warning at the integration's caller.
    """
    values, keys = _renamed(mapping, stacklevel + 1)
    store = parse_store(values.get(STORE), keys.get(STORE, STORE))
    options = parse_store_options(values.get(STORE_OPTIONS))
    sender = values.get(SENDER)
    if sender == "":
        sender = None
    is_object = callable(sender) or hasattr(sender, "send")
    if sender is not None and not isinstance(sender, str) and not is_object:
        raise ConfigurationError(SENDER, "expected 'console', 'outbox' or a dotted path")
    database = values.get(DATABASE_URL)
    if database is not None and not isinstance(database, str):
        raise ConfigurationError(DATABASE_URL, "expected a SQLAlchemy URL or 'memory'")
    sim_swap = values.get(SIM_SWAP) or None
    is_check = callable(sim_swap) or hasattr(sim_swap, "check")
    if sim_swap is not None and not isinstance(sim_swap, str) and not is_check:
        raise ConfigurationError(SIM_SWAP, "expected a dotted path to a SIM-swap check")
    email_sender = values.get(EMAIL_SENDER)
    if email_sender == "":
        email_sender = None
    if email_sender is not None and not (
        isinstance(email_sender, str)
        or callable(email_sender)
        or hasattr(email_sender, "send_email")
    ):
        raise ConfigurationError(EMAIL_SENDER, "expected 'console', 'outbox', 'smtp' or a path")
    smtp = {key: values[key] for key in SMTP_KEYS if values.get(key) not in (None, "")}
    return Wiring(store, options, sender, database or None, keys, sim_swap, email_sender, smtp)


def _renamed(mapping: Mapping[str, Any], stacklevel: int) -> tuple[dict[str, Any], dict[str, str]]:
    values = {key: mapping[key] for key in KEYS if key in mapping}
    keys: dict[str, str] = {}
    for old, new in RENAMED.items():
        if old not in values:
            continue
        value = values.pop(old)
        if new in values:
            message = f"{old} is deprecated and ignored: {new} is set; remove {old}"
        else:
            message = f"{old} is deprecated: rename it {new} (same value)"
            values[new] = value
            keys[new] = old
        warnings.warn(message, DeprecationWarning, stacklevel=stacklevel + 1)
    return values, keys


def parse_store(value: object, key: str = STORE) -> str:
    """``"memory"`` (also for None or ``""``) or a Redis URL."""
    if value in (None, "", MEMORY):
        return MEMORY
    if isinstance(value, str) and value.startswith(REDIS_SCHEMES):
        return value
    raise ConfigurationError(
        key, "expected 'memory' or a redis://, rediss://, unix:// or redis+sentinel:// URL"
    )


def parse_store_options(value: object) -> dict[str, Any]:
    """A mapping, or JSON text such as ``{"cluster": true}`` (environment variables)."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            expected = 'expected JSON such as {"cluster": true}'
            raise ConfigurationError(STORE_OPTIONS, expected) from None
    if not isinstance(value, Mapping):
        raise ConfigurationError(STORE_OPTIONS, "expected a mapping")
    return dict(value)


def import_path(path: str) -> Any:
    """The object at ``pkg.mod.name`` or ``pkg.mod:name`` (ImportError if there is none)."""
    module, colon, name = path.partition(":")
    if not colon:
        module, _, name = path.rpartition(".")
    if not module or not name:
        raise ImportError(f"{path!r} is not a dotted path")
    target = importlib.import_module(module)
    for part in name.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ImportError(f"{module!r} has no {name!r}") from None
    return target


def build_sender(value: Any) -> Any:
    """The sender ``OTPGATE_SENDER`` names: ``"console"``, ``"outbox"`` (``"console+voice"``,
    ``"outbox+voice"``: calls too, so the ``voice`` factor is offered), a dotted path to a
    sender, its class or a factory, or one of those objects (ConfigurationError if not)."""
    from .senders import ConsoleSender, OutboxSender  # settings → wiring: no cycle back
    from .voice import ConsoleVoiceSender, OutboxVoiceSender, PhoneSender

    if value in (None, "", "console"):
        return ConsoleSender()
    if value == "outbox":
        return OutboxSender()
    if value == "console+voice":  # texts and calls printed: the voice factor offered
        return PhoneSender(ConsoleSender(), ConsoleVoiceSender())
    if value == "outbox+voice":
        return PhoneSender(OutboxSender(), OutboxVoiceSender())
    return build_part(value, SENDER, "send")


def build_sim_swap(value: Any) -> Any:
    """The SIM-swap check ``OTPGATE_SIM_SWAP`` names (a dotted path to a check, its class or
    a factory, or one of those objects), or None when it is not set."""
    return None if value in (None, "") else build_part(value, SIM_SWAP, "check")


def build_part(value: Any, key: str, method: str) -> Any:
    """The object ``value`` names: itself if it has ``method``, else what the object at its
    dotted path is, or builds (a class or a factory called with no argument)."""
    target = value
    if isinstance(value, str):
        try:
            target = import_path(value)
        except ImportError as error:
            raise ConfigurationError(key, f"cannot import {value!r} ({error})") from error
    if isinstance(target, type) or (callable(target) and not hasattr(target, method)):
        target = target()
    if not callable(getattr(target, method, None)):
        raise ConfigurationError(key, f"{type(target).__name__} has no {method}() method")
    return target


def smtp_config(values: Mapping[str, Any]) -> Any:
    """The :class:`~otpgate.gateways.smtp.SmtpConfig` of the ``OTPGATE_SMTP_*`` values."""
    from otpgate.gateways.smtp import SmtpConfig

    if not values.get("OTPGATE_SMTP_HOST") or not values.get("OTPGATE_SMTP_FROM"):
        raise ConfigurationError(EMAIL_SENDER, "'smtp' needs OTPGATE_SMTP_HOST and _FROM")
    tls = str(values.get("OTPGATE_SMTP_TLS", "starttls")).lower()
    default_port = {"implicit": 465, "none": 25}.get(tls, 587)
    try:
        port = int(values.get("OTPGATE_SMTP_PORT", default_port))
        timeout = float(values.get("OTPGATE_SMTP_TIMEOUT", 10))
    except (TypeError, ValueError):
        raise ConfigurationError("OTPGATE_SMTP_PORT", "a port number and a timeout") from None
    return SmtpConfig(
        host=str(values["OTPGATE_SMTP_HOST"]),
        port=port,
        sender=str(values["OTPGATE_SMTP_FROM"]),
        tls=tls,  # type: ignore[arg-type]  # SmtpConfig refuses other values
        username=str(values.get("OTPGATE_SMTP_USER", "")),
        password=str(values.get("OTPGATE_SMTP_PASSWORD", "")),
        timeout=timeout,
    )


def build_email_sender(
    value: Any, smtp: Mapping[str, Any] | None = None, *, asynchronous: bool = False
) -> Any:
    """The email sender ``OTPGATE_EMAIL_SENDER`` names, or None when it is not set:
    ``"console"``, ``"outbox"``, ``"smtp"`` (``SmtpSender``, or ``AsyncSmtpSender`` for an
    ``asynchronous`` verifier, from the ``OTPGATE_SMTP_*`` values), a dotted path to a
    sender, its class or a factory, or one of those objects."""
    from .mailers import ConsoleEmailSender, OutboxEmailSender

    if value in (None, ""):
        return None
    if value == "console":
        return ConsoleEmailSender()
    if value == "outbox":
        return OutboxEmailSender()
    if value == "smtp":
        from otpgate.gateways.smtp import AsyncSmtpSender, SmtpSender

        config = smtp_config(smtp or {})
        return AsyncSmtpSender(config) if asynchronous else SmtpSender(config)
    target = value
    if isinstance(value, str):
        try:
            target = import_path(value)
        except ImportError as error:
            raise ConfigurationError(EMAIL_SENDER, f"cannot import {value!r} ({error})") from error
    if isinstance(target, type) or (callable(target) and not hasattr(target, "send_email")):
        target = target()
    if not callable(getattr(target, "send_email", None)):
        raise ConfigurationError(EMAIL_SENDER, f"{type(target).__name__} has no send_email()")
    return target
