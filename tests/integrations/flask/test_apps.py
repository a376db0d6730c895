"""Several apps in one process, app factory, hooks without Flask-Login, Flask-WTF, CLI,
languages and accessibility of every page."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask, session

from otpgate import MemoryCredentials, OutboxSender, SmsTemporarilyUnavailable
from otpgate.core.i18n import SHIPPED, gettext, translations
from otpgate.integrations.flask import (
    CallbackUsers,
    NoUserToSignIn,
    OtpGate,
    gate_state,
    otp_required,
)
from tests.conftest import KEY, OTHER_PHONE, PHONE
from tests.integrations.flask.conftest import CSRF, make_app, password_login, recovery_form

TEMPLATES = Path(__file__).resolve().parents[3] / "src/otpgate/integrations/flask/templates"


def test_two_apps_in_one_process_keep_their_own_settings(clock):
    one = make_app(clock, OutboxSender())
    two = make_app(
        clock, OutboxSender(), OTPGATE_CODE_DIGITS=8, OTPGATE_URL_PREFIX="/2fa", OTPGATE_BRAND="Two"
    )
    assert one.gate is not two.gate
    for harness in (one, two):
        with harness.app.app_context():
            harness.gate.verifier.credentials.add_phone("alice", PHONE)
    c1, c2 = one.client(), two.client()
    password_login(c1)
    password_login(c2)
    c1.post("/otp/verify/send", data={"csrf_token": CSRF})
    assert c2.post("/2fa/verify/send", data={"csrf_token": CSRF}).status_code == 303
    assert len(one.last_code()) == 6 and len(two.last_code()) == 8
    assert "Two" in two.outbox.messages[-1].text and "Two" not in one.outbox.messages[-1].text
    assert c2.get("/otp/verify").status_code == 404
    assert one.app.extensions["otpgate"] is not two.app.extensions["otpgate"]
    with one.app.app_context():
        assert gate_state().settings.code_digits == 6
    # One app's code does nothing in the other.
    response = c1.post(
        "/otp/verify", data={"csrf_token": CSRF, "method": "sms", "code": two.last_code()[:6]}
    )
    assert response.status_code in {400, 410}


def test_app_factory_with_one_extension_object(clock, tmp_path):
    gate = OtpGate(sender=OutboxSender(), clock=clock)  # defaults only, no app

    def create_app(name: str) -> Flask:
        app = Flask(name)
        app.config.update(
            SECRET_KEY="s",
            OTPGATE_SECRET_KEYS=KEY,
            OTPGATE_DATABASE_URL=f"sqlite:///{tmp_path / name}.sqlite3",
        )
        gate.init_app(app, users=CallbackUsers(lambda: None, lambda s, r: None, lambda: None))
        return app

    first, second = create_app("first"), create_app("second")
    assert not hasattr(gate, "app")
    with first.app_context():
        gate.verifier.credentials.add_phone("u1", PHONE)  # SQLite by default
        assert gate.verifier.factors("u1").masked_phones
    with second.app_context():
        assert not gate.verifier.factors("u1").any
    assert (tmp_path / "first.sqlite3").exists()


def plain_app(clock, outbox):
    """An app without Flask-Login: the documented hooks over its own session key."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", OTPGATE_SECRET_KEYS=KEY)
    gate = OtpGate(
        app,
        users=CallbackUsers(
            current_subject=lambda: session.get("uid"),
            log_in=lambda subject, remember: session.update(uid=subject),
            log_out=lambda: session.pop("uid", None),
        ),
        credentials=MemoryCredentials(),
        sender=outbox,
        clock=clock,
    )

    @app.post("/login")
    def login():
        return gate.begin_login("alice")

    @app.get("/secret")
    @otp_required
    def secret():
        return "secret"

    @app.get("/legacy")
    def legacy():
        session["uid"] = "alice"
        return "ok"

    with app.app_context():
        gate.verifier.credentials.add_phone("alice", PHONE)
    app.extensions["test_gate"] = gate
    return app


def test_without_flask_login_through_hooks(clock, outbox):
    app = plain_app(clock, outbox)
    client = app.test_client()
    with client.session_transaction() as s:
        s["_otpgate_csrf"] = CSRF
    client.post("/login")
    assert client.get("/secret").status_code == 303
    client.post("/otp/verify/send", data={"csrf_token": CSRF})
    code = outbox.last_code_for(PHONE)
    done = client.post("/otp/verify", data={"csrf_token": CSRF, "method": "sms", "code": code})
    assert done.status_code == 303
    assert client.get("/secret").text == "secret"
    other = app.test_client()
    other.get("/legacy")  # signed in without the second factor
    assert other.get("/secret").status_code == 303
    with other.session_transaction() as s:
        assert "uid" not in s  # the guard signed it out and started the second step


def test_flask_wtf_csrf_protect_is_used_when_set_up(clock, outbox):
    from flask_wtf.csrf import CSRFProtect

    harness = make_app(clock, outbox)
    CSRFProtect(harness.app).exempt(harness.app.view_functions["login"])
    harness.app.config["TESTING"] = True
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    client = harness.app.test_client()
    client.post("/login", data={"username": "alice", "password": "correct horse"})
    page = client.get("/otp/verify")
    assert client.post("/otp/verify/send", data={}).status_code == 400  # Flask-WTF refuses
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.post("/otp/verify/send", data={"csrf_token": token}).status_code == 303
    assert (
        client.post("/otp/verify/send", json={}, headers={"X-CSRFToken": token}).status_code == 429
    )


def test_otpgate_routes_check_csrf_when_flask_wtf_checks_only_where_told(clock, outbox):
    # WTF_CSRF_CHECK_DEFAULT = False: Flask-WTF checks only where the app calls protect().
    from flask_wtf.csrf import CSRFProtect

    harness = make_app(clock, outbox)
    harness.app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    CSRFProtect(harness.app)
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    client = harness.app.test_client()
    client.post("/login", data={"username": "alice", "password": "correct horse"})
    page = client.get("/otp/verify")
    sent = len(outbox.messages)
    forged = client.post("/otp/verify/send", data={})
    assert forged.status_code == 403 and len(outbox.messages) == sent  # no SMS sent
    api = client.post("/otp/verify/send", json={})
    assert api.status_code == 403 and api.json["code"] == "csrf_failed"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.post("/otp/verify/send", data={"csrf_token": token}).status_code == 303
    assert len(outbox.messages) == sent + 1


def test_chinese_pages_by_accept_language(harness):
    client = harness.client()
    password_login(client)
    page = client.get("/otp/verify", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-Hans" dir="ltr">' in page.text
    assert (
        "两步验证" in page.text
        and "我们将向 +33\u00a0•••\u00a0•••\u00a05678 发送验证码。" in page.text
    )
    client.post("/otp/verify/send", data={"csrf_token": CSRF})
    early = client.post(
        "/otp/verify/send", data={"csrf_token": CSRF}, headers={"Accept-Language": "zh"}
    )
    assert "请稍候再重新获取验证码。" in early.text and "请在 30 秒后重试。" in early.text
    client.post("/otp/verify/cancel", data={"csrf_token": CSRF})
    api = client.get("/otp/", headers={"Accept": "application/json", "Accept-Language": "zh"})
    assert api.status_code == 401
    assert api.json["title"] == "请登录后继续。" and api.json["code"] == "login_required"
    password_login(client)
    english = client.get("/otp/verify", headers={"Accept-Language": "tlh, en;q=0.5"})
    assert '<html lang="en" dir="ltr">' in english.text


@pytest.mark.parametrize("language", SHIPPED)
def test_every_shipped_language_is_served_by_accept_language(harness, language):
    client = harness.client()
    password_login(client)
    page = client.get("/otp/verify", headers={"Accept-Language": f"{language};q=0.9, en;q=0.1"})
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in page.text
    title = gettext("Two-step verification", language)
    assert f"<title>{title}" in page.text or f"{title}</h1>" in page.text
    if language != "en":
        assert "Two-step verification" not in page.text
    isolated = "\u2066+33\u00a0•••\u00a0•••\u00a05678\u2069"  # the number keeps its order
    assert (isolated in page.text) == (language == "ar"), language
    sent = client.post(
        "/otp/verify/send", data={"csrf_token": CSRF}, headers={"Accept-Language": language}
    )
    early = client.post(
        "/otp/verify/send", data={"csrf_token": CSRF}, headers={"Accept-Language": language}
    )
    assert sent.status_code == 303 and early.status_code == 429
    assert gettext("Wait a little before requesting another code.", language) in early.text


def test_a_site_can_limit_and_extend_languages(clock, outbox, tmp_path, monkeypatch):
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    from otpgate.core import i18n

    monkeypatch.setattr(i18n, "_SITE_DIRS", [])  # the site's directory, gone after

    catalog = Catalog(locale="nl")
    catalog.add("Two-step verification", "Verificatie in twee stappen")
    (tmp_path / "nl" / "LC_MESSAGES").mkdir(parents=True)
    with open(tmp_path / "nl" / "LC_MESSAGES" / "otpgate.mo", "wb") as handle:
        write_mo(handle, catalog)
    harness = make_app(
        clock, outbox, OTPGATE_LANGUAGES=("en", "nl", "de"), OTPGATE_TRANSLATION_DIRS=[tmp_path]
    )
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    client = harness.client()
    password_login(client)
    dutch = client.get("/otp/verify", headers={"Accept-Language": "nl-BE"}).text
    assert '<html lang="nl" dir="ltr">' in dutch and "Verificatie in twee stappen" in dutch
    assert "Cancel sign-in" in dutch  # what the site's catalogue lacks stays English
    japanese = client.get("/otp/verify", headers={"Accept-Language": "ja, de;q=0.5"}).text
    assert '<html lang="de"' in japanese  # Japanese ships, but this site does not offer it
    i18n.translations.cache_clear()


def test_locale_selector_wins(clock, outbox):
    harness = make_app(clock, outbox)
    gate_state(harness.app).locale_selector = lambda: "zh"
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    client = harness.client()
    password_login(client)
    assert "两步验证" in client.get("/otp/verify").text


def test_every_page_string_is_translated_in_every_shipped_language():
    sources = [p.read_text() for p in TEMPLATES.rglob("*.html")]
    sources += [p.read_text() for p in TEMPLATES.parent.glob("*.py")]
    found = set()
    for text in sources:
        found |= set(re.findall(r'_\("([^"]+)"', text))
        found |= set(re.findall(r"_\('([^']+)'", text))
        found |= set(re.findall(r'translate\("([^"]+)"', text))
    assert len(found) > 40
    for language in SHIPPED[1:]:
        catalogue = translations(language)._catalog  # type: ignore[attr-defined]
        assert sorted(t for t in found if not catalogue.get(t)) == [], language


def every_page(harness):
    """(name, html) of each page a user meets."""
    client = harness.client()
    password_login(client)
    yield "verify-sms", client.get("/otp/verify").text
    client.post("/otp/verify/send", data={"csrf_token": CSRF})
    yield "verify-code", client.get("/otp/verify?method=sms").text
    yield (
        "verify-error",
        client.post("/otp/verify", data={"csrf_token": CSRF, "method": "sms", "code": "12"}).text,
    )
    client.post(
        "/otp/verify", data={"csrf_token": CSRF, "method": "sms", "code": harness.last_code()}
    )
    with client.session_transaction() as s:
        s["_otpgate_csrf"] = CSRF
    yield "manage", client.get("/otp/").text
    yield "phone", client.get("/otp/phone").text
    client.post("/otp/phone", data={"csrf_token": CSRF, "phone": OTHER_PHONE})
    yield "phone-code", client.get("/otp/phone").text
    yield "totp", client.post("/otp/totp", data={"csrf_token": CSRF}).text
    yield "recovery", client.post("/otp/recovery", data=recovery_form(client)).text
    yield "verify-recovery", client.get("/otp/verify?method=recovery").text
    yield (
        "confirm",
        client.post("/transfer", data={"amount": "1.00", "payee": "X", "csrf_token": CSRF}).text,
    )


def test_every_page_is_accessible_html(harness):
    for name, html in every_page(harness):
        assert html.startswith("<!doctype html>") and '<html lang="en" dir="ltr">' in html, name
        assert re.search(r"<title>[^<]+</title>", html), name
        assert "<h1>" in html, name
        for input_tag in re.findall(r"<input[^>]+>", html):
            if 'type="hidden"' in input_tag:
                continue
            input_id = re.search(r'id="([^"]+)"', input_tag).group(1)
            assert f'<label for="{input_id}">' in html, (name, input_id)
            if 'name="code"' in input_tag or 'name="otpgate_code"' in input_tag:
                if "otpgate-recovery" not in input_tag:
                    for attribute in (
                        'autocomplete="one-time-code"',
                        'inputmode="numeric"',
                        'pattern="\\p{Nd}*"',
                    ):
                        assert attribute in input_tag, (name, attribute)
                else:
                    assert 'autocomplete="one-time-code"' in input_tag
        if "<form" in html and "recovery" not in name:
            assert 'aria-live="assertive"' in html, name
        for form in re.findall(r'<form method="post"[^>]*>.*?</form>', html, re.S):
            assert 'name="csrf_token"' in form, name


def test_cli_shows_and_resets_factors(harness):
    removed = []
    with harness.app.app_context():
        harness.gate.verifier.recovery.generate("alice")
        harness.gate.verifier.subscribe(removed.append)
    runner = harness.app.test_cli_runner()
    shown = runner.invoke(args=["otpgate", "show", "alice"])
    assert shown.exit_code == 0, shown.output
    assert "+33 ••• ••• 5678" in shown.output and "10 left" in shown.output
    assert PHONE not in shown.output
    reset = runner.invoke(args=["otpgate", "reset", "alice", "--yes"])
    assert reset.exit_code == 0
    assert [(e.name.value, e.factor, e.masked_phone) for e in removed] == [
        ("factor_removed", "sms", "+33 ••• ••• 5678"),
        ("factor_removed", "recovery", ""),
    ]
    with harness.app.app_context():
        assert not harness.gate.verifier.factors("alice").any
    assert runner.invoke(args=["otpgate", "unlock", "alice"]).exit_code == 0
    declined = runner.invoke(args=["otpgate", "reset", "carol"], input="n\n")
    assert declined.exit_code == 1


def test_templates_can_be_overridden_by_the_app(clock, outbox, tmp_path):
    (tmp_path / "otpgate").mkdir()
    (tmp_path / "otpgate" / "verify.html").write_text(
        "custom verify page for {{ methods|join(',') }}"
    )
    harness = make_app(clock, outbox)
    harness.app.template_folder = str(tmp_path)
    with harness.app.app_context():
        harness.gate.verifier.credentials.add_phone("alice", PHONE)
    client = harness.client()
    password_login(client)
    assert client.get("/otp/verify").text == "custom verify page for sms"


def test_importing_without_flask_names_the_extra():
    probe = (
        "import sys; sys.modules['flask'] = None\n"
        "try:\n    import otpgate.integrations.flask\nexcept ImportError as e:\n    print(e)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert 'pip install "otpgate[flask]"' in result.stdout


def test_missing_secret_key_fails_at_start_up():
    from otpgate import ConfigurationError

    app = Flask(__name__)
    with pytest.raises(ConfigurationError, match="secret_keys"):
        OtpGate(app, credentials=MemoryCredentials())
    app = Flask(__name__)
    app.config.update(OTPGATE_SECRET_KEYS=KEY, OTPGATE_CODE_DIGITS=3)
    with pytest.raises(ConfigurationError, match="code_digits"):
        OtpGate(app, credentials=MemoryCredentials())


def test_cli_lists_and_lifts_pumping_blocks(harness):
    with harness.app.app_context():
        verifier = harness.gate.verifier
        for n in range(20):  # a country never sent to, codes nobody enters
            with contextlib.suppress(SmsTemporarilyUnavailable):
                verifier.start_sms(f"bot{n}", f"+22507000000{n:02d}", purpose="enroll")
            harness.clock.advance(20)
    runner = harness.app.test_cli_runner()
    listed = runner.invoke(args=["otpgate", "pumping"])
    assert listed.exit_code == 0 and "+225 blocked until" in listed.output
    lifted = runner.invoke(args=["otpgate", "lift-pumping", "+225"])
    assert lifted.exit_code == 0 and "Lifted the block of +225" in lifted.output
    assert "No range is blocked." in runner.invoke(args=["otpgate", "pumping"]).output
    again = runner.invoke(args=["otpgate", "lift-pumping", "+225"])
    assert again.exit_code == 1 and "+225 was not blocked" in again.output
    assert runner.invoke(args=["otpgate", "lift-pumping", "x"]).exit_code == 2


@pytest.mark.parametrize("user", [None, ""], ids=["None", "no id"])
def test_begin_login_without_a_user_says_what_to_do(clock, outbox, user):
    """A site whose password check returned None (a wrong password) and passed it on gets a
    typed error (a ValueError still) saying to call begin_login only once the password is
    right; nobody is signed in."""
    app = plain_app(clock, outbox)
    gate = app.extensions["test_gate"]
    with app.test_request_context("/login", method="POST"):
        with pytest.raises(NoUserToSignIn, match="only once the password is right") as caught:
            gate.begin_login(user)
        assert isinstance(caught.value, ValueError)
        assert "uid" not in session
    assert outbox.messages == []
