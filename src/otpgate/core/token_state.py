"""Step-up state per API token: what a token-authenticated client passed, kept in the store.

A browser session keeps :class:`~otpgate.core.web.SecondFactorState` in its session; an API
client authenticated by a token (``Authorization: Token …``/``Bearer …``) has none, so its
state lives in the store instead, under a keyed digest of the token (never the token itself),
sealed with AES-GCM and bound to that key, for ``ttl`` seconds. FastAPI's ``OtpGate`` and
Django REST framework's permissions use it; :class:`TokenStates` for the sync ``Verifier``,
:class:`AsyncTokenStates` for the ``AsyncVerifier``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .challenge import Verification
from .crypto import DecryptionError, Keyring
from .state_write import StateWrite, ThenPut
from .web import SESSION_KEY, SecondFactorState

if TYPE_CHECKING:
    from .aio import AsyncVerifier
    from .verifier import Verifier


def state_key(keyring: Keyring, namespace: str, token: str) -> str:
    """The store key of ``token``'s state: a keyed digest (``namespace`` keeps integrations
    that share a store apart)."""
    return "s:" + keyring.digest(namespace, token)


def open_state(keyring: Keyring, key: str, sealed: str | None) -> SecondFactorState:
    """The state sealed under ``key`` (an empty state if none, or it does not open)."""
    if sealed is None:
        return SecondFactorState()
    try:
        value = json.loads(keyring.open(sealed, context=key))
    except (DecryptionError, ValueError):
        return SecondFactorState()
    return SecondFactorState.load({SESSION_KEY: value})


def seal_state(keyring: Keyring, key: str, state: SecondFactorState) -> str:
    return keyring.seal(json.dumps(state.dump()), context=key)


def passed_write(keyring: Keyring, namespace: str, token: str, ttl: int) -> ThenPut:
    """``verify``'s ``then_put`` recording that ``token`` passed: the state
    :meth:`TokenStates.passed` writes on a fresh state (the verification's subject, time and
    factor; nothing else a token's state keeps), sealed under its key."""
    key = state_key(keyring, namespace, token)

    def write(verification: Verification) -> StateWrite:
        state = SecondFactorState()
        state.passed(verification)
        return StateWrite(key, seal_state(keyring, key, state), ttl)

    return write


class TokenStates:
    """Load and record the second-factor state of tokens (sync)."""

    def __init__(self, verifier: Verifier, namespace: str, ttl: int) -> None:
        self.verifier, self.namespace, self.ttl = verifier, namespace, ttl

    def load(self, token: str) -> SecondFactorState:
        """``token``'s state (empty for an unknown, expired or unreadable one)."""
        key = state_key(self.verifier.keyring, self.namespace, token)
        return open_state(self.verifier.keyring, key, self.verifier.store.get_state(key))

    def passed(
        self, token: str, verification: Verification, state: SecondFactorState | None = None
    ) -> SecondFactorState:
        """Record that ``token`` passed ``verification`` (``state``: as just loaded)."""
        state = state if state is not None else self.load(token)
        state.passed(verification)
        self.save(token, state)
        return state

    def save(self, token: str, state: SecondFactorState) -> None:
        """Keep ``state`` as ``token``'s (sealed, for the configured time)."""
        key = state_key(self.verifier.keyring, self.namespace, token)
        self.verifier.store.put_state(key, seal_state(self.verifier.keyring, key, state), self.ttl)

    def then_put(self, token: str) -> ThenPut:
        """For ``verifier.verify(then_put=...)``: record that ``token`` passed, in the check's
        own store step where the store can (as :meth:`passed` on a fresh state)."""
        return passed_write(self.verifier.keyring, self.namespace, token, self.ttl)


class AsyncTokenStates:
    """:class:`TokenStates` on the ``AsyncVerifier``."""

    def __init__(self, verifier: AsyncVerifier, namespace: str, ttl: int) -> None:
        self.verifier, self.namespace, self.ttl = verifier, namespace, ttl

    async def load(self, token: str) -> SecondFactorState:
        key = state_key(self.verifier.keyring, self.namespace, token)
        return open_state(self.verifier.keyring, key, await self.verifier.store.get_state(key))

    async def passed(
        self, token: str, verification: Verification, state: SecondFactorState | None = None
    ) -> SecondFactorState:
        state = state if state is not None else await self.load(token)
        state.passed(verification)
        await self.save(token, state)
        return state

    async def save(self, token: str, state: SecondFactorState) -> None:
        """Keep ``state`` as ``token``'s (sealed, for the configured time)."""
        key = state_key(self.verifier.keyring, self.namespace, token)
        sealed = seal_state(self.verifier.keyring, key, state)
        await self.verifier.store.put_state(key, sealed, self.ttl)

    def then_put(self, token: str) -> ThenPut:
        """:meth:`TokenStates.then_put`."""
        return passed_write(self.verifier.keyring, self.namespace, token, self.ttl)
