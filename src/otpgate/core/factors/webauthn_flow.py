"""The decisions of the ``webauthn`` factor, as pure code: what to store when a ceremony
starts, how to judge an answer, and what its store outcome means. ``webauthn.py`` does the
I/O around these (with or without ``await``), so both verifiers decide exactly alike.

A passkey challenge is an ordinary :class:`~otpgate.core.challenge.ChallengeRecord` whose
"code" is the random WebAuthn challenge: the store keeps only its keyed digest, bound to
the subject (the id), the purpose and the digest of the details and action, and consumes
it exactly once in one round trip (``check_code``, the same Lua script as SMS codes). The
answer's signature is checked first, in pure code; an answer that does not verify presents
a digest that cannot match, so it counts as a failed attempt like a wrong code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import passkeys
from ..challenge import Challenge, ChallengeRecord, Verification, new_challenge_id, subject_key_of
from ..credentials import PasskeyCredential, counter_regressed
from ..errors import (
    ChallengeExpired,
    FactorAlreadyEnrolled,
    FactorNotEnrolled,
    InvalidCode,
    LockedOut,
    PasskeyRejected,
    SignCountRegression,
)
from ..events import EventName
from ..policy import Outcome, Result
from ..sealed import Delivery, open_delivery, seal_delivery, seal_subject

if TYPE_CHECKING:
    from ..engine import BaseVerifier
    from .base import CheckRequest

FACTOR = "webauthn"
#: What a rejected answer presents to the store: never the digest of a real challenge.
_NO_MATCH = "-"


@dataclass(frozen=True)
class StartPlan:
    record: ChallengeRecord
    challenge: Challenge


@dataclass(frozen=True)
class CheckPlan:
    challenge_id: str
    answer: passkeys.Answer
    context_digest: str


@dataclass(frozen=True)
class Judged:
    """The pure verdict on an answer: the digest to present, and what it proved."""

    digest: str
    added: PasskeyCredential | None = None
    use: passkeys.PasskeyUse | None = None
    regressed: bool = False


def user_id(gate: BaseVerifier, subject: str) -> bytes:
    """The WebAuthn user handle of ``subject``: a keyed digest, so an authenticator never
    holds the subject itself, and the same for every passkey of the subject."""
    return gate.keyring.digest("webauthn-user", subject).encode("ascii")[:64]


def plan_start(
    gate: BaseVerifier,
    subject: str,
    purpose: str,
    keys: list[PasskeyCredential],
    *,
    context_digest: str = "",
    label: str | None = None,
    name: str | None = None,
) -> StartPlan:
    """A new challenge for ``purpose``: creation options for ``enroll``, else request
    options for the subject's passkeys (FactorNotEnrolled if they have none)."""
    if purpose != "enroll" and not keys:
        raise FactorNotEnrolled("No passkey is registered for this account.")
    now, settings = gate.clock(), gate.settings
    challenge_id = new_challenge_id(gate.subject_key(subject))
    raw = passkeys.new_challenge()
    if purpose == "enroll":
        shown = passkeys.passkey_name(name, len(keys))
        account = gate._short_text(label, "label") or subject
        options = passkeys.creation_options(
            settings,
            challenge=raw,
            user_id=user_id(gate, subject),
            user_name=account,
            exclude=keys,
        )
    else:
        shown = ""
        options = passkeys.request_options(settings, challenge=raw, allow=keys)
    expires = now + settings.webauthn_challenge_lifetime
    record = ChallengeRecord(
        id=challenge_id,
        purpose=purpose,
        masked_phone="",
        sealed_subject=seal_subject(gate.keyring, challenge_id, subject),
        sealed_delivery=seal_delivery(gate.keyring, challenge_id, Delivery(subject, "", "", shown)),
        code_digest=gate.keyring.code_digest(challenge_id, passkeys.encode(raw)),
        created_at=now,
        expires_at=expires,
        next_send_at=expires,
        context_digest=context_digest,
        sends=settings.max_sends,  # nothing to resend: a resend answers send_limit_reached
    )
    view = dataclasses.replace(gate.view(record, subject), browser_options=options)
    return StartPlan(record, view)


def finish_created(gate: BaseVerifier, outcome: Outcome, subject: str, plan: StartPlan) -> None:
    if outcome.result is Result.LOCKED:
        raise LockedOut(retry_after=outcome.retry_after)
    gate._emit(
        EventName.CHALLENGE_STARTED,
        subject,
        factor=FACTOR,
        purpose=plan.record.purpose,
        challenge_id=plan.record.id,
    )


def plan_check(gate: BaseVerifier, subject: str, code: object, request: CheckRequest) -> CheckPlan:
    """The challenge id (the subject's own), the parsed answer and the binding digest."""
    challenge_id = request.challenge_id or ""
    if not challenge_id or subject_key_of(challenge_id) != gate.subject_key(subject):
        raise ChallengeExpired()
    ceremony: passkeys.Ceremony = "create" if request.purpose == "enroll" else "get"
    answer = passkeys.parse_answer(code, ceremony)
    return CheckPlan(challenge_id, answer, gate._binding_digest(request.context, request.action))


def judge(
    gate: BaseVerifier,
    subject: str,
    plan: CheckPlan,
    keys: list[PasskeyCredential],
    purpose: str,
) -> Judged:
    """Check the answer's signature, origin and relying party against the site and the
    subject's passkeys: the digest to present to the store, and what the answer proved."""
    answer, settings = plan.answer, gate.settings
    digest = gate.keyring.code_digest(plan.challenge_id, answer.challenge)
    if purpose == "enroll":
        added = passkeys.verify_registration(settings, answer, name="", now=gate.clock())
        return Judged(digest, added=added) if added is not None else Judged(_NO_MATCH)
    key = next((k for k in keys if k.credential_id == answer.credential_id), None)
    use = passkeys.verify_assertion(settings, answer, key) if key is not None else None
    if key is None or use is None:
        return Judged(_NO_MATCH)
    return Judged(digest, use=use, regressed=counter_regressed(key.sign_count, use.sign_count))


def finish_check(
    gate: BaseVerifier, subject: str, plan: CheckPlan, judged: Judged, outcome: Outcome
) -> Verification:
    """The verification if the store approved (the challenge is spent either way), or the
    typed error: PasskeyRejected for an answer that did not verify, SignCountRegression
    (and its event) for a counter that went backwards."""
    record = outcome.record
    if outcome.result is not Result.APPROVED or record is None:
        try:
            gate._raise_failure(outcome, FACTOR, subject=subject, challenge_id=plan.challenge_id)
        except InvalidCode as error:
            raise PasskeyRejected(attempts_left=error.attempts_left) from None
    assert record is not None
    if judged.regressed:
        raise counter_regression(gate, subject, plan.answer.credential_id, record.purpose)
    gate._emit(
        EventName.CHALLENGE_APPROVED,
        subject,
        factor=FACTOR,
        purpose=record.purpose,
        challenge_id=plan.challenge_id,
    )
    return Verification(
        subject, record.purpose, FACTOR, gate.clock(), plan.challenge_id, record.context_digest
    )


def counter_regression(
    gate: BaseVerifier, subject: str, credential_id: str, purpose: str
) -> SignCountRegression:
    """The error for a passkey whose counter went backwards, after its event (which names
    the credential id: public, and what an operator needs to revoke it)."""
    gate._emit(
        EventName.PASSKEY_COUNTER_REGRESSION,
        subject,
        factor=FACTOR,
        purpose=purpose,
        detail={"credential_id": credential_id},
    )
    return SignCountRegression()


def new_passkey(
    gate: BaseVerifier, subject: str, judged: Judged, record: ChallengeRecord
) -> PasskeyCredential:
    """The passkey to store, named as the user asked when the ceremony started."""
    assert judged.added is not None
    name = open_delivery(gate.keyring, record, subject).summary
    return dataclasses.replace(judged.added, name=name, created_at=gate.clock())


def finish_added(gate: BaseVerifier, subject: str, stored: bool) -> None:
    if not stored:  # the same authenticator registered twice (excludeCredentials ignored)
        raise FactorAlreadyEnrolled("This passkey is registered already.")
    gate._emit(EventName.FACTOR_ADDED, subject, factor=FACTOR)
