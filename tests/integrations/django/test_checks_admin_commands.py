"""System checks, management commands, admin pages, signals, the import guard, translations."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from otpgate import SmsTemporarilyUnavailable
from otpgate.integrations.django import checks

from .conftest import PHONE, full_login

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    checks.MIDDLEWARE,
]


def ids(found) -> list[str]:
    return [message.id for message in found]


def test_the_test_settings_pass_every_check():
    assert checks.check_settings() == []
    assert checks.check_middleware() == []
    assert checks.check_redis() == []
    assert checks.check_wiring() == []


@override_settings(OTPGATE_SECRET_KEYS=None)
def test_missing_secret_keys():
    assert ids(checks.check_settings()) == ["otpgate.E001"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OTPGATE_CODE_DIGITS", 4),
        ("OTPGATE_CODE_LIFETIME", "forever"),
        ("OTPGATE_SECRET_KEYS", ["short"]),
        ("OTPGATE_NO_SUCH_THING", 1),
    ],
)
def test_bad_core_settings_name_the_setting(name, value):
    with override_settings(**{name: value}):
        found = checks.check_settings()
    assert ids(found) == ["otpgate.E002"]
    assert found[0].obj == name
    assert found[0].msg.startswith(name)


@pytest.mark.parametrize(
    ("name", "value", "check_id"),
    [
        ("OTPGATE_REQUIRED", "sometimes", "otpgate.E003"),
        ("OTPGATE_STORE", "memcached://x", "otpgate.E003"),
        ("OTPGATE_SENDER", "no.such.Sender", "otpgate.E004"),
        ("OTPGATE_EMAIL_SENDER", "no.such.Mailer", "otpgate.E008"),
        ("OTPGATE_EMAIL_SENDER", "smtp", "otpgate.E008"),  # no OTPGATE_SMTP_HOST / _FROM
    ],
)
def test_bad_integration_settings(name, value, check_id):
    with override_settings(**{name: value}):
        found = checks.check_settings()
    assert ids(found) == [check_id]
    assert found[0].obj == name


def test_a_complete_smtp_configuration_passes():
    smtp = {"OTPGATE_SMTP_HOST": "smtp.example.org", "OTPGATE_SMTP_FROM": "no-reply@example.org"}
    with override_settings(OTPGATE_EMAIL_SENDER="smtp", **smtp):
        assert checks.check_settings() == []


def test_middleware_order():
    with override_settings(MIDDLEWARE=[checks.MIDDLEWARE, *MIDDLEWARE[:3]]):
        assert ids(checks.check_middleware()) == ["otpgate.E006", "otpgate.E006"]
    with override_settings(MIDDLEWARE=MIDDLEWARE[:3]):
        assert ids(checks.check_middleware()) == ["otpgate.W001"]
    with override_settings(MIDDLEWARE=[MIDDLEWARE[0], MIDDLEWARE[2], MIDDLEWARE[3]]):
        assert ids(checks.check_middleware()) == ["otpgate.W002"]


@override_settings(OTPGATE_STORE="redis://127.0.0.1:1/0")
def test_unreachable_redis():
    pytest.importorskip("redis")
    found = checks.check_redis()
    assert ids(found) == ["otpgate.E007"]
    assert found[0].obj == "OTPGATE_STORE"


@override_settings(OTPGATE_STORE="redis://:hunter2@127.0.0.1:1/0")
def test_unreachable_redis_never_prints_the_password():
    pytest.importorskip("redis")
    assert "hunter2" not in checks.check_redis()[0].msg


def test_manage_py_check_runs_them(capsys):
    call_command("check")  # no error with the test settings


@pytest.mark.django_db
def test_commands_show_and_reset_factors(sms_user, gate):
    gate.recovery.generate(str(sms_user.pk))
    gate.totp.enroll(str(sms_user.pk))  # not confirmed yet: removed all the same
    out = io.StringIO()
    call_command("otpgate_factors", "alice", stdout=out)
    text = out.getvalue()
    assert "+33 ••• ••• 5678" in text and PHONE not in text
    assert "recovery codes left: 10" in text
    out = io.StringIO()
    call_command("otpgate_reset", "alice", "--yes", stdout=out)
    assert "removed recovery, sms, totp" in out.getvalue()
    assert not gate.factors(str(sms_user.pk)).any
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("otpgate_factors", "nobody")


@pytest.mark.django_db
def test_command_lists_and_lifts_pumping_blocks(gate, clock):
    from django.core.management.base import CommandError

    for n in range(20):  # a country never sent to, codes nobody enters
        with contextlib.suppress(SmsTemporarilyUnavailable):
            gate.start_sms(str(1000 + n), f"+22507000000{n:02d}", purpose="enroll")
        clock.advance(20)
    out = io.StringIO()
    call_command("otpgate_pumping", "list", stdout=out)
    assert "+225 blocked until" in out.getvalue()
    out = io.StringIO()
    call_command("otpgate_pumping", "lift", "+225", stdout=out)
    assert "Lifted the block of +225" in out.getvalue()
    out = io.StringIO()
    call_command("otpgate_pumping", "list", stdout=out)
    assert "No range is blocked." in out.getvalue()
    for args in (["lift", "+225"], ["lift"], ["lift", "x"]):
        with pytest.raises(CommandError):
            call_command("otpgate_pumping", *args)


@pytest.mark.django_db
def test_admin_never_shows_secrets_and_resets(client, sms_user, outbox, gate, clock):
    from .helpers import totp_now

    setup = gate.totp.enroll(str(sms_user.pk))
    gate.totp.confirm(str(sms_user.pk), totp_now(setup.secret, clock()))
    codes = gate.recovery.generate(str(sms_user.pk))
    gate.credentials.add_email(str(sms_user.pk), "Alice.Martin@example.org")
    full_login(client, outbox)
    pages = ""
    for path in (
        "/admin/otpgate/verifiedphone/",
        "/admin/otpgate/verifiedemail/",
        f"/admin/otpgate/verifiedemail/{sms_user.otpgate_emails.get().pk}/change/",
        "/admin/otpgate/totpdevice/",
        "/admin/otpgate/recoverycode/",
        f"/admin/otpgate/verifiedphone/{sms_user.otpgate_phones.get().pk}/change/",
        f"/admin/otpgate/totpdevice/{sms_user.otpgate_totp.pk}/change/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        pages += response.content.decode()
    assert "+33 ••• ••• 5678" in pages and "A••••@example.org" in pages
    assert PHONE not in pages and "Alice.Martin" not in pages
    assert sms_user.otpgate_totp.sealed_secret not in pages
    assert setup.secret not in pages
    for row in sms_user.otpgate_recovery_codes.all():
        assert row.digest not in pages
    assert not any(code in pages for code in codes)
    response = client.post(
        "/admin/otpgate/verifiedphone/",
        {"action": "reset_owners", "_selected_action": [sms_user.otpgate_phones.get().pk]},
    )
    assert response.status_code == 302
    assert not gate.factors(str(sms_user.pk)).any


def test_importing_without_django_names_the_extra():
    probe = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'django' or name.startswith('django.'):\n"
        "            raise ImportError('no django here')\n"
        "sys.meta_path.insert(0, Block())\n"
        "try:\n"
        "    import otpgate.integrations.django\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert 'pip install "otpgate[django]"' in result.stdout


def test_compiled_translations_are_shipped_and_current():
    folder = (
        Path(__file__).parents[3] / "src/otpgate/integrations/django/locale/zh_Hans/LC_MESSAGES"
    )
    po, mo = folder / "django.po", folder / "django.mo"
    assert po.exists() and mo.exists()
    text = po.read_text(encoding="utf-8")
    assert 'msgstr ""\n\n' not in text.split("\n\n", 1)[1] + "\n\n"  # every string translated


@pytest.mark.django_db
def test_pages_in_simplified_chinese(client, sms_user, outbox):
    client.post(
        "/accounts/login/", {"username": "alice", "password": "correct horse battery staple"}
    )
    page = client.get("/2fa/verify/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="zh-hans"' in page
    assert "两步验证" in page
    response = client.post(
        "/2fa/verify/", {"action": "verify", "code": "12"}, HTTP_ACCEPT_LANGUAGE="zh-CN"
    )
    assert 400 <= response.status_code < 500
    api = client.post(
        "/2fa/api/check",
        {"code": "١٢٣٤٥x"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    assert api.json()["title"] == "请求格式不正确。"


@pytest.mark.django_db
def test_admin_action_lifts_the_block_of_a_numbers_range(client, sms_user, outbox, gate, clock):
    for n in range(20):  # a country never sent to, codes nobody enters: blocked
        with contextlib.suppress(SmsTemporarilyUnavailable):
            gate.start_sms(str(1000 + n), f"+22507000000{n:02d}", purpose="enroll")
        clock.advance(20)
    assert [block.label for block in gate.pumping_blocks()] == ["+225"]
    full_login(client, outbox)
    gate.credentials.add_phone(str(sms_user.pk), "+2250700000099")
    row = sms_user.otpgate_phones.get(e164="+2250700000099")
    response = client.post(
        "/admin/otpgate/verifiedphone/",
        {"action": "lift_pumping_blocks", "_selected_action": [row.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Lifted: +225. Still blocked: -." in page
    assert "+2250700000099" not in page
    assert gate.pumping_blocks() == []
