"""Passkeys (WebAuthn) as pure code on py_webauthn: options for the browser, and the checks
of its answers. No I/O: the ``webauthn`` factor stores and consumes the challenge.

py_webauthn (Duo Labs, ``webauthn`` on PyPI) is used rather than ``fido2``: it is the
relying-party half only, typed, with JSON options and responses in the WebAuthn Level 3
``toJSON`` shape the browser speaks; otpgate needs nothing of a client or a CTAP stack.

Every failure of an answer is one of two things: MalformedInput (the JSON is not a
credential at all: a 400, never a 500) or "rejected" (None from a ``verify_*`` function:
another origin or relying party, a bad signature, a wrong type), which the factor counts
as a failed attempt. Why it was rejected is logged at debug level without any value.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url, parse_client_data_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.parse_authentication_credential_json import (
    parse_authentication_credential_json,
)
from webauthn.helpers.parse_registration_credential_json import (
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from .credentials import PasskeyCredential
from .errors import MalformedInput
from .passkey_settings import rp_name
from .settings import Settings

logger = logging.getLogger("otpgate")

#: The longest answer accepted (a registration with an attestation certificate chain fits).
MAX_ANSWER_LENGTH = 32_768
_NAME_LENGTH = 64

Ceremony = Literal["create", "get"]


@dataclass(frozen=True)
class Answer:
    """A browser's answer, parsed: which credential, and which challenge it signed."""

    ceremony: Ceremony
    credential_id: str
    #: The challenge in the signed client data, base64url (what the store's digest is of).
    challenge: str
    parsed: RegistrationCredential | AuthenticationCredential


@dataclass(frozen=True)
class PasskeyUse:
    """What a verified sign-in with a passkey reports."""

    credential_id: str
    sign_count: int
    backup_state: bool
    user_verified: bool


def new_challenge() -> bytes:
    """32 random bytes for one ceremony."""
    return secrets.token_bytes(32)


def encode(data: bytes) -> str:
    """Bytes as unpadded base64url text, as WebAuthn's JSON carries them."""
    return bytes_to_base64url(data)


def passkey_name(name: object, existing: int) -> str:
    """The user's name for a new passkey (default "Passkey N"): 1 to 64 printable chars."""
    if name is None or (isinstance(name, str) and not name.strip()):
        return f"Passkey {existing + 1}"
    if not isinstance(name, str) or len(name) > _NAME_LENGTH or not name.isprintable():
        raise MalformedInput("A passkey's name is 1 to 64 printable characters.")
    return name.strip()


def _descriptors(keys: Sequence[PasskeyCredential]) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value for t in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=_decode_id(key.credential_id),
            transports=[AuthenticatorTransport(t) for t in key.transports if t in known] or None,
        )
        for key in keys
    ]


def _decode_id(credential_id: str) -> bytes:
    from webauthn.helpers import base64url_to_bytes

    return base64url_to_bytes(credential_id)


def creation_options(
    settings: Settings,
    *,
    challenge: bytes,
    user_id: bytes,
    user_name: str,
    exclude: Sequence[PasskeyCredential],
) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptions`` as JSON: a discoverable credential preferred
    (room for passwordless sign-in later), user verification preferred, no attestation."""
    assert settings.webauthn_rp_id is not None
    options = generate_registration_options(
        rp_id=settings.webauthn_rp_id,
        rp_name=rp_name(settings),
        user_name=user_name,
        user_id=user_id,
        user_display_name=user_name,
        challenge=challenge,
        timeout=settings.webauthn_challenge_lifetime * 1000,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(exclude),
    )
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


def request_options(
    settings: Settings, *, challenge: bytes, allow: Sequence[PasskeyCredential]
) -> dict[str, Any]:
    """``PublicKeyCredentialRequestOptions`` as JSON for the subject's passkeys (an empty
    ``allow`` would let the browser offer any discoverable passkey of the site)."""
    assert settings.webauthn_rp_id is not None
    options = generate_authentication_options(
        rp_id=settings.webauthn_rp_id,
        challenge=challenge,
        timeout=settings.webauthn_challenge_lifetime * 1000,
        allow_credentials=_descriptors(allow),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


def parse_answer(code: object, ceremony: Ceremony) -> Answer:
    """The browser's JSON answer (``PublicKeyCredential.toJSON()``), parsed; MalformedInput
    if it is not one (too long, not JSON, missing parts, undecodable client data)."""
    if isinstance(code, dict):
        code = json.dumps(code)
    if not isinstance(code, str) or not code or len(code) > MAX_ANSWER_LENGTH:
        raise MalformedInput("The passkey answer must be the browser's JSON credential.")
    parse = (
        parse_registration_credential_json
        if ceremony == "create"
        else parse_authentication_credential_json
    )
    try:
        parsed = parse(code)
        client_data = parse_client_data_json(parsed.response.client_data_json)
    # RecursionError: JSON nested thousands deep ("[[[[..."), which Python 3.10's json raises
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        raise MalformedInput("The passkey answer is not a WebAuthn credential.") from None
    return Answer(ceremony, parsed.id, encode(client_data.challenge), parsed)


def _rejected(step: str, error: Exception) -> None:
    logger.debug("otpgate refused a passkey %s: %s", step, type(error).__name__)


def verify_registration(
    settings: Settings, answer: Answer, *, name: str, now: float
) -> PasskeyCredential | None:
    """The new passkey if ``answer`` is a valid creation for this site, else None."""
    assert settings.webauthn_rp_id is not None
    assert isinstance(answer.parsed, RegistrationCredential)
    try:
        verified = verify_registration_response(
            credential=answer.parsed,
            expected_challenge=_decode_id(answer.challenge),
            expected_rp_id=settings.webauthn_rp_id,
            expected_origin=list(settings.webauthn_origins),
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        _rejected("registration", error)
        return None
    transports = answer.parsed.response.transports or []
    return PasskeyCredential(
        credential_id=encode(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name,
        created_at=now,
        transports=tuple(t.value for t in transports),
        backup_eligible=verified.credential_device_type is CredentialDeviceType.MULTI_DEVICE,
        backup_state=verified.credential_backed_up,
    )


def verify_assertion(
    settings: Settings, answer: Answer, credential: PasskeyCredential
) -> PasskeyUse | None:
    """The use if ``answer`` is a valid signature of ``credential`` for this site, else
    None. The counter is *not* judged here (see ``credentials.counter_regressed``)."""
    assert settings.webauthn_rp_id is not None
    try:
        verified = verify_authentication_response(
            credential=answer.parsed,  # type: ignore[arg-type]
            expected_challenge=_decode_id(answer.challenge),
            expected_rp_id=settings.webauthn_rp_id,
            expected_origin=list(settings.webauthn_origins),
            credential_public_key=credential.public_key,
            credential_current_sign_count=0,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        _rejected("sign-in", error)
        return None
    return PasskeyUse(
        credential.credential_id,
        verified.new_sign_count,
        verified.credential_backed_up,
        verified.user_verified,
    )
