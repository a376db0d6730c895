"""The deprecated ledger API (``gate.ledger``, ``MemoryLedger``) still works over the store."""

from __future__ import annotations

from otpgate.integrations.fastapi import MemoryLedger

from .conftest import Harness


async def test_the_gates_ledger_keeps_values_and_markers_in_the_store(harness: Harness):
    ledger = harness.gate.ledger
    assert await ledger.get("s:one") is None and not await ledger.has("s:one")
    await ledger.put("s:one", {"verified_at": 1.0}, 60)
    assert await ledger.get("s:one") == {"verified_at": 1.0}
    assert await ledger.has("s:one")
    assert await ledger.add("t:one", 60) is True
    assert await ledger.add("t:one", 60) is False  # a marker is set once
    assert await ledger.has("t:one")


async def test_a_memory_ledger_on_its_own_store():
    ledger = MemoryLedger()
    assert await ledger.add("t:one", 60) is True
    assert await ledger.add("t:one", 60) is False
    await ledger.put("s:one", {"a": 1}, 60)
    assert await ledger.get("s:one") == {"a": 1}
