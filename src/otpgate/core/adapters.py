"""Let ``AsyncVerifier`` use the in-memory parts, whose methods never block."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from .errors import ConfigurationError


class AwaitableFacade:
    """Presents each method of a non-blocking synchronous object as a coroutine function."""

    def __init__(self, target: object) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Callable[..., Coroutine[Any, Any, Any]]:
        method = getattr(self._target, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **kwargs)

        setattr(self, name, call)
        return call


def as_async(part: object, role: str, probe: str) -> Any:
    """``part`` itself if ``part.probe`` is a coroutine function; a facade over it if it is a
    synchronous part that declares ``nonblocking = True``; otherwise a ConfigurationError."""
    if inspect.iscoroutinefunction(getattr(part, probe, None)):
        return part
    if getattr(part, "nonblocking", False):
        return AwaitableFacade(part)
    raise ConfigurationError(
        role,
        f"{type(part).__name__} is synchronous and would block the event loop; "
        "give AsyncVerifier its async variant",
    )
