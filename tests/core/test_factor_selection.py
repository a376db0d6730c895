"""The factor model's pure decisions and its registry, without any I/O: which factor a
subject prefers, what is offered for a purpose, and which factor may be used."""

from __future__ import annotations

import json

import pytest

from otpgate import (
    ConfigurationError,
    FactorNotAllowed,
    FactorNotEnrolled,
    FactorNotPreferable,
    FactorRegistry,
    Factors,
    FactorSetupRequired,
    MalformedInput,
    Settings,
    UnknownFactor,
    error_response,
)
from otpgate.core.factors import builtin_factors
from otpgate.core.factors.selection import (
    change_refusal,
    choose,
    has_factor,
    offered,
    options,
    preferable,
    preferable_options,
    preference,
    preferred,
    setup_required,
)
from tests.conftest import KEY
from tests.factors import PinFactor

SETTINGS = Settings(secret_keys=(KEY,))
NONE = Factors((), False, 0, "")
PHONE_ONLY = Factors(("+33 ••• ••• 5678",), False, 0, "")
APP_ONLY = Factors((), True, 0, "")
ALL = Factors(("+33 ••• ••• 5678",), True, 10, "")
RECOVERY_ONLY = Factors((), False, 3, "")


def names(factors):
    return [factor.name for factor in factors]


@pytest.fixture
def registry() -> FactorRegistry:
    return builtin_factors()


def test_the_built_in_factors_are_ranked_passkey_app_sms_voice_email_recovery(registry):
    assert registry.names() == (
        "webauthn",
        "totp",
        "sms",
        "email",
        "voice",
        "recovery",
    )  # ties: by name
    assert [f.rank for f in registry] == sorted((f.rank for f in registry), reverse=True)


@pytest.mark.parametrize(
    ("snapshot", "expected"),
    [(ALL, "totp"), (PHONE_ONLY, "sms"), (APP_ONLY, "totp"), (RECOVERY_ONLY, "recovery")],
)
def test_the_strongest_factor_is_preferred_by_default(registry, snapshot, expected):
    assert preferred(registry, snapshot, None).name == expected


def test_nobody_without_factors_has_a_preferred_one(registry):
    assert preferred(registry, NONE, "sms") is None
    assert offered(registry, NONE, "login", None) == []
    assert options(registry, NONE, "transaction", None, SETTINGS) == []


def test_a_stored_choice_wins_only_while_the_subject_has_it(registry):
    assert preferred(registry, ALL, "sms").name == "sms"
    # a choice of a factor that may not be preferred (stored before it was refused) is ignored
    assert preferred(registry, ALL, "recovery").name == "totp"
    assert preferred(registry, ALL, "voice").name == "totp"
    assert preferred(registry, APP_ONLY, "sms").name == "totp"  # the phone is gone
    assert preferred(registry, ALL, "no-such-factor").name == "totp"


def test_the_preferred_factor_is_offered_first_then_the_strongest(registry):
    everything = ["totp", "sms", "voice", "recovery"]  # voice: a channel of the phone
    assert names(offered(registry, ALL, "login", None)) == everything
    assert names(offered(registry, ALL, "login", "sms")) == ["sms", "totp", "voice", "recovery"]
    assert names(offered(registry, ALL, "action", "recovery")) == everything


def test_recovery_codes_never_confirm_a_transaction(registry):
    assert names(offered(registry, ALL, "transaction", "recovery")) == ["totp", "sms"]
    assert offered(registry, RECOVERY_ONLY, "transaction", None) == []
    with pytest.raises(FactorNotAllowed):
        choose(registry, "recovery", "transaction", ALL)


def test_enroll_offers_what_can_be_added_whether_or_not_the_subject_has_it(registry):
    assert names(offered(registry, NONE, "enroll", None)) == ["totp", "sms", "email"]
    assert choose(registry, "sms", "enroll", NONE).name == "sms"


def test_a_factor_must_exist_serve_the_purpose_and_be_set_up(registry):
    with pytest.raises(UnknownFactor):
        choose(registry, "pigeon", "login", ALL)
    with pytest.raises(UnknownFactor):
        choose(registry, None, "login", ALL)
    with pytest.raises(FactorNotEnrolled):
        choose(registry, "totp", "login", PHONE_ONLY)
    assert choose(registry, "sms", "transaction", PHONE_ONLY).name == "sms"


def test_a_preference_must_be_a_factor_the_subject_has(registry):
    assert preference(registry, "sms", ALL) == "sms"
    assert preference(registry, None, NONE) is None
    with pytest.raises(FactorNotEnrolled):
        preference(registry, "totp", PHONE_ONLY)
    with pytest.raises(UnknownFactor):
        preference(registry, "pigeon", ALL)


def test_a_recovery_code_or_an_alternative_can_never_be_the_preferred_factor(registry):
    for name in ("recovery", "voice"):
        with pytest.raises(FactorNotPreferable):
            preference(registry, name, ALL)
        with pytest.raises(FactorNotPreferable):  # the factor's fact, whoever asks
            preference(registry, name, NONE)
        assert not preferable(registry.get(name))
    assert [f.name for f in registry if preferable(f)] == ["webauthn", "totp", "sms", "email"]
    answer = error_response(FactorNotPreferable(), "fr")
    assert (answer.status, answer.body["code"]) == (409, "factor_not_preferable")
    assert answer.body["title"] != FactorNotPreferable.default_message  # translated


def test_a_preference_menu_lists_only_the_factors_that_may_be_preferred(registry):
    offer = options(registry, ALL, "login", "sms", SETTINGS)
    assert [(o.name, o.preferable) for o in offer] == [
        ("sms", True),
        ("totp", True),
        ("voice", False),
        ("recovery", False),
    ]
    assert names(preferable_options(offer)) == ["sms", "totp"]  # preferred first, as offered
    assert offer[-1].as_dict()["preferable"] is False
    # recovery codes alone: the step still opens on them (nothing else serves), no menu
    alone = options(registry, RECOVERY_ONLY, "login", None, SETTINGS)
    assert [(o.name, o.preferred) for o in alone] == [("recovery", True)]
    assert preferable_options(alone) == []


def test_a_plugin_factor_may_be_preferred_unless_it_says_otherwise(registry):
    registry.register(PinFactor())  # declares nothing: preferable
    assert preference(registry, "pin", NONE) == "pin"
    assert preferred(registry, NONE, "pin").name == "pin"

    class FallbackPin(PinFactor):
        name = "fallback-pin"
        preferable = False

    registry.register(FallbackPin())
    with pytest.raises(FactorNotPreferable):
        preference(registry, "fallback-pin", NONE)
    assert preferred(registry, NONE, "fallback-pin").name == "pin"
    offer = options(registry, NONE, "login", "fallback-pin", SETTINGS)
    assert names(preferable_options(offer)) == ["pin"]

    class Vague(PinFactor):
        name = "vague"
        preferable = "no"

    with pytest.raises(ConfigurationError):
        registry.register(Vague())  # type: ignore[arg-type]


def test_options_say_what_a_page_needs_and_nothing_secret(registry):
    sms, totp = options(registry, ALL, "transaction", "sms", SETTINGS)
    assert (sms.name, sms.sends, sms.binds_details, sms.preferred) == ("sms", True, True, True)
    assert sms.destination == "+33 ••• ••• 5678"
    assert sms.input.autocomplete == "one-time-code"
    assert sms.input.inputmode == "numeric"
    assert sms.input.length == SETTINGS.code_digits
    assert (totp.name, totp.sends, totp.binds_details, totp.preferred) == (
        "totp",
        False,
        False,
        False,
    )
    assert totp.destination == ""
    assert totp.input.length == SETTINGS.totp_digits
    recovery = options(registry, ALL, "login", None, SETTINGS)[-1]
    assert (recovery.name, recovery.input.kind, recovery.input.max_length) == (
        "recovery",
        "text",
        14,
    )
    body = json.dumps(
        [option.as_dict() for option in options(registry, ALL, "login", None, SETTINGS)]
    )
    assert "5678" in body and "612345678" not in body


def test_a_registry_refuses_bad_or_duplicate_factors(registry):
    sms = registry.get("sms")
    with pytest.raises(ConfigurationError):
        registry.register(sms)
    assert registry.register(sms, replace=True) is sms
    with pytest.raises(ConfigurationError):
        registry.register(object())  # type: ignore[arg-type]

    class Renamed:
        def __init__(self, name, purposes=frozenset({"login"})):
            self.name, self.purposes = name, purposes

        def __getattr__(self, attribute):
            return getattr(sms, attribute)

    for bad in ("", "SMS", "a b", "x" * 40):
        with pytest.raises(ConfigurationError):
            registry.register(Renamed(bad))
    with pytest.raises(ConfigurationError):
        registry.register(Renamed("bad-purpose", frozenset({"payday"})))
    copy = registry.copy()
    assert copy.unregister("sms") is sms
    assert "sms" in registry and "sms" not in copy
    assert copy.unregister("sms") is None


def test_the_new_errors_are_typed_and_mapped_once():
    unknown, refused = error_response(UnknownFactor()), error_response(FactorNotAllowed())
    assert (unknown.status, unknown.body["code"]) == (400, "unknown_factor")
    assert isinstance(UnknownFactor(), MalformedInput)  # old handlers of bad input still work
    assert (refused.status, refused.body["code"]) == (403, "factor_not_allowed")


def test_having_a_second_factor_is_decided_over_the_registry(registry):
    assert [has_factor(registry, f) for f in (NONE, PHONE_ONLY, APP_ONLY, RECOVERY_ONLY)] == [
        False,
        True,
        True,
        True,
    ]
    registry.register(PinFactor())  # enrolled for everyone: a subject with only this has one
    assert has_factor(registry, NONE) and not NONE.any
    # ... so adding another factor needs a fresh second factor, as with a built-in one
    assert change_refusal(NONE, False, SETTINGS, registry) is not None
    assert change_refusal(NONE, False, SETTINGS, builtin_factors()) is None


def test_an_empty_offer_is_a_typed_setup_error_mapped_once(registry):
    assert setup_required(offered(registry, APP_ONLY, "login", None)) is None
    error = setup_required(options(registry, RECOVERY_ONLY, "transaction", None, SETTINGS))
    assert isinstance(error, FactorSetupRequired) and isinstance(error, FactorNotEnrolled)
    answer = error_response(error, "zh")
    assert (answer.status, answer.body["code"]) == (409, "factor_setup_required")
    assert answer.body["title"] != FactorSetupRequired.default_message  # translated
    assert "Add one" in error_response(error).body["title"]
