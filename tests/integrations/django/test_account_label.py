"""The account name authenticator apps show (issue 15): the user's email, else user name,
else the primary key, as in Flask; OTPGATE_ACCOUNT_LABEL names another function."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from django.test import override_settings

from otpgate.integrations.django.accounts import account_label

from .conftest import full_login, make_user

pytestmark = pytest.mark.django_db


def customer_label(user) -> str:
    return f"customer {user.pk}"


def test_the_email_first_then_the_user_name():
    assert account_label(make_user("alice")) == "alice@example.com"
    bob = make_user("bob")
    bob.email = ""
    assert account_label(bob) == "bob"


def test_a_setting_names_another_function():
    user = make_user("carol")
    with override_settings(OTPGATE_ACCOUNT_LABEL=f"{__name__}.customer_label"):
        assert account_label(user) == f"customer {user.pk}"
    with override_settings(OTPGATE_ACCOUNT_LABEL=lambda user: ""):  # blank: the default
        assert account_label(user) == "carol@example.com"


def test_the_app_shows_brand_and_email(client, sms_user, outbox):
    full_login(client, outbox)
    response = client.post("/2fa/api/enroll", {"factor": "totp"}, "application/json")
    assert response.status_code in (200, 201), response.content
    uri = unquote(response.json()["otpauth_uri"])
    assert uri.startswith("otpauth://totp/Acme:alice@example.com?") and "issuer=Acme" in uri
