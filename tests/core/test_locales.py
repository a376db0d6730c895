"""Every shipped language is complete, current and consistent (issue 15).

The ``otpgate`` domain (core error messages, SMS texts, Flask pages) is extracted here and
compared with each catalogue; the Django domain is compared with its committed template
(``django.pot``), which tests/integrations/django/test_languages.py re-extracts from the
templates. ``python scripts/i18n.py check`` prints the same findings per language.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from otpgate.core.i18n import LOCALE_DIR, SHIPPED, dir_name, error_message, negotiate
from otpgate.core.mail import render_email
from otpgate.core.message import check_sms_settings, compose_sms, sms_languages, summary_fits
from otpgate.core.settings import Settings
from tests.conftest import KEY

ROOT = Path(__file__).resolve().parents[2]
DJANGO_LOCALE = ROOT / "src" / "otpgate" / "integrations" / "django" / "locale"


def _script():
    spec = importlib.util.spec_from_file_location(
        "otpgate_i18n_script", ROOT / "scripts" / "i18n.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


i18n = _script()
LANGUAGES = SHIPPED[1:]
DOMAINS = [(LOCALE_DIR, "otpgate"), (DJANGO_LOCALE, "django")]


@pytest.fixture(scope="module")
def templates():
    from babel.messages.pofile import read_po

    with open(DJANGO_LOCALE / "django.pot", "rb") as handle:
        django = read_po(handle)
    return {"otpgate": i18n._template(i18n.otpgate_messages(), "otpgate"), "django": django}


def test_twelve_languages_ship():
    assert len(SHIPPED) >= 12 and SHIPPED[0] == "en"
    assert {"zh-Hans", "zh-Hant", "es", "pt-BR", "fr", "de", "ja", "ko", "ru", "hi", "ar"} <= set(
        SHIPPED
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("root", "domain"), DOMAINS)
def test_each_catalogue_is_complete_current_and_keeps_placeholders(
    templates, root, domain, language
):
    catalogue = i18n.load(i18n.po_path(root, language, domain), language)
    assert i18n.problems(catalogue, templates[domain]) == []
    assert catalogue.num_plurals >= 1 and catalogue.plural_forms


def test_the_checker_finds_what_is_wrong(templates):
    from babel.messages.catalog import Catalog

    pot = templates["otpgate"]
    broken = Catalog(locale="fr")
    for message in pot:
        if message.id:
            broken.add(message.id, message.id)
    first = next(m.id for m in pot if m.id and "{phone}" in str(m.id))
    broken[first].string = "sans le numéro"
    broken.add("A string nobody uses any more", "Plus utilisée")
    broken.add("Fuzzy", "Flou", flags=("fuzzy",))
    some = next(m.id for m in pot if m.id and "{" not in str(m.id))
    broken[some].string = ""
    found = "\n".join(i18n.problems(broken, pot))
    assert f"placeholders differ: {first!r}" in found
    assert "stale (no longer used): 'A string nobody uses any more'" in found
    assert f"missing: {some!r}" in found and "missing: 'Fuzzy'" in found


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("root", "domain"), DOMAINS)
def test_the_committed_mo_says_what_the_po_says(root, domain, language):
    assert i18n.mo_agrees(i18n.po_path(root, language, domain), language)


def test_a_stale_mo_is_found(tmp_path):
    po = i18n.po_path(LOCALE_DIR, "fr", "otpgate")
    copy = tmp_path / "otpgate.po"
    copy.write_bytes(po.read_bytes())
    copy.with_suffix(".mo").write_bytes(po.with_suffix(".mo").read_bytes())
    assert i18n.mo_agrees(copy, "fr")
    text = copy.read_text("utf-8").replace(
        'msgstr "Ce code n\'est pas correct."', 'msgstr "Mauvais code."'
    )
    copy.write_text(text, "utf-8")
    assert not i18n.mo_agrees(copy, "fr")


def test_runtime_reads_the_package_catalogues_with_the_standard_library():
    for language in LANGUAGES:
        mo = LOCALE_DIR / dir_name(language) / "LC_MESSAGES" / "otpgate.mo"
        assert mo.is_file(), language
    from otpgate.core.errors import InvalidCode

    assert error_message(InvalidCode(), "de-AT") == "Dieser Code ist nicht korrekt."
    assert error_message(InvalidCode(), "pt-BR") == "Esse código não está correto."
    assert error_message(InvalidCode(), "ar") == "هذا الرمز غير صحيح."
    assert error_message(InvalidCode(), "hi-IN") == "यह कोड सही नहीं है।"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-TW,zh;q=0.8", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-Hans-SG", "zh-Hans"),
        ("pt-PT, en;q=0.2", "pt-BR"),
        ("es-MX", "es"),
        ("fr-CA,fr;q=0.9", "fr"),
        ("de-CH", "de"),
        ("ja-JP", "ja"),
        ("ko-KR", "ko"),
        ("ru-RU", "ru"),
        ("hi-IN, en;q=0.5", "hi"),
        ("ar-SA", "ar"),
        ("nl, de;q=0.4", "de"),
        ("tlh", "en"),
    ],
)
def test_accept_language_picks_a_shipped_language(header, language):
    assert negotiate(header) == language


def test_every_language_has_an_sms_text_within_the_segment_limit():
    assert set(sms_languages()) >= set(SHIPPED)
    settings = Settings(secret_keys=(KEY,), brand="Example Bank", webotp_domain="bank.example")
    check_sms_settings(settings)  # the worst case: longest code, 40-character summary
    summaries = {"GSM-7": "Transfer 2,500.00 EUR to J. Smith", "UCS-2": "向张三转账 2,500.00 元"}
    for language in SHIPPED:
        plain = compose_sms(settings, "123456", locale=language)
        assert plain.language == language and "123456" in plain.text
        assert "Example Bank" in plain.text and plain.text.endswith("@bank.example #123456")
        assert plain.info.segments <= 1, (language, plain.info)
        summary = summaries[plain.info.encoding]
        full = compose_sms(settings, "123456", locale=language, summary=summary)
        assert summary in full.text and summary_fits(settings, summary, locale=language)
        assert full.info.segments <= settings.max_sms_segments, (language, full.info)


def test_every_language_has_its_own_email():
    settings = Settings(secret_keys=(KEY,), brand="Example Bank")
    english = render_email(settings, "ana@example.com", "123456", summary="Pay <J. Smith>")
    subjects = {english.subject}
    for language in LANGUAGES:
        mail = render_email(
            settings, "ana@example.com", "123456", locale=language, summary="Pay <J. Smith>"
        )
        assert mail.language == language
        assert mail.subject.count("123456") == 1 and "Example Bank" in mail.subject
        assert "Pay <J. Smith>" in mail.text and "Pay &lt;J. Smith&gt;" in mail.html
        assert f'<html lang="{language}">' in mail.html
        for line in english.text.splitlines()[4:]:  # no English left but the summary
            assert not line or line not in mail.text or "J. Smith" in line, (language, line)
        subjects.add(mail.subject)
    assert len(subjects) == len(SHIPPED)
    assert render_email(settings, "a@example.com", "1", locale="pt").language == "pt-BR"


#: One word for "remove" per language (the issue: two Chinese words for the same action).
REMOVE = {
    "zh-Hans": "移除",
    "zh-Hant": "移除",
    "es": "quit|quít",
    "pt-BR": "remov|remova",
    "fr": "retir",
    "de": "entfern",
    "ja": "削除",
    "ko": "삭제",
    "ru": "удал",
    "hi": "हट",
    "ar": "زال|أزل",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_one_word_for_remove_in_each_language(language):
    import re

    word = re.compile(REMOVE[language], re.IGNORECASE)
    seen = 0
    for root, domain in DOMAINS:
        for message in i18n.load(i18n.po_path(root, language, domain), language):
            if message.id and "remov" in str(message.id).lower():
                for text in i18n._strings(message.string):
                    assert word.search(text), (message.id, text)
                    seen += 1
    assert seen >= 8


@pytest.mark.parametrize(
    ("seconds", "locale", "text"),
    [
        (1, "en", "Try again in 1 second."),
        (59, "en", "Try again in 59 seconds."),
        (60, "en", "Try again in 1 minute."),
        (539, "en", "Try again in 9 minutes."),
        (539, "fr", "Réessayez dans 9 minutes."),
        (61, "ru", "Повторите попытку через 2 минуты."),
        (300, "ru", "Повторите попытку через 5 минут."),
        (21 * 60, "ru", "Повторите попытку через 21 минуту."),
        (539, "ja", "9 分後にもう一度お試しください。"),
        (45, "de", "Versuchen Sie es in 45 Sekunden erneut."),
    ],
)
def test_the_wait_after_a_rate_limit_is_said_in_minutes_from_one_minute(seconds, locale, text):
    from otpgate.core.i18n import wait_text

    assert wait_text(seconds, locale) == text
