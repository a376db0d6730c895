"""In Debian's chromium: a form posted to a ``@fresh_otp`` view of a stale session is posted
again, by the replay page's script, once the second step passed; the view runs once."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.browser import browser  # noqa: F401  (one browser for this module)
from tests.integrations.flask.conftest import PASSWORD, PHONE
from tests.replay_form import post_form

FORM = [("text", "hello"), ("tags", "a"), ("tags", "b"), ("submit", "Save")]


@pytest.fixture
def served(harness: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, harness.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def second_step(page: Any, harness: Any) -> None:
    page.get_by_role("button", name="Send code").click()
    page.get_by_label("Code from the text message").fill(harness.last_code(PHONE))
    page.get_by_role("button", name="Verify").click()


def test_stale_post_is_posted_again_after_step_up(page, harness, served):
    base = served
    page.request.post(base + "/login", form={"username": "alice", "password": PASSWORD})
    page.goto(base + "/otp/verify")
    second_step(page, harness)
    page.goto(base + "/otp/")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    harness.clock.advance(301)  # the step-up is stale now
    page.goto(base + "/")
    post_form(page, "/note?tab=1", [*FORM, ("csrf_token", token)])
    page.wait_for_url(re.compile(r"/otp/verify\?next="))
    assert harness.notes == []
    second_step(page, harness)
    page.wait_for_url(base + "/note?tab=1")  # the replay page's script posted the form
    assert page.locator("body").inner_text() == "noted hello"
    assert harness.notes == [FORM]
