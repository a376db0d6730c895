"""Confirming a transaction with any factor that may confirm one (``Confirmations``), on every
store and verifier flavour: an app confirms with no SMS sent, the server-side challenge binds
the details and the action for every factor, a failed execution is retried, an executed one
answers its outcome, and a subject with no suitable factor is told to add one."""

from __future__ import annotations

import pyotp
import pytest

from otpgate import (
    ChallengeExpired,
    CodeReplayed,
    ConfigurationError,
    ContextMismatch,
    FactorNotAllowed,
    FactorSetupRequired,
    InvalidCode,
    LockedOut,
    MalformedInput,
    Settings,
    Verifier,
)
from otpgate.core.confirmations import (
    STATE_CHANGING,
    AsyncConfirmations,
    Confirmations,
    require_state_changing,
    split_token,
)
from otpgate.core.errors import MethodNotAllowed
from otpgate.core.http import error_response
from otpgate.core.transactions import TransactionExecuted, TransactionInProgress
from tests.conftest import KEY, PHONE, Sync
from tests.core.test_factors import enrolled

DETAILS = {"amount": "250.00", "payee": "DE89370400440532013000"}
ACTION = "POST /payments"


def confirmations(gate: Sync) -> Sync:
    target = gate._target
    cls = Confirmations if isinstance(target, Verifier) else AsyncConfirmations
    return Sync(cls(target), gate._loop)


def app_user(gate, clock, subject="alice") -> pyotp.TOTP:
    return enrolled(gate, clock, subject)


class TestWithTheApp:
    def test_an_app_user_confirms_with_no_sms_sent(self, gate, clock, outbox):
        totp = app_user(gate, clock)
        tx = confirmations(gate)
        pending = tx.open("alice", ACTION, DETAILS, method="POST", summary="EUR 250.00")
        assert (pending.factor, pending.challenge) == ("totp", None)
        assert pending.token.startswith("totp~")
        assert [option["name"] for option in pending.view(clock())["factors"]] == ["totp"]
        assert tx.state("alice", ACTION, DETAILS).state == "pending"
        verification = tx.confirm_code("alice", ACTION, DETAILS, pending.token, totp.at(clock()))
        assert (verification.factor, verification.purpose) == ("totp", "transaction")
        assert verification.context_digest
        assert outbox.messages == []
        key = tx.key("alice", ACTION, DETAILS)
        tx.settle(key, split_token(pending.token)[1], {"status": 201, "id": "p-1"})
        clock.advance(30)
        with pytest.raises(TransactionExecuted) as replayed:
            tx.confirm_code("alice", ACTION, DETAILS, pending.token, totp.at(clock()))
        assert replayed.value.outcome == {"status": 201, "id": "p-1"}
        with pytest.raises(TransactionExecuted):
            tx.open("alice", ACTION, DETAILS, method="POST")

    def test_an_app_code_confirms_only_the_details_and_action_shown(self, gate, clock):
        totp = app_user(gate, clock)
        tx = confirmations(gate)
        pending = tx.open("alice", ACTION, DETAILS, method="POST")
        other = {**DETAILS, "amount": "9999.00"}
        with pytest.raises(ChallengeExpired):
            tx.confirm_code("alice", ACTION, other, pending.token, totp.at(clock()))
        clock.advance(30)
        with pytest.raises(ChallengeExpired):
            tx.confirm_code("alice", "DELETE /payments", DETAILS, pending.token, totp.at(clock()))
        clock.advance(30)
        with pytest.raises(ChallengeExpired):  # a token never opened
            tx.confirm_code("alice", ACTION, DETAILS, "totp~made-up", totp.at(clock()))
        clock.advance(30)
        tx.confirm_code("alice", ACTION, DETAILS, pending.token, totp.at(clock()))

    def test_the_pending_challenge_lives_as_long_as_a_code(self, gate, clock):
        totp = app_user(gate, clock)
        tx = confirmations(gate)
        pending = tx.open("alice", ACTION, DETAILS, method="POST")
        assert pending.expires_at == clock() + gate.settings.code_lifetime
        clock.advance(gate.settings.code_lifetime + 1)
        with pytest.raises(ChallengeExpired):
            tx.confirm_code("alice", ACTION, DETAILS, pending.token, totp.at(clock()))
        assert tx.state("alice", ACTION, DETAILS).state == "expired"

    def test_a_failed_execution_is_retried_with_the_same_or_a_new_app_code(self, gate, clock):
        totp = app_user(gate, clock)
        tx = confirmations(gate)
        pending = tx.open("alice", ACTION, DETAILS, method="POST")
        reference = split_token(pending.token)[1]
        key = tx.key("alice", ACTION, DETAILS)
        code = totp.at(clock())
        tx.confirm_code("alice", ACTION, DETAILS, pending.token, code)
        with pytest.raises(TransactionInProgress):
            tx.confirm_code("alice", ACTION, DETAILS, pending.token, code)
        tx.settle(key, reference, failed=True)
        status = tx.state("alice", ACTION, DETAILS)
        assert (status.state, status.retryable) == ("failed", True)
        retried = tx.confirm_code("alice", ACTION, DETAILS, pending.token, code)
        assert retried.factor == "totp"
        tx.settle(key, reference, failed=True)
        clock.advance(60)
        tx.confirm_code("alice", ACTION, DETAILS, pending.token, totp.at(clock()))
        tx.settle(key, reference, {"status": 200})
        assert tx.state("alice", ACTION, DETAILS).outcome == {"status": 200}

    def test_an_app_code_spent_on_sign_in_does_not_confirm(self, gate, clock):
        totp = app_user(gate, clock)
        tx = confirmations(gate)
        code = totp.at(clock())
        gate.verify("alice", "totp", code, purpose="login")
        pending = tx.open("alice", ACTION, DETAILS, method="POST")
        with pytest.raises(CodeReplayed) as spent:
            tx.confirm_code("alice", ACTION, DETAILS, pending.token, code)
        assert not isinstance(spent.value, TransactionInProgress)
        with pytest.raises(InvalidCode):
            tx.confirm_code("alice", ACTION, DETAILS, pending.token, "000000")


class TestWithSms:
    def test_sms_carries_the_details_and_confirms_them(self, gate, clock, outbox):
        gate.credentials.add_phone("alice", PHONE)
        tx = confirmations(gate)
        pending = tx.open("alice", ACTION, DETAILS, method="POST", summary="EUR 250.00")
        assert pending.factor == "sms" and pending.challenge is not None
        assert pending.token == f"sms~{pending.challenge.id}"
        assert "EUR 250.00" in outbox.messages[-1].text
        code = outbox.last_code_for(PHONE)
        with pytest.raises(ContextMismatch):
            tx.confirm_code("alice", ACTION, {**DETAILS, "amount": "1"}, pending.token, code)
        # A bare challenge id (as clients were answered before tokens named their factor).
        verification = tx.confirm_code("alice", ACTION, DETAILS, pending.challenge.id, code)
        assert verification.factor == "sms"

    def test_the_user_may_choose_sms_over_the_app_and_resend_it(self, gate, clock, outbox):
        app_user(gate, clock)
        gate.credentials.add_phone("alice", PHONE)
        tx = confirmations(gate)
        pending = tx.open("alice", ACTION, DETAILS, method="POST", factor="sms")
        assert pending.factor == "sms" and [o.name for o in pending.options] == ["totp", "sms"]
        assert tx.pending("alice", pending.token).id == pending.challenge.id
        clock.advance(gate.settings.resend_cooldown)
        tx.resend("alice", pending.token)
        assert len(outbox.messages) == 2
        with pytest.raises(ChallengeExpired):  # someone else's challenge
            tx.resend("mallory", pending.token)
        app = tx.open("alice", ACTION, DETAILS, method="POST")
        assert tx.pending("alice", app.token) is None
        with pytest.raises(MalformedInput):
            tx.resend("alice", app.token)

    def test_a_canceled_sms_challenge_is_expired_not_in_progress(self, gate, outbox):
        gate.credentials.add_phone("alice", PHONE)
        tx = confirmations(gate)
        pending = tx.open("alice", ACTION, DETAILS, method="POST")
        code = outbox.last_code_for(PHONE)
        gate.cancel(pending.challenge.id)
        for _ in range(2):
            with pytest.raises(ChallengeExpired) as ended:
                tx.confirm_code("alice", ACTION, DETAILS, pending.token, code)
            assert not isinstance(ended.value, TransactionInProgress)
        assert tx.state("alice", ACTION, DETAILS).state == "pending"

    def test_a_request_racing_the_one_that_checked_the_code_is_in_progress(self, gate, outbox):
        gate.credentials.add_phone("alice", PHONE)
        tx = confirmations(gate)
        pending = tx.open("alice", ACTION, DETAILS, method="POST")
        code = outbox.last_code_for(PHONE)
        # The winner has checked the code and not claimed the transaction yet.
        gate.verify(
            "alice",
            "sms",
            code,
            purpose="transaction",
            challenge_id=pending.challenge.id,
            context=DETAILS,
            action=ACTION,
        )
        with pytest.raises(TransactionInProgress):
            tx.confirm_code("alice", ACTION, DETAILS, pending.token, code)


class TestWhoMayConfirm:
    def test_a_recovery_code_never_confirms(self, gate, clock):
        codes = gate.recovery.generate("alice")
        tx = confirmations(gate)
        with pytest.raises(FactorSetupRequired) as missing:
            tx.open("alice", ACTION, DETAILS, method="POST")
        assert (missing.value.code, missing.value.http_status) == ("factor_setup_required", 409)
        assert missing.value.purpose == "transaction"
        with pytest.raises(FactorNotAllowed):
            tx.confirm_code("alice", ACTION, DETAILS, "recovery~x", codes[0])

    def test_the_policy_names_the_factors_that_may_confirm(self, make_gate, clock):
        gate = make_gate(Settings(secret_keys=(KEY,), transaction_factors="sms"))
        totp = app_user(gate, clock)
        tx = confirmations(gate)
        with pytest.raises(FactorSetupRequired):
            tx.open("alice", ACTION, DETAILS, method="POST")
        gate.credentials.add_phone("alice", PHONE)
        assert tx.open("alice", ACTION, DETAILS, method="POST").factor == "sms"
        with pytest.raises(FactorNotAllowed):
            tx.open("alice", ACTION, DETAILS, method="POST", factor="totp")
        with pytest.raises(FactorNotAllowed):
            tx.confirm_code("alice", ACTION, DETAILS, "totp~x", totp.at(clock()))

    def test_the_policy_refuses_recovery_codes_and_bad_names(self):
        for bad in ("recovery", "sms, recovery", "SMS!"):
            with pytest.raises(ConfigurationError):
                Settings(secret_keys=(KEY,), transaction_factors=bad)
        assert Settings(secret_keys=(KEY,)).transaction_factors == ("sms", "totp", "webauthn")

    @pytest.mark.parametrize("token", ["", "~", "totp~", "~abc", "x" * 201, None, 5])
    def test_malformed_tokens_are_typed_errors(self, gate, token):
        tx = confirmations(gate)
        with pytest.raises(MalformedInput):
            tx.confirm_code("alice", ACTION, DETAILS, token, "123456")


class TestOnlyStateChangingRequestsConfirm:
    """A link preview, a crawler or a prefetch (GET, HEAD, OPTIONS, TRACE) never sends a code,
    spends a budget or records a transaction."""

    @pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE", "get", "PROPFIND", ""])
    def test_a_safe_method_opens_nothing_and_sends_nothing(self, gate, clock, outbox, method):
        gate.credentials.add_phone("alice", PHONE)
        tx = confirmations(gate)
        with pytest.raises(MethodNotAllowed) as refused:
            tx.open("alice", ACTION, DETAILS, method=method, summary="EUR 250.00")
        assert (refused.value.code, refused.value.http_status) == ("method_not_allowed", 405)
        assert refused.value.allowed == ("POST", "PUT", "PATCH", "DELETE")
        assert outbox.messages == []
        assert tx.state("alice", ACTION, DETAILS).state == "unknown"

    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "post"])
    def test_a_state_changing_method_opens_and_sends(self, gate, outbox, method):
        gate.credentials.add_phone("alice", PHONE)
        pending = confirmations(gate).open("alice", ACTION, DETAILS, method=method)
        assert pending.factor == "sms" and len(outbox.messages) == 1
        assert require_state_changing(method) == method.upper()

    def test_the_refusal_maps_to_405_with_allow(self):
        answer = error_response(MethodNotAllowed(allowed=STATE_CHANGING), "fr")
        assert answer.status == 405
        assert answer.headers["Allow"] == "POST, PUT, PATCH, DELETE"
        assert answer.body["code"] == "method_not_allowed"
        assert answer.body["title"] != MethodNotAllowed.default_message  # translated


def test_100_concurrent_app_confirmations_execute_once(clock):
    """Threads on one verifier and its MemoryStore (Redis: tests/redis/test_transactions.py)."""
    from concurrent.futures import ThreadPoolExecutor

    from otpgate import MemoryCredentials, MemoryStore, OutboxSender

    gate = Verifier(
        Settings(secret_keys=(KEY,)),
        store=MemoryStore(clock=clock),
        sender=OutboxSender(),
        credentials=MemoryCredentials(),
        clock=clock,
    )
    totp = enrolled(gate, clock)
    tx = Confirmations(gate)
    pending = tx.open("alice", ACTION, DETAILS, method="POST")
    key, reference = tx.key("alice", ACTION, DETAILS), split_token(pending.token)[1]
    code = totp.at(clock())

    def execute(_: int) -> str:
        try:
            tx.confirm_code("alice", ACTION, DETAILS, pending.token, code)
        except (TransactionInProgress, TransactionExecuted, CodeReplayed, LockedOut) as refused:
            return refused.code
        tx.settle(key, reference, {"status": 200})
        return "executed"

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(execute, range(100)))
    assert answers.count("executed") == 1
    assert tx.state("alice", ACTION, DETAILS).state == "executed"
