"""Passkeys end to end in Chromium, with a CDP virtual authenticator (CTAP2, internal,
resident keys, user verification): the API served by uvicorn on loopback, a small page of
the app's origin calling it with the shipped ``otpgate-webauthn.js``.

The same app also listens on a second port: a page there is another origin (a phishing
copy of the site, with the same relying party id), whose passkey answers the server
refuses.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import uvicorn
from fastapi import Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from otpgate import MemoryStore, OutboxSender
from otpgate.integrations.fastapi import OtpGate
from tests.browser import browser, page  # noqa: F401

from .conftest import SETTINGS, make_app, token_subject

PAGE = (Path(__file__).parent / "passkey_page.html").read_text(encoding="utf-8")
TRANSFER = {"id": "t-1", "amount": "250.00", "payee": "FR76 3000 6000 0112 3456 7890 189"}


@dataclass
class Site:
    url: str  # the genuine origin
    other_url: str  # the same app on another origin
    gate: OtpGate
    executed: list[dict[str, Any]]


def _socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    genuine, other = _socket(), _socket()
    url = f"http://localhost:{genuine.getsockname()[1]}"
    settings = SETTINGS.replace(webauthn_rp_id="localhost", webauthn_origins=(url,))
    gate = OtpGate(
        settings,
        store=MemoryStore(),
        sender=OutboxSender(),
        database_url=None,
        current_subject=token_subject,
        single_process=True,
    )
    executed: list[dict[str, Any]] = []
    app = make_app(gate, executed)

    @app.get("/passkeys-test", response_class=HTMLResponse)
    async def test_page() -> str:
        return PAGE

    @app.post("/echo", response_class=PlainTextResponse)
    async def echo(request: Request) -> str:
        """What a form posted, as the page's text (a site's own form handler)."""
        return (await request.body()).decode()

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [genuine, other]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Site(url, f"http://localhost:{other.getsockname()[1]}", gate, executed)
    finally:
        server.should_exit = True
        thread.join(15)
        genuine.close()
        other.close()


@pytest.fixture
def authenticator(page: Any) -> Iterator[tuple[Any, str]]:  # noqa: F811
    """A virtual platform authenticator on ``page`` (the CDP session, its id)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    yield cdp, added["authenticatorId"]
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": added["authenticatorId"]})
    cdp.send("WebAuthn.disable")


def open_page(page: Any, url: str) -> None:  # noqa: F811
    page.goto(f"{url}/passkeys-test")
    page.wait_for_function("() => window.OtpgateWebAuthn && OtpgateWebAuthn.supported()")


def test_register_sign_in_step_up_confirm_and_remove(site, page, authenticator):  # noqa: F811
    open_page(page, site.url)
    registered = page.evaluate("register('alice', 'This laptop')")
    assert registered["done"]["status"] == 200, registered
    creation = registered["setup"]["body"]["challenge"]["browser_options"]
    assert creation["authenticatorSelection"]["userVerification"] == "preferred"
    cdp, authenticator_id = authenticator
    [stored] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    assert stored["isResidentCredential"]  # discoverable: room for passwordless sign-in

    signed_in = page.evaluate("pass('alice.2', 'login')")  # a new session's second step
    assert signed_in["passed"]["status"] == 200, signed_in
    assert signed_in["passed"]["body"]["factor"] == "webauthn"
    stepped_up = page.evaluate("pass('alice.3', 'action')")
    assert stepped_up["passed"]["status"] == 200, stepped_up
    secret = page.evaluate("api('GET', '/secret', 'alice.3')")
    assert secret == {"status": 200, "body": {"subject": "alice", "factor": "webauthn"}}

    confirmed = page.evaluate("([details]) => transfer('alice.3', details)", [TRANSFER])
    assert confirmed["asked"]["status"] == 401
    assert confirmed["asked"]["body"]["factor"] == "webauthn"
    assert confirmed["asked"]["body"]["summary"] == "Pay 250.00"
    assert confirmed["done"]["status"] == 200, confirmed
    assert [tx["id"] for tx in site.executed] == ["t-1"]

    listed = page.evaluate("api('GET', '/otpgate/passkeys', 'alice.3')")
    [key] = listed["body"]["passkeys"]
    assert key["name"] == "This laptop"
    assert key["last_used_at"] is not None
    removed = page.evaluate(f"api('DELETE', '/otpgate/passkeys/{key['id']}', 'alice.3')")
    assert removed["status"] == 204
    assert page.evaluate("api('GET', '/otpgate/factors', 'alice.3')")["body"]["passkeys"] == []


def test_without_the_browsers_json_helpers_the_script_converts_itself(
    site,
    page,  # noqa: F811
    authenticator,
):
    open_page(page, site.url)
    assert page.evaluate("typeof PublicKeyCredential.parseRequestOptionsFromJSON") == "function"
    page.evaluate("withoutJsonHelpers()")
    helpers = page.evaluate(
        "[typeof PublicKeyCredential.parseCreationOptionsFromJSON,"
        " typeof PublicKeyCredential.parseRequestOptionsFromJSON,"
        " typeof PublicKeyCredential.prototype.toJSON]"
    )
    assert helpers == ["undefined"] * 3
    assert page.evaluate("register('bob', 'Old browser')")["done"]["status"] == 200
    assert page.evaluate("pass('bob', 'action')")["passed"]["status"] == 200


def test_another_origin_a_replay_and_a_counter_regression_are_refused(
    site,
    page,  # noqa: F811
    authenticator,
):
    open_page(page, site.url)
    assert page.evaluate("register('carol', 'Laptop')")["done"]["status"] == 200
    first = page.evaluate("pass('carol', 'action')")
    assert first["passed"]["status"] == 200

    # the same answer again: its challenge is spent
    replay = "([body]) => api('POST', '/otpgate/verify', 'carol', body)"
    replayed = page.evaluate(replay, [first["body"]])
    assert (replayed["status"], replayed["body"]["code"]) == (410, "expired")

    # a page of another origin (same relying party id): the browser signs, the server refuses
    open_page(page, site.other_url)
    phished = page.evaluate("pass('carol', 'action')")
    assert phished["passed"]["status"] == 400
    assert phished["passed"]["body"]["code"] == "passkey_rejected"

    # a clone of the authenticator, its counter behind the one the server saw last
    open_page(page, site.url)
    cdp, authenticator_id = authenticator
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    assert credential["signCount"] >= 2
    cdp.send(
        "WebAuthn.removeCredential",
        {"authenticatorId": authenticator_id, "credentialId": credential["credentialId"]},
    )
    cdp.send(
        "WebAuthn.addCredential",
        {"authenticatorId": authenticator_id, "credential": {**credential, "signCount": 0}},
    )
    cloned = page.evaluate("pass('carol', 'action')")
    assert cloned["passed"]["status"] == 400
    assert cloned["passed"]["body"]["code"] == "sign_count_regression"


def test_a_form_marked_for_passkeys_posts_the_answer_as_its_code(
    site,
    page,  # noqa: F811
    authenticator,
):
    open_page(page, site.url)
    assert page.evaluate("register('dave', 'Laptop')")["done"]["status"] == 200
    challenge = page.evaluate("armForm('dave', 'action')")
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm with a passkey").click()
    posted = parse_qs(page.locator("body").inner_text())
    credential = json.loads(posted["otp_code"][0])
    body = {
        "factor": "webauthn",
        "credential": credential,
        "purpose": "action",
        "challenge_id": challenge["id"],
    }
    open_page(page, site.url)
    passed = page.evaluate("([body]) => api('POST', '/otpgate/verify', 'dave', body)", [body])
    assert passed["status"] == 200, passed


def test_a_cancelled_ceremony_says_so_and_posts_nothing(
    site,
    page,  # noqa: F811
    authenticator,
):
    open_page(page, site.url)
    assert page.evaluate("register('erin', 'Laptop')")["done"]["status"] == 200
    page.evaluate("armForm('erin', 'action')")
    cdp, authenticator_id = authenticator
    cdp.send(  # the user declines: no presence, no verification
        "WebAuthn.setAutomaticPresenceSimulation",
        {"authenticatorId": authenticator_id, "enabled": False},
    )
    cdp.send(
        "WebAuthn.setUserVerified", {"authenticatorId": authenticator_id, "isUserVerified": False}
    )
    page.evaluate(
        "() => { const o = JSON.parse(document.getElementById('confirm').dataset.otpgateOptions);"
        " o.timeout = 1000; document.getElementById('confirm').dataset.otpgateOptions ="
        " JSON.stringify(o); }"
    )
    page.get_by_role("button", name="Confirm with a passkey").click()
    page.get_by_role("alert").wait_for(state="visible")
    assert page.url.endswith("/passkeys-test")
