"""A form kept across a step-up (core): sealed, per subject, single use, no CSRF token."""

from __future__ import annotations

from typing import Any

import pytest

from otpgate import MemoryStore, Settings, Verifier
from otpgate.core.submissions import (
    MAX_FIELDS,
    AsyncSubmissions,
    Kept,
    Submission,
    Submissions,
    state_key,
)
from tests.conftest import KEY, Sync

FIELDS = (
    ("csrfmiddlewaretoken", "old-django-token"),
    ("amount", "12.50"),
    ("csrf_token", "old-flask-token"),
    ("tag", "a"),
    ("tag", "b"),
)
FORM = Submission("POST", "/pay?from=cart", FIELDS, file_fields=("receipt",))


@pytest.fixture
def kept(make_gate: Any) -> Any:
    gate = make_gate()
    verifier = gate._target
    cls = Submissions if make_gate.flavour == "sync" else AsyncSubmissions
    return Sync(cls(verifier), gate._loop), gate


def test_kept_sealed_without_csrf_tokens_and_taken_once(kept):
    submissions, gate = kept
    keeping = submissions.keep("alice", FORM)
    assert keeping.outcome is Kept.KEPT and keeping.token
    sealed = gate.store.get_state(state_key(gate.keyring, "alice"))
    assert "12.50" not in sealed and "old-django-token" not in sealed
    taken = submissions.take("alice", keeping.token, "/pay?from=cart")
    assert taken == Submission(
        "POST",
        "/pay?from=cart",
        (("amount", "12.50"), ("tag", "a"), ("tag", "b")),
        ("receipt",),
    )
    assert submissions.take("alice", keeping.token, "/pay?from=cart") is None  # used


def test_another_subject_token_or_path_takes_nothing(kept):
    submissions, _ = kept
    token = submissions.keep("alice", FORM).token
    assert submissions.take("bob", token, "/pay?from=cart") is None
    assert submissions.take("alice", token + "x", "/pay?from=cart") is None
    assert submissions.take("alice", token, "/pay") is None
    assert submissions.take("alice", "", "/pay?from=cart") is None
    # None of those used it up.
    assert submissions.take("alice", token, "/pay?from=cart") is not None


def test_a_newer_submission_replaces_the_older(kept):
    submissions, _ = kept
    first = submissions.keep("alice", FORM).token
    second = submissions.keep("alice", Submission("POST", "/other", (("x", "1"),))).token
    assert submissions.take("alice", first, "/pay?from=cart") is None
    assert submissions.take("alice", second, "/other").fields == (("x", "1"),)


def test_too_large_or_not_a_form_is_not_kept(kept):
    submissions, gate = kept
    big = Submission("POST", "/pay", (("text", "x" * 70_000),))
    assert submissions.keep("alice", big).outcome is Kept.TOO_LARGE
    many = Submission("POST", "/pay", tuple((f"f{i}", "") for i in range(MAX_FIELDS + 1)))
    assert submissions.keep("alice", many).outcome is Kept.TOO_LARGE
    assert submissions.keep("alice", Submission("DELETE", "/pay", ())).outcome is Kept.NOT_A_FORM
    xml = Submission("POST", "/pay", (), content_type="application/xml")
    assert submissions.keep("alice", xml).outcome is Kept.NOT_A_FORM
    assert gate.store.get_state(state_key(gate.keyring, "alice")) is None
    upload = Submission("POST", "/pay", (), content_type="multipart/form-data; boundary=x")
    assert submissions.keep("alice", upload).outcome is Kept.KEPT


def test_kept_for_the_login_step_timeout(clock):
    verifier = Verifier(Settings(secret_keys=(KEY,)), store=MemoryStore(clock=clock), clock=clock)
    submissions = Submissions(verifier)
    assert submissions.ttl == verifier.settings.login_step_timeout == 600
    token = submissions.keep("alice", FORM).token
    clock.advance(599)
    assert verifier.store.get_state(state_key(verifier.keyring, "alice"))
    clock.advance(2)
    assert submissions.take("alice", token, "/pay?from=cart") is None


def test_the_verifiers_clock_decides_not_the_stores(kept, clock):
    submissions, _ = kept
    token = submissions.keep("alice", FORM).token
    clock.advance(600)  # a Redis store (its own clock) still holds it: not taken anyway
    assert submissions.take("alice", token, "/pay?from=cart") is None
