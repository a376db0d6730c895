"""Keys: encryption at rest (AES-GCM) and keyed digests (HMAC-SHA256), both with rotation.

``secret_keys[0]`` encrypts and digests; every key still decrypts and matches, so a new key can
be put in front while old ciphertexts and digests stay readable until they are rewritten.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import ConfigurationError

_NONCE_BYTES = 12
#: Characters (6 bits each) of a challenge's code digest: see Keyring.code_digest.
CODE_DIGEST_CHARS = 16


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"otpgate", info=purpose).derive(
        secret.encode()
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class DecryptionError(Exception):
    """A sealed value was tampered with, or sealed under a key that is no longer configured."""


class Keyring:
    """Seals secrets and makes keyed digests from the configured ``secret_keys``."""

    def __init__(self, secret_keys: Sequence[str]) -> None:
        if not secret_keys:
            raise ConfigurationError(
                "secret_keys",
                "no key configured; set OTPGATE_SECRET_KEYS to the output of "
                "`python -m otpgate keygen` (keep it secret, keep old keys after the new one)",
            )
        self._ciphers: dict[str, AESGCM] = {}
        self._digest_keys: list[bytes] = []
        for index, secret in enumerate(secret_keys):
            key_id = hashlib.sha256(_derive(secret, b"key-id")).hexdigest()[:6]
            self._ciphers[key_id] = AESGCM(_derive(secret, b"seal"))
            self._digest_keys.append(_derive(secret, b"digest"))
            if index == 0:
                self._primary_id = key_id

    # -- encryption at rest -------------------------------------------------------------------

    def seal(self, plaintext: str, *, context: str = "") -> str:
        """Encrypt ``plaintext``; ``context`` (e.g. the subject) must match when opening."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self._primary_id].encrypt(
            nonce, plaintext.encode(), context.encode()
        )
        return f"{self._primary_id}.{_b64(nonce + sealed)}"

    def open(self, token: str, *, context: str = "") -> str:
        """Decrypt a value made by :meth:`seal`; raise :class:`DecryptionError` otherwise."""
        key_id, _, body = token.partition(".")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise DecryptionError("sealed under a key that is not configured any more")
        try:
            raw = _unb64(body)
            plain = cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except (InvalidTag, ValueError):
            raise DecryptionError("the sealed value is damaged or was tampered with") from None
        return plain.decode()

    def needs_rotation(self, token: str) -> bool:
        """True when ``token`` was sealed under an older key."""
        return not token.startswith(self._primary_id + ".")

    def rotate(self, token: str, *, context: str = "") -> str:
        """Re-seal ``token`` under the current key (unchanged if it already is)."""
        if not self.needs_rotation(token):
            return token
        return self.seal(self.open(token, context=context), context=context)

    # -- keyed digests ------------------------------------------------------------------------

    def digest(self, *parts: str) -> str:
        """A keyed digest of ``parts`` under the current key (128 bits, URL-safe text)."""
        return self._digest_with(self._digest_keys[0], parts)

    def code_digest(self, challenge_id: str, code: str) -> str:
        """The keyed digest a store keeps of a challenge's code (or WebAuthn challenge), and
        compares an answer's against: 96 bits (16 characters), as a store needs no more. A
        wrong answer matches only by an HMAC collision: 2^-96 a guess (a challenge takes a
        few), far below the 10^-6 of guessing a six-digit code; the digest is keyed, so it
        hides the code at rest as well as 128 bits would."""
        return self.digest("code", challenge_id, code)[:CODE_DIGEST_CHARS]

    def digests(self, *parts: str) -> list[str]:
        """The digests of ``parts`` under every configured key, current first."""
        return [self._digest_with(key, parts) for key in self._digest_keys]

    @staticmethod
    def _digest_with(key: bytes, parts: Sequence[str]) -> str:
        message = "\x1f".join(parts).encode("utf-8", "surrogatepass")
        return _b64(hmac.digest(key, message, "sha256")[:16])
