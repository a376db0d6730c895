"""Framing protection: one core decision of the headers every otpgate page carries."""

from __future__ import annotations

import pytest

from otpgate import ConfigurationError, Settings
from otpgate.core.framing import add_framing_headers, framing_headers

KEY = "k" * 16


def test_pages_may_not_be_framed_by_default():
    assert framing_headers(Settings(secret_keys=(KEY,))) == {
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": "frame-ancestors 'none'",
    }
    assert framing_headers() == framing_headers(Settings(secret_keys=(KEY,)))


def test_one_setting_relaxes_it():
    own = Settings(secret_keys=(KEY,), frame_ancestors="self")
    assert framing_headers(own) == {
        "X-Frame-Options": "SAMEORIGIN",
        "Content-Security-Policy": "frame-ancestors 'self'",
    }
    portal = Settings.from_mapping(
        {"OTPGATE_SECRET_KEYS": KEY, "OTPGATE_FRAME_ANCESTORS": "'self', https://Portal.example"}
    )
    assert portal.frame_ancestors == ("'self'", "https://portal.example")
    assert (
        framing_headers(portal)["Content-Security-Policy"]
        == "frame-ancestors 'self' https://portal.example"
    )


@pytest.mark.parametrize(
    "value",
    ["*", "'none'", "https:", "https://a.example/path", "https://a.example; script-src *", "x"],
)
def test_only_self_and_origins_are_accepted(value):
    with pytest.raises(ConfigurationError) as error:
        Settings(secret_keys=(KEY,), frame_ancestors=(value,))
    assert error.value.setting == "frame_ancestors"


def test_a_policy_already_set_is_kept():
    headers: dict[str, str] = {"Content-Security-Policy": "default-src 'self';"}
    add_framing_headers(headers)
    assert headers == {
        "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
        "X-Frame-Options": "DENY",
    }
    chosen = {
        "Content-Security-Policy": "frame-ancestors https://a.example",
        "X-Frame-Options": "SAMEORIGIN",
    }
    add_framing_headers(chosen)
    assert chosen == {
        "Content-Security-Policy": "frame-ancestors https://a.example",
        "X-Frame-Options": "SAMEORIGIN",
    }
