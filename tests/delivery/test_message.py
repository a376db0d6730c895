"""The SMS text: languages, WebOTP line, app hash, GSM-7 / UCS-2 and segments, and the
segment limit checked when a verifier is built and when a summary is given."""

from __future__ import annotations

import pytest

from otpgate import ConfigurationError, MalformedInput, OutboxSender, Settings, Verifier
from otpgate.core import message
from otpgate.core.message import (
    SUMMARY_ROOM,
    check_sms_settings,
    compose_sms,
    register_sms_template,
    render_sms,
    sms_info,
    sms_language,
)
from tests.conftest import KEY

APP_HASH = "FA+9qCX9VSu"


def settings(**changes):
    return Settings(**{"secret_keys": (KEY,), "brand": "Acme", **changes})


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\r\n", "GSM-7", 44, 1),
        # the extension table: two septets each
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 81, "GSM-7", 162, 2),
        ("^{}\\[~]|\f", "GSM-7", 18, 1),
        # an escape sequence is never split across segments: 306 septets, 3 segments
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),
        # one character outside GSM 03.38 makes the whole text UCS-2
        ("a" * 69 + "ç", "UCS-2", 70, 1),
        ("Grüße, Zoë", "UCS-2", 10, 1),
        ("`", "UCS-2", 1, 1),
        ("汉" * 70, "UCS-2", 70, 1),
        ("汉" * 71, "UCS-2", 71, 2),
        ("汉" * 134, "UCS-2", 134, 2),
        ("汉" * 135, "UCS-2", 135, 3),
        # characters beyond the BMP take two UTF-16 units and are not split either
        ("😀" * 35, "UCS-2", 70, 1),
        ("汉" * 66 + "😀" + "汉" * 66, "UCS-2", 134, 3),
    ],
)
def test_encoding_and_segments(text, encoding, units, segments):
    info = sms_info(text)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)


def test_the_english_text_ends_with_the_webotp_line():
    text = render_sms(settings(webotp_domain="acme.example"), "123456")
    assert text == (
        "Acme: your verification code is 123456. It expires in 5 min. Never share it."
        "\n\n@acme.example #123456"
    )
    assert sms_info(text) == message.SmsInfo("GSM-7", len(text), 1)


def test_the_app_hash_comes_before_the_webotp_line_or_last():
    both = render_sms(settings(webotp_domain="acme.example", android_app_hash=APP_HASH), "123456")
    assert both.endswith(f"Never share it.\n\n{APP_HASH}\n@acme.example #123456")
    assert both.splitlines()[-1] == "@acme.example #123456"  # WebOTP: the last line
    only_hash = render_sms(settings(android_app_hash=APP_HASH), "123456")
    assert only_hash.endswith(f"Never share it.\n\n{APP_HASH}")


def test_a_transaction_summary_is_shown():
    text = render_sms(settings(), "123456", summary="EUR 250.00 to ACME GmbH")
    assert text == (
        "Acme: code 123456 confirms EUR 250.00 to ACME GmbH. It expires in 5 min. "
        "If this was not you, do not share it."
    )


def test_chinese_texts_are_ucs2():
    sms = compose_sms(settings(webotp_domain="acme.example"), "123456", region="CN")
    assert (
        sms.text
        == "【Acme】您的验证码是123456，5分钟内有效。请勿告诉他人。\n\n@acme.example #123456"
    )
    assert (sms.language, sms.info.encoding, sms.info.segments) == ("zh-Hans", "UCS-2", 1)
    traditional = render_sms(settings(), "123456", locale="zh-Hant-TW", summary="轉帳 NT$500")
    assert traditional.startswith("【Acme】驗證碼123456用於確認轉帳 NT$500，5分鐘內有效。")


@pytest.mark.parametrize(
    ("locale", "region", "default", "language"),
    [
        (None, None, "en", "en"),
        (None, "FR", "en", "en"),  # the region decides for Chinese numbers only
        (None, "IN", "de", "de"),
        ("pt", "PT", "en", "pt-BR"),
        ("ar-EG", None, "en", "ar"),
        (None, "CN", "en", "zh-Hans"),
        (None, "TW", "en", "zh-Hant"),
        (None, "HK", "en", "zh-Hant"),
        ("en-GB", "CN", "en", "en"),  # the call's locale wins over the region
        ("zh_CN", None, "en", "zh-Hans"),
        ("zh-Hans-SG", None, "en", "zh-Hans"),
        ("zh-TW", "CN", "en", "zh-Hant"),
        ("tlh", "CN", "en", "zh-Hans"),  # unknown locale: the region decides
        ("tlh", "NL", "zh", "zh-Hans"),  # then the default
        (None, None, "xx", "en"),
    ],
)
def test_the_language_comes_from_the_locale_then_the_region_then_the_default(
    locale, region, default, language
):
    assert sms_language(locale, region, default) == language


def test_the_verifier_picks_the_language_of_the_numbers_region():
    outbox = OutboxSender()
    gate = Verifier(settings(), sender=outbox)
    gate.start_sms("li", "+8613812345678", purpose="enroll")
    gate.start_sms("chan", "+85291234567", purpose="enroll")
    gate.start_sms("li2", "+8613812345679", purpose="enroll", locale="en")
    texts = [m.text for m in outbox.messages]
    assert texts[0].startswith("【Acme】您的验证码是")
    assert texts[1].startswith("【Acme】您的驗證碼是")
    assert texts[2].startswith("Acme: your verification code is")


def test_templates_can_be_registered_for_languages_and_regions(monkeypatch):
    monkeypatch.setattr(message, "_TEMPLATES", dict(message._TEMPLATES))
    monkeypatch.setattr(message, "_REGION_LANGUAGES", dict(message._REGION_LANGUAGES))
    register_sms_template(
        "fr",
        "{brand} : votre code est {code}. Il expire dans {minutes} min.",
        "{brand} : le code {code} confirme {summary}. Il expire dans {minutes} min.",
        regions=("FR", "BE"),
    )
    assert render_sms(settings(), "123456", region="FR").startswith("Acme : votre code est")
    assert render_sms(settings(), "123456", locale="fr-CA").startswith("Acme : votre code est")
    with pytest.raises(ConfigurationError, match="lacks"):
        register_sms_template("de", "Code: {brand}", "{code} {summary}")
    with pytest.raises(ConfigurationError):
        register_sms_template("de", "{code} {oops}", "{code} {summary}")
    with pytest.raises(ConfigurationError, match="summary"):
        register_sms_template("de", "{code}", "{code}")


def test_default_settings_pass_the_segment_check():
    check_sms_settings(Settings(secret_keys=(KEY,)))
    check_sms_settings(settings(webotp_domain="acme.example", android_app_hash=APP_HASH))


def test_a_template_that_may_exceed_the_segment_limit_is_refused_when_the_verifier_is_built():
    long = dict(brand="B" * 40, webotp_domain="login." + "a" * 40 + ".example", code_digits=10)
    with pytest.raises(ConfigurationError) as caught:
        Verifier(settings(**long, max_sms_segments=1))
    assert caught.value.setting == "max_sms_segments"
    assert "the en SMS takes 2 segments (185 GSM-7 units" in caught.value.message
    # allowed with a larger limit: the UCS-2 languages (Arabic, Hindi, Russian...) need four
    with pytest.raises(ConfigurationError, match="UCS-2"):
        Verifier(settings(**long, max_sms_segments=3))
    Verifier(settings(**long, max_sms_segments=4))


def test_the_app_hash_needs_a_one_segment_message():
    with pytest.raises(ConfigurationError) as caught:
        Verifier(
            settings(brand="B" * 40, webotp_domain="a" * 50 + ".example", android_app_hash=APP_HASH)
        )
    assert caught.value.setting == "android_app_hash"


@pytest.mark.parametrize("bad", ["short", "FA+9qCX9VSu!", "FA+9qCX9VS é", "FA+9qCX9VSuX"])
def test_the_app_hash_is_validated(bad):
    with pytest.raises(ConfigurationError) as caught:
        settings(android_app_hash=bad)
    assert caught.value.setting == "android_app_hash"


def test_the_new_settings_read_from_flat_keys():
    loaded = Settings.from_mapping(
        {
            "OTPGATE_SECRET_KEYS": KEY,
            "OTPGATE_ANDROID_APP_HASH": APP_HASH,
            "OTPGATE_MAX_SMS_SEGMENTS": "3",
        }
    )
    assert (loaded.android_app_hash, loaded.max_sms_segments) == (APP_HASH, 3)
    assert Settings(secret_keys=(KEY,)).max_sms_segments == 2
    with pytest.raises(ConfigurationError):
        settings(max_sms_segments=0)


def test_a_summary_that_would_exceed_the_limit_is_refused_before_anything_is_sent():
    outbox = OutboxSender()
    gate = Verifier(settings(webotp_domain="acme.example", max_sms_segments=2), sender=outbox)
    fits = "W" * SUMMARY_ROOM  # always room for this much
    gate.start_sms("alice", "+33612345678", purpose="enroll", summary=fits)
    assert sms_info(outbox.messages[-1].text).segments <= 2
    with pytest.raises(MalformedInput, match="summary"):
        # Chinese characters make the English text UCS-2: three segments
        gate.start_sms("alice", "+33612345678", purpose="enroll", summary="转账" * 30)
    assert len(outbox.messages) == 1
