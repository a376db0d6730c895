"""The Django pages in every shipped language (issue 15): LocaleMiddleware and LANGUAGES pick
the catalogue, Arabic pages are right to left, and the ``django`` domain catalogues match
what the templates and code use today."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import translation

from otpgate.core.i18n import SHIPPED

ROOT = Path(__file__).resolve().parents[3]
ALL = [(language.lower(), language) for language in SHIPPED]
PASSWORD = "correct horse battery staple"


def _script():
    spec = importlib.util.spec_from_file_location(
        "otpgate_i18n_script", ROOT / "scripts" / "i18n.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_django_catalogues_cover_exactly_what_the_templates_use():
    from babel.messages.pofile import read_po

    script = _script()
    fresh = script._template(script.django_messages(), "otpgate")
    with open(script.DJANGO_LOCALE / "django.pot", "rb") as handle:
        committed = read_po(handle)
    wanted = {m.id for m in fresh if m.id}
    assert wanted == {m.id for m in committed if m.id}, "run: python scripts/i18n.py extract"
    assert len(wanted) > 100
    for language in SHIPPED[1:]:
        path = script.po_path(script.DJANGO_LOCALE, language, "django")
        assert script.problems(script.load(path, language), fresh) == [], language


@pytest.mark.django_db
@pytest.mark.parametrize("language", SHIPPED)
def test_every_shipped_language_is_served_by_locale_middleware(client, sms_user, language):
    with override_settings(LANGUAGES=ALL):
        client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
        page = client.get(
            "/2fa/verify/", HTTP_ACCEPT_LANGUAGE=f"{language},en;q=0.1"
        ).content.decode()
        with translation.override(language.lower()):
            title = translation.gettext("Two-step verification")
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language.lower()}" dir="{direction}">' in page
    assert f"<title>{title}</title>" in page
    if language != "en":
        assert title != "Two-step verification"
        assert "Two-step verification" not in page


@pytest.mark.django_db
def test_the_first_send_is_not_a_new_code_and_a_wait_is_said_once(client, sms_user, outbox):
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    sent = len(outbox.messages)
    first = client.post("/2fa/verify/", {"action": "send", "method": "sms"}, follow=True)
    assert len(outbox.messages) == sent + 1
    assert "We sent you a new code." not in first.content.decode()
    assert "We sent a code by text message to" in first.content.decode()
    early = client.post("/2fa/verify/", {"action": "resend"}).content.decode()
    assert "Try again in" in early and "Try again later" not in early
    with override_settings(LANGUAGES=ALL):
        arabic = client.post("/2fa/verify/", {"action": "resend"}, HTTP_ACCEPT_LANGUAGE="ar")
    page = arabic.content.decode()
    assert arabic.status_code == 429 and 'dir="rtl"' in page
    assert "حاول مرة أخرى بعد" in page and "لاحقًا" not in page


@pytest.mark.parametrize(
    ("seconds", "language", "said"),
    [
        (539, "en", "Try again in 9 minutes."),
        (60, "en", "Try again in 1 minute."),
        (45, "en", "Try again in 45 seconds."),
        (539, "ru", "Повторите попытку через 9 минут."),
        (539, "fr", "Réessayez dans 9 minutes."),
    ],
)
def test_a_wait_of_a_minute_or_more_is_said_in_minutes(rf, seconds, language, said):
    """The trial's "Try again in 539 s.": the core says a minute or more in minutes."""
    from otpgate.core.errors import RateLimited
    from otpgate.integrations.django.views.common import page

    request = rf.get("/2fa/verify/")
    request.session = {}
    with translation.override(language):
        request.LANGUAGE_CODE = language
        answer = page(request, "otpgate/_messages.html", {}, error=RateLimited(retry_after=seconds))
    assert answer.status_code == 429 and said in answer.content.decode()
