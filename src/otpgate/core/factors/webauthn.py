"""``webauthn``: a passkey (WebAuthn credential), the strongest factor (rank 40).

Served by the factor model like the others, with a browser instead of a typed code:

- ``gate.start`` stores a single-use challenge (for the purpose, the subject, and the
  digest of the details and action) and returns a :class:`Challenge` whose
  ``browser_options`` are the request options; ``gate.setup`` does the same with creation
  options (``name``: the user's name for the passkey, ``label``: the account name shown);
- the page hands them to the browser (``otpgate-webauthn.js``) and posts its JSON answer as
  the ``code`` of ``gate.verify`` (``purpose="enroll"`` finishes a registration).

Offered only where the site configured it (``webauthn_rp_id`` and ``webauthn_origins``).
The decisions live in ``webauthn_flow.py``; this module does the I/O, sync and async.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from ..passkey_settings import webauthn_configured
from .base import BROWSER_INPUT, CheckRequest, InputSpec, StartRequest
from .removal import Removable
from .selection import change_refusal
from .setup import FactorSetup, SetupRequest

if TYPE_CHECKING:
    from ..aio import AsyncVerifier
    from ..challenge import Challenge, Verification
    from ..credentials import Factors
    from ..settings import Settings
    from ..verifier import Verifier


def _flow() -> ModuleType:
    # py_webauthn is imported only by a site that configured passkeys
    from . import webauthn_flow

    return webauthn_flow


class WebAuthnFactor:
    """A passkey of the subject; ``gate.passkeys`` lists, renames and removes them."""

    name = "webauthn"
    #: What ``enrolled`` looks at: all ``gate.verify`` reads of the factors (``reads.py``).
    reads = frozenset({"passkeys"})
    rank = 40
    purposes = frozenset({"login", "action", "transaction", "enroll"})
    #: The page shows the details; the signed challenge is bound to their digest.
    binds_details = False
    sends = False

    def configured(self, settings: Settings) -> bool:
        """Configured: a relying-party id and its origins."""
        return webauthn_configured(settings)

    def input_spec(self, settings: Settings) -> InputSpec:
        return BROWSER_INPUT

    def enrolled(self, factors: Factors) -> bool:
        return bool(factors.passkeys)

    def destination(self, factors: Factors) -> str:
        return ""

    # -- starting a ceremony --------------------------------------------------------------------

    def start(self, gate: Verifier, subject: str, request: StartRequest) -> Challenge | None:
        flow = _flow()
        binding = gate._binding_digest(request.context, request.action)
        keys = gate.credentials.passkeys(subject)
        plan = flow.plan_start(gate, subject, request.purpose, keys, context_digest=binding)
        outcome = gate.store.create_challenge(
            plan.record, gate.subject_key(subject), plan.record.created_at, gate.lockout
        )
        flow.finish_created(gate, outcome, subject, plan)
        challenge: Challenge = plan.challenge
        return challenge

    async def astart(
        self, gate: AsyncVerifier, subject: str, request: StartRequest
    ) -> Challenge | None:
        flow = _flow()
        binding = gate._binding_digest(request.context, request.action)
        keys = await gate.credentials.passkeys(subject)
        plan = flow.plan_start(gate, subject, request.purpose, keys, context_digest=binding)
        outcome = await gate.store.create_challenge(
            plan.record, gate.subject_key(subject), plan.record.created_at, gate.lockout
        )
        flow.finish_created(gate, outcome, subject, plan)
        challenge: Challenge = plan.challenge
        return challenge

    def setup(self, gate: Verifier, subject: str, request: SetupRequest) -> FactorSetup:
        """Creation options for a new passkey; its answer then proves it (``enroll``)."""
        flow = _flow()
        keys = gate.credentials.passkeys(subject)
        plan = flow.plan_start(
            gate, subject, "enroll", keys, label=request.label, name=request.name
        )
        outcome = gate.store.create_challenge(
            plan.record, gate.subject_key(subject), plan.record.created_at, gate.lockout
        )
        flow.finish_created(gate, outcome, subject, plan)
        return FactorSetup(self.name, needs_proof=True, challenge=plan.challenge)

    async def asetup(self, gate: AsyncVerifier, subject: str, request: SetupRequest) -> FactorSetup:
        flow = _flow()
        keys = await gate.credentials.passkeys(subject)
        plan = flow.plan_start(
            gate, subject, "enroll", keys, label=request.label, name=request.name
        )
        outcome = await gate.store.create_challenge(
            plan.record, gate.subject_key(subject), plan.record.created_at, gate.lockout
        )
        flow.finish_created(gate, outcome, subject, plan)
        return FactorSetup(self.name, needs_proof=True, challenge=plan.challenge)

    # -- checking an answer ---------------------------------------------------------------------

    def check(self, gate: Verifier, subject: str, code: str, request: CheckRequest) -> Verification:
        flow = _flow()
        plan = flow.plan_check(gate, subject, code, request)
        if request.purpose == "enroll":
            refusal = change_refusal(
                gate.factors(subject), request.may_change_factors, gate.settings, gate.registry
            )
            if refusal is not None:
                raise refusal
        keys = gate.credentials.passkeys(subject)
        judged = flow.judge(gate, subject, plan, keys, request.purpose)
        outcome = gate.store.check_code(
            plan.challenge_id,
            judged.digest,
            plan.context_digest,
            gate.clock(),
            gate.settings.max_attempts,
            gate.lockout,
            request.purpose,
        )
        verification: Verification = flow.finish_check(gate, subject, plan, judged, outcome)
        if judged.added is not None:
            passkey = flow.new_passkey(gate, subject, judged, outcome.record)
            flow.finish_added(gate, subject, gate.credentials.add_passkey(subject, passkey))
            gate.devices.revoke_all(subject, reason="factors_changed")
        elif judged.use is not None:
            use = judged.use
            if not gate.credentials.use_passkey(
                subject, use.credential_id, use.sign_count, use.backup_state, gate.clock()
            ):
                raise flow.counter_regression(gate, subject, use.credential_id, request.purpose)
        return verification

    async def acheck(
        self, gate: AsyncVerifier, subject: str, code: str, request: CheckRequest
    ) -> Verification:
        flow = _flow()
        plan = flow.plan_check(gate, subject, code, request)
        if request.purpose == "enroll":
            refusal = change_refusal(
                await gate.factors(subject),
                request.may_change_factors,
                gate.settings,
                gate.registry,
            )
            if refusal is not None:
                raise refusal
        keys = await gate.credentials.passkeys(subject)
        judged = flow.judge(gate, subject, plan, keys, request.purpose)
        outcome = await gate.store.check_code(
            plan.challenge_id,
            judged.digest,
            plan.context_digest,
            gate.clock(),
            gate.settings.max_attempts,
            gate.lockout,
            request.purpose,
        )
        verification: Verification = flow.finish_check(gate, subject, plan, judged, outcome)
        if judged.added is not None:
            passkey = flow.new_passkey(gate, subject, judged, outcome.record)
            stored = await gate.credentials.add_passkey(subject, passkey)
            flow.finish_added(gate, subject, stored)
            await gate.devices.revoke_all(subject, reason="factors_changed")
        elif judged.use is not None:
            use = judged.use
            if not await gate.credentials.use_passkey(
                subject, use.credential_id, use.sign_count, use.backup_state, gate.clock()
            ):
                raise flow.counter_regression(gate, subject, use.credential_id, request.purpose)
        return verification

    def removable(self, gate: Verifier, subject: str) -> list[Removable]:
        """The subject's passkeys, by name."""
        keys = gate.passkeys.list(subject)
        return [Removable(self.name, key.credential_id, key.name) for key in keys]

    async def aremovable(self, gate: AsyncVerifier, subject: str) -> list[Removable]:
        keys = await gate.passkeys.list(subject)
        return [Removable(self.name, key.credential_id, key.name) for key in keys]

    def remove(self, gate: Verifier, subject: str, ref: str) -> bool:
        return gate.passkeys.remove(subject, ref)

    async def aremove(self, gate: AsyncVerifier, subject: str, ref: str) -> bool:
        return await gate.passkeys.remove(subject, ref)
