"""``otpgate pumping list|lift`` and the blocked ranges ``otpgate check`` reports: the SMS
pumping guard's blocks (``otpgate.core.pumping``), read from and lifted in the store the
configuration names. Only a shared store (Redis) can be reached from here: the in-memory
store lives in the application's process."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, TextIO

from otpgate.core.crypto import Keyring
from otpgate.core.guard import lift_key
from otpgate.core.pumping import Block
from otpgate.core.settings import Settings

from .probes import Finding
from .sources import Config


def describe(block: Block, now: float) -> str:
    until = datetime.fromtimestamp(block.until, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    minutes = max(1, round((block.until - now) / 60))
    return f"{block.label or '?'} blocked until {until} ({minutes} min left)"


def block_findings(store: Any) -> list[Finding]:
    """A warning per blocked range of ``store`` (a Redis store), for ``otpgate check``."""
    now = time.time()
    return [
        Finding(
            "warn",
            "pumping",
            f"SMS pumping guard: {describe(block, now)}",
            f"If this range is legitimate: otpgate pumping lift '{block.label}'",
        )
        for block in sorted(store.pumping_blocks(now), key=lambda b: b.label)
    ]


def _store(config: Config) -> tuple[Any, Settings]:
    """(the Redis store, the settings) of ``config``; SystemExit with the reason if none."""
    if config.problems:
        raise SystemExit("; ".join(config.problems))
    settings = Settings.from_mapping(config.core_values)
    parts, _ = config.wiring()
    if not parts.uses_redis:
        raise SystemExit(
            "The in-memory store lives in the application's process: blocks can only be "
            "listed and lifted there (Verifier.pumping_blocks / lift_pumping_block)."
        )
    from otpgate.redis import RedisStore

    return RedisStore.from_url(parts.store, **dict(parts.store_options)), settings


def run_pumping(config: Config, action: str, prefix: str | None, out: TextIO) -> int:
    """``list``: every blocked range; ``lift PREFIX``: lift one (exit 1 if it had none)."""
    store, settings = _store(config)
    try:
        if action == "list":
            now = time.time()
            blocks = sorted(store.pumping_blocks(now), key=lambda b: b.label)
            for block in blocks:
                print(describe(block, now), file=out)
            if not blocks:
                print("No range is blocked.", file=out)
            return 0
        try:
            key, label = lift_key(Keyring(settings.secret_keys), prefix or "")
        except ValueError as error:
            print(f"otpgate pumping lift: {error}", file=out)
            return 2
        if store.lift_pumping_block(key):
            print(f"Lifted the block of {label}; its counts start afresh.", file=out)
            return 0
        print(f"{label} was not blocked.", file=out)
        return 1
    finally:
        store.close()
