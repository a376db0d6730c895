"""Email codes: the ``email`` factor end to end against a real SMTP server (aiosmtpd), over
every store and both verifiers: enrollment, sign-in, the SMS policy (checks, resends,
budgets, lockout shared with SMS), outages and failover, TLS and AUTH."""

# The SMTP server fixtures are imported, then requested by name:
# ruff: noqa: F811

from __future__ import annotations

import asyncio

import pytest

from otpgate import (
    AsyncVerifier,
    ChallengeExpired,
    DeliveryFailed,
    InvalidCode,
    LockedOut,
    MaxAttemptsReached,
    MemoryStore,
    ResendCooldown,
    SendLimitReached,
    Settings,
    Verifier,
)
from otpgate.core.address import mask_email, parse_email
from otpgate.core.errors import EmailRejected, FactorNotEnrolled
from otpgate.core.mail import render_email
from otpgate.core.mailers import AsyncFailoverEmailSender, FailoverEmailSender
from otpgate.gateways.smtp import AsyncSmtpSender, SmtpConfig, SmtpSender
from tests.at_rest import walk
from tests.conftest import KEY, PHONE, FakeClock, Sync
from tests.mail import PASSWORD, USER, DownServer, MailServer, mail, mail_server, self_signed  # noqa: F401

ALICE = "alice"
ADDRESS = "Alice.Martin@Example.ORG"
NORMAL = "Alice.Martin@example.org"


def smtp_sender(flavour: str, server: MailServer | DownServer, **config: object) -> object:
    options = {"tls": "none", "sender": "Bank <no-reply@bank.example>", **config}
    smtp = SmtpConfig("127.0.0.1", server.port, **options)  # type: ignore[arg-type]
    return SmtpSender(smtp) if flavour == "sync" else AsyncSmtpSender(smtp)


@pytest.fixture
def egate(make_gate, mail):
    """A verifier whose email sender is the SMTP client of the session's test server."""
    return make_gate(email_sender=smtp_sender(make_gate.flavour, mail))


def enroll(g, mail: MailServer, subject: str = ALICE, address: str = ADDRESS) -> None:
    setup = g.setup(subject, "email", destination=address)
    assert setup.needs_proof and setup.challenge is not None
    code = mail.last_code_for(parse_email(address).address)
    g.verify(subject, "email", code, purpose="enroll", challenge_id=setup.challenge.id)


def test_an_address_is_verified_then_signs_in_by_email(egate, mail):
    assert "email" in [o.name for o in egate.offer(ALICE, "enroll")]
    enroll(egate, mail)
    factors = egate.factors(ALICE)
    assert factors.masked_emails == ("A••••@example.org",)
    [option] = egate.offer(ALICE, "login")
    assert (option.name, option.destination, option.sends) == ("email", "A••••@example.org", True)
    assert option.input.autocomplete == "one-time-code"

    challenge = egate.start(ALICE, "email", purpose="login")
    assert challenge is not None and challenge.masked_phone == "A••••@example.org"
    [received] = mail.to(NORMAL)[-1:]
    assert received.code and received.code in received.body("plain")
    assert received.code in received.body("html")
    assert received.recipients == (NORMAL,)
    assert received.message["From"] == "Bank <no-reply@bank.example>"
    verification = egate.verify(
        ALICE, "email", received.code, purpose="login", challenge_id=challenge.id
    )
    assert (verification.subject, verification.factor) == (ALICE, "email")
    with pytest.raises(ChallengeExpired):  # used up
        egate.verify(ALICE, "email", received.code, purpose="login", challenge_id=challenge.id)


def test_an_unverified_address_gets_no_sign_in_code(egate, mail):
    enroll(egate, mail)
    with pytest.raises(FactorNotEnrolled):
        egate.start_email(ALICE, "mallory@example.org", purpose="login")
    with pytest.raises(EmailRejected):
        egate.setup(ALICE, "email", destination="not an address")
    assert mail.to("mallory@example.org") == []


def test_five_wrong_codes_spend_the_challenge(make_gate, mail):
    settings = Settings(secret_keys=(KEY,), lockout_after=20)
    egate = make_gate(settings, email_sender=smtp_sender(make_gate.flavour, mail))
    enroll(egate, mail)
    challenge = egate.start(ALICE, "email", purpose="login")
    code = mail.last_code_for(NORMAL)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        with pytest.raises(InvalidCode):
            egate.verify(ALICE, "email", wrong, purpose="login", challenge_id=challenge.id)
    with pytest.raises(MaxAttemptsReached):
        egate.verify(ALICE, "email", wrong, purpose="login", challenge_id=challenge.id)
    with pytest.raises((MaxAttemptsReached, ChallengeExpired)):
        egate.verify(ALICE, "email", code, purpose="login", challenge_id=challenge.id)


def test_a_resend_mails_the_same_code_after_a_doubling_cooldown(egate, mail, clock):
    enroll(egate, mail)
    challenge = egate.start(ALICE, "email", purpose="login")
    first = mail.last_code_for(NORMAL)
    with pytest.raises(ResendCooldown):
        egate.resend(challenge.id)
    clock.advance(30)
    egate.resend(challenge.id)
    assert mail.last_code_for(NORMAL) == first and len(mail.to(NORMAL)) == 3
    clock.advance(30)
    with pytest.raises(ResendCooldown) as waited:
        egate.resend(challenge.id)
    assert waited.value.retry_after == 30  # 60 s after the first resend
    egate.verify(ALICE, "email", first, purpose="login", challenge_id=challenge.id)


def test_each_address_has_its_own_send_budget(make_gate, mail):
    settings = Settings(secret_keys=(KEY,), phone_budget_short="3/15m", resend_cooldown=1)
    g = make_gate(settings, email_sender=smtp_sender(make_gate.flavour, mail))
    enroll(g, mail)  # one email
    g.start(ALICE, "email", purpose="login")
    g.start(ALICE, "email", purpose="login")
    with pytest.raises(SendLimitReached) as refused:
        g.start(ALICE, "email", purpose="login")
    assert refused.value.scope == "email" and refused.value.retry_after
    assert len(mail.to(NORMAL)) == 3


def test_budgets_and_lockout_hold_across_sms_and_email(make_gate, mail, outbox, clock):
    """The subject's daily budget counts texts and emails together; failed checks of email
    codes lock the subject's SMS (and every other factor) too."""
    settings = Settings(secret_keys=(KEY,), subject_budget="5/24h")
    g = make_gate(settings, email_sender=smtp_sender(make_gate.flavour, mail))
    g.credentials.add_phone(ALICE, PHONE)
    g.credentials.add_email(ALICE, NORMAL)
    for factor in ("sms", "email", "sms", "email", "sms"):
        g.start(ALICE, factor, purpose="login")
    for factor in ("sms", "email"):
        with pytest.raises(SendLimitReached) as refused:
            g.start(ALICE, factor, purpose="login")
        assert refused.value.scope == "subject"

    clock.advance(24 * 3600 + 60)
    spare = g.start(ALICE, "sms", purpose="login")
    spare_code = outbox.last_code_for(PHONE)
    sms = g.start(ALICE, "sms", purpose="login")
    sms_code = outbox.last_code_for(PHONE)
    for failures in range(1, 6):  # the 5th consecutive failure locks, whatever the factor
        factor = "email" if failures % 2 else "sms"
        challenge = g.start(ALICE, "email", purpose="login") if failures % 2 else sms
        code = mail.last_code_for(NORMAL) if failures % 2 else sms_code
        wrong = "000000" if code != "000000" else "111111"
        expected = LockedOut if failures == 5 else InvalidCode
        with pytest.raises(expected):
            g.verify(ALICE, factor, wrong, purpose="login", challenge_id=challenge.id)
    with pytest.raises(LockedOut):  # the right code of an SMS sent before: refused too
        g.verify(ALICE, "sms", spare_code, purpose="login", challenge_id=spare.id)


def test_an_smtp_outage_is_a_typed_failure_and_the_code_is_kept(egate, mail, clock):
    enroll(egate, mail)
    mail.fail_with = "451 4.3.0 try again later"
    with pytest.raises(DeliveryFailed) as failed:
        egate.start(ALICE, "email", purpose="login")
    assert failed.value.retryable and failed.value.challenge_id
    assert mail.to(NORMAL)[-1].code is not None  # only the enrollment's
    mail.fail_with = ""
    resent = egate.resend(failed.value.challenge_id)  # no wait after a failed send
    code = mail.last_code_for(NORMAL)
    egate.verify(ALICE, "email", code, purpose="login", challenge_id=resent.id)


def test_a_refused_recipient_is_not_retried(egate, mail):
    with pytest.raises(DeliveryFailed) as failed:
        egate.setup(ALICE, "email", destination="nobody@refused.example")
    assert failed.value.retryable is False


def test_a_server_that_is_down_fails_over_to_the_next(make_gate, mail):
    down = DownServer()
    first, second = (smtp_sender(make_gate.flavour, s) for s in (down, mail))
    chain = (FailoverEmailSender if make_gate.flavour == "sync" else AsyncFailoverEmailSender)(
        [first, second]
    )
    g = make_gate(email_sender=chain)
    enroll(g, mail)
    assert g.factors(ALICE).masked_emails
    alone = make_gate(email_sender=first)
    with pytest.raises(DeliveryFailed):
        alone.setup("bob", "email", destination="bob@example.org")


def test_no_email_sender_no_email_factor(make_gate):
    g = make_gate()
    assert "email" not in [o.name for o in g.offer(ALICE, "enroll")]
    g.credentials.add_email(ALICE, NORMAL)
    assert [o.name for o in g.offer(ALICE, "login")] == []


TRANSACTIONS = Settings(secret_keys=(KEY,), transaction_factors=("sms", "email", "totp"))


def test_nothing_personal_in_the_store(mail, loop):
    store = MemoryStore(clock=lambda: 0.0)
    sender = SmtpSender(SmtpConfig("127.0.0.1", mail.port, "x@bank.example", tls="none"))
    g = Verifier(TRANSACTIONS, store=store, email_sender=sender)
    enroll(g, mail)
    challenge = g.start(
        ALICE, "email", purpose="transaction", summary="Pay 9 EUR", context={"a": 1}
    )
    held = " ".join(walk(vars(store)))
    assert challenge.id in held
    for secret in (NORMAL, NORMAL.lower(), "Alice.Martin", mail.last_code_for(NORMAL)):
        assert secret not in held


def test_the_message_is_translated_and_escapes_the_summary(make_gate, mail):
    egate = make_gate(TRANSACTIONS, email_sender=smtp_sender(make_gate.flavour, mail))
    enroll(egate, mail)
    egate.start(ALICE, "email", purpose="transaction", summary="Pay <b>5</b> EUR", locale="zh-CN")
    received = mail.to(NORMAL)[-1]
    assert "验证码" in received.subject and received.code in received.subject
    assert "&lt;b&gt;5&lt;/b&gt;" in received.body("html")
    assert "Pay <b>5</b> EUR" in received.body("plain")
    english = render_email(Settings(secret_keys=(KEY,), brand="Bank"), NORMAL, "123456")
    assert english.subject == "123456 is your Bank verification code"


def test_addresses_are_normalised_and_masked():
    assert parse_email(" Bob@Example.COM ").address == "Bob@example.com"
    assert parse_email("zoë@bücher.de").address == "zoë@xn--bcher-kva.de"
    assert mask_email("bob@example.com") == "b••••@example.com"
    for bad in ("", "bob", "bob@", "a b@example.com", '"a b"@example.com', "x@[1.2.3.4]", 5):
        with pytest.raises(EmailRejected):
            parse_email(bad)


def test_a_new_address_voids_remembered_devices(egate, mail):
    before = egate.factors(ALICE).fingerprint
    enroll(egate, mail)
    assert egate.factors(ALICE).fingerprint != before
    assert egate.remove_email(ALICE, ADDRESS) is True
    assert egate.factors(ALICE).masked_emails == ()


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_starttls_with_auth_and_implicit_tls(flavour, tmp_path, loop):
    server_context, client_context = self_signed(tmp_path)
    for mode in ("starttls", "implicit"):
        server = MailServer(mode, server_context).start()
        try:
            auth = {"username": USER, "password": PASSWORD} if mode == "starttls" else {}
            sender = smtp_sender(flavour, server, tls=mode, ssl_context=client_context, **auth)
            cls = Verifier if flavour == "sync" else AsyncVerifier
            g = Sync(cls(Settings(secret_keys=(KEY,)), email_sender=sender), loop)
            enroll(g, server)
            [received] = server.to(NORMAL)
            assert received.tls and received.user == (USER if mode == "starttls" else None)
            wrong = smtp_sender(
                flavour, server, tls=mode, ssl_context=client_context, username=USER, password="x"
            )
            if mode == "starttls":  # a wrong password is a failure, not a crash
                bad = Sync(cls(Settings(secret_keys=(KEY,)), email_sender=wrong), loop)
                with pytest.raises(DeliveryFailed):
                    bad.setup("bob", "email", destination="bob@example.org")
        finally:
            server.stop()


def test_the_async_sender_does_not_block_the_loop(mail):
    sender = AsyncSmtpSender(SmtpConfig("127.0.0.1", mail.port, "x@bank.example", tls="none"))
    g = AsyncVerifier(Settings(secret_keys=(KEY,)), email_sender=sender, clock=FakeClock())

    async def run() -> None:
        setups = await asyncio.gather(
            *(g.setup(f"u{n}", "email", destination=f"u{n}@example.org") for n in range(3))
        )
        assert all(s.challenge is not None for s in setups)

    asyncio.run(run())
    assert all(mail.to(f"u{n}@example.org") for n in range(3))


def test_reset_removes_addresses_even_without_an_email_sender():
    from otpgate import MemoryCredentials

    credentials = MemoryCredentials()
    credentials.add_email("alice", "alice@example.org")
    gate = Verifier(Settings(secret_keys=(KEY,)), credentials=credentials)
    assert gate.reset("alice") == ["email"]
    assert credentials.emails("alice") == []


def test_the_client_ip_budget_counts_texts_and_emails_together(make_gate, mail):
    settings = Settings(secret_keys=(KEY,), ip_budget="3/h")
    g = make_gate(settings, email_sender=smtp_sender(make_gate.flavour, mail))
    g.credentials.add_phone(ALICE, PHONE)
    g.credentials.add_email("bob", NORMAL)
    ip = "203.0.113.9"
    g.start(ALICE, "sms", purpose="login", client_ip=ip)
    g.start("bob", "email", purpose="login", client_ip=ip)
    g.start(ALICE, "sms", purpose="login", client_ip=ip)
    with pytest.raises(SendLimitReached) as refused:
        g.start("bob", "email", purpose="login", client_ip=ip)
    assert refused.value.scope == "ip"
    g.start("bob", "email", purpose="login", client_ip="198.51.100.1")  # another network


def test_budgets_and_lockout_hold_across_sms_email_and_voice_together(
    make_gate, mail, outbox, clock
):
    """One subject with a phone (texts and calls) and an address: the daily subject budget
    counts every channel, and wrong codes of any channel lock all of them."""
    from otpgate.core.voice import OutboxVoiceSender, PhoneSender

    calls = OutboxVoiceSender()
    settings = Settings(secret_keys=(KEY,), subject_budget="6/24h", lockout_after=5)
    g = make_gate(
        settings,
        sender=PhoneSender(outbox, calls),
        email_sender=smtp_sender(make_gate.flavour, mail),
    )
    g.credentials.add_phone(ALICE, PHONE)
    g.credentials.add_email(ALICE, NORMAL)
    for factor in ("sms", "email", "voice", "sms", "email", "voice"):
        g.start(ALICE, factor, purpose="login")
    for factor in ("sms", "email", "voice"):
        with pytest.raises(SendLimitReached) as refused:
            g.start(ALICE, factor, purpose="login")
        assert refused.value.scope == "subject"
    assert (len(outbox.messages_to(PHONE)), len(calls.calls)) == (2, 2)
    assert len(mail.to(NORMAL)) == 2

    clock.advance(24 * 3600 + 60)
    started = {
        factor: g.start(ALICE, factor, purpose="login") for factor in ("sms", "email", "voice")
    }
    codes = {
        "sms": outbox.last_code_for(PHONE),
        "email": mail.last_code_for(NORMAL),
        "voice": calls.last_code_for(PHONE),
    }
    order = ("sms", "email", "voice", "sms", "email")
    for failures, factor in enumerate(order, start=1):  # the 5th failure locks every channel
        code = codes[factor]
        wrong = "000000" if code != "000000" else "111111"
        expected = LockedOut if failures == 5 else InvalidCode
        with pytest.raises(expected):
            g.verify(ALICE, factor, wrong, purpose="login", challenge_id=started[factor].id)
    with pytest.raises(LockedOut):  # the right code of the call waits too
        g.verify(ALICE, "voice", codes["voice"], purpose="login", challenge_id=started["voice"].id)
