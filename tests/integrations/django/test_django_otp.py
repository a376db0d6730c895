"""django-otp compatibility: apps built on django-otp see otpgate's second factor."""

from __future__ import annotations

import pytest
from django.core.checks import Error
from django.test import override_settings

from tests.integrations.django.conftest import full_login, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.integrations.django.urls_compat")]

OTP_MIDDLEWARE = "django_otp.middleware.OTPMiddleware"
OURS = "otpgate.integrations.django.middleware.OtpgateMiddleware"


def _with_django_otp(before_ours: bool) -> list[str]:
    from django.conf import settings

    middleware = list(settings.MIDDLEWARE)
    middleware.insert(middleware.index(OURS) + (0 if before_ours else 1), OTP_MIDDLEWARE)
    return middleware


def test_not_verified_until_the_second_factor_passes(client, db):
    person = make_user("bob")  # no factor, 2FA optional: the middleware lets the session in
    client.force_login(person)
    assert client.get("/otp-status/").json() == {
        "verified": False,
        "factor": None,
        "persistent_id": None,
    }
    assert client.get("/otp-status-async/").json() == {"verified": False}


def test_verified_after_otpgate_second_step(client, sms_user, outbox):
    full_login(client, outbox)
    status = client.get("/otp-status/").json()
    assert status == {"verified": True, "factor": "sms", "persistent_id": "otpgate.sms/session"}
    assert client.get("/otp-status-async/").json() == {"verified": True}


def test_anonymous_is_never_verified(client, db):
    response = client.get("/django-otp-page/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_django_otp_required_lets_in_only_a_verified_session(client, sms_user, outbox):
    person = make_user("bob")
    client.force_login(person)
    refused = client.get("/django-otp-page/")
    assert refused.status_code == 302 and "/accounts/login/" in refused["Location"]
    client.logout()
    full_login(client, outbox)
    assert client.get("/django-otp-page/").content == b"PROTECTED by django-otp's otp_required"


def test_otp_admin_site_needs_the_second_factor(client, sms_user, outbox):
    staff = make_user("staffer", is_staff=True, is_superuser=True)  # no factor: let in by 2FA
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200  # the plain admin: no second factor asked
    refused = client.get("/otpadmin/")
    assert refused.status_code == 302 and "/otpadmin/login/" in refused["Location"]
    client.logout()
    full_login(client, outbox)
    page = client.get("/otpadmin/")
    assert page.status_code == 200 and b"Site administration" in page.content


def test_with_django_otp_middleware_first(client, sms_user, outbox):
    with override_settings(MIDDLEWARE=_with_django_otp(before_ours=True)):
        client.force_login(make_user("bob"))
        assert client.get("/otp-status/").json()["verified"] is False
        assert client.get("/django-otp-page/").status_code == 302
        client.logout()
        full_login(client, outbox)
        assert client.get("/otp-status/").json()["verified"] is True
        assert client.get("/django-otp-page/").status_code == 200
        assert client.get("/otpadmin/").status_code == 200


def test_a_django_otp_device_still_counts(client, db):
    """Sessions django-otp verified (``django_otp.login``) stay verified with otpgate."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_static.models import StaticDevice

    person = make_user("bob")
    device = StaticDevice.objects.create(user=person, name="backup", confirmed=True)
    client.force_login(person)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    with override_settings(MIDDLEWARE=_with_django_otp(before_ours=True)):
        status = client.get("/otp-status/").json()
    assert status["verified"] is True


def test_check_refuses_django_otp_middleware_after_ours():
    from otpgate.integrations.django.checks import check_middleware

    with override_settings(MIDDLEWARE=_with_django_otp(before_ours=False)):
        found = check_middleware()
    assert [m.id for m in found if isinstance(m, Error)] == ["otpgate.E020"]
    with override_settings(MIDDLEWARE=_with_django_otp(before_ours=True)):
        assert [m.id for m in check_middleware()] == []


def test_a_user_model_s_own_is_verified_field_is_left_alone(rf, sms_user):
    """A custom user model with an e-mail ``is_verified`` flag keeps its field."""
    from types import SimpleNamespace

    from django.core.exceptions import FieldDoesNotExist

    from otpgate.integrations.django.otp_compat import annotate

    def get_field(name):
        if name != "is_verified":
            raise FieldDoesNotExist(name)
        return object()

    custom = SimpleNamespace(
        pk=sms_user.pk, is_authenticated=True, is_verified=True, _meta=SimpleNamespace()
    )
    custom._meta.get_field = get_field
    request = rf.get("/")
    request.session = {}
    assert annotate(request, custom).is_verified is True  # the field, not a method
    assert not hasattr(custom, "otp_device")
    plain = annotate(request, sms_user)
    assert plain.is_verified() is False and plain.otp_device is None
