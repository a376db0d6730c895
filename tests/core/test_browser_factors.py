"""The pages' helpers for factors the browser answers (``core/factors/browser.py``): which
factor is one (by its input kind, never its name), where a session keeps its challenge,
and when a confirmation page must open such a factor again."""

from __future__ import annotations

from dataclasses import replace

from otpgate import Settings
from otpgate.core.challenge import Challenge, Status
from otpgate.core.errors import ChallengeExpired, FactorSetupRequired
from otpgate.core.factors import browser, builtin_factors
from otpgate.core.factors.base import BROWSER_INPUT, FactorOption, numeric_input
from otpgate.core.transactions import TransactionExecuted
from tests.conftest import KEY

PASSKEYS = Settings(
    secret_keys=(KEY,), webauthn_rp_id="localhost", webauthn_origins=("http://localhost",)
)


def challenge(options: dict[str, object] | None = None) -> Challenge:
    return Challenge(
        id="s.abc",
        subject="alice",
        purpose="login",
        status=Status.PENDING,
        masked_phone="",
        attempts_left=5,
        sends_left=0,
        expires_at=0.0,
        resend_at=0.0,
        bound_to_context=False,
        browser_options=options,
    )


def test_a_factor_is_answered_by_the_browser_by_its_input_kind():
    registry = builtin_factors()
    assert browser.named_factor_answered_by_browser(registry, PASSKEYS, "webauthn")
    for name in ("sms", "totp", "recovery", "nope", None, 3):
        assert not browser.named_factor_answered_by_browser(registry, PASSKEYS, name)
    option = FactorOption("x", False, "", BROWSER_INPUT, False, True)
    assert browser.answered_by_browser(option)
    assert not browser.answered_by_browser(replace(option, input=numeric_input(6)))
    assert not browser.answered_by_browser(None)


def test_the_options_go_to_the_page_as_json():
    assert browser.options_of(challenge({"challenge": "abc"})) == {"challenge": "abc"}
    assert browser.options_of(challenge()) is None and browser.options_of(None) is None
    assert browser.options_json({"rpId": "localhost"}) == '{"rpId":"localhost"}'
    assert browser.options_json(None) == ""


def test_a_session_keeps_one_browser_challenge_per_step():
    session: dict[str, object] = {}
    browser.remember(session, "login", challenge())
    browser.remember(session, "action", replace(challenge(), id="s.def"))
    assert browser.recalled(session, "login") == "s.abc"
    assert browser.recalled(session, "action") == "s.def"
    browser.remember(session, "login", None)
    assert browser.recalled(session, "login") == "" and browser.recalled(session, "enroll") == ""
    for garbage in ("x", ["s.abc"], {"login": 3}):
        assert browser.recalled({browser.SESSION_KEY: garbage}, "login") == ""


def test_a_confirmation_page_reopens_a_spent_passkey_challenge_only():
    registry = builtin_factors()

    def reopen(token: str, ch: Challenge | None = None, error: object = None) -> str | None:
        return browser.reopen_factor(registry, PASSKEYS, token, ch, error)  # type: ignore[arg-type]

    assert reopen("webauthn~s.abc") == "webauthn"
    assert reopen("webauthn~s.abc", error=ChallengeExpired()) == "webauthn"
    assert reopen("webauthn~s.abc", challenge({"challenge": "x"})) is None  # it has one
    assert reopen("webauthn~s.abc", error=TransactionExecuted({})) is None  # over
    assert reopen("webauthn~s.abc", error=FactorSetupRequired()) is None
    assert reopen("totp~abc") is None and reopen("sms-challenge-id") is None
    assert reopen("") is None and reopen("~") is None and reopen("x" * 300) is None
