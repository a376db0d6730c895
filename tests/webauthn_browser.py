"""A passkey for browser tests: Chromium's virtual authenticator, driven over CDP.

``VirtualAuthenticator(context, page)`` attaches a CDP session to ``page`` (a tab of the
Playwright persistent context that ``tests/browser.py`` launches), enables the WebAuthn domain
and adds a platform authenticator (CTAP2, internal transport, resident keys, user
verification that succeeds). From then on ``navigator.credentials.create()`` / ``get()`` in
that tab are answered by it with no prompt, across navigations of the tab. The helpers read
and change what it holds: the credentials and their sign counts (to make an authenticator
whose counter went backwards: a cloned key), and removing them.

Only localhost is a secure context without TLS and an IP address is never a relying-party id:
open the site under test as ``http://localhost:<port>``, with ``rp_id="localhost"``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StoredCredential:
    """One credential the virtual authenticator holds (CDP ``WebAuthn.Credential``)."""

    credential_id: str  # base64 (standard alphabet, as CDP gives it)
    rp_id: str
    sign_count: int
    resident: bool
    user_handle: str
    private_key: str  # base64 PKCS#8

    @classmethod
    def from_cdp(cls, raw: dict[str, Any]) -> StoredCredential:
        return cls(
            credential_id=raw["credentialId"],
            rp_id=raw.get("rpId", ""),
            sign_count=int(raw.get("signCount", 0)),
            resident=bool(raw.get("isResidentCredential", False)),
            user_handle=raw.get("userHandle", ""),
            private_key=raw["privateKey"],
        )

    def to_cdp(self, sign_count: int | None = None) -> dict[str, Any]:
        credential: dict[str, Any] = {
            "credentialId": self.credential_id,
            "isResidentCredential": self.resident,
            "rpId": self.rp_id,
            "privateKey": self.private_key,
            "signCount": self.sign_count if sign_count is None else sign_count,
        }
        if self.user_handle:
            credential["userHandle"] = self.user_handle
        return credential


class VirtualAuthenticator:
    """A CTAP2 platform authenticator in one tab (see the module's docs)."""

    def __init__(
        self,
        context: Any,
        page: Any,
        *,
        resident_key: bool = True,
        user_verification: bool = True,
        user_verified: bool = True,
    ) -> None:
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        options = {
            "protocol": "ctap2",
            "ctap2Version": "ctap2_1",
            "transport": "internal",
            "hasResidentKey": resident_key,
            "hasUserVerification": user_verification,
            "isUserVerified": user_verified,
            "automaticPresenceSimulation": True,
        }
        answer = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
        self.id: str = answer["authenticatorId"]

    def credentials(self) -> list[StoredCredential]:
        """What it holds now (sign counts included)."""
        answer = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})
        return [StoredCredential.from_cdp(raw) for raw in answer["credentials"]]

    def only_credential(self) -> StoredCredential:
        held = self.credentials()
        assert len(held) == 1, f"expected one credential, the authenticator holds {len(held)}"
        return held[0]

    def remove_credential(self, credential_id: str) -> None:
        self.cdp.send(
            "WebAuthn.removeCredential",
            {"authenticatorId": self.id, "credentialId": credential_id},
        )

    def add_credential(self, credential: StoredCredential, sign_count: int | None = None) -> None:
        self.cdp.send(
            "WebAuthn.addCredential",
            {"authenticatorId": self.id, "credential": credential.to_cdp(sign_count)},
        )

    def set_sign_count(self, credential_id: str, sign_count: int) -> None:
        """Put the credential back with ``sign_count``: lower than the server saw, it is a
        cloned authenticator (the server must refuse its next assertion)."""
        held = {each.credential_id: each for each in self.credentials()}
        credential = held[credential_id]
        self.remove_credential(credential_id)
        self.add_credential(credential, sign_count)

    def set_user_verified(self, verified: bool) -> None:
        """Whether the next user verification (PIN, fingerprint) succeeds."""
        self.cdp.send(
            "WebAuthn.setUserVerified", {"authenticatorId": self.id, "isUserVerified": verified}
        )

    def clear(self) -> None:
        """Forget every credential (a new device)."""
        self.cdp.send("WebAuthn.clearCredentials", {"authenticatorId": self.id})

    def close(self) -> None:
        try:
            self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.id})
            self.cdp.send("WebAuthn.disable")
        finally:
            self.cdp.detach()


def recorded_posts(page: Any, path_part: str) -> list[dict[str, Any]]:
    """Every POST the page makes to a URL containing ``path_part``, as it goes out: its url,
    headers and body text (to post the same assertion again: a replay)."""
    posts: list[dict[str, Any]] = []

    def record(request: Any) -> None:
        if request.method == "POST" and path_part in request.url:
            posts.append(
                {"url": request.url, "headers": request.headers, "body": request.post_data or ""}
            )

    page.on("request", record)
    return posts


def without_json_helpers() -> str:
    """An init script (``page.add_init_script``) that removes the browser's
    ``PublicKeyCredential`` JSON helpers, as in a browser that predates them: the page's
    script must fall back to its own base64url conversion."""
    return (
        "(() => { const P = window.PublicKeyCredential; if (!P) return;"
        " delete P.parseCreationOptionsFromJSON; delete P.parseRequestOptionsFromJSON;"
        " try { delete P.prototype.toJSON; } catch (e) {} })();"
    )


def has_json_helpers(page: Any) -> bool:
    """Whether this page's browser has ``PublicKeyCredential.parseCreationOptionsFromJSON``."""
    check: Callable[..., Any] = page.evaluate
    return bool(
        check("() => typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function'")
    )
