"""Passkeys (the ``webauthn`` factor) through the factor model, on every verifier flavour
and store, answered by a software authenticator (real keys, CBOR and signatures)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from otpgate import (
    ChallengeExpired,
    ConfigurationError,
    ContextMismatch,
    EventName,
    FactorAlreadyEnrolled,
    FactorNotAllowed,
    FactorNotEnrolled,
    FreshOtpRequired,
    MalformedInput,
    Settings,
)
from otpgate.core.errors import PasskeyRejected, SendLimitReached, SignCountRegression
from tests.conftest import KEY
from tests.passkey_authenticator import SoftAuthenticator, b64url, unb64url

ORIGIN = "https://shop.example"
PASSKEYS = Settings(secret_keys=(KEY,), webauthn_rp_id="shop.example", webauthn_origins=(ORIGIN,))


@pytest.fixture
def gate(make_gate):
    return make_gate(PASSKEYS)


@pytest.fixture
def events(gate):
    seen = []
    gate.subscribe(seen.append)
    return seen


def register(gate, subject="alice", *, name=None, authenticator=None, **kwargs):
    authenticator = authenticator or SoftAuthenticator(ORIGIN)
    setup = gate.setup(subject, "webauthn", name=name, label=f"{subject}@shop.example")
    answer = authenticator.create(setup.challenge.browser_options)
    gate.verify(
        subject, "webauthn", answer, purpose="enroll", challenge_id=setup.challenge.id, **kwargs
    )
    return authenticator


def sign_in(gate, authenticator, subject="alice", purpose="login", **answer_kwargs):
    challenge = gate.start(subject, "webauthn", purpose=purpose)
    answer = authenticator.get(challenge.browser_options, **answer_kwargs)
    return challenge, answer


class TestConfiguration:
    @pytest.mark.parametrize(
        ("changes", "setting"),
        [
            ({"webauthn_rp_id": "shop.example"}, "webauthn_origins"),
            ({"webauthn_origins": (ORIGIN,)}, "webauthn_rp_id"),
            (
                {"webauthn_rp_id": "shop.example", "webauthn_origins": ("https://evil.example",)},
                "webauthn_origins",
            ),
            (
                {"webauthn_rp_id": "shop.example", "webauthn_origins": ("http://shop.example",)},
                "webauthn_origins",
            ),
            (
                {"webauthn_rp_id": "shop.example", "webauthn_origins": (f"{ORIGIN}/login",)},
                "webauthn_origins",
            ),
            (
                {"webauthn_rp_id": "https://shop.example", "webauthn_origins": (ORIGIN,)},
                "webauthn_rp_id",
            ),
        ],
    )
    def test_a_wrong_relying_party_or_origin_is_refused_at_start_up(self, changes, setting):
        with pytest.raises(ConfigurationError) as caught:
            Settings(secret_keys=(KEY,), **changes)
        assert caught.value.setting == setting

    def test_settings_read_from_the_environment(self):
        settings = Settings.from_mapping(
            {
                "OTPGATE_SECRET_KEYS": KEY,
                "OTPGATE_WEBAUTHN_RP_ID": "Shop.Example",
                "OTPGATE_WEBAUTHN_ORIGINS": "https://shop.example, https://www.shop.example/",
            }
        )
        assert settings.webauthn_rp_id == "shop.example"
        assert settings.webauthn_origins == ("https://shop.example", "https://www.shop.example")

    def test_a_site_without_passkeys_neither_offers_nor_starts_them(self, make_gate):
        gate = make_gate()
        assert "webauthn" not in [option.name for option in gate.offer("alice", "enroll")]
        with pytest.raises(FactorNotAllowed):
            gate.setup("alice", "webauthn")
        with pytest.raises(FactorNotAllowed):
            gate.start("alice", "webauthn", purpose="login")


class TestRegistration:
    def test_setup_hands_creation_options_and_the_answer_adds_the_passkey(self, gate, events):
        assert gate.offer("alice", "enroll")[0].name == "webauthn"
        setup = gate.setup("alice", "webauthn", name="Work laptop", label="alice@shop.example")
        options = setup.challenge.browser_options
        assert setup.needs_proof
        assert options["rp"] == {"id": "shop.example", "name": "otpgate"}
        assert options["user"]["name"] == "alice@shop.example"
        assert "alice" not in unb64url(options["user"]["id"]).decode()  # a keyed digest
        assert options["authenticatorSelection"]["userVerification"] == "preferred"
        assert options["authenticatorSelection"]["residentKey"] == "preferred"
        authenticator = SoftAuthenticator(ORIGIN)
        verification = gate.verify(
            "alice",
            "webauthn",
            authenticator.create(options),
            purpose="enroll",
            challenge_id=setup.challenge.id,
        )
        assert (verification.factor, verification.purpose) == ("webauthn", "enroll")
        [key] = gate.passkeys.list("alice")
        assert key.name == "Work laptop"
        assert key.credential_id == b64url(authenticator.credential_id)
        assert key.transports == ("internal",)
        assert gate.factors("alice").passkeys == ("Work laptop",)
        assert EventName.FACTOR_ADDED in [event.name for event in events]

    def test_several_passkeys_each_named_and_each_changes_the_fingerprint(self, gate):
        before = gate.factors("alice").fingerprint
        register(gate)
        first = gate.factors("alice").fingerprint
        register(gate)
        factors = gate.factors("alice")
        assert factors.passkeys == ("Passkey 1", "Passkey 2")
        assert len({before, first, factors.fingerprint}) == 3
        options = gate.setup("alice", "webauthn").challenge.browser_options
        assert len(options["excludeCredentials"]) == 2  # the browser refuses a duplicate

    def test_the_same_authenticator_twice_is_refused(self, gate):
        authenticator = register(gate)
        with pytest.raises(FactorAlreadyEnrolled):
            register(gate, authenticator=authenticator)

    def test_adding_one_beside_another_factor_needs_a_fresh_session(self, gate):
        register(gate)
        with pytest.raises(FreshOtpRequired):
            register(gate, may_change_factors=False)
        assert len(gate.passkeys.list("alice")) == 1

    def test_an_answer_from_another_origin_is_refused(self, gate):
        setup = gate.setup("alice", "webauthn")
        answer = SoftAuthenticator("https://evil.example").create(setup.challenge.browser_options)
        with pytest.raises(PasskeyRejected):
            gate.verify(
                "alice", "webauthn", answer, purpose="enroll", challenge_id=setup.challenge.id
            )
        assert gate.passkeys.list("alice") == []

    def test_a_bad_name_is_malformed(self, gate):
        with pytest.raises(MalformedInput):
            gate.setup("alice", "webauthn", name="x" * 65)


class TestSignIn:
    def test_a_signed_challenge_passes_and_records_the_use(self, gate, clock, events):
        authenticator = register(gate)
        option = gate.offer("alice", "login")[0]
        assert (option.name, option.input.kind, option.sends) == ("webauthn", "browser", False)
        assert gate.preferred_factor("alice") == "webauthn"
        challenge, answer = sign_in(gate, authenticator)
        options = challenge.browser_options
        assert options["rpId"] == "shop.example"
        assert options["userVerification"] == "preferred"
        assert [c["id"] for c in options["allowCredentials"]] == [
            b64url(authenticator.credential_id)
        ]
        clock.advance(5)
        verification = gate.verify(
            "alice", "webauthn", answer, purpose="login", challenge_id=challenge.id
        )
        assert (verification.factor, verification.subject) == ("webauthn", "alice")
        [key] = gate.passkeys.list("alice")
        assert (key.sign_count, key.last_used_at) == (1, clock())
        approved = [e for e in events if e.name is EventName.CHALLENGE_APPROVED]
        assert approved[-1].factor == "webauthn"

    @pytest.mark.parametrize("purpose", ["action", "transaction"])
    def test_step_up_and_transactions_are_bound_to_details_and_action(self, gate, purpose):
        authenticator = register(gate)
        details = {"to": "FR76 3000 6000 0112 3456 7890 189", "amount": "250.00"}
        challenge = gate.start(
            "alice", "webauthn", purpose=purpose, context=details, action="transfer"
        )
        assert challenge.bound_to_context
        answer = authenticator.get(challenge.browser_options)
        with pytest.raises(ContextMismatch):
            gate.verify(
                "alice",
                "webauthn",
                answer,
                purpose=purpose,
                challenge_id=challenge.id,
                context={**details, "amount": "9999.00"},
                action="transfer",
            )
        verification = gate.verify(
            "alice",
            "webauthn",
            answer,
            purpose=purpose,
            challenge_id=challenge.id,
            context=details,
            action="transfer",
        )
        assert verification.context_digest

    def test_a_replayed_answer_is_refused(self, gate):
        authenticator = register(gate)
        challenge, answer = sign_in(gate, authenticator)
        gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=challenge.id)
        with pytest.raises(ChallengeExpired):
            gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=challenge.id)

    def test_a_counter_that_goes_backwards_is_refused_and_reported(self, gate, events):
        authenticator = register(gate)
        for _ in range(3):
            challenge, answer = sign_in(gate, authenticator)
            gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=challenge.id)
        challenge, cloned = sign_in(gate, authenticator, sign_count=2)
        with pytest.raises(SignCountRegression):
            gate.verify("alice", "webauthn", cloned, purpose="login", challenge_id=challenge.id)
        [report] = [e for e in events if e.name is EventName.PASSKEY_COUNTER_REGRESSION]
        assert report.detail == {"credential_id": b64url(authenticator.credential_id)}
        assert gate.passkeys.list("alice")[0].sign_count == 3

    def test_an_authenticator_that_does_not_count_may_always_say_zero(self, gate):
        authenticator = register(gate, authenticator=SoftAuthenticator(ORIGIN, counting=False))
        for _ in range(2):
            challenge, answer = sign_in(gate, authenticator)
            gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=challenge.id)

    @pytest.mark.parametrize(
        "attacker",
        [
            SoftAuthenticator("https://evil.example"),  # a phishing page's origin
            SoftAuthenticator(ORIGIN, rp_id="evil.example"),  # signed for another site
        ],
    )
    def test_another_origin_or_relying_party_is_refused_as_an_attempt(self, gate, attacker):
        genuine = register(gate)
        attacker.key, attacker.credential_id = genuine.key, genuine.credential_id
        challenge, answer = sign_in(gate, attacker)
        with pytest.raises(PasskeyRejected) as caught:
            gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=challenge.id)
        assert caught.value.attempts_left == PASSKEYS.max_attempts - 1

    def test_an_unknown_passkey_or_bad_signature_is_refused(self, gate):
        register(gate)
        stranger = SoftAuthenticator(ORIGIN)
        challenge, answer = sign_in(gate, stranger)
        with pytest.raises(PasskeyRejected):
            gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=challenge.id)

    def test_the_answer_to_another_challenge_is_refused(self, gate):
        authenticator = register(gate)
        first, answer = sign_in(gate, authenticator)
        second = gate.start("alice", "webauthn", purpose="login")
        with pytest.raises(PasskeyRejected):
            gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=second.id)
        gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=first.id)

    def test_a_challenge_serves_only_its_purpose_and_subject(self, gate):
        authenticator = register(gate)
        register(gate, "bob")
        challenge, answer = sign_in(gate, authenticator, purpose="login")
        with pytest.raises(ChallengeExpired):
            gate.verify("alice", "webauthn", answer, purpose="action", challenge_id=challenge.id)
        with pytest.raises(ChallengeExpired):
            gate.verify("bob", "webauthn", answer, purpose="login", challenge_id=challenge.id)
        gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=challenge.id)

    def test_an_expired_challenge_is_refused(self, gate, clock):
        authenticator = register(gate)
        challenge, answer = sign_in(gate, authenticator)
        clock.advance(PASSKEYS.webauthn_challenge_lifetime + 1)
        with pytest.raises(ChallengeExpired):
            gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=challenge.id)

    def test_there_is_nothing_to_resend(self, gate):
        register(gate)
        challenge = gate.start("alice", "webauthn", purpose="login")
        with pytest.raises(SendLimitReached):
            gate.resend(challenge.id)

    def test_without_a_passkey_it_is_not_enrolled(self, gate):
        with pytest.raises(FactorNotEnrolled):
            gate.start("alice", "webauthn", purpose="login")

    @pytest.mark.parametrize(
        "answer",
        [
            "",
            "not json",
            "[]",
            json.dumps({"id": "x"}),
            json.dumps({"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}),
            "x" * 40_000,
            None,
            12,
        ],
    )
    def test_a_malformed_answer_is_malformed_input(self, gate, answer):
        register(gate)
        challenge = gate.start("alice", "webauthn", purpose="login")
        with pytest.raises(MalformedInput):
            gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=challenge.id)

    def test_a_challenge_id_is_required(self, gate):
        authenticator = register(gate)
        _, answer = sign_in(gate, authenticator)
        with pytest.raises(ChallengeExpired):
            gate.verify("alice", "webauthn", answer, purpose="login")


class TestManagement:
    def test_rename_remove_and_reset(self, gate, events):
        first = register(gate)
        register(gate)
        first_id = b64url(first.credential_id)
        assert gate.passkeys.rename("alice", first_id, "  Phone  ")
        assert gate.factors("alice").passkeys == ("Phone", "Passkey 2")
        assert not gate.passkeys.rename("bob", first_id, "Mine now")
        assert gate.passkeys.remove("alice", first_id)
        assert not gate.passkeys.remove("alice", first_id)
        assert gate.factors("alice").passkeys == ("Passkey 2",)
        assert gate.reset("alice") == ["webauthn"]
        assert gate.passkeys.list("alice") == []
        removed = [e for e in events if e.name is EventName.FACTOR_REMOVED]
        assert [e.factor for e in removed] == ["webauthn", "webauthn"]

    def test_a_site_that_drops_passkeys_ignores_them_but_still_resets_them(self, make_gate):
        from otpgate import MemoryCredentials

        credentials = MemoryCredentials()
        register(make_gate(PASSKEYS, credentials=credentials))
        plain = make_gate(credentials=credentials)  # the same users, passkeys unconfigured
        assert plain.factors("alice").passkeys == ()
        assert not plain.factors("alice").any
        assert plain.reset("alice") == ["webauthn"]
        assert credentials.passkeys("alice") == []

    @pytest.mark.parametrize("name", ["", " ", "x" * 65, "tab\there", 5])
    def test_a_bad_name_is_malformed(self, gate, name):
        authenticator = register(gate)
        with pytest.raises(MalformedInput):
            gate.passkeys.rename("alice", b64url(authenticator.credential_id), name)

    def test_a_removed_passkey_no_longer_signs_in(self, gate):
        authenticator = register(gate)
        register(gate)
        challenge, answer = sign_in(gate, authenticator)
        gate.passkeys.remove("alice", b64url(authenticator.credential_id))
        with pytest.raises(PasskeyRejected):
            gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=challenge.id)


def test_the_store_keeps_neither_the_challenge_nor_the_subject_nor_the_name(gate):
    setup = gate.setup("alice", "webauthn", name="Secret laptop")
    record = gate.store.get_challenge(setup.challenge.id)
    kept = repr(dataclasses.astuple(record))
    assert setup.challenge.browser_options["challenge"] not in kept
    assert "alice" not in kept
    assert "Secret laptop" not in kept


def test_twenty_threads_one_passkey_answer_one_approval(store_factory, clock, loop):
    import threading

    from otpgate import OtpgateError, Verifier

    gate = Verifier(PASSKEYS, store=store_factory("sync", clock, loop), clock=clock)
    authenticator = register(gate)
    challenge, answer = sign_in(gate, authenticator)
    barrier, wins = threading.Barrier(20), []

    def run():
        barrier.wait()
        try:
            gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=challenge.id)
        except OtpgateError:
            return
        wins.append(1)

    threads = [threading.Thread(target=run) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    assert gate.passkeys.list("alice")[0].sign_count == 1


def test_twenty_tasks_one_passkey_answer_one_approval():
    import asyncio

    from otpgate import AsyncVerifier, OtpgateError

    async def main():
        gate = AsyncVerifier(PASSKEYS)
        authenticator = SoftAuthenticator(ORIGIN)
        setup = await gate.setup("alice", "webauthn")
        answer = authenticator.create(setup.challenge.browser_options)
        await gate.verify(
            "alice", "webauthn", answer, purpose="enroll", challenge_id=setup.challenge.id
        )
        challenge = await gate.start("alice", "webauthn", purpose="login")
        answer = authenticator.get(challenge.browser_options)
        results = await asyncio.gather(
            *(
                gate.verify("alice", "webauthn", answer, purpose="login", challenge_id=challenge.id)
                for _ in range(20)
            ),
            return_exceptions=True,
        )
        return [r for r in results if not isinstance(r, OtpgateError)]

    assert len(asyncio.run(main())) == 1


def test_a_subject_with_an_address_and_a_passkey_shows_counts_and_resets_both(make_gate):
    from otpgate import MemoryCredentials
    from otpgate.core.mailers import OutboxEmailSender

    credentials = MemoryCredentials()
    credentials.add_email("alice", "alice@example.org")
    gate = make_gate(PASSKEYS, credentials=credentials, email_sender=OutboxEmailSender())
    before = gate.factors("alice")
    assert before.masked_emails and before.passkeys == () and before.primary_count == 1
    register(gate)
    both = gate.factors("alice")
    assert both.masked_emails == before.masked_emails and both.passkeys == ("Passkey 1",)
    assert both.primary_count == 2 and both.fingerprint != before.fingerprint
    assert gate.reset("alice") == ["email", "webauthn"]
    assert credentials.emails("alice") == [] and credentials.passkeys("alice") == []
    assert not gate.factors("alice").any
