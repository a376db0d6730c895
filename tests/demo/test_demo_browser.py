"""``otpgate demo`` end to end, as the README's first command runs it: the three stories in
Debian's chromium and over HTTP, codes read from the dev inbox (its page and its JSON API),
then Ctrl-C stops every process. The demo starts once for the module; screenshots land in
/tmp (otpgate-demo-*.png)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.demo.running import RunningDemo, alive

pytest.importorskip("playwright")
for module in ("django", "flask", "flask_login", "fastapi", "uvicorn"):
    pytest.importorskip(module, reason='otpgate demo needs pip install "otpgate[demo]"')

SHOTS = Path("/tmp")


def shot(demo: RunningDemo, name: str) -> str:
    store = "redis" if "Redis (" in demo.text else "memory"
    return str(SHOTS / f"otpgate-demo-{name}{'-redis' if store == 'redis' else ''}.png")


DJANGO_PHONE = "+33612345678"
FLASK_PHONE = "+447911123456"
ALICE = {"Authorization": "Bearer alice-token"}
PAYMENT = {"amount": "250.00", "currency": "EUR", "payee": "DE89370400440532013000"}


@pytest.fixture(scope="module", params=["memory", "redis"])
def demo(request, tmp_path_factory) -> Iterator[RunningDemo]:
    """The demo as the README starts it, then with ``--redis`` on a real server."""
    work = tmp_path_factory.mktemp(f"demo-{request.param}")
    server = None
    args: list[str] = []
    if request.param == "redis":
        from tests.redis.servers import redis_server

        server = redis_server(work / "redis").start()
        args = ["--redis", server.url]
    running = RunningDemo(*args, cwd=work)
    try:
        yield running.wait_ready()
    finally:
        running.kill()
        if server is not None:
            with server.client() as client:
                keys = client.keys("*")
            server.stop()
            prefixes = {key.decode().split(":")[1] for key in keys}
            assert prefixes == {"django", "flask", "fastapi"}, keys  # each site used Redis


def test_the_banner_names_every_site_user_and_the_inbox(demo):
    assert set(demo.sites) == {"django", "flask", "fastapi"}
    for needle in ("alice", "otpgate-demo", "demo-password", "alice-token", "/docs"):
        assert needle in demo.text
    assert "+33 ••• ••• 5678" in demo.text and DJANGO_PHONE not in demo.text
    assert len(demo.children()) == 3  # one process per site; the inbox runs in the launcher
    assert httpx.get(demo.inbox + "/api/numbers").status_code == 200


def test_django_login_with_the_code_from_the_inbox_page(demo, browser, page):
    base = demo.sites["django"]
    page.goto(base + "/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("otpgate-demo")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/2fa/verify/.*"))
    assert "+33 ••• ••• 5678" in page.content()

    inbox = browser.new_page()  # the inbox, as a person reads it: the newest code first
    inbox.goto(demo.inbox + "/?to=" + DJANGO_PHONE.replace("+", "%2B"))
    code = inbox.locator("section").first.locator("strong.code").first.inner_text()
    assert code == demo.latest_sms(DJANGO_PHONE)["code"]  # the page and the JSON API agree
    inbox.screenshot(path=shot(demo, "inbox"), full_page=True)
    inbox.close()

    page.get_by_label("Verification code").fill(code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/")
    assert page.get_by_role("heading", name="Welcome, alice").is_visible()
    page.screenshot(path=shot(demo, "django"), full_page=True)
    demo.wait_for("✉ SMS to +33 ••• ••• 5678")  # echoed in the terminal, number masked


def test_flask_transfer_protected_by_step_up(demo, page):
    base = demo.sites["flask"]
    page.goto(base + "/transfer")
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/otp/verify")
    page.get_by_role("button", name="Send code").click()
    page.wait_for_url("**/otp/verify?method=sms")
    page.get_by_label("Code from the text message").fill(demo.latest_sms(FLASK_PHONE)["code"])
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/transfer")  # back where the sign-in started

    before = demo.latest_sms(FLASK_PHONE)["id"]
    page.get_by_label("Payee").fill("Bob Martin")
    page.get_by_label("Amount (EUR)").fill("250")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Confirm the transaction").wait_for()
    sms = demo.latest_sms(FLASK_PHONE, newer_than=before)
    assert (
        "confirms payment of 250.00 EUR to Bob Martin" in sms["text"]
    )  # the code names what it confirms
    page.screenshot(path=shot(demo, "flask-confirm"), full_page=True)
    page.get_by_label("Code from the text message").fill(sms["code"])
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(base + "/")
    assert page.get_by_role("status").inner_text() == "Sent 250.00 EUR to Bob Martin."
    page.screenshot(path=shot(demo, "flask-done"), full_page=True)


def test_fastapi_payment_confirmed_over_http(demo):
    with httpx.Client(base_url=demo.sites["fastapi"], timeout=10) as client:
        payment = client.post("/payments", json=PAYMENT, headers=ALICE)
        assert payment.status_code == 201, payment.text
        execute = f"/payments/{payment.json()['id']}/execute"
        before = demo.latest_sms(DJANGO_PHONE)["id"]  # alice's API phone is the same number
        started = client.post(execute, headers=ALICE)
        assert started.status_code == 401
        assert started.json()["code"] == "confirmation_required"
        sms = demo.latest_sms(DJANGO_PHONE, newer_than=before)
        assert "250.00 EUR" in sms["text"]
        headers = {**ALICE, "OTP-Challenge": started.headers["OTP-Challenge"]}
        done = client.post(execute, headers={**headers, "OTP-Code": sms["code"]})
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "executed"
        again = client.post(execute, headers={**headers, "OTP-Code": sms["code"]})
        assert again.status_code in {400, 409, 410}  # executes once


def test_fastapi_openapi_page_loads(demo, page):
    pytest.importorskip("fastapi_offline", reason='Swagger UI on this machine: "otpgate[demo]"')
    outside: list[str] = []  # nothing may come from a CDN: the demo works offline

    def refuse(route: Any) -> None:
        outside.append(route.request.url)
        route.abort()

    page.route(re.compile(r"^https?://(?!127\.0\.0\.1).*"), refuse)
    response = page.goto(demo.sites["fastapi"] + "/docs")
    assert response is not None and response.status == 200
    assert page.title() == "Payments (otpgate demo) - Swagger UI"
    page.get_by_text("/payments/{payment_id}/execute").first.wait_for()  # Swagger UI rendered
    page.get_by_role("button", name="Authorize").first.wait_for()
    page.screenshot(path=shot(demo, "fastapi-docs"), full_page=True)
    assert outside == []
    schema = page.request.get(demo.sites["fastapi"] + "/openapi.json")
    assert "/payments/{payment_id}/execute" in schema.json()["paths"]


def test_ctrl_c_stops_every_process_and_frees_every_port(demo):
    children = demo.children()
    assert len(children) == 3
    ports = [int(url.rsplit(":", 1)[1]) for url in [*demo.sites.values(), demo.inbox]]
    assert demo.interrupt() == 0
    assert "otpgate demo: stopped." in demo.text
    assert not [pid for pid in children if alive(pid)]
    for port in ports:
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, port
