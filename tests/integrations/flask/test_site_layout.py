"""OTPGATE_BASE_TEMPLATE (issue 15): otpgate's pages render inside the site's own base template
(its navigation and sign-out stay) with their scoped card styles; the same blocks as Django's
(title, extra_head, content)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import FileSystemLoader

from tests.conftest import OTHER_PHONE
from tests.integrations.flask.conftest import (
    CSRF,
    make_app,
    password_login,
    recovery_form,
    sms_login,
)

SITE_TEMPLATES = str(Path(__file__).parent / "site_templates")


def site_app(clock, outbox, **config):
    """The tests' app with the site's template folder and base template."""
    harness = make_app(clock, outbox, OTPGATE_BASE_TEMPLATE="acme/base.html", **config)
    harness.app.jinja_loader = FileSystemLoader(SITE_TEMPLATES)
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", "+33612345678")
    return harness


def assert_inside_the_site(html: str, title: str) -> None:
    assert "Acme home" in html and 'id="acme-sign-out"' in html  # the site's navigation
    assert html.count("<main") == 1 and '<main id="acme-main">' in html  # the site's main
    assert '<div class="otpgate">' in html  # otpgate's card
    head = html[: html.index("</head>")]
    assert ".otpgate .tabs" in head  # otpgate's styles, in the site's head
    assert '<meta name="robots" content="noindex">' in head
    assert f"<title>{title} · Acme</title>" in head
    assert "Acme Ltd" in html[html.index('<div class="otpgate">') :]  # the footer follows


@pytest.fixture
def site(clock, outbox):
    return site_app(clock, outbox)


def test_second_step_manage_and_recovery_render_inside_the_site(site):
    client = site.client()
    password_login(client)
    assert_inside_the_site(client.get("/otp/verify").text, "Two-step verification")
    sms_login(site, client)
    assert_inside_the_site(client.get("/otp/").text, "Two-step verification")
    response = client.post("/otp/recovery", data=recovery_form(client), follow_redirects=True)
    assert_inside_the_site(response.text, "Your recovery codes")


def test_the_default_is_the_standalone_page(harness):
    client = harness.client()
    password_login(client)
    html = client.get("/otp/verify").text
    assert '<main class="otpgate" id="main">' in html and "Acme" not in html
    assert html.count("<main") == 1 and ".otpgate .tabs" in html.split("</head>")[0]


def test_each_notice_shows_once_with_a_layout_showing_flashes(site):
    """The site's layout loops over get_flashed_messages(): otpgate's notices are its card's
    own (shown once, on otpgate's page); the site's own flashes stay the layout's."""
    client = site.client()
    sms_login(site, client)
    client.post("/otp/phone", data={"csrf_token": CSRF, "phone": OTHER_PHONE})
    code = site.last_code(OTHER_PHONE)
    done = client.post("/otp/phone/confirm", data={"csrf_token": CSRF, "code": code})
    assert done.status_code == 303
    page = client.get("/otp/").text
    assert page.count("Phone number verified.") == 1
    assert "Phone number verified." not in client.get("/otp/").text
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "Welcome back, Alice.")]
    page = client.get("/otp/").text
    assert page.count("Welcome back, Alice.") == 1 and 'class="acme-message"' in page
