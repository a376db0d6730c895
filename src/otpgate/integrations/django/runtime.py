"""The per-process verifiers, built once from the ``OTPGATE_*`` settings.

``get_verifier()`` (sync views) and ``get_async_verifier()`` (async views) share one store,
sender, clock and the ORM credentials, so a challenge started by one is checked by the other.
Their events become Django signals. Tests use :func:`configure` to inject a clock or sender.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async

from otpgate.core import wiring
from otpgate.core.aio import AsyncVerifier
from otpgate.core.events import Event
from otpgate.core.memory_store import MemoryStore
from otpgate.core.settings import Settings
from otpgate.core.verifier import Verifier

from . import adapters, conf, guard, signals
from .credentials import AsyncOrmCredentials, OrmCredentials

_lock = threading.RLock()
_overrides: dict[str, Any] = {}
_built: dict[str, Any] = {}
_async_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncVerifier] = (
    weakref.WeakKeyDictionary()
)
_dispatches: set[asyncio.Task[None]] = set()


def configure(
    *,
    clock: Callable[[], float] | None = None,
    sender: Any = None,
    store: Any = None,
    async_store_factory: Callable[[], Any] | None = None,
    sim_swap: Any = None,
    email_sender: Any = None,
) -> None:
    """Replace parts of the verifiers (tests: a fake clock, an outbox, a SIM-swap check);
    no argument: undo.

    ``store`` must suit both verifiers (``MemoryStore``); give ``async_store_factory`` for a
    separate async store (one is made per event loop).
    """
    with _lock:
        _overrides.clear()
        given = {
            "clock": clock,
            "sender": sender,
            "store": store,
            "async_store_factory": async_store_factory,
            "sim_swap": sim_swap,
            "email_sender": email_sender,
        }
        _overrides.update({k: v for k, v in given.items() if v is not None})
        reset()


def reset() -> None:
    """Forget the built verifiers (and the factor changes noted for the middleware's
    memory, ``guard.py``); the next call builds them again from the settings."""
    with _lock:
        _built.clear()
        _async_by_loop.clear()
        guard.forget_changes()


def _parts() -> dict[str, Any]:
    with _lock:
        if not _built:
            settings = conf.core_settings()
            options = conf.options()
            clock = _overrides.get("clock", time.time)
            _built.update(
                settings=settings,
                options=options,
                clock=clock,
                sender=_overrides.get("sender") or build_sender(options.sender),
                store=_overrides.get("store") or adapters.sync_store(options, clock),
                sim_swap=_overrides.get("sim_swap")
                or wiring.build_sim_swap(options.wiring.sim_swap),
            )
        return _built


def settings() -> Settings:
    """The core settings in force."""
    return _parts()["settings"]  # type: ignore[no-any-return]


def now() -> float:
    """The verifiers' clock, read now (without building a verifier)."""
    return float(_parts()["clock"]())


def options() -> conf.Options:
    """The integration's options in force."""
    return _parts()["options"]  # type: ignore[no-any-return]


def get_verifier() -> Verifier:
    """The process's synchronous :class:`~otpgate.Verifier` (for sync views)."""
    with _lock:
        parts = _parts()
        if "verifier" not in _built:
            gate = Verifier(
                parts["settings"],
                store=parts["store"],
                sender=adapters.for_sync(parts["sender"]),
                voice_sender=adapters.sync_voice(parts["sender"]),
                credentials=OrmCredentials(),
                clock=parts["clock"],
                sim_swap=adapters.blocking(parts["sim_swap"], "check"),
                email_sender=_email_sender(parts["options"], asynchronous=False),
            )
            gate.subscribe(guard.note_change)
            gate.subscribe(signals.dispatch)
            _built["verifier"] = gate
        return _built["verifier"]  # type: ignore[no-any-return]


def get_async_verifier() -> AsyncVerifier:
    """The :class:`~otpgate.AsyncVerifier` of the running event loop (for async views).

    A Redis store holds connections bound to one event loop, so each loop gets its own.
    """
    loop = asyncio.get_running_loop()
    with _lock:
        parts = _parts()
        gate = _async_by_loop.get(loop)
        if gate is None:
            store = parts["store"]
            factory = _overrides.get("async_store_factory")
            if factory is not None:
                store = factory()
            elif not isinstance(store, MemoryStore):
                store = adapters.async_redis_store(parts["options"])
            gate = AsyncVerifier(
                parts["settings"],
                store=store,
                sender=adapters.for_async(parts["sender"]),
                voice_sender=adapters.async_voice(parts["sender"]),
                credentials=AsyncOrmCredentials(),
                clock=parts["clock"],
                sim_swap=adapters.awaitable(parts["sim_swap"], "check"),
                email_sender=_email_sender(parts["options"], asynchronous=True),
            )
            gate.subscribe(guard.note_change)
            gate.subscribe(_dispatch_later)
            _async_by_loop[loop] = gate
        return gate


def _dispatch_later(event: Event) -> None:
    """Send an async verifier's event as signals from a thread (receivers may use the ORM)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        signals.dispatch(event)
        return
    task = loop.create_task(sync_to_async(signals.dispatch)(event))
    _dispatches.add(task)
    task.add_done_callback(_dispatches.discard)


async def flush_events() -> None:
    """Wait until the signals of this loop's events were sent (async views call it)."""
    loop = asyncio.get_running_loop()
    pending = [task for task in _dispatches if task.get_loop() is loop]
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


# -- parts ----------------------------------------------------------------------------------


def build_sender(value: Any) -> Any:
    """``"console"``, ``"outbox"``, or a dotted path to a sender class, factory or instance."""
    return wiring.build_sender(value)


def _email_sender(options: conf.Options, *, asynchronous: bool) -> Any:
    """The email sender of ``OTPGATE_EMAIL_SENDER`` (or :func:`configure`'s), None without
    one; a blocking one runs in a worker thread for the async verifier."""
    sender = _overrides.get("email_sender") or wiring.build_email_sender(
        options.wiring.email_sender, options.wiring.smtp, asynchronous=asynchronous
    )
    return adapters.email_sender(sender, asynchronous=asynchronous)
