"""Issue 17: what the middleware costs an ordinary page, counted in queries (no timing).

A signed-in user who has passed the second factor, or who has none and need not set one up,
reaches a page with no query beyond Django's own (the session and the user); the memory that
makes this possible (``guard.py``) is voided when the user's factors change.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from otpgate.core.errors import ConfigurationError
from otpgate.core.web import SecondFactorState
from otpgate.integrations.django import conf, guard
from otpgate.integrations.django.models import VerifiedPhone

from .conftest import PHONE, full_login, last_code, sign_in

pytestmark = pytest.mark.django_db


def _tables(queries: list[dict[str, Any]]) -> list[str]:
    """The first table each query names (``django_session``, ``auth_user``, ``otpgate_...``)."""
    found = []
    for query in queries:
        sql = query["sql"]
        names = [t for t in ("django_session", "auth_user", "otpgate_") if f'"{t}' in sql]
        found.append(names[0] if names else sql[:60])
    return found


def _page(client: Client, path: str = "/") -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    return response.status_code, _tables(captured.captured_queries)


def test_a_user_without_a_factor_costs_no_query_beyond_session_and_user(client, user):
    client.force_login(user)
    assert _page(client)[0] == 200  # the first page asks the database, once
    for _ in range(3):
        assert _page(client) == (200, ["django_session", "auth_user"])


def test_a_verified_session_costs_no_query_beyond_session_and_user(client, sms_user, outbox):
    full_login(client, outbox)
    assert _page(client) == (200, ["django_session", "auth_user"])


def test_a_factor_added_through_otpgate_stops_every_other_session_at_once(client, user, gate):
    client.force_login(user)
    assert _page(client)[0] == 200
    gate.recovery.generate(str(user.pk))  # e.g. from the user's other browser
    status, tables = _page(client)
    assert status == 302
    assert "otpgate_" in tables


@override_settings(OTPGATE_FACTOR_RECHECK=30)
def test_a_factor_added_elsewhere_is_seen_at_the_next_recheck(client, user, clock):
    client.force_login(user)
    assert _page(client)[0] == 200
    VerifiedPhone.objects.create(user=user, e164=PHONE)  # another process, no event here
    clock.advance(29)
    assert _page(client) == (200, ["django_session", "auth_user"])
    clock.advance(1)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/2fa/verify/")
    clock.advance(100)  # a user with a factor is asked on every request, never remembered
    assert client.get("/").status_code == 302


@override_settings(OTPGATE_FACTOR_RECHECK=0)
def test_recheck_zero_asks_on_every_request(client, user):
    client.force_login(user)
    for _ in range(2):
        status, tables = _page(client)
        assert status == 200 and "otpgate_" in tables


def test_the_memory_lets_through_only_the_user_it_was_written_for(client, user, sms_user, clock):
    client.force_login(sms_user)
    session = client.session
    session[guard.SESSION_KEY] = {"subject": str(user.pk), "at": clock()}
    session.save()
    assert client.get("/").status_code == 302


@pytest.mark.django_db(transaction=True)
async def test_async_pages_use_the_same_memory_and_see_changes(async_client, user, gate):
    from asgiref.sync import sync_to_async

    await sync_to_async(async_client.force_login)(user)
    assert (await async_client.get("/async/")).status_code == 200
    # A raw write (no event): the memory still answers, so the database is not asked...
    await VerifiedPhone.objects.acreate(user=user, e164=PHONE)
    assert (await async_client.get("/async/")).status_code == 200
    # ...until otpgate itself changes the user's factors: then at once.
    await sync_to_async(gate.recovery.generate)(str(user.pk))
    response = await async_client.get("/async/")
    assert response.status_code == 302 and response["Location"].startswith("/2fa/verify/")


@pytest.mark.parametrize("value", [-1, "60", True, 86400])
def test_a_bad_recheck_interval_is_refused(value):
    with (
        override_settings(OTPGATE_FACTOR_RECHECK=value),
        pytest.raises(ConfigurationError, match="OTPGATE_FACTOR_RECHECK"),
    ):
        conf.options()


def _otpgate_queries(queries: list[dict[str, Any]]) -> list[str]:
    return [q["sql"].split(" WHERE ")[0] for q in queries if '"otpgate_' in q["sql"]]


def test_a_right_code_reads_the_factors_once(client, sms_user, outbox):
    sign_in(client, "alice")  # the second step opened on SMS and sent a code
    data = {"action": "verify", "method": "sms", "code": last_code(outbox)}
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/2fa/verify/", data)
    assert response.status_code == 302 and response["Location"] == "/"
    read = _otpgate_queries(captured.captured_queries)
    assert len(read) == 1 and "verifiedphone" in read[0], read  # the numbers, nothing else
    assert client.get("/").content == b"PROTECTED home"


def test_a_wrong_code_counts_one_attempt_and_shows_the_page(client, sms_user, outbox, gate):
    sign_in(client, "alice")
    wrong = "000000" if last_code(outbox) != "000000" else "111111"
    response = client.post("/2fa/verify/", {"action": "verify", "method": "sms", "code": wrong})
    assert response.status_code == 400
    assert "That code is not correct." in response.content.decode()
    state = SecondFactorState.load(client.session)
    assert gate.get(state.challenge_id, subject=str(sms_user.pk)).attempts_left == 4


def test_a_factor_the_user_lacks_falls_back_to_the_offered_one(client, sms_user, outbox):
    sign_in(client, "alice")
    data = {"action": "verify", "method": "totp", "code": last_code(outbox)}
    response = client.post("/2fa/verify/", data)  # no app: the page's choice, SMS, checks it
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_exempt_urls_follow_the_settings_though_worked_out_once(client, sms_user):
    client.force_login(sms_user)  # password only: stopped everywhere but the exempt URLs
    assert client.get("/public/").status_code == 302
    with override_settings(OTPGATE_EXEMPT_URLS=["/public/"]):
        assert client.get("/public/").status_code == 200
        assert client.get("/").status_code == 302
    with override_settings(OTPGATE_EXEMPT_URLS=["home"]):
        assert client.get("/public/").status_code == 302
        assert client.get("/").status_code == 200
    assert client.get("/public/").status_code == 302


def test_a_right_code_through_the_api_reads_the_factors_once(client, sms_user, outbox):
    client.force_login(sms_user)  # password only: the API's second step
    assert client.post("/2fa/api/start", {"method": "sms"}, "application/json").status_code == 200
    body = {"method": "sms", "code": last_code(outbox)}
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/2fa/api/check", body, "application/json")
    assert response.status_code == 200 and response.json()["verified"] is True
    read = _otpgate_queries(captured.captured_queries)
    assert len(read) == 1 and "verifiedphone" in read[0], read  # the numbers, nothing else


@override_settings(OTPGATE_REQUIRED="groups:finance", OTPGATE_FACTOR_RECHECK=30)
def test_joining_a_required_group_is_seen_at_the_next_recheck(client, user, clock):
    from django.contrib.auth.models import Group

    client.force_login(user)
    assert client.get("/").status_code == 200
    user.groups.add(Group.objects.create(name="finance"))  # e.g. by an admin
    clock.advance(29)
    assert client.get("/").status_code == 200
    clock.advance(1)
    assert client.get("/")["Location"].startswith("/2fa/?next=")  # set one up now


def test_the_django_keys_are_not_policy_settings_for_the_core():
    from otpgate.core.settings import INTEGRATION_KEYS as KNOWN

    assert conf.INTEGRATION_KEYS <= KNOWN  # ``otpgate check`` must not call them unknown


def test_a_new_sign_in_in_the_same_session_is_asked_anew(client, user):
    client.force_login(user)
    assert _page(client)[0] == 200  # remembered: no factor
    VerifiedPhone.objects.create(user=user, e164=PHONE)  # another process, no event here
    client.force_login(user)  # the same user signs in again, e.g. through the admin's login
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/2fa/verify/")


def test_each_path_is_resolved_once_for_the_exemption(client, sms_user, monkeypatch):
    """The middleware's own URL resolution (is this path exempt?) is done once per path,
    not on every request; a settings change works it out again; the memory is bounded."""
    from otpgate.integrations.django import middleware

    calls: list[str] = []
    real = middleware.resolve

    def counting(path: str, urlconf: Any = None) -> Any:
        calls.append(path)
        return real(path, urlconf)

    monkeypatch.setattr(middleware, "resolve", counting)
    middleware.forget_exempt()
    client.force_login(sms_user)  # password only: stopped everywhere but the exempt URLs
    for _ in range(3):
        assert client.get("/public/").status_code == 302
    assert calls.count("/public/") == 1
    with override_settings(OTPGATE_EXEMPT_URLS=["/public/"]):
        assert client.get("/public/").status_code == 200  # no stale answer
    monkeypatch.setattr(middleware, "PATHS_KEPT", 3)
    for number in range(10):
        client.get(f"/nowhere/{number}/")
    assert len(middleware._path_cache) <= 3


def _statements(queries: list[dict[str, Any]]) -> list[str]:
    """Each statement as "VERB table" (transaction control left out)."""
    found = []
    for query in queries:
        sql = query["sql"]
        verb = sql.split(" ", 1)[0].upper()
        if verb in {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK"}:
            continue
        tables = [t for t in ("django_session", "auth_user", "otpgate_verifiedphone") if t in sql]
        found.append(f"{verb} {tables[0] if tables else sql[:40]}")
    return found


def test_a_right_code_costs_its_reads_and_djangos_own_sign_in_nothing_more(
    client, sms_user, outbox
):
    """The whole database work of the common verify POST: the pending session, the user's
    numbers and the user, then exactly what ``auth.login`` does (a new session id, the old
    row deleted, ``last_login``) and one save of the session at the end."""
    sign_in(client, "alice")
    old_key = client.session.session_key
    data = {"action": "verify", "method": "sms", "code": last_code(outbox)}
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/2fa/verify/", data)
    assert response.status_code == 302 and response["Location"] == "/"
    assert _statements(captured.captured_queries) == [
        "SELECT django_session",  # the pending session
        "SELECT otpgate_verifiedphone",  # the user's numbers (the code's factor is enrolled)
        "SELECT auth_user",  # the user waiting for the second step
        "SELECT django_session",  # auth.login: a new session id, unused
        "INSERT django_session",
        "SELECT django_session",  # ...and the old one deleted (Django's db backend: get, delete)
        "DELETE django_session",
        "UPDATE auth_user",  # last_login
        "UPDATE django_session",  # the session saved once, by SessionMiddleware
    ]
    from django.contrib.sessions.backends.db import SessionStore

    assert client.session.session_key != old_key  # rotated on sign-in
    assert not SessionStore().exists(old_key)
