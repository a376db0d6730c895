"""One behaviour suite for every credential repository's passkey half (memory, SQLAlchemy
sync and async, the Django ORM sync and async). ``creds`` is seen through a synchronous
facade; ``alice`` and ``bob`` are subjects the repository accepts."""

from __future__ import annotations

from typing import Any

from otpgate.core.credentials import PasskeyCredential


def passkey(credential_id: str, name: str = "Laptop", **changes: Any) -> PasskeyCredential:
    fields: dict[str, Any] = {
        "credential_id": credential_id,
        "public_key": b"\xa5\x01\x02\x03&" + bytes(range(64)),
        "sign_count": 0,
        "name": name,
        "created_at": 1_800_000_000.5,
        "transports": ("internal", "hybrid"),
        "backup_eligible": True,
        "backup_state": False,
    }
    fields.update(changes)
    return PasskeyCredential(**fields)


def exercise_passkey_repository(creds: Any, alice: str, bob: str) -> None:
    assert creds.passkeys(alice) == []
    first, second = passkey("AAAA", "Laptop", sign_count=5), passkey("BBBB", "Phone")
    assert creds.add_passkey(alice, first)
    assert creds.add_passkey(alice, second)
    assert creds.passkeys(alice) == [first, second]  # every field kept, oldest first
    # a credential id is unique across subjects
    assert not creds.add_passkey(bob, passkey("AAAA", "Stolen"))
    assert creds.passkeys(bob) == []

    # a use is recorded only if the counter goes up (or stays 0 for one that never counts)
    assert not creds.use_passkey(alice, "AAAA", 5, True, 1_800_000_100.0)
    assert not creds.use_passkey(alice, "AAAA", 4, True, 1_800_000_100.0)
    assert not creds.use_passkey(bob, "AAAA", 9, True, 1_800_000_100.0)  # not bob's
    assert creds.use_passkey(alice, "AAAA", 6, True, 1_800_000_100.0)
    assert creds.use_passkey(alice, "BBBB", 0, False, 1_800_000_200.0)
    assert creds.use_passkey(alice, "BBBB", 0, False, 1_800_000_300.0)
    used, zero = creds.passkeys(alice)
    assert (used.sign_count, used.backup_state, used.last_used_at) == (6, True, 1_800_000_100.0)
    assert (zero.sign_count, zero.last_used_at) == (0, 1_800_000_300.0)
    assert creds.use_passkey(alice, "BBBB", 1, False, 1_800_000_400.0)
    assert not creds.use_passkey(alice, "BBBB", 0, False, 1_800_000_500.0)  # 0 after 1

    assert creds.rename_passkey(alice, "BBBB", "Old phone")
    assert not creds.rename_passkey(bob, "BBBB", "Mine")
    assert [key.name for key in creds.passkeys(alice)] == ["Laptop", "Old phone"]

    assert not creds.remove_passkey(bob, "AAAA")
    assert creds.remove_passkey(alice, "AAAA")
    assert not creds.remove_passkey(alice, "AAAA")
    assert [key.credential_id for key in creds.passkeys(alice)] == ["BBBB"]
    assert creds.add_passkey(bob, passkey("AAAA", "Bob's now"))  # the id is free again
