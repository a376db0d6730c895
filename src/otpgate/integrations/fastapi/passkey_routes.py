"""The API's passkey routes: list, rename and remove the subject's passkeys, and the
first-party browser script. Adding one and using one go through the factor-generic routes
(``POST /factors/setup``, ``POST /factors/start``, ``POST /verify``)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field, StringConstraints

from otpgate.core.credentials import PasskeyCredential
from otpgate.core.errors import PasskeyNotFound
from otpgate.web_assets import WEBAUTHN_SCRIPT, webauthn_script

from .guards import guard_factors
from .models import _Request
from .problems import problem_responses

if TYPE_CHECKING:
    from .gate import OtpGate


class PasskeyOut(BaseModel):
    """One of the subject's passkeys (nothing secret: no key, no counter)."""

    id: str = Field(description="The credential id (base64url).")
    name: str
    created_at: datetime
    last_used_at: datetime | None
    transports: list[str]
    synced: bool = Field(description="Backed up, usable from the user's other devices.")

    @classmethod
    def of(cls, key: PasskeyCredential) -> PasskeyOut:
        used = key.last_used_at
        return cls(
            id=key.credential_id,
            name=key.name,
            created_at=datetime.fromtimestamp(key.created_at, tz=timezone.utc),
            last_used_at=None if used is None else datetime.fromtimestamp(used, tz=timezone.utc),
            transports=list(key.transports),
            synced=key.backup_state,
        )


class PasskeysOut(BaseModel):
    passkeys: list[PasskeyOut]


class RenamePasskey(_Request):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


def _credential_id() -> Any:
    return Path(max_length=1366, pattern=r"^[A-Za-z0-9_-]+$", description="The credential id.")


def add_passkey_routes(router: APIRouter, gate: OtpGate) -> None:
    """Add ``GET /passkeys``, ``PUT /passkeys/{id}/name``, ``DELETE /passkeys/{id}`` and
    the script. (One method per path: a 405 answers ``Allow`` with exactly it.)"""
    subject_dep = Depends(gate.current_subject)
    session_dep = Depends(gate.session_key)

    @router.get(
        "/passkeys",
        response_model=PasskeysOut,
        summary="List the subject's passkeys",
        responses=problem_responses(401, 503),
    )
    async def list_passkeys(
        subject: str = subject_dep, session_key: str = session_dep
    ) -> PasskeysOut:
        await guard_factors(gate, subject, session_key, "view")
        keys = await gate.verifier.passkeys.list(subject)
        return PasskeysOut(passkeys=[PasskeyOut.of(key) for key in keys])

    @router.put(
        "/passkeys/{credential_id}/name",
        response_model=PasskeysOut,
        summary="Rename a passkey",
        responses=problem_responses(400, 401, 404, 409, 503),
    )
    async def rename_passkey(
        body: RenamePasskey,
        credential_id: str = _credential_id(),
        subject: str = subject_dep,
        session_key: str = session_dep,
    ) -> PasskeysOut:
        await guard_factors(gate, subject, session_key, "change")
        if not await gate.verifier.passkeys.rename(subject, credential_id, body.name):
            raise PasskeyNotFound()
        keys = await gate.verifier.passkeys.list(subject)
        return PasskeysOut(passkeys=[PasskeyOut.of(key) for key in keys])

    @router.delete(
        "/passkeys/{credential_id}",
        status_code=204,
        response_class=Response,
        summary="Remove a passkey",
        responses=problem_responses(400, 401, 404, 409, 503),
    )
    async def remove_passkey(
        credential_id: str = _credential_id(),
        subject: str = subject_dep,
        session_key: str = session_dep,
    ) -> Response:
        await guard_factors(gate, subject, session_key, "change")
        if not await gate.verifier.passkeys.remove(subject, credential_id):
            raise PasskeyNotFound()
        return Response(status_code=204)

    @router.get(f"/assets/{WEBAUTHN_SCRIPT}", include_in_schema=False)
    async def webauthn_js() -> Response:
        return Response(
            webauthn_script(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=3600"},
        )
