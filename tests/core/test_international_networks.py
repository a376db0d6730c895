"""Numbers of the international networks (phonenumbers' region ``001``: satellite phones,
+882/+883 networks, UIFN +800 ...) are refused by default, a favourite of SMS pumping
(issue 18, class 3); a setting allows them, and the region lists then name them ``001``.
"""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat

from otpgate import (
    ConfigurationError,
    PhoneNetworkNotAllowed,
    PhoneRegionNotAllowed,
    PhoneRejected,
    Settings,
    error_response,
    parse_phone,
)
from tests.conftest import KEY, PHONE


def _examples() -> dict[int, str]:
    found = {}
    for calling_code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(calling_code)
        if number is not None:
            found[calling_code] = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return found


EXAMPLES = _examples()
IRIDIUM = EXAMPLES[881]
INMARSAT = EXAMPLES[870]
#: The ones that parse as mobile numbers, so that the number type alone let them through.
MOBILE = [EXAMPLES[code] for code in (870, 881, 882)]
DEFAULT = Settings(secret_keys=(KEY,))
ALLOWED = Settings(secret_keys=(KEY,), allow_international_networks=True)


def test_the_examples_cover_satellite_networks_and_uifn():
    assert {800, 870, 881, 882, 883} <= set(EXAMPLES)
    for e164 in MOBILE:
        assert parse_phone(e164, ALLOWED).number_type == "MOBILE"


@pytest.mark.parametrize("e164", sorted(EXAMPLES.values()))
def test_every_international_network_number_is_refused_by_default(e164):
    with pytest.raises(PhoneNetworkNotAllowed) as caught:
        parse_phone(e164, DEFAULT)
    assert isinstance(caught.value, PhoneRejected)
    assert caught.value.reason == "international_network"
    assert caught.value.code == "phone_network_not_allowed"
    assert e164[1:] not in caught.value.message


@pytest.mark.parametrize("e164", MOBILE)
def test_no_code_is_sent_to_them_and_the_answer_is_typed(gate, outbox, e164):
    with pytest.raises(PhoneNetworkNotAllowed) as caught:
        gate.start_sms("alice", e164, purpose="enroll")
    assert outbox.messages == []
    answer = error_response(caught.value)
    assert answer.status == 422
    assert answer.body["code"] == "phone_network_not_allowed"


def test_a_setting_allows_them(make_gate, outbox):
    gate = make_gate(ALLOWED)
    gate.start_sms("alice", IRIDIUM, purpose="enroll")
    assert len(outbox.messages_to(IRIDIUM)) == 1
    assert parse_phone(INMARSAT, ALLOWED).region == "001"


def test_the_region_lists_accept_001():
    deny = ALLOWED.replace(denied_regions=frozenset({"001"}))
    with pytest.raises(PhoneRegionNotAllowed):
        parse_phone(IRIDIUM, deny)
    assert parse_phone(PHONE, deny).region == "FR"
    only = ALLOWED.replace(allowed_regions=frozenset({"001", "FR"}))
    assert parse_phone(IRIDIUM, only).region == "001"
    assert parse_phone(PHONE, only).region == "FR"
    with pytest.raises(PhoneRegionNotAllowed):
        parse_phone(IRIDIUM, ALLOWED.replace(allowed_regions=frozenset({"FR"})))
    assert DEFAULT.replace(denied_regions=frozenset({"001"})).denied_regions == {"001"}


def test_allowing_001_needs_the_setting():
    with pytest.raises(ConfigurationError) as caught:
        Settings(secret_keys=(KEY,), allowed_regions=frozenset({"001"}))
    assert caught.value.setting == "allowed_regions"
    assert "allow_international_networks" in str(caught.value)
    for bad in ({"01"}, {"0001"}, {"XX1"}):
        with pytest.raises(ConfigurationError):
            Settings(secret_keys=(KEY,), denied_regions=frozenset(bad))


def test_flat_keys():
    settings = Settings.from_mapping(
        {
            "OTPGATE_SECRET_KEYS": KEY,
            "OTPGATE_ALLOW_INTERNATIONAL_NETWORKS": "true",
            "OTPGATE_DENIED_REGIONS": "001, cn",
        }
    )
    assert settings.allow_international_networks is True
    assert settings.denied_regions == {"001", "CN"}
    assert Settings.from_mapping({}).allow_international_networks is False
    with pytest.raises(ConfigurationError):
        Settings.from_mapping({"OTPGATE_ALLOW_INTERNATIONAL_NETWORKS": "maybe"})
