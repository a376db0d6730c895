"""The account name authenticator apps show (issue 15): the request's ``account``, else the
gate's ``account_label(subject)`` (sync or async: the site's user's email), else the subject."""

from __future__ import annotations

from urllib.parse import unquote

from .conftest import Harness, bearer

ALICE = bearer("alice")

EMAILS = {"alice": "alice@example.com"}


async def enrolled_uri(harness: Harness, body: dict[str, str]) -> str:
    response = await harness.client.post("/otpgate/totp/enrollment", json=body, headers=ALICE)
    assert response.status_code == 201, response.text
    return unquote(response.json()["uri"])


async def test_without_a_function_the_subject(harness: Harness):
    assert (await enrolled_uri(harness, {})).startswith("otpauth://totp/otpgate:alice?")


async def test_the_gate_function_names_the_account(harness: Harness):
    async def email_of(subject: str) -> str:
        return EMAILS[subject]

    harness.gate.account_label = email_of
    assert (await enrolled_uri(harness, {})).startswith("otpauth://totp/otpgate:alice@example.com?")


async def test_the_request_wins_and_a_sync_function_works(harness: Harness):
    harness.gate.account_label = EMAILS.__getitem__
    uri = await enrolled_uri(harness, {"account": "work"})
    assert uri.startswith("otpauth://totp/otpgate:work?")
