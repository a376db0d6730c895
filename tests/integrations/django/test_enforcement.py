"""Enforcement: no password-only session reaches a protected view; mandatory enrollment
without redirect loops."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from .conftest import PASSWORD, full_login, make_user

pytestmark = pytest.mark.django_db

# Views any session may reach, each checked separately below for what it shows.
OPEN = {
    "login",
    "logout",
    "admin:login",
    "admin:logout",
    "otpgate:verify",
    "otpgate:api_status",
    "otpgate:api_start",
    "otpgate:api_resend",
    "otpgate:api_check",
    "otpgate:webauthn_js",  # the first-party passkey script: public, like a static file
    "otpgate:recovery_js",  # the recovery codes page's Copy/Print script: public too
}
SAMPLES = {"int": "1", "str": "x", "slug": "x", "uuid": str(uuid.uuid4()), "path": "x/y"}


def _sample_route(route: str) -> str:
    def one(match: re.Match[str]) -> str:
        converter = match.group(1) or "str"
        return SAMPLES.get(converter, "1")

    return re.sub(r"<(?:(\w+):)?\w+>", one, route)


def _sample_regex(regex: str) -> str:
    def group(match: re.Match[str]) -> str:
        body = match.group(1)
        if re.fullmatch(r"[\w|]+", body):
            return body.split("|")[0]
        return "1"

    text = re.sub(r"\(\?P<\w+>((?:[^()]|\([^()]*\))*)\)", group, regex)
    return text.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")


def all_urls() -> list[tuple[str, str]]:
    """(view name, concrete path) for every pattern of the URLconf, nested ones included."""
    found: list[tuple[str, str]] = []

    def walk(patterns: list, prefix: str, namespace: str) -> None:
        for entry in patterns:
            pattern = entry.pattern
            raw = getattr(pattern, "_route", None)
            part = _sample_route(raw) if raw is not None else _sample_regex(pattern.regex.pattern)
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, prefix + part, inner)
            elif isinstance(entry, URLPattern):
                found.append((f"{namespace}{entry.name or ''}", "/" + prefix + part))

    walk(get_resolver().url_patterns, "", "")
    return found


def test_the_enumeration_covers_the_urlconf():
    urls = all_urls()
    names = {name for name, _ in urls}
    assert {"home", "secret", "otpgate:manage", "admin:index", "transfer"} <= names
    assert len(urls) > 40  # the admin's model pages are in
    resolvable = [path for _, path in urls if _resolves(path)]
    assert len(resolvable) >= len(urls) - 2


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Exception:
        return False
    return True


def _password_only_session(client, sms_user):
    """Logged in by the password alone (like the admin's own login view would)."""
    client.force_login(sms_user)
    return client


@pytest.mark.parametrize("method", ["get", "post"])
def test_password_only_session_reaches_no_protected_view(client, sms_user, method):
    _password_only_session(client, sms_user)
    leaks = []
    for name, path in all_urls():
        if name in OPEN:
            continue
        _password_only_session(client, sms_user)  # again: cancelling the step signs out
        response = getattr(client, method)(path, follow=False)
        location = response.get("Location", "")
        stopped = response.status_code in {400, 401, 403, 404, 405} or (
            response.status_code in {302, 303}
            and (location.startswith("/2fa/verify/") or location.startswith("/accounts/login/"))
        )
        if not stopped or b"PROTECTED" in response.content:
            leaks.append((name, path, response.status_code, location))
    assert leaks == []


def test_open_views_show_nothing_protected(client, sms_user):
    _password_only_session(client, sms_user)
    for name, path in all_urls():
        if name in OPEN:
            # Logging out by GET is deprecated (Django 4.2) and gone (5.0+): POST it.
            fetch = client.post if name.endswith("logout") else client.get
            response = fetch(path)
            assert b"PROTECTED" not in response.content
            assert response.status_code != 500
    _password_only_session(client, sms_user)  # logout was among them
    status = client.get("/2fa/api/status").json()
    assert status["state"] == "unverified"
    assert status["verified"] is False
    assert "totp" not in status


def test_password_only_session_passes_the_second_step_then_gets_through(client, sms_user, outbox):
    _password_only_session(client, sms_user)
    response = client.get("/secret/")
    assert response["Location"] == "/2fa/verify/?next=%2Fsecret%2F"
    page = client.get(response["Location"])
    assert page.status_code == 200
    client.post("/2fa/verify/", {"action": "send"})
    key = client.session.session_key
    code = outbox.last_code_for("+33612345678")
    response = client.post("/2fa/verify/?next=/secret/", {"action": "verify", "code": code})
    assert response["Location"] == "/secret/"
    assert client.session.session_key != key
    assert client.get("/secret/").content == b"PROTECTED step-up"


def test_admin_login_view_does_not_bypass_the_second_step(client, sms_user):
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/2fa/verify/")


def test_api_clients_get_problem_json_instead_of_redirects(client, sms_user):
    _password_only_session(client, sms_user)
    response = client.get("/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "otp_required"


def _loop_free(client, start: str, limit: int = 5) -> tuple[str, int]:
    """Follow redirects by hand; fail on a loop."""
    seen = []
    path = start
    for _ in range(limit):
        response = client.get(path)
        if response.status_code not in {301, 302, 303}:
            return path, response.status_code
        seen.append(path)
        path = response["Location"]
        assert path not in seen, f"redirect loop: {[*seen, path]}"
    raise AssertionError(f"too many redirects: {seen}")


@override_settings(OTPGATE_REQUIRED="all")
def test_mandatory_enrollment_without_loops(client, user, outbox):
    client.post("/accounts/login/?next=/secret/", {"username": "nofactor", "password": PASSWORD})
    final, status = _loop_free(client, "/secret/")
    assert final.startswith("/2fa/?next=")
    assert status == 200
    page = client.get(final).content.decode()
    assert "must use two-step verification" in page
    # The otpgate pages, logout and static files stay reachable.
    for path in ("/2fa/phone/add/", "/2fa/app/", "/2fa/recovery/", "/static/x.css"):
        assert not client.get(path).get("Location", "").startswith("/2fa/?next")
    for path in ("/2fa/verify/", "/2fa/api/status", "/admin/", "/transfer/"):
        _, status = _loop_free(client, path)
        assert status == 200
    # Enrolling a phone passes the second factor: the original page opens.
    client.post("/2fa/phone/add/?next=/secret/", {"phone": "+33612345678", "next": "/secret/"})
    code = outbox.last_code_for("+33612345678")
    response = client.post("/2fa/phone/verify/", {"code": code, "next": "/secret/"})
    assert response["Location"] == "/secret/"
    assert client.get("/secret/").content == b"PROTECTED step-up"


@override_settings(OTPGATE_REQUIRED="staff")
def test_required_for_staff_only(client, db):
    make_user("staffer", is_staff=True)
    make_user("member")
    client.post("/accounts/login/", {"username": "member", "password": PASSWORD})
    assert client.get("/").content == b"PROTECTED home"
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "staffer", "password": PASSWORD})
    assert client.get("/")["Location"].startswith("/2fa/?next=")


@override_settings(OTPGATE_REQUIRED="groups:finance, ops")
def test_required_for_groups(client, db):
    from django.contrib.auth.models import Group

    finance = Group.objects.create(name="finance")
    make_user("accountant").groups.add(finance)
    make_user("member")
    client.post("/accounts/login/", {"username": "member", "password": PASSWORD})
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "accountant", "password": PASSWORD})
    assert client.get("/")["Location"].startswith("/2fa/?next=")


def test_verified_session_goes_everywhere(client, sms_user, outbox):
    full_login(client, outbox)
    assert client.get("/").content == b"PROTECTED home"
    assert client.get("/admin/").status_code == 200


def test_logout_is_reachable_and_clears_the_state(client, sms_user, outbox):
    full_login(client, outbox)
    client.post("/accounts/logout/")
    assert "otpgate" not in client.session
    assert client.get("/")["Location"].startswith("/accounts/login/")
