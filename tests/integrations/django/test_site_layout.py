"""OTPGATE_BASE_TEMPLATE (issue 15): otpgate's pages render inside the site's own base
template (its navigation and sign-out stay), keep their scoped card styles, and a base
template that cannot serve is reported by the system check otpgate.E009."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import override_settings

from otpgate.integrations.django.layout import check_base_template

from .conftest import PASSWORD, full_login
from .helpers import recovery_form

LOGIN = {"username": "alice", "password": PASSWORD}
SITE_TEMPLATES = str(Path(__file__).parent / "site_templates")


def site(base: str = "acme/base.html", **extra):
    """The test settings with the site's template folder and ``OTPGATE_BASE_TEMPLATE``."""
    from django.conf import settings

    templates = [{**settings.TEMPLATES[0], "DIRS": [SITE_TEMPLATES]}]
    return override_settings(TEMPLATES=templates, OTPGATE_BASE_TEMPLATE=base, **extra)


def assert_inside_the_site(html: str, title: str) -> None:
    assert "Acme home" in html and 'id="acme-sign-out"' in html  # the site's navigation
    assert html.count("<main") == 1 and '<main id="acme-main">' in html  # the site's main
    assert '<div class="otpgate">' in html and "otpgate-card" in html  # otpgate's card
    head = html[: html.index("</head>")]
    assert ".otpgate .otpgate-card" in head  # otpgate's styles, in the site's head
    assert '<meta name="robots" content="noindex">' in head
    assert f"<title>{title} · Acme</title>" in head
    assert "Acme Ltd" in html[html.index('<div class="otpgate">') :]  # the footer follows


@pytest.mark.django_db
def test_second_step_manage_and_recovery_render_inside_the_site(client, sms_user, outbox):
    with site():
        login = client.get("/accounts/login/").content.decode()
        assert_inside_the_site(login, "Sign in")
        full_login(client, outbox)
        assert_inside_the_site(client.get("/2fa/").content.decode(), "Two-step verification")
        recovery = client.post("/2fa/recovery/", recovery_form(client)).content.decode()
        assert_inside_the_site(recovery, "Recovery codes")
        assert re.search(r"[A-Z0-9]{4,}-?[A-Z0-9]{4,}", recovery)


@pytest.mark.django_db
def test_the_second_step_renders_inside_the_site(client, sms_user, outbox):
    with site():
        client.post("/accounts/login/", LOGIN)
        html = client.get("/2fa/verify/").content.decode()
    assert_inside_the_site(html, "Two-step verification")
    assert 'name="code"' in html


@pytest.mark.django_db
def test_the_default_is_the_standalone_page(client, sms_user):
    client.post("/accounts/login/", LOGIN)
    html = client.get("/2fa/verify/").content.decode()
    assert '<main class="otpgate" id="main">' in html and "Acme" not in html
    assert html.count("<main") == 1 and ".otpgate .otpgate-card" in html
    assert "<title>Two-step verification</title>" in html


@pytest.mark.django_db
def test_a_base_with_other_block_names_is_adapted(client, sms_user):
    with site("acme/adapted.html"):
        assert check_base_template() == []
        client.post("/accounts/login/", LOGIN)
        html = client.get("/2fa/verify/").content.decode()
    assert "Other site" in html and ".otpgate .otpgate-card" in html.split("</head>")[0]
    assert '<div class="otpgate">' in html


def test_the_check_accepts_the_default_and_a_site_base():
    assert check_base_template() == []
    with site():
        assert check_base_template() == []


def test_the_check_reports_a_missing_template():
    with site("acme/nope.html"):
        [error] = check_base_template()
    assert error.id == "otpgate.E009" and "acme/nope.html" in error.msg
    assert "no such template" in error.msg and "extra_head" in error.hint


def test_the_check_reports_missing_blocks():
    with site("acme/other_names.html"):
        [error] = check_base_template()
    assert error.id == "otpgate.E009"
    assert "extra_head, content" in error.msg and "title" not in error.msg.split("block(s)")[1]


@pytest.mark.django_db
def test_each_notice_shows_once_with_a_layout_showing_messages(client, sms_user, outbox):
    """The site's base template loops over ``messages``: otpgate's notices are its card's
    own (shown once, on otpgate's page); the site's own messages stay the layout's."""
    from django.contrib.messages import constants
    from django.contrib.messages.storage.base import Message
    from django.contrib.messages.storage.cookie import MessageEncoder
    from django.contrib.messages.storage.session import SessionStorage

    with site(MESSAGE_STORAGE="django.contrib.messages.storage.session.SessionStorage"):
        full_login(client, outbox)
        recovery = client.post("/2fa/recovery/", recovery_form(client)).content.decode()
        assert recovery.count("New recovery codes made.") == 1
        assert "New recovery codes made." not in client.get("/2fa/").content.decode()
        session = client.session
        welcome = [Message(constants.INFO, "Welcome back, Alice.")]  # the site's own
        session[SessionStorage.session_key] = MessageEncoder().encode(welcome)
        session.save()
        page = client.get("/2fa/").content.decode()
        assert page.count("Welcome back, Alice.") == 1 and 'class="acme-message"' in page
