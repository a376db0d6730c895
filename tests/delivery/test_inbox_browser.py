"""The inbox page in headless Chromium: the code is there, copies with one click, and new
messages appear (and are announced) without reloading."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from otpgate import Settings, Verifier
from tests.conftest import KEY

FR = "+33612345678"
DE = "+4915112345678"
SCREENSHOT = "/tmp/otpgate-inbox.png"


def test_the_inbox_page_shows_the_code_and_follows_new_messages(browser, page, inbox, server):
    settings = Settings(secret_keys=(KEY,), brand="Acme", webotp_domain="acme.example")
    gate = Verifier(settings, sender=inbox)
    gate.start_sms("alice", FR, purpose="enroll")
    gate.start_sms("bob", DE, purpose="enroll", summary="EUR 250.00 to ACME GmbH")
    gate.start_sms("alice", FR, purpose="enroll")
    code = inbox.last_code_for(FR)
    browser.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url[:-1])

    page.goto(server.url)
    assert page.title() == "otpgate SMS inbox"
    assert page.locator("html").get_attribute("lang") == "en"
    headings = page.get_by_role("heading", level=2).all_inner_texts()
    assert headings == ["+33 6 12 34 56 78 (Messages: 2)", "+49 1511 2345678 (Messages: 1)"]
    newest = page.locator("section").first.locator("article").first
    assert newest.locator("strong.code").inner_text() == code

    copy = page.get_by_role("button", name=f"Copy code {code} sent to +33 6 12 34 56 78")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == code
    expect(page.locator("#status")).to_have_text(f"Code {code} copied.")
    page.get_by_label("Phone number").fill("+33612345678")  # the filter is labelled

    gate.start_sms("bob", DE, purpose="enroll")  # while the page is open
    fresh = inbox.last_code_for(DE)
    page.locator("strong.code", has_text=fresh).wait_for(timeout=8000)
    expect(page.locator("#status")).to_have_text(
        re.compile(rf"New message to \+49 1511 2345678: code {fresh}\.")
    )
    assert page.get_by_role("heading", level=2).first.inner_text().startswith("+49 1511")
    page.screenshot(path=SCREENSHOT, full_page=True)

    page.goto(server.url + "?lang=zh")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", level=1).inner_text() == "otpgate 短信收件箱"
    assert page.get_by_role("button", name=f"复制发送到 +49 1511 2345678 的验证码 {fresh}").count()
    page.screenshot(path="/tmp/otpgate-inbox-zh.png", full_page=True)
