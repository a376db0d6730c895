"""Exactly-once, observable transactions: the pure transitions and ``Executions``."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from otpgate import (
    AsyncVerifier,
    ChallengeExpired,
    InvalidCode,
    MemoryCredentials,
    MemoryStore,
    OutboxSender,
    Settings,
    Verifier,
)
from otpgate.core.executions import AsyncExecutions, Executions
from otpgate.core.transactions import (
    Answer,
    Step,
    TransactionExecuted,
    TransactionInProgress,
    TxState,
    TxStep,
    advance,
)
from tests.conftest import KEY, PHONE, START, FakeClock

DETAILS = {"amount": "250.00", "payee": "DE89370400440532013000"}
ACTION = "POST /payments"


def run(steps: list[TxStep], now: float = START):
    record, answers = None, []
    for step in steps:
        result, write = advance(record, step, now)
        answers.append(result.answer)
        if write:
            record = result.record
    return record, answers


def test_the_life_of_a_transaction_that_fails_once():
    record, answers = run(
        [
            TxStep(Step.BEGIN, "c", expires_at=START + 300),
            TxStep(Step.CLAIM, "c", "proof"),
            TxStep(Step.CLAIM, "c", "proof"),  # a concurrent executor
            TxStep(Step.SETTLE, "c", success=False),
            TxStep(Step.RETRY, "c", "proof"),
            TxStep(Step.SETTLE, "c", success=True, outcome='{"status":200}'),
            TxStep(Step.RETRY, "c", "proof"),  # a replay
            TxStep(Step.BEGIN, "d", expires_at=START + 300),  # a new confirmation
        ]
    )
    ok, busy, done = Answer.OK, Answer.IN_PROGRESS, Answer.EXECUTED
    assert answers == [ok, ok, busy, ok, ok, ok, done, done]
    assert record is not None
    assert (record.state, record.outcome, record.expires_at) == (
        TxState.EXECUTED,
        '{"status":200}',
        START + 300,  # the claim kept the pending challenge's lifetime
    )


def test_a_retry_while_the_winner_has_checked_but_not_claimed_is_in_progress():
    # The winner's check spent the code; until its claim lands, a loser's check answers
    # "expired" and it retries: that is "in progress", not "expired" (nothing is written).
    pending = [TxStep(Step.BEGIN, "c", expires_at=START + 300)]
    record, answers = run([*pending, TxStep(Step.RETRY, "c", "proof")])
    assert answers == [Answer.OK, Answer.IN_PROGRESS]
    assert record is not None and record.state is TxState.PENDING
    _, answers = run([*pending, TxStep(Step.RETRY, "other", "proof")])
    assert answers[-1] is Answer.EXPIRED  # another challenge's code confirms nothing here


def test_a_failed_transaction_expires_with_its_code():
    failed = [
        TxStep(Step.BEGIN, "c", expires_at=START + 300),
        TxStep(Step.CLAIM, "c", "proof"),
        TxStep(Step.SETTLE, "c", success=False),
    ]
    record, _ = run(failed)
    assert record is not None and record.seen_at(START + 299).state is TxState.FAILED
    assert record.seen_at(START + 300).state is TxState.EXPIRED
    result, write = advance(record, TxStep(Step.RETRY, "c", "proof"), START + 300)
    assert (result.answer, write) == (Answer.EXPIRED, False)


def test_wrong_codes_on_retry_are_counted_then_end_it():
    steps = [
        TxStep(Step.BEGIN, "c", expires_at=START + 300),
        TxStep(Step.CLAIM, "c", "proof"),
        TxStep(Step.SETTLE, "c", success=False),
    ]
    wrong = TxStep(Step.RETRY, "c", "guess", max_attempts=2)
    record, answers = run([*steps, wrong, wrong, TxStep(Step.RETRY, "c", "proof")])
    assert answers[3:] == [Answer.INVALID, Answer.EXPIRED, Answer.EXPIRED]
    assert record is not None and record.state is TxState.EXPIRED


def test_settling_another_challenge_or_canceling_too_late_changes_nothing():
    record, answers = run(
        [
            TxStep(Step.CLAIM, "c", "proof", expires_at=START + 60),
            TxStep(Step.SETTLE, "other", success=True),
            TxStep(Step.CANCEL),
        ]
    )
    assert answers == [Answer.OK, Answer.STALE, Answer.STALE]
    assert record is not None and record.state is TxState.CONFIRMED
    _, answers = run([TxStep(Step.BEGIN, "c", expires_at=START + 60), TxStep(Step.CANCEL)])
    assert answers == [Answer.OK, Answer.OK]


def _gate(clock: FakeClock, outbox: OutboxSender, cls=Verifier):
    credentials = MemoryCredentials()
    credentials.add_phone("alice", PHONE)
    store = MemoryStore(clock=clock)
    settings = Settings(secret_keys=(KEY,))
    return cls(settings, store=store, sender=outbox, credentials=credentials, clock=clock)


def test_a_failed_execution_is_retried_with_the_same_code():
    clock, outbox = FakeClock(), OutboxSender()
    gate = _gate(clock, outbox)
    tx = Executions(gate)
    key = tx.key("alice", ACTION, DETAILS)
    assert tx.state("alice", ACTION, DETAILS).state == "unknown"
    challenge = gate.start_sms("alice", purpose="transaction", context=DETAILS, action=ACTION)
    tx.begin(key, challenge)
    code = outbox.last_code_for(PHONE)

    def check():
        return gate.check(challenge.id, code, context=DETAILS, subject="alice", action=ACTION)

    tx.confirm(key, "alice", challenge.id, code, check)
    with pytest.raises(TransactionInProgress):
        tx.confirm(key, "alice", challenge.id, code, check)
    tx.settle(key, challenge.id, failed=True)
    status = tx.state("alice", ACTION, DETAILS)
    assert (status.state, status.retryable) == ("failed", True)
    with pytest.raises(InvalidCode):
        tx.confirm(key, "alice", challenge.id, "000000" if code != "000000" else "1" * 6, check)
    retried = tx.confirm(key, "alice", challenge.id, code, check)
    assert (retried.subject, retried.purpose, retried.challenge_id) == (
        "alice",
        "transaction",
        challenge.id,
    )
    tx.settle(key, challenge.id, {"status": 200})
    with pytest.raises(TransactionExecuted) as replayed:
        tx.confirm(key, "alice", challenge.id, code, check)
    assert replayed.value.outcome == {"status": 200}
    with pytest.raises(TransactionExecuted):
        tx.guard(key)
    assert tx.state("alice", ACTION, DETAILS).outcome == {"status": 200}


def test_an_unknown_challenge_stays_expired():
    clock, outbox = FakeClock(), OutboxSender()
    gate = _gate(clock, outbox)
    tx = Executions(gate)
    key = tx.key("alice", ACTION, DETAILS)
    with pytest.raises(ChallengeExpired):
        tx.confirm(key, "alice", "x.y", "123456", lambda: gate.check("x.y", "123456"))


def test_100_concurrent_executions_execute_once_memory_threads():
    clock, outbox = FakeClock(), OutboxSender()
    gate = _gate(clock, outbox)
    tx = Executions(gate)
    key = tx.key("alice", ACTION, DETAILS)
    challenge = gate.start_sms("alice", purpose="transaction", context=DETAILS, action=ACTION)
    tx.begin(key, challenge)
    code = outbox.last_code_for(PHONE)
    executed = []

    def execute(_: int) -> str:
        try:
            tx.confirm(
                key,
                "alice",
                challenge.id,
                code,
                lambda: gate.check(challenge.id, code, context=DETAILS, action=ACTION),
            )
        except (TransactionInProgress, TransactionExecuted) as refused:
            return refused.code
        executed.append(1)
        tx.settle(key, challenge.id, {"status": 200})
        return "executed"

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(execute, range(100)))
    assert answers.count("executed") == 1 and len(executed) == 1
    assert set(answers) <= {"executed", "transaction_in_progress", "transaction_executed"}


def test_the_async_twin_answers_alike():
    clock, outbox = FakeClock(), OutboxSender()
    gate = _gate(clock, outbox, AsyncVerifier)
    tx = AsyncExecutions(gate)
    key = tx.key("alice", ACTION, DETAILS)

    async def scenario() -> None:
        challenge = await gate.start_sms(
            "alice", purpose="transaction", context=DETAILS, action=ACTION
        )
        await tx.begin(key, challenge)
        code = outbox.last_code_for(PHONE)

        async def check():
            return await gate.check(challenge.id, code, context=DETAILS, action=ACTION)

        async def attempt() -> str:
            try:
                await tx.confirm(key, "alice", challenge.id, code, check)
            except (TransactionInProgress, TransactionExecuted) as refused:
                return refused.code
            await asyncio.sleep(0)
            await tx.settle(key, challenge.id, failed=True)
            return "claimed"

        answers = await asyncio.gather(*[attempt() for _ in range(100)])
        assert answers.count("claimed") == 1
        assert (await tx.state("alice", ACTION, DETAILS)).state == "failed"
        await tx.confirm(key, "alice", challenge.id, code, check)  # the retry
        await tx.settle(key, challenge.id, {"id": "p-1"})
        status = await tx.state("alice", ACTION, DETAILS)
        assert (status.state, status.outcome) == ("executed", {"id": "p-1"})
        assert await tx.cancel(key) is False

    asyncio.run(scenario())
