"""axe-core over the Flask pages the demo's tour (tests/demo/test_a11y.py) does not reach:
the step-up page of a stale session, and the replay page that asks for a file again; at 375
and 1280 px, no violation of impact serious or critical."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests import browser as browsers
from tests.a11y import WIDTHS, describe, serious
from tests.integrations.flask.conftest import PASSWORD, PHONE

browser = browsers.browser  # one chromium for this module
page = browsers.page

POST_WITH_FILE = """([action, token]) => {
  const form = document.createElement("form");
  form.method = "post"; form.action = action; form.enctype = "multipart/form-data";
  const csrf = document.createElement("input");
  csrf.type = "hidden"; csrf.name = "csrf_token"; csrf.value = token;
  const text = document.createElement("input");
  text.type = "hidden"; text.name = "text"; text.value = "hi";
  const file = document.createElement("input");
  file.type = "file"; file.name = "attachment";
  const chosen = new DataTransfer(); chosen.items.add(new File(["secret"], "a.txt"));
  file.files = chosen.files;
  form.append(csrf, text, file); document.body.append(form);
  HTMLFormElement.prototype.submit.call(form);
}"""


@pytest.fixture
def served(harness: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, harness.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def audit(page: Any) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        found = serious(page)
        assert not found, f"{page.url} at {width} px:\n{describe(found)}"


def second_step(page: Any, harness: Any) -> None:
    page.get_by_role("button", name="Send code").click()
    page.get_by_label("Code from the text message").fill(harness.last_code(PHONE))
    page.get_by_role("button", name="Verify").click()


def test_step_up_and_replay_pages_have_no_serious_violation(page, harness, served):
    base = served
    page.request.post(base + "/login", form={"username": "alice", "password": PASSWORD})
    page.goto(base + "/otp/verify")
    second_step(page, harness)
    page.goto(base + "/otp/")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    harness.clock.advance(301)  # the step-up is stale now
    with page.expect_navigation():
        page.evaluate(POST_WITH_FILE, ["/note", token])
    page.wait_for_url(re.compile(r"/otp/verify\?next="))
    assert page.get_by_role("heading", name="Confirm it's you").is_visible()
    audit(page)
    second_step(page, harness)
    page.wait_for_url(re.compile(r"/otp/replay"))
    assert page.locator("#otpgate-replay input[type=file]").count() == 1
    audit(page)


POST_FORM = """([action, fields]) => {
  const form = document.createElement("form");
  form.method = "post"; form.action = action;
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement("input");
    input.type = "hidden"; input.name = name; input.value = value;
    form.append(input);
  }
  document.body.append(form);
  HTMLFormElement.prototype.submit.call(form);
}"""


def test_a_confirmation_whose_sms_budget_is_spent_has_no_serious_violation(page, harness, served):
    """The confirmation page once the SMS budget is spent: the wait in minutes and the
    authenticator app offered instead, in English and in Arabic (right to left)."""
    from tests.integrations.flask.test_login import enroll_totp

    base = served
    page.request.post(base + "/login", form={"username": "alice", "password": PASSWORD})
    page.goto(base + "/otp/verify")
    second_step(page, harness)
    enroll_totp(harness, "alice")
    page.goto(base + "/otp/")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    fields = {"amount": "10.00", "payee": "Bob", "csrf_token": token, "otpgate_factor": "sms"}
    for _ in range(6):  # the sign-in's SMS counts too: at most 5 per 15 minutes
        with page.expect_navigation():
            page.evaluate(POST_FORM, ["/transfer", fields])
        if "Try again in" in page.content():
            break
    assert page.locator("#otpgate-error").inner_text().endswith("minutes.")
    assert page.get_by_role("button", name="Use your authenticator app").is_visible()
    audit(page)
    page.route(  # the browser's own Accept-Language (en-US) replaced by Arabic
        "**/*",
        lambda route: route.continue_(headers={**route.request.headers, "accept-language": "ar"}),
    )
    with page.expect_navigation():
        page.evaluate(POST_FORM, ["/transfer", fields])
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert "حاول مرة أخرى بعد" in page.locator("#otpgate-error").inner_text()
    audit(page)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_method_not_allowed_page_has_no_serious_violation(page, harness, served, language):
    """A link to a transaction view (a GET: a preview, a crawler) gets the 405 page."""
    base = served
    page.request.post(base + "/login", form={"username": "alice", "password": PASSWORD})
    page.goto(base + "/otp/verify")
    second_step(page, harness)
    page.route(  # the browser's own Accept-Language (en-US) replaced by the one tested
        "**/*",
        lambda route: route.continue_(
            headers={**route.request.headers, "accept-language": language}
        ),
    )
    answer = page.goto(base + "/any-method-transfer")
    assert answer is not None and answer.status == 405
    assert page.locator("html").get_attribute("lang") == language
    assert harness.outbox.messages[-1].code  # (the second step's SMS: nothing sent since)
    audit(page)
