"""Step-up on a POST keeps the form: after the second factor it is posted again, once, with
this session's CSRF token (never the kept one), and only for the same user, session and path."""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import unquote

from werkzeug.datastructures import MultiDict

from otpgate.core.submissions import open_submission, state_key
from tests.integrations.flask.conftest import CSRF, OTHER_PHONE, PHONE, sms_login
from tests.replay_form import Form

FORM = [("text", "hello"), ("tags", "a"), ("tags", "b"), ("submit", "Save")]
NEW_CSRF = "a-new-csrf-token"


def stale_post(harness: Any, client: Any, user: str = "alice", phone: str = PHONE) -> Any:
    """A signed-in session, five minutes later, posting the note form (a valid CSRF token)."""
    sms_login(harness, client, user, phone)
    harness.clock.advance(301)
    return client.post("/note?tab=1", data=MultiDict([*FORM, ("csrf_token", CSRF)]))


def step_up(harness: Any, client: Any, location: str, phone: str = PHONE) -> Any:
    """The second step reached from ``location``; its redirect once the right code is in."""
    page = client.get(location).text
    target = re.search(r'name="next" value="([^"]+)"', page).group(1).replace("&amp;", "&")
    base = {"csrf_token": CSRF, "method": "sms", "next": target}
    client.post("/otp/verify/send", data=base)
    return client.post("/otp/verify", data={**base, "code": harness.last_code(phone)})


def test_post_step_up_replays_the_form_once_with_a_fresh_csrf_token(harness):
    client = harness.client()
    response = stale_post(harness, client)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/otp/verify?next=")
    assert harness.notes == []
    # Kept sealed, for this user, without the CSRF token.
    with client.session_transaction() as session:
        token = session["_otpgate_replay"]
    verifier = harness.verifier
    sealed = verifier.store.get_state(state_key(verifier.keyring, "alice"))
    assert CSRF not in sealed and "hello" not in sealed
    kept = open_submission(verifier.keyring, "alice", token, "/note?tab=1", sealed, harness.clock())
    assert kept is not None and list(kept.fields) == FORM

    done = step_up(harness, client, response.headers["Location"])
    assert done.status_code == 303
    replay_url = done.headers["Location"]
    assert unquote(replay_url) == "/otp/replay?next=/note?tab=1"
    with client.session_transaction() as session:  # this session's token changes meanwhile
        session["_otpgate_csrf"] = NEW_CSRF
    page = client.get(replay_url)
    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    form = Form(page.text)
    assert form.action == "/note?tab=1" and form.auto
    assert form.fields() == [("csrf_token", NEW_CSRF), *FORM]  # the current token only
    assert CSRF not in page.text
    # What the browser does (script or "Continue"): the view runs once, as first submitted.
    answer = client.post(form.action, data=MultiDict(form.fields()))
    assert answer.text == "noted hello"
    assert harness.notes == [FORM]
    # Single use: the replay page again sends the user to the page by GET.
    again = client.get(replay_url)
    assert again.status_code == 302 and again.headers["Location"] == "/note?tab=1"
    assert harness.notes == [FORM]


def test_another_session_of_the_same_user_replays_nothing(harness):
    client = harness.client()
    response = stale_post(harness, client)
    other = harness.client()
    sms_login(harness, other)
    stolen = other.get("/otp/replay?next=/note%3Ftab%3D1")
    assert stolen.status_code == 302 and stolen.headers["Location"] == "/note?tab=1"
    done = step_up(harness, client, response.headers["Location"])  # the owner's still works
    assert Form(client.get(done.headers["Location"]).text).fields()[1:] == FORM


def test_another_users_token_replays_nothing(harness):
    alice = harness.client()
    stale_post(harness, alice)
    with alice.session_transaction() as session:
        token = session["_otpgate_replay"]
    carol = harness.client()
    sms_login(harness, carol, "carol", OTHER_PHONE)
    with carol.session_transaction() as session:
        session["_otpgate_replay"] = token  # alice's token, planted
    response = carol.get("/otp/replay?next=/note%3Ftab%3D1")
    assert response.status_code == 302 and response.headers["Location"] == "/note?tab=1"
    assert harness.notes == []


def test_expired_or_other_path_replays_nothing(harness):
    client = harness.client()
    response = stale_post(harness, client)
    done = step_up(harness, client, response.headers["Location"])
    other_path = client.get("/otp/replay?next=/settings")
    assert other_path.headers["Location"] == "/settings"
    assert client.get(done.headers["Location"]).headers["Location"] == "/note?tab=1"  # used

    response = stale_post(harness, client)
    harness.clock.advance(601)  # longer than the login step timeout
    done = step_up(harness, client, response.headers["Location"])
    assert client.get(done.headers["Location"]).headers["Location"] == "/note?tab=1"
    assert harness.notes == []


def test_too_large_form_is_not_kept_and_the_user_comes_back_by_get(harness):
    client = harness.client()
    sms_login(harness, client)
    harness.clock.advance(301)
    response = client.post("/note", data={"text": "x" * 70_000, "csrf_token": CSRF})
    assert response.status_code == 303
    assert unquote(response.headers["Location"]) == "/otp/verify?next=/note"
    with client.session_transaction() as session:
        assert "_otpgate_replay" not in session


def test_files_are_not_kept_the_page_asks_for_them(harness):
    client = harness.client()
    sms_login(harness, client)
    harness.clock.advance(301)
    upload = (io.BytesIO(b"secret file"), "a.txt")
    data = {"text": "hi", "attachment": upload, "csrf_token": CSRF}
    response = client.post("/note", data=data, content_type="multipart/form-data")
    done = step_up(harness, client, response.headers["Location"])
    page = client.get(done.headers["Location"]).text
    form = Form(page)
    assert not form.auto  # waits for the user to attach the file again
    assert ("file", "attachment", None) in form.inputs
    assert "attach them again" in page and "secret file" not in page


def test_api_post_gets_the_problem_and_nothing_is_kept(harness):
    client = harness.client()
    sms_login(harness, client)
    harness.clock.advance(301)
    response = client.post("/note", json={"text": "hi"})
    assert response.status_code == 401 and response.json["code"] == "fresh_otp_required"
    with client.session_transaction() as session:
        assert "_otpgate_replay" not in session


def test_a_body_that_is_not_a_form_is_not_kept(harness):
    client = harness.client()
    sms_login(harness, client)
    harness.clock.advance(301)
    response = client.post(
        "/note", data="<note/>", content_type="application/xml", headers={"X-CSRFToken": CSRF}
    )
    assert response.status_code == 303
    assert unquote(response.headers["Location"]) == "/otp/verify?next=/note"  # back by GET
    with client.session_transaction() as session:
        assert "_otpgate_replay" not in session
