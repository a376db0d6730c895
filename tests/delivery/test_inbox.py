"""The development inbox: SQLite storage shared by instances and threads, the JSON API, the
page's language, the ``otpgate inbox`` command, and its refusal to listen beyond loopback."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.request
from html import escape

import pytest

from otpgate import AsyncVerifier, Settings, Verifier
from otpgate.core.i18n import SHIPPED
from otpgate.core.mail import EmailMessage
from otpgate.inbox import InboxSender, InboxServer, RemoteBindRefused, extract_code, is_loopback
from otpgate.inbox.page import texts
from tests.conftest import KEY
from tests.delivery.servers import free_port

FR = "+33612345678"
DE = "+4915112345678"


def get(server, path, headers=None):
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("GET", path, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


def test_messages_survive_a_new_instance_newest_first(inbox, tmp_path):
    first = inbox.send(FR, "Acme: your verification code is 111111.", reference="c1")
    inbox.send(DE, "Acme: your verification code is 222222.")
    inbox.send(FR, "Acme: your verification code is 333333.\n\n@acme.example #333333")
    again = InboxSender(tmp_path / "inbox.sqlite3")
    assert [m.code for m in again.messages()] == ["333333", "222222", "111111"]
    assert [m.code for m in again.messages(FR)] == ["333333", "111111"]
    assert again.last_code_for(FR) == "333333"
    assert again.last_code_for("+441234567890") is None
    oldest = again.messages(FR)[-1]
    assert (oldest.message_id, oldest.reference, oldest.to) == (first, "c1", FR)
    assert again.numbers()[0][:2] == (FR, 2)
    assert again.clear(DE) == 1 and [m.to for m in again.messages()] == [FR, FR]


def test_the_webotp_line_names_the_code():
    assert extract_code("Acme: code 123456 confirms EUR 9999999.\n\n@acme.example #123456") == (
        "123456"
    )
    assert extract_code("转账 88888888 元，验证码 654321") == "88888888"  # no WebOTP line
    assert extract_code("no code here") is None


def test_threads_can_share_one_inbox(inbox):
    def send(worker):
        for index in range(20):
            inbox.send(FR, f"Acme: your verification code is {worker:02d}{index:04d}.")

    workers = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    codes = [m.code for m in inbox.messages(limit=500)]
    assert len(codes) == len(set(codes)) == 120


def test_verifiers_send_to_it(inbox):
    settings = Settings(secret_keys=(KEY,), brand="Acme", webotp_domain="acme.example")
    gate = Verifier(settings, sender=inbox)
    challenge = gate.start_sms("alice", FR, purpose="enroll")
    gate.check(challenge.id, inbox.last_code_for(FR))
    assert inbox.latest(FR).reference == f"{challenge.id}~1"


async def test_the_async_verifier_sends_to_it_too(inbox):
    gate = AsyncVerifier(Settings(secret_keys=(KEY,)), sender=inbox)
    challenge = await gate.start_sms("bob", DE, purpose="enroll")
    await gate.check(challenge.id, inbox.last_code_for(DE))


def test_the_json_api(server, inbox):
    inbox.send(FR, "Acme: your verification code is 111111.")
    inbox.send(DE, "Acme: your verification code is 222222.")
    inbox.send(FR, "Acme: your verification code is 333333.")
    # a raw "+" in a query is a space: both spellings work
    for to in ("+33612345678", "%2B33612345678", "33612345678"):
        status, headers, body = get(server, f"/api/messages?to={to}")
        assert status == 200 and headers["Content-Type"].startswith("application/json")
        assert [m["code"] for m in json.loads(body)] == ["333333", "111111"]
    status, _, body = get(server, "/api/messages/latest?to=+33612345678")
    latest = json.loads(body)
    assert (status, latest["code"], latest["to"]) == (200, "333333", FR)
    assert latest["text"] == "Acme: your verification code is 333333."
    assert set(latest) >= {"id", "sent_at", "sent_at_iso", "reference", "message_id"}
    assert get(server, "/api/messages/latest?to=+441234567890")[0] == 404
    assert get(server, "/api/messages/latest")[0] == 404
    first_id = json.loads(get(server, "/api/messages")[2])[-1]["id"]
    after = json.loads(get(server, f"/api/messages?after={first_id}")[2])
    assert [m["code"] for m in after] == ["333333", "222222"]
    numbers = json.loads(get(server, "/api/numbers")[2])
    assert [(n["to"], n["count"]) for n in numbers] == [(FR, 2), (DE, 1)]
    assert get(server, "/api/messages?limit=x")[0] == 400
    assert get(server, "/nowhere")[0] == 404
    host, port = server.server_address[:2]
    request = urllib.request.Request(f"http://{host}:{port}/api/messages?to={DE}", method="DELETE")
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert json.loads(answer.read()) == {"deleted": 1}


def test_the_page_speaks_the_readers_language(server, inbox):
    inbox.send(FR, "Acme: your verification code is 111111.")
    status, headers, body = get(server, "/", {"Accept-Language": "en-US,en;q=0.9"})
    page = body.decode()
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<html lang="en" dir="ltr">' in page and "<h1>otpgate SMS inbox</h1>" in page
    assert "+33 6 12 34 56 78" in page and ">111111</strong>" in page
    assert 'aria-live="polite"' in page and '<label for="to">' in page
    assert headers["Content-Security-Policy"] == "default-src 'self'; frame-ancestors 'none'"
    assert headers["X-Frame-Options"] == "DENY"  # never shown in another page's frame
    chinese = get(server, "/", {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})[2].decode()
    assert '<html lang="zh-Hans" dir="ltr">' in chinese and "短信收件箱" in chinese
    assert "复制" in chinese
    assert (
        '<html lang="en" dir="ltr">'
        in get(server, "/?lang=en", {"Accept-Language": "zh"})[2].decode()
    )
    assert get(server, "/inbox.js")[1]["Content-Type"].startswith("text/javascript")
    assert get(server, "/inbox.css")[0] == 200


@pytest.mark.parametrize("language", SHIPPED[1:])
def test_the_page_speaks_every_shipped_language(server, inbox, language):
    """Every text of the page comes from the otpgate catalogues, in each shipped language."""
    inbox.send(FR, "Acme: your verification code is 111111.")
    page = get(server, f"/?lang={language}")[2].decode()
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in page
    english = texts("en")
    translated = texts(language)
    for key in ("title", "filter", "show", "all", "copy", "count", "languages"):
        assert translated[key] != english[key], (language, key)
    assert f"<h1>{escape(translated['title'])}</h1>" in page
    assert escape(translated["count"].replace("{n}", "1")) in page
    assert "otpgate SMS inbox" not in page and "Show all numbers" not in page
    for other in SHIPPED:  # a link to each language, in that language
        assert f'href="/?lang={other}" lang="{other}"' in page
    assert get(server, "/", {"Accept-Language": f"{language},en;q=0.5"})[2].decode() == page


def test_requests_for_another_host_name_are_refused(server):
    # a web page that rebinds its own name to 127.0.0.1 cannot read the inbox
    assert get(server, "/api/messages", {"Host": "attacker.example"})[0] == 403
    assert get(server, "/api/messages", {"Host": "localhost:8025"})[0] == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.10", False),
        ("host.invalid", False),
    ],
)
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


def test_a_non_loopback_address_is_refused_unless_allowed(inbox):
    with pytest.raises(RemoteBindRefused, match="--allow-remote"):
        InboxServer(inbox, "0.0.0.0", 0)
    with InboxServer(inbox, "0.0.0.0", 0, allow_remote=True) as anywhere:
        assert anywhere.server_address[1] > 0


def run_cli(*args, **options):
    command = [sys.executable, "-m", "otpgate", "inbox", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, **options)


def test_the_command_refuses_a_public_address(tmp_path):
    result = run_cli("--host", "0.0.0.0", "--db", str(tmp_path / "x.sqlite3"))
    assert result.returncode == 2
    assert "refusing to serve the inbox on 0.0.0.0" in result.stderr
    assert not (tmp_path / "x.sqlite3").exists()
    assert "--allow-remote" in run_cli("--help").stdout


def test_the_command_serves_the_inbox(tmp_path):
    db = tmp_path / "inbox.sqlite3"
    InboxSender(db).send(FR, "Acme: your verification code is 424242.")
    port = free_port()
    command = [sys.executable, "-m", "otpgate", "inbox", "--port", str(port), "--db", str(db)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                url = f"http://127.0.0.1:{port}/api/messages/latest?to={FR}"
                with urllib.request.urlopen(url, timeout=2) as answer:
                    assert json.loads(answer.read())["code"] == "424242"
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in out.decode()


def test_calls_are_kept_beside_the_texts(server, inbox, sms_settings):
    from otpgate import Verifier

    gate = Verifier(sms_settings, sender=inbox)  # it can call: "voice" is offered
    gate.credentials.add_phone("alice", FR)
    assert [o.name for o in gate.offer("alice", "action")] == ["sms", "voice"]
    gate.start("alice", "sms", purpose="action")
    called = gate.start("alice", "voice", purpose="action", locale="zh-Hans")
    call, text = inbox.messages(FR)
    assert (call.kind, text.kind) == ("call", "sms") and call.reference == f"{called.id}~1"
    assert "验证码" in call.text and call.code != text.code
    assert gate.verify("alice", "voice", call.code, purpose="action", challenge_id=called.id)
    status, _, body = get(server, "/api/messages/latest?to=+33612345678")
    latest = json.loads(body)
    assert (status, latest["kind"], latest["code"]) == (200, "call", call.code)
    page = get(server, "/")[2].decode()
    assert page.count('data-kind="call"') == 1 and page.count('data-kind="sms"') == 1


def test_emails_are_kept_beside_texts(server, inbox):
    """An email sender too: a verifier's email codes land in the same inbox, shown beside the
    texts (marked as emails) and served by the same API."""
    gate = Verifier(Settings(secret_keys=(KEY,), brand="Acme"), sender=inbox, email_sender=inbox)
    challenge = gate.start_sms("alice", FR, purpose="enroll")
    gate.check(challenge.id, inbox.last_code_for(FR))
    setup = gate.setup("alice", "email", destination="Alice@Example.org")
    code = inbox.last_code_for("Alice@example.org")
    assert code and code in inbox.latest("Alice@example.org").text
    gate.verify("alice", "email", code, purpose="enroll", challenge_id=setup.challenge.id)
    assert gate.factors("alice").masked_emails == ("A••••@example.org",)
    latest = json.loads(get(server, "/api/messages/latest?to=Alice@example.org")[2])
    assert latest["code"] == code and latest["text"].startswith("Subject: ")
    assert latest["kind"] == "email" and 'data-kind="email"' in get(server, "/")[2].decode()
    page = get(server, "/", {"Accept-Language": "en"})[2].decode()
    assert 'Alice@example.org</bdi> <span class="count">(email · Messages: 1)</span>' in page
    assert '+33 6 12 34 56 78</bdi> <span class="count">(Messages: 1)</span>' in page


def test_the_demo_console_names_emails_and_masks_them_as_emails(inbox, capsys):
    from otpgate.demo.launcher import echo_new_messages

    inbox.send(FR, "Acme: your verification code is 424242.")
    inbox.send_email(
        EmailMessage("alice@example.com", "Code 515151", "Code: 515151", "<p>515151</p>")
    )
    assert echo_new_messages(inbox, 0) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("  ✉ SMS to +33 ••• ••• 5678: Acme:")
    assert lines[1].startswith("  ✉ Email to a••••@example.com: ")
