"""The parts of the verifiers as each kind of view needs them (``runtime.py`` builds them).

A sender, voice sender, email sender or SIM-swap check may be blocking or async; the sync
``Verifier`` gets blocking calls (an async part runs to completion), the ``AsyncVerifier``
awaitable ones (a blocking part runs in a worker thread, unless it says it is
``nonblocking``). And the store the settings name: in memory, or Redis through
``otpgate.redis``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async

from otpgate.core.errors import ConfigurationError, DeliveryFailed
from otpgate.core.memory_store import MemoryStore

from . import conf


def email_sender(sender: Any, *, asynchronous: bool) -> Any:
    """``sender`` (an email sender, or None) for the async verifier or the sync one."""
    if sender is None:
        return None
    is_coroutine = inspect.iscoroutinefunction(getattr(sender, "send_email", None))
    if asynchronous and not (is_coroutine or getattr(sender, "nonblocking", False)):
        return ThreadEmailSender(sender)
    if not asynchronous and is_coroutine:
        return SyncEmailSender(sender)
    return sender


def for_sync(sender: Any) -> Any:
    """An SMS sender for ``Verifier``: an async-only one runs each send to completion."""
    return sender if is_sync(sender) else SyncSender(sender)


def for_async(sender: Any) -> Any:
    """An SMS sender for ``AsyncVerifier``: a blocking one sends from a worker thread."""
    if is_async(sender) or getattr(sender, "nonblocking", False):
        return sender
    return ThreadSender(sender)


class ThreadEmailSender:
    """A blocking email sender for ``AsyncVerifier``: each send runs in a worker thread."""

    def __init__(self, sender: Any) -> None:
        self._sender = sender

    async def send_email(self, message: Any, *, reference: str = "") -> str:
        send = sync_to_async(self._sender.send_email, thread_sensitive=False)
        return str(await send(message, reference=reference))


class SyncEmailSender:
    """An async-only email sender for ``Verifier`` (sync views)."""

    def __init__(self, sender: Any) -> None:
        self._sender = sender

    def send_email(self, message: Any, *, reference: str = "") -> str:
        try:
            return str(async_to_sync(self._sender.send_email)(message, reference=reference))
        except RuntimeError as error:  # called from a running event loop
            raise DeliveryFailed() from error


def is_async(sender: Any) -> bool:
    return inspect.iscoroutinefunction(getattr(sender, "send", None))


def is_sync(sender: Any) -> bool:
    return not is_async(sender)


def awaitable(part: Any, method: str) -> Any:
    """``part`` for ``AsyncVerifier``: as it is if ``part.method`` is a coroutine function
    (or it is None), else a facade running each call in a worker thread."""
    if part is None or inspect.iscoroutinefunction(getattr(part, method, None)):
        return part
    call = sync_to_async(getattr(part, method), thread_sensitive=False)
    return SimpleNamespace(**{method: call})


def blocking(part: Any, method: str) -> Any:
    """``part`` for ``Verifier`` (sync views): an async part's calls run to completion."""
    if part is None or not inspect.iscoroutinefunction(getattr(part, method, None)):
        return part
    return SimpleNamespace(**{method: async_to_sync(getattr(part, method))})


class ThreadSender:
    """A blocking sender for ``AsyncVerifier``: each send runs in a worker thread."""

    def __init__(self, sender: Any) -> None:
        self._sender = sender

    async def send(self, to: str, text: str, *, reference: str = "") -> str:
        result = await sync_to_async(self._sender.send, thread_sensitive=False)(
            to, text, reference=reference
        )
        return str(result)


class SyncSender:
    """An async-only sender for ``Verifier`` (sync views)."""

    def __init__(self, sender: Any) -> None:
        self._sender = sender

    def send(self, to: str, text: str, *, reference: str = "") -> str:
        try:
            return str(async_to_sync(self._sender.send)(to, text, reference=reference))
        except RuntimeError as error:  # called from a running event loop
            raise DeliveryFailed() from error


def sync_voice(sender: Any) -> Any:
    """What places calls for ``Verifier``: the sender if it can (``PhoneSender``), else None."""
    if not callable(getattr(sender, "call", None)):
        return None
    return SyncVoice(sender) if inspect.iscoroutinefunction(sender.call) else sender


def async_voice(sender: Any) -> Any:
    """What places calls for ``AsyncVerifier`` (a blocking one runs in a worker thread)."""
    if not callable(getattr(sender, "call", None)):
        return None
    if inspect.iscoroutinefunction(sender.call) or getattr(sender, "nonblocking", False):
        return sender
    return ThreadVoice(sender)


class ThreadVoice:
    """A blocking voice sender for ``AsyncVerifier``: each call runs in a worker thread."""

    def __init__(self, sender: Any) -> None:
        self._sender = sender

    async def call(self, to: str, speech: Any, *, reference: str = "") -> str:
        result = await sync_to_async(self._sender.call, thread_sensitive=False)(
            to, speech, reference=reference
        )
        return str(result)


class SyncVoice:
    """An async-only voice sender for ``Verifier`` (sync views)."""

    def __init__(self, sender: Any) -> None:
        self._sender = sender

    def call(self, to: str, speech: Any, *, reference: str = "") -> str:
        try:
            return str(async_to_sync(self._sender.call)(to, speech, reference=reference))
        except RuntimeError as error:  # called from a running event loop
            raise DeliveryFailed() from error


def redis_module() -> Any:
    try:
        import otpgate.redis as module
    except ImportError as error:
        raise ConfigurationError(
            "OTPGATE_STORE",
            f'a Redis URL needs otpgate.redis: pip install "otpgate[redis]" ({error})',
        ) from error
    return module


def sync_store(options: conf.Options, clock: Callable[[], float]) -> Any:
    if not options.uses_redis:
        return MemoryStore(clock=clock)
    return redis_module().RedisStore.from_url(options.store, **options.store_options)


def async_redis_store(options: conf.Options) -> Any:
    return redis_module().AsyncRedisStore.from_url(options.store, **options.store_options)
