"""Framework-free helpers the integrations share: redirects, session state, device tokens,
factors, translations."""

from __future__ import annotations

from types import MappingProxyType

import pytest

import otpgate.core.errors as errors_mod
from otpgate import (
    ChallengeExpired,
    FreshOtpRequired,
    InvalidCode,
    LockedOut,
    SecondFactorState,
    Verification,
    error_response,
    safe_next,
)
from otpgate.core.i18n import error_message, gettext, language_of, register
from otpgate.core.web import manage_error, may_change_factors, view_action
from tests.conftest import OTHER_PHONE, PHONE


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/account", "/account"),
        ("/a?b=c#d", "/a?b=c#d"),
        ("https://shop.example/pay", "https://shop.example/pay"),
        ("https://SHOP.example/pay", "https://SHOP.example/pay"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("https://shop.example@evil.example/", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
        ("relative/path", "/"),
        ("", "/"),
        (None, "/"),
        ("/" + "a" * 5000, "/"),
    ],
)
def test_next_redirects_only_to_the_same_host(url, expected):
    assert safe_next(url, "shop.example") == expected


class TestSecondFactorState:
    def test_round_trips_through_a_session_dict(self):
        session = {}
        state = SecondFactorState.load(session)
        state.begin("alice", 1000.0, "/account")
        session["otpgate"] = state.dump()
        assert SecondFactorState.load(session).pending(1100.0, 600) == "alice"

    def test_the_pending_step_expires(self):
        state = SecondFactorState()
        state.begin("alice", 1000.0)
        assert state.pending(1599.0, 600) == "alice"
        assert state.pending(1600.0, 600) == ""

    def test_freshness_for_step_up(self):
        state = SecondFactorState()
        state.begin("alice", 1000.0)
        state.passed(Verification("alice", "login", "sms", 1010.0))
        assert state.pending(1010.0, 600) == ""
        assert state.is_fresh("alice", 1310.0, 300)
        assert not state.is_fresh("alice", 1310.1, 300)
        assert not state.is_fresh("bob", 1011.0, 300)

    def test_passing_ends_every_detail_of_the_pending_step(self):
        state = SecondFactorState()
        state.begin("alice", 1000.0, "/account", remember=True)
        state.pending_backend, state.pending_method = "app.Backend", "totp"
        state.passed(Verification("alice", "login", "totp", 1010.0))
        assert (state.pending_remember, state.pending_backend, state.pending_method) == (
            False,
            "",
            "",
        )
        assert state.pending_next == "/account"  # read by the integration to redirect

    @pytest.mark.parametrize("junk", [None, "x", {"pending_subject": 1, "bogus": 2}, {"a": 1}])
    def test_junk_in_the_session_is_an_empty_state(self, junk):
        state = SecondFactorState.load({"otpgate": junk})
        assert not state.is_fresh("alice", 0.0, 300)

    def test_a_guard_reads_a_pass_from_the_raw_session_value(self):
        state = SecondFactorState()
        state.passed(Verification("alice", "login", "sms", 1010.0))
        raw = state.dump()
        for session in ({"otpgate": raw}, {"otpgate": MappingProxyType(raw)}):
            assert SecondFactorState.passed_in(session, "alice")
            assert not SecondFactorState.passed_in(session, "bob")
            assert not SecondFactorState.passed_in(session, "")

    @pytest.mark.parametrize(
        "junk",
        [None, "alice", ["alice"], {"verified_subject": "alice"}, {"verified_at": 5.0}]
        + [{"verified_subject": "alice", "verified_at": at} for at in (0, -1.0, True, "5")],
    )
    def test_junk_in_the_session_never_reads_as_a_pass(self, junk):
        assert not SecondFactorState.passed_in({"otpgate": junk}, "alice")


def test_factors_and_their_fingerprint_change_with_the_factors(gate, outbox, clock):
    before = gate.factors("alice")
    assert not before.any
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    gate.check(challenge.id, outbox.last_code_for(PHONE))
    after_phone = gate.factors("alice")
    assert after_phone.masked_phones == ("+33 ••• ••• 5678",)
    assert after_phone.any and after_phone.fingerprint != before.fingerprint
    gate.recovery.generate("alice")
    assert gate.factors("alice").recovery_codes_left == 10
    assert gate.factors("alice").fingerprint != after_phone.fingerprint


class TestTranslations:
    def test_languages(self):
        assert language_of("zh-Hans-CN") == language_of("zh_CN") == "zh-Hans"
        assert language_of("zh-TW") == language_of("zh-Hant-HK") == "zh-Hant"
        assert language_of("fr-FR") == "fr" and language_of("pt") == "pt-BR"
        assert language_of("tlh") == "en"
        assert language_of(None, "zh") == "zh-Hans"

    def test_error_messages_in_chinese(self):
        assert error_message(InvalidCode(), "zh-CN") == "验证码不正确。"
        assert error_message(InvalidCode(), "en-GB") == "That code is not correct."
        assert "锁定" in error_message(LockedOut(retry_after=None), "zh")
        assert error_response(InvalidCode(), "zh").body["title"] == "验证码不正确。"

    def test_registered_strings(self):
        register("zh", {"Verify": "验证一下"})  # wins over the shipped catalogue
        assert gettext("Verify", "zh-CN") == "验证一下"
        assert gettext("Verify", "de") == "Bestätigen"
        assert gettext("Verify", "tlh") == "Verify"
        register("zh-Hans", {"Verify": "验证"})

    def test_error_messages_in_a_registered_language(self, monkeypatch):
        from otpgate.core import i18n
        from otpgate.core.errors import LoginRequired

        monkeypatch.setitem(i18n._CATALOG, "xx", {})  # a language of the app's, gone after
        register("xx", {LoginRequired.default_message: "Log dich ein."})
        assert error_message(LoginRequired(), "xx-YY") == "Log dich ein."
        assert error_response(LoginRequired(), "xx").body["title"] == "Log dich ein."
        assert error_message(InvalidCode(), "xx") == InvalidCode.default_message
        assert "xx" in i18n.languages()
        assert error_message(LoginRequired(), "en") == LoginRequired.default_message


def test_removing_a_phone_and_resetting_a_subject(gate, outbox, clock):
    from otpgate import EventName

    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    gate.check(challenge.id, outbox.last_code_for(PHONE))
    events = []
    gate.subscribe(events.append)
    assert gate.remove_phone("alice", "+33 6 12 34 56 78") is True
    assert gate.remove_phone("alice", PHONE) is False
    assert [(e.name, e.factor, e.masked_phone) for e in events] == [
        (EventName.FACTOR_REMOVED, "sms", "+33 ••• ••• 5678")
    ]
    gate.recovery.generate("alice")
    gate.totp.enroll("alice")
    for _ in range(5):
        with pytest.raises((InvalidCode, LockedOut)):
            gate.check_recovery("alice", "AAAA-AAAA-AAAA")
    assert gate.reset("alice") == ["totp", "recovery"]  # an unconfirmed app counts
    assert gate.reset("alice") == []
    factors = gate.factors("alice")
    assert not factors.any
    codes = gate.recovery.generate("alice")
    gate.check_recovery("alice", codes[0])  # not locked any more


def test_challenge_view_is_relative_and_safe(gate, outbox, clock):
    from otpgate.core.web import challenge_view

    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    view = challenge_view(challenge, clock() + 10)
    assert view["expires_in"] == 290 and view["resend_in"] == 20
    assert view["status"] == "pending"
    assert PHONE not in repr(view) and outbox.last_code_for(PHONE) not in repr(view)


def test_language_negotiation():
    from otpgate.core.i18n import negotiate

    assert negotiate("zh-CN,zh;q=0.9,en;q=0.8") == "zh-Hans"
    assert negotiate("fr-FR, en;q=0.5, zh;q=0.7") == "fr"
    assert negotiate("tlh, en;q=0.5, zh;q=0.7") == "zh-Hans"
    assert negotiate("de", available=("en", "zh")) == "en"
    assert negotiate("zh-TW", available=("en", "zh")) == "zh-Hans"
    assert negotiate(None, default="zh") == "zh-Hans"
    assert negotiate("zh;q=0, en") == "en"
    assert negotiate("zh;q=abc") == "en"


def test_from_mapping_skips_an_integrations_own_keys():
    from otpgate import ConfigurationError, Settings

    mapping = {"OTPGATE_URL_PREFIX": "/otp", "OTPGATE_CODE_DIGITS": "7"}
    with pytest.raises(ConfigurationError):
        Settings.from_mapping(mapping)
    assert Settings.from_mapping(mapping, ignore={"URL_PREFIX"}).code_digits == 7
    assert Settings.from_mapping(mapping, ignore={"OTPGATE_URL_PREFIX"}).code_digits == 7


def test_every_error_has_a_message_in_every_shipped_language():
    import otpgate.core.errors as errors
    from otpgate.core.i18n import SHIPPED

    classes = [
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.OtpgateError)
    ]
    for language in SHIPPED[1:]:
        for cls in classes:
            assert gettext(cls.default_message, language) != cls.default_message, (language, cls)
        hard = error_message(LockedOut(retry_after=None), language)
        assert hard != LockedOut.hard_message, language


def test_a_rate_limit_says_later_or_the_pages_say_when():
    # "Try again later." only without a retry_after: with one, the pages add "Try again in
    # 60 seconds." and the two never show together.
    assert error_message(errors_mod.RateLimited(), None) == "Too many requests. Try again later."
    assert error_message(errors_mod.RateLimited(retry_after=60), None) == "Too many requests."
    assert error_message(errors_mod.SendLimitReached("ip", retry_after=60), "de") == (
        "Es wurden zu viele Codes angefordert."
    )
    assert "später" in error_message(errors_mod.SendLimitReached("ip"), "de")
    assert (
        error_message(errors_mod.ResendCooldown(), None)
        == errors_mod.ResendCooldown.default_message
    )
    assert "锁定" in error_message(LockedOut(retry_after=None), "zh")


def test_a_pending_authenticator_set_up_can_be_shown_again(gate, clock):
    import pyotp

    assert gate.totp.pending("alice") is None
    first = gate.totp.enroll("alice", "alice@example.com")
    again = gate.totp.pending("alice", "alice@example.com")
    assert again.secret == first.secret and again.uri == first.uri
    gate.totp.confirm("alice", pyotp.TOTP(first.secret).at(clock()))
    assert gate.totp.pending("alice") is None


def test_recovery_codes_can_be_removed(gate):
    from otpgate import EventName

    events = []
    gate.subscribe(events.append)
    codes = gate.recovery.generate("alice")
    assert gate.recovery.remove("alice") is True
    assert gate.recovery.remove("alice") is False
    assert [e.name for e in events] == [EventName.FACTOR_ADDED, EventName.FACTOR_REMOVED]
    with pytest.raises(InvalidCode):
        gate.check_recovery("alice", codes[0])


class TestMayChangeFactors:
    """issue 18, class 1: one decision, from the session's state and the operation."""

    NOW = 10_000.0

    def state(self, at: float) -> SecondFactorState:
        state = SecondFactorState()
        state.passed(Verification("alice", "login", "sms", at))
        return state

    def may(self, state: SecondFactorState, *, has_factor: bool = True) -> bool:
        return may_change_factors(
            state, "alice", self.NOW, step_up_max_age=300, has_factor=has_factor
        )

    def test_only_a_fresh_second_factor_may_change_factors(self):
        assert self.may(self.state(self.NOW - 300))
        assert not self.may(self.state(self.NOW - 301))
        assert not self.may(SecondFactorState())

    def test_a_subject_without_factors_may_set_up_its_first_one(self):
        assert self.may(SecondFactorState(), has_factor=False)
        assert not may_change_factors(
            SecondFactorState(), "", self.NOW, step_up_max_age=300, has_factor=False
        )

    def test_viewing_needs_a_pass_at_any_time_changing_a_fresh_one(self):
        stale = self.state(self.NOW - 5_000)
        common = {"step_up_max_age": 300, "has_factor": True}
        assert manage_error(stale, "alice", self.NOW, operation="view", **common) is None
        error = manage_error(stale, "alice", self.NOW, operation="change", **common)
        assert isinstance(error, FreshOtpRequired) and error.max_age == 300

    def test_an_unknown_operation_is_a_programming_error(self):
        with pytest.raises(ValueError, match="operation"):
            manage_error(
                self.state(self.NOW),
                "alice",
                self.NOW,
                operation="confirm",  # type: ignore[arg-type]
                step_up_max_age=300,
                has_factor=True,
            )


class TestEnrollCodesNeedASessionThatMayChangeFactors:
    """``check(may_change_factors=False)`` never adds a number once the subject has a factor."""

    def test_a_stale_caller_cannot_add_a_number(self, gate, outbox):
        gate.credentials.add_phone("alice", PHONE)
        challenge = gate.start_sms("alice", OTHER_PHONE, purpose="enroll")
        code = outbox.last_code_for(OTHER_PHONE)
        with pytest.raises(FreshOtpRequired):
            gate.check(challenge.id, code, subject="alice", may_change_factors=False)
        assert gate.credentials.phones("alice") == [PHONE]
        with pytest.raises(ChallengeExpired):  # spent: a later fresh session starts again
            gate.check(challenge.id, code, subject="alice", may_change_factors=True)
        assert gate.credentials.phones("alice") == [PHONE]

    def test_a_fresh_caller_adds_it(self, gate, outbox):
        gate.credentials.add_phone("alice", PHONE)
        challenge = gate.start_sms("alice", OTHER_PHONE, purpose="enroll")
        code = outbox.last_code_for(OTHER_PHONE)
        verification = gate.check(challenge.id, code, subject="alice", may_change_factors=True)
        assert verification.purpose == "enroll"
        assert sorted(gate.credentials.phones("alice")) == sorted([PHONE, OTHER_PHONE])

    def test_the_first_factor_needs_no_fresh_session(self, gate, outbox):
        challenge = gate.start_sms("bob", PHONE, purpose="enroll")
        code = outbox.last_code_for(PHONE)
        gate.check(challenge.id, code, subject="bob", may_change_factors=False)
        assert gate.credentials.phones("bob") == [PHONE]

    def test_other_purposes_are_unaffected(self, gate, outbox):
        gate.credentials.add_phone("alice", PHONE)
        challenge = gate.start_sms("alice", purpose="login")
        code = outbox.last_code_for(PHONE)
        verification = gate.check(challenge.id, code, subject="alice", may_change_factors=False)
        assert verification.purpose == "login"


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("POST", "payments:pay"),
        ("GET", "payments:pay"),  # a code page posts the form back: GET and POST are one
        ("HEAD", "payments:pay"),
        ("DELETE", "DELETE payments:pay"),
        ("put", "PUT payments:pay"),
        ("PATCH", "PATCH payments:pay"),
    ],
)
def test_a_views_default_action_names_its_method_unless_a_form_can_send_it(method, action):
    assert view_action(method, "payments:pay") == action
