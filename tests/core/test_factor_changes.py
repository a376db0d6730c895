"""``core.factors.changes``: what every integration's add/remove views share: the address
factors, the items a user may remove (masked) and their removal on both verifiers, the
decision before a removal (confirm, refuse the last factor, remove) and the notices."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from otpgate import Settings
from otpgate.core.errors import LastFactor, MalformedInput
from otpgate.core.factors import changes
from otpgate.core.i18n import gettext
from tests.conftest import KEY, OTHER_PHONE, PHONE
from tests.passkey_authenticator import SoftAuthenticator

ORIGIN = "https://shop.example"
PASSKEYS = Settings(secret_keys=(KEY,), webauthn_rp_id="shop.example", webauthn_origins=(ORIGIN,))


@pytest.fixture
def gate(make_gate: Any) -> Any:
    return make_gate(PASSKEYS)


def _call(gate: Any, function: Any, *args: Any) -> Any:
    """The sync or the async form of ``function``, on the verifier the fixture made."""
    inner = gate._target
    if make_flavour(gate) == "sync":
        return function(inner, *args)
    asynchronous = getattr(changes, "a" + function.__name__)
    return gate._loop.run_until_complete(asynchronous(inner, *args))


def make_flavour(gate: Any) -> str:
    return "async" if type(gate._target).__name__ == "AsyncVerifier" else "sync"


def test_removable_items_are_masked_and_removed_on_both_verifiers(gate, clock):
    gate.credentials.add_phone("alice", PHONE)
    gate.credentials.add_phone("alice", OTHER_PHONE)
    phones = _call(gate, changes.removable, "alice", "sms")
    assert [item.shown for item in phones] == ["+33 ••• ••• 5678", "+49 ••• ••• ••• 5678"]
    assert all(PHONE not in item.shown for item in phones)
    assert _call(gate, changes.remove_factor, "alice", phones[0])
    assert gate.factors("alice").masked_phones == ("+49 ••• ••• ••• 5678",)
    # The app: one item, primary once confirmed; an unfinished set-up can be dropped too.
    enrollment = gate.totp.enroll("alice", "alice")
    (pending,) = _call(gate, changes.removable, "alice", "totp")
    assert pending.ref == "" and pending.shown == "" and not pending.primary
    gate.totp.confirm("alice", pyotp.TOTP(enrollment.secret).at(clock()))
    (app,) = _call(gate, changes.removable, "alice", "totp")
    assert app.primary
    assert _call(gate, changes.remove_factor, "alice", app)
    assert not gate.factors("alice").totp
    assert _call(gate, changes.removable, "bob", "totp") == []
    assert _call(gate, changes.removable, "alice", "no-such-factor") == []
    with pytest.raises(MalformedInput):
        _call(gate, changes.remove_factor, "alice", changes.Removable("no-such", "", ""))
    # A registered factor that is not removed from these pages (recovery codes are replaced).
    gate.recovery.generate("alice")
    assert _call(gate, changes.removable, "alice", "recovery") == []
    with pytest.raises(MalformedInput):
        _call(gate, changes.remove_factor, "alice", changes.Removable("recovery", "", ""))
    assert gate.recovery.remaining("alice") == 10


def test_a_passkey_is_named_and_removed(gate):
    authenticator = SoftAuthenticator(ORIGIN)
    setup = gate.setup("alice", "webauthn", name="Work laptop", label="alice")
    answer = authenticator.create(setup.challenge.browser_options)
    gate.verify("alice", "webauthn", answer, purpose="enroll", challenge_id=setup.challenge.id)
    (key,) = _call(gate, changes.removable, "alice", "webauthn")
    assert key.shown == "Work laptop" and key.ref
    assert _call(gate, changes.remove_factor, "alice", key)
    assert gate.passkeys.list("alice") == []


def test_email_addresses_are_masked(gate):
    gate.credentials.add_email("alice", "alice@example.com")
    (address,) = _call(gate, changes.removable, "alice", "email")
    assert address.shown == "a••••@example.com" and address.ref == "alice@example.com"
    assert _call(gate, changes.remove_factor, "alice", address)
    assert _call(gate, changes.removable, "alice", "email") == []


@pytest.mark.parametrize(
    ("confirmed", "required", "primary_count", "primary", "expected"),
    [
        (False, False, 1, True, "confirm"),  # asking first, always
        (True, False, 1, True, "remove"),
        (True, True, 2, True, "remove"),  # another factor stays
        (False, True, 1, True, LastFactor),  # refused before any confirmation
        (True, True, 1, True, LastFactor),
        (True, True, 1, False, "remove"),  # an unfinished app set-up is not a factor
        (True, True, 0, False, "remove"),
    ],
)
def test_the_decision_before_a_removal(confirmed, required, primary_count, primary, expected):
    step = changes.removal_step(
        confirmed=confirmed,
        required=required,
        primary_count=primary_count,
        removes_primary=primary,
    )
    if isinstance(expected, str):
        assert step == expected
    else:
        assert isinstance(step, expected)


@pytest.mark.parametrize("value", ["1", "on", "true", True])
def test_a_confirmation_is_a_yes(value):
    assert changes.confirmed(value)


@pytest.mark.parametrize("value", [None, "", "0", "no", 1, False, "1 ", [], "yes please"])
def test_anything_else_is_no_confirmation(value):
    assert not changes.confirmed(value)


def test_address_factors_name_their_pages_fields_and_session_slots():
    assert changes.address_kind("sms").page == "phone"
    assert changes.address_kind("sms").field == "phone"
    assert changes.address_kind("email").field == "email"
    assert changes.address_kind("sms").slot != changes.address_kind("email").slot
    for factor in ("totp", "recovery", "webauthn", "", "../x"):
        with pytest.raises(MalformedInput):
            changes.address_kind(factor)
    assert changes.page_of("webauthn") == "passkey" and changes.page_of("mine") == "mine"


@pytest.mark.parametrize("factor", ["sms", "email", "totp", "webauthn", "my-own-factor"])
def test_every_notice_and_confirmation_text_is_translated(factor):
    texts = changes.removal_texts(factor)
    for text in (
        changes.added_notice(factor),
        changes.removed_notice(factor),
        texts.title,
        texts.explanation,
        changes.RECOVERY_CODES_NOTICE,
        changes.DEVICE_FORGOTTEN_NOTICE,
    ):
        for language in ("fr", "ar", "zh-Hans"):
            assert gettext(text, language) != text, (language, text)
    assert changes.added_notice(factor) != changes.removed_notice(factor)


def test_nothing_chosen_is_a_malformed_input_naming_the_factor():
    assert "phone" in changes.not_chosen("sms").message
    assert isinstance(changes.not_chosen("totp"), MalformedInput)
