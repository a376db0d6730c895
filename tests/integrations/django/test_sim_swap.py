"""A recent SIM swap pauses SMS codes on Django's pages: the second step says so and sends
nothing; a user with an authenticator app is offered it and signs in with it."""

from __future__ import annotations

import pytest
from django.test import override_settings

from otpgate.gateways import SimSwapClient
from tests.camara import KEPT, api, camara  # noqa: F401

from .conftest import PHONE, sign_in
from .helpers import totp_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def swap_checked(camara, otpgate_runtime, clock, outbox):  # noqa: F811
    """Verifiers that ask the local CAMARA server (PHONE's SIM was swapped, KEPT's not)."""
    from otpgate.core.memory_store import MemoryStore

    with override_settings(OTPGATE_SIM_SWAP_MAX_AGE=72):
        otpgate_runtime.configure(
            clock=clock,
            sender=outbox,
            store=MemoryStore(clock=clock),
            sim_swap=SimSwapClient(api(camara.server)),
        )
        yield otpgate_runtime.get_verifier()


def test_sms_only_user_is_told_why_and_gets_no_code(client, sms_user, outbox, swap_checked):
    sign_in(client, "alice")
    page = client.get("/2fa/verify/")
    assert page.status_code == 200
    assert outbox.messages_to(PHONE) == []
    response = client.post("/2fa/verify/", {"action": "send", "method": "sms"})
    body = response.content.decode()
    assert response.status_code == 409
    assert "paused for this account" in body
    assert outbox.messages_to(PHONE) == []
    assert "_auth_user_id" not in client.session


def test_a_user_with_an_app_signs_in_with_it(client, sms_user, outbox, swap_checked, clock):
    subject = str(sms_user.pk)
    setup = swap_checked.totp.enroll(subject)
    swap_checked.totp.confirm(subject, totp_now(setup.secret, clock()))
    clock.advance(30)
    sign_in(client, "alice")
    refused = client.post("/2fa/verify/", {"action": "send", "method": "sms"})
    assert "paused for this account" in refused.content.decode()
    assert "?method=totp" in refused.content.decode()  # offered among the other ways
    code = totp_now(setup.secret, clock())
    done = client.post("/2fa/verify/", {"action": "verify", "method": "totp", "code": code})
    assert done.status_code == 302
    assert client.session["_auth_user_id"] == subject


def test_a_kept_number_still_gets_its_code(client, sms_user, outbox, swap_checked):
    swap_checked.credentials.remove_phone(str(sms_user.pk), PHONE)
    swap_checked.credentials.add_phone(str(sms_user.pk), KEPT)
    sign_in(client, "alice")
    client.post("/2fa/verify/", {"action": "send", "method": "sms"})
    code = outbox.last_code_for(KEPT)
    assert code is not None
    done = client.post("/2fa/verify/", {"action": "verify", "method": "sms", "code": code})
    assert done.status_code == 302


def test_every_core_event_has_its_django_signal():
    from otpgate.core.events import EventName
    from otpgate.integrations.django import signals

    for name in EventName:
        assert signals.BY_NAME[name] is getattr(signals, name.value)
    received = []
    signals.sim_swap_detected.connect(lambda **kw: received.append(kw["event"]), weak=False)
    from otpgate.core.events import Event

    signals.dispatch(Event(EventName.SIM_SWAP_DETECTED, "7", 0.0))
    assert [event.name for event in received] == [EventName.SIM_SWAP_DETECTED]
