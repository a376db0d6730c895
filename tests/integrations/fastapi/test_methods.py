"""HTTP methods and bodies on FastAPI: a transaction is never opened by a safe request;
otpgate's routes answer a method they do not take as problem details (405, ``Allow``) while
the app's own routes keep FastAPI's answer; a route whose body is all optional takes none."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from otpgate.core.confirmations import AsyncConfirmations

from .conftest import PROBLEM, Harness, assert_problem, bearer

ALICE = bearer("alice")


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE"])
async def test_a_safe_request_opens_no_transaction(harness: Harness, method: str):
    await harness.add_phone("alice")
    answer = await harness.client.request(method, "/orders/lookup?order=7", headers=ALICE)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST, PUT, PATCH, DELETE"
    assert answer.headers["content-type"] == PROBLEM
    if method != "HEAD":
        assert answer.json()["code"] == "method_not_allowed"
    assert harness.outbox.messages == [] and harness.executed == []
    tx = AsyncConfirmations(harness.gate.verifier)
    assert (await tx.state("alice", f"{method} /orders/lookup", {"order": "7"})).state == "unknown"


async def test_a_post_to_the_same_route_opens_it(harness: Harness):
    await harness.add_phone("alice")
    answer = await harness.client.post("/orders/lookup?order=7", headers=ALICE)
    assert_problem(answer, 401, "confirmation_required")
    assert len(harness.outbox.messages) == 1


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/otpgate/totp/enrollment", "POST"),
        ("GET", "/otpgate/challenges", "POST"),
        ("PATCH", "/otpgate/factors", "GET, HEAD"),
        ("OPTIONS", "/otpgate/totp", "DELETE"),
        ("POST", "/otpgate/factors/preferred", "PUT"),
    ],
)
async def test_otpgate_routes_answer_405_as_problem_details(
    harness: Harness, method: str, path: str, allow: str
):
    answer = await harness.client.request(method, path, headers=ALICE)
    body = assert_problem(answer, 405, "method_not_allowed")
    assert answer.headers["allow"] == allow
    assert answer.headers["cache-control"] == "no-store"
    assert body["title"] == "This request method is not allowed here."
    french = await harness.client.request(method, path, headers={**ALICE, "Accept-Language": "fr"})
    assert french.json()["title"] == "Cette méthode de requête n'est pas autorisée ici."


async def test_a_path_with_several_routes_allows_all_their_methods(harness: Harness):
    routes = [route for route in harness.gate.router.routes if hasattr(route, "methods")]
    paths = {route.path for route in routes}
    assert len(paths) > 10  # (the walk below covers each of otpgate's paths)
    for path in sorted(paths):
        concrete = path.replace("{challenge_id}", "x").replace("{credential_id}", "x")
        concrete = concrete.replace("{device_id}", "x").replace("{factor}", "sms")
        answer = await harness.client.request("TRACE", concrete, headers=ALICE)
        assert answer.status_code == 405, path
        assert answer.headers["content-type"] == PROBLEM, path
        allowed = set(answer.headers["allow"].split(", "))
        same = {method for route in routes if route.path == path for method in route.methods}
        assert same <= allowed, path


async def test_head_where_get_is_answers_the_gets_headers(harness: Harness):
    await harness.add_phone("alice")
    for path in ("/otpgate/factors", "/otpgate/factors/offer?purpose=login", "/otpgate/devices"):
        get = await harness.client.get(path, headers=ALICE)
        head = await harness.client.head(path, headers=ALICE)
        assert head.status_code == get.status_code, path  # (devices: 401, step-up first)
        assert head.content == b"", path
        assert head.headers["content-length"] == str(len(get.content)), path
        assert head.headers["cache-control"] == "no-store", path
    assert harness.outbox.messages == []


async def test_the_apps_own_routes_keep_fastapis_405(harness: Harness):
    answer = await harness.client.put("/transfers", headers=ALICE)
    assert answer.status_code == 405
    assert answer.json() == {"detail": "Method Not Allowed"}
    assert isinstance(harness.app, FastAPI)


async def test_totp_enrollment_without_a_body(harness: Harness):
    answer = await harness.client.post("/otpgate/totp/enrollment", headers=ALICE)
    assert answer.status_code == 201, answer.text
    assert answer.json()["secret"]


async def test_a_challenge_without_a_body_goes_to_the_verified_phone(harness: Harness):
    await harness.add_phone("alice")
    answer = await harness.client.post("/otpgate/challenges", headers=ALICE)
    assert answer.status_code == 201, answer.text
    assert answer.json()["purpose"] == "action" and len(harness.outbox.messages) == 1


async def test_a_preference_put_without_a_body_clears_it(harness: Harness):
    await harness.add_phone("alice")
    await harness.pass_sms("alice")
    answer = await harness.client.put("/otpgate/factors/preferred", headers=ALICE)
    assert answer.status_code == 200, answer.text
    assert answer.json()["factor"] == "sms"


async def test_a_required_body_is_still_required(harness: Harness):
    answer = await harness.client.post("/otpgate/factors/start", headers=ALICE)
    assert_problem(answer, 400, "malformed_input")
