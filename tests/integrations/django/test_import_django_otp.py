"""``manage.py otpgate_import_django_otp`` with real django-otp and django-two-factor-auth
models: users keep their authenticator app, backup tokens and phone."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from two_factor.plugins.phonenumber.models import PhoneDevice

from otpgate.core.errors import InvalidCode, MalformedInput
from tests.integrations.django.conftest import PHONE, full_login, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.integrations.django.urls_compat")]

KEY = "3132333435363738393031323334353637383930"  # RFC 6238's SHA1 test key, hex


def _run(*args: str) -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("otpgate_import_django_otp", *args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue() + str(error), 1
    return out.getvalue(), err.getvalue(), 0


def _code(at: float) -> str:
    """What the user's app shows at ``at``, by django-otp's own TOTP."""
    app = TOTP(bytes.fromhex(KEY))
    app.time = at
    return f"{app.token():06d}"


@pytest.fixture
def migrated(db):
    """Bob used django-two-factor-auth: an app, backup tokens and a phone."""
    bob = make_user("bob")
    TOTPDevice.objects.create(user=bob, name="default", key=KEY, confirmed=True)
    static = StaticDevice.objects.create(user=bob, name="backup", confirmed=True)
    for token in ("abcd2345", "wxyz6723"):
        StaticToken.objects.create(device=static, token=token)
    PhoneDevice.objects.create(user=bob, name="phone", number=PHONE, method="sms", confirmed=True)
    TOTPDevice.objects.create(user=make_user("carol"), name="x", key=KEY, confirmed=False)
    return bob


def test_dry_run_by_default_writes_nothing(migrated, gate):
    out, err, status = _run()
    assert status == 0 and err == ""
    assert "bob: totp: would import authenticator app" in out
    assert "bob: recovery: would import 2 recovery code(s)" in out
    assert "bob: sms: would import verified phone +33 ••• ••• 5678" in out
    assert "Dry run: add --apply to write." in out
    assert "carol" not in out  # an unconfirmed device is not an enrollment
    assert not gate.factors(str(migrated.pk)).any
    assert KEY not in out and PHONE not in out and "abcd2345" not in out


def test_apply_keeps_the_user_enrolled_and_every_factor_works(
    migrated, gate, clock, client, outbox
):
    out, _, status = _run("--apply")
    assert status == 0
    assert "1 user(s): 3 factor(s) imported, 0 skipped, 0 refused." in out
    subject = str(migrated.pk)
    factors = gate.factors(subject)
    assert factors.totp and factors.recovery_codes_left == 2
    assert factors.masked_phones == ("+33 ••• ••• 5678",)
    # The app the user already has keeps working, as do the backup tokens (once each).
    assert gate.check_totp(subject, _code(clock())).factor == "totp"
    assert gate.check_recovery(subject, " ABCD-2345 ").factor == "recovery"
    with pytest.raises(InvalidCode):
        gate.check_recovery(subject, "abcd2345")
    with pytest.raises(MalformedInput):
        gate.check_recovery(subject, "abcd")
    # The phone receives sign-in codes: the user signs in through otpgate's second step.
    full_login(client, outbox, "bob")
    assert client.get("/otp-status/").json()["verified"] is True


def test_running_it_again_changes_nothing(migrated, gate):
    _run("--apply")
    subject = str(migrated.pk)
    before = gate.factors(subject)
    out, _, status = _run("--apply")
    assert status == 0
    assert "3 skipped" in out and "0 factor(s) imported" in out
    assert gate.factors(subject) == before


def test_a_factor_set_up_in_otpgate_is_kept(migrated, gate):
    subject = str(migrated.pk)
    codes = gate.recovery.generate(subject)
    out, _, _ = _run("--apply", "--user", "bob")
    assert "bob: recovery: skipped, already has recovery codes in otpgate" in out
    assert gate.check_recovery(subject, codes[0]).factor == "recovery"
    with pytest.raises(InvalidCode):
        gate.check_recovery(subject, "abcd2345")


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("digits", 8, "8 digits; OTPGATE_TOTP_DIGITS is 6"),
        ("step", 60, "a 60 s step; OTPGATE_TOTP_PERIOD is 30"),
        ("t0", 100, "t0 = 100"),
        ("drift", 3, "drifts 3 steps"),
        ("key", "00" * 10, "its key has 80 bits"),
    ],
)
def test_unsupported_devices_are_refused_clearly(db, gate, field, value, reason):
    dave = make_user("dave")
    TOTPDevice.objects.create(user=dave, name="d", confirmed=True, **{"key": KEY, field: value})
    _, err, status = _run("--apply")
    assert status == 1
    assert "dave: totp: REFUSED TOTP device" in err and reason in err
    assert "need to set up that factor again" in err
    assert not gate.factors(str(dave.pk)).totp


def test_only_the_named_users(migrated, gate):
    erin = make_user("erin")
    TOTPDevice.objects.create(user=erin, name="e", key=KEY, confirmed=True)
    out, _, _ = _run("--apply", "--user", "erin")
    assert "erin: totp: imported" in out and "bob" not in out
    assert gate.factors(str(erin.pk)).totp and not gate.factors(str(migrated.pk)).any


def test_help_says_what_it_does(capsys):
    with pytest.raises(SystemExit):
        call_command("otpgate_import_django_otp", "--help")
    text = capsys.readouterr().out
    assert "--apply" in text and "static tokens" in text
