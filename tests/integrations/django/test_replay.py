"""Step-up on a POST keeps the form: after the second factor it is posted again, once, with
this session's CSRF token (never the old one), and only for the same user, session and path."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from otpgate.core.submissions import open_submission, state_key
from tests.replay_form import Form

from . import urls
from .conftest import OTHER_PHONE, PHONE, full_login, last_code, make_user

pytestmark = pytest.mark.django_db

FORM = {"text": "hello", "tags": ["a", "b"], "submit": "Save"}
KEPT = [("text", "hello"), ("tags", "a"), ("tags", "b"), ("submit", "Save")]


@pytest.fixture(autouse=True)
def notes() -> Any:
    urls.NOTES.clear()
    yield urls.NOTES
    urls.NOTES.clear()


def csrf(client: Client) -> str:
    page = client.get("/2fa/phone/add/").content.decode()  # a page with a form
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def stale_post(client: Client, outbox: Any, clock: Any, username: str = "alice", **extra: Any):
    """A signed-in session, five minutes later, posting the note form (a valid CSRF token)."""
    full_login(client, outbox, username)
    client.handler.enforce_csrf_checks = True  # from now on, as a browser's requests
    clock.advance(301)
    old = csrf(client)
    response = client.post("/note/?tab=1", {**FORM, "csrfmiddlewaretoken": old}, **extra)
    return response, old


def step_up(client: Client, outbox: Any, location: str, phone: str = PHONE) -> Any:
    """The second step reached from ``location``; its redirect once the right code is in."""
    page = client.get(location).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    target = re.search(r'name="next" value="([^"]+)"', page).group(1).replace("&amp;", "&")
    base = {"csrfmiddlewaretoken": token, "method": "sms", "next": target}
    client.post("/2fa/verify/", {**base, "action": "send"})
    return client.post(
        "/2fa/verify/", {**base, "action": "verify", "code": last_code(outbox, phone)}
    )


def test_post_step_up_replays_the_form_once_with_a_fresh_csrf_token(
    sms_user, outbox, clock, gate, notes
):
    client = Client()
    response, old = stale_post(client, outbox, clock)
    assert response.status_code == 303
    assert response["Location"].startswith("/2fa/verify/?next=")
    assert notes == []
    # Kept sealed, for this user, without the CSRF token.
    token = client.session["otpgate.replay"]
    sealed = gate.store.get_state(state_key(gate.keyring, str(sms_user.pk)))
    assert old not in sealed and "hello" not in sealed
    kept = open_submission(gate.keyring, str(sms_user.pk), token, "/note/?tab=1", sealed, clock())
    assert kept is not None and list(kept.fields) == KEPT
    assert "csrfmiddlewaretoken" not in dict(kept.fields)

    done = step_up(client, outbox, response["Location"])
    assert done.status_code == 302
    replay_url = done["Location"]
    assert unquote(replay_url) == "/2fa/replay/?next=/note/?tab=1"
    page = client.get(replay_url)
    assert page.status_code == 200
    assert page["X-Frame-Options"] == "DENY" and "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert old not in html
    form = Form(html)
    assert form.action == "/note/?tab=1" and form.auto
    assert [f for f in form.fields() if f[0] != "csrfmiddlewaretoken"] == KEPT
    # What the browser does (script or "Continue"): the view runs once, as first submitted,
    # accepted by the CSRF check with this session's token.
    answer = client.post(form.action, dict_of(form.fields()))
    assert answer.content == b"PROTECTED noted hello"
    assert notes == [KEPT]
    # Single use: the replay page again sends the user to the page by GET.
    again = client.get(replay_url)
    assert again.status_code == 302 and again["Location"] == "/note/?tab=1"
    assert notes == [KEPT]


def dict_of(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data


def test_another_session_of_the_same_user_replays_nothing(sms_user, outbox, clock, notes):
    client = Client()
    response, _ = stale_post(client, outbox, clock)
    other = Client()
    full_login(other, outbox)
    stolen = other.get("/2fa/replay/?next=/note/%3Ftab%3D1")
    assert stolen.status_code == 302 and stolen["Location"] == "/note/?tab=1"
    # The owner's replay is still there.
    done = step_up(client, outbox, response["Location"])
    assert Form(client.get(done["Location"]).content.decode()).fields()[1:] == KEPT


def test_another_users_token_replays_nothing(sms_user, outbox, clock, gate, notes):
    alice = Client()
    stale_post(alice, outbox, clock)
    bob_user = make_user("bob")
    gate.credentials.add_phone(str(bob_user.pk), OTHER_PHONE)
    bob = Client()
    full_login(bob, outbox, "bob")
    session = bob.session
    session["otpgate.replay"] = alice.session["otpgate.replay"]  # alice's token, planted
    session.save()
    response = bob.get("/2fa/replay/?next=/note/%3Ftab%3D1")
    assert response.status_code == 302 and response["Location"] == "/note/?tab=1"


def test_expired_or_other_path_replays_nothing(sms_user, outbox, clock, notes):
    client = Client()
    response, _ = stale_post(client, outbox, clock)
    done = step_up(client, outbox, response["Location"])
    other_path = client.get("/2fa/replay/?next=/secret/")
    assert other_path.status_code == 302 and other_path["Location"] == "/secret/"
    assert client.get(done["Location"])["Location"] == "/note/?tab=1"  # the token was used

    response, _ = stale_post(client, outbox, clock)
    clock.advance(601)  # longer than the login step timeout
    done = step_up(client, outbox, response["Location"])
    assert client.get(done["Location"])["Location"] == "/note/?tab=1"
    assert notes == []


def test_too_large_form_is_not_kept_and_the_user_comes_back_by_get(sms_user, outbox, clock):
    client = Client()
    full_login(client, outbox)
    clock.advance(301)
    response = client.post("/note/", {"text": "x" * 70_000})
    assert response.status_code == 303
    assert response["Location"] == "/2fa/verify/?next=%2Fnote%2F"
    assert "otpgate.replay" not in client.session


def test_files_are_not_kept_the_page_asks_for_them(sms_user, outbox, clock):
    client = Client()
    full_login(client, outbox)
    clock.advance(301)
    upload = SimpleUploadedFile("a.txt", b"secret file")
    response = client.post("/note/", {"text": "hi", "attachment": upload})
    done = step_up(client, outbox, response["Location"])
    html = client.get(done["Location"]).content.decode()
    form = Form(html)
    assert not form.auto  # waits for the user to attach the file again
    assert ("file", "attachment", None) in form.inputs
    assert "attach them again" in html and "secret file" not in html


def test_api_post_gets_the_problem_and_nothing_is_kept(sms_user, outbox, clock):
    client = Client()
    full_login(client, outbox)
    clock.advance(301)
    response = client.post("/note/", {"text": "hi"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 401 and response.json()["code"] == "fresh_otp_required"
    assert "otpgate.replay" not in client.session


def test_a_body_that_is_not_a_form_is_not_kept(sms_user, outbox, clock):
    client = Client()
    full_login(client, outbox)
    clock.advance(301)
    response = client.post("/note/", "<note/>", content_type="application/xml")
    assert response.status_code == 303
    assert response["Location"] == "/2fa/verify/?next=%2Fnote%2F"  # back by GET
    assert "otpgate.replay" not in client.session


@pytest.mark.django_db(transaction=True)
async def test_async_view_keeps_the_form_too(async_client, sms_user, outbox, clock):
    from asgiref.sync import sync_to_async

    await sync_to_async(async_client.force_login)(sms_user)
    await async_client.post("/2fa/verify/", {"action": "send", "method": "sms"})
    data = {"action": "verify", "method": "sms", "code": last_code(outbox)}
    await async_client.post("/2fa/verify/", data)
    clock.advance(301)
    response = await async_client.post("/secret-async/?x=1", {"text": "hi"})
    assert response.status_code == 303
    target = unquote(response["Location"].split("next=", 1)[1])
    assert unquote(target) == "/2fa/replay/?next=/secret-async/?x=1"
    await async_client.post("/2fa/verify/", {"action": "send", "method": "sms"})
    data = {"action": "verify", "method": "sms", "code": last_code(outbox), "next": target}
    done = await async_client.post("/2fa/verify/", data)
    page = await async_client.get(done["Location"])
    form = Form(page.content.decode())
    assert form.action == "/secret-async/?x=1" and ("text", "hi") in form.fields()
