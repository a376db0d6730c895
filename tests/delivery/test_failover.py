"""The failover chain: order, retryable and final errors, timeouts, and circuit breakers."""

from __future__ import annotations

import json
import logging
import time

import pytest

from otpgate import ConfigurationError, ConsoleSender, DeliveryFailed, OutboxSender
from otpgate.gateways import (
    AsyncFailoverSender,
    AsyncTwilioSender,
    CircuitBreaker,
    FailoverSender,
    GatewayError,
    TwilioGateway,
    TwilioSender,
)
from tests.conftest import FakeClock
from tests.delivery.servers import Answer, FakeServer

PHONE = "+33612345678"
TEXT = "Acme: your verification code is 493817."


class Scripted:
    """A sender that fails with each error of ``script`` in turn, then succeeds."""

    def __init__(self, name, *script):
        self.name = name
        self.script = list(script)
        self.calls = 0

    def _next(self):
        self.calls += 1
        if self.script:
            error = self.script.pop(0)
            if error is not None:
                raise error
        return f"{self.name}-{self.calls}"

    def send(self, to, text, *, reference=""):
        return self._next()


class AsyncScripted(Scripted):
    async def send(self, to, text, *, reference=""):
        return self._next()


def down(name="gw"):
    return GatewayError(name, "HTTP 503", retryable=True)


def refused(name="gw"):
    return GatewayError(name, "HTTP 400, error 21211", retryable=False)


def test_the_first_gateway_that_takes_the_message_wins():
    first, second = Scripted("a"), Scripted("b")
    assert FailoverSender([first, second]).send(PHONE, TEXT) == "a-1"
    assert (first.calls, second.calls) == (1, 0)


def test_a_retryable_error_moves_on_to_the_next_gateway(caplog):
    caplog.set_level(logging.DEBUG)
    first, second = Scripted("a", down("a")), Scripted("b")
    assert FailoverSender([first, second]).send(PHONE, TEXT) == "b-1"
    assert "+33 ••• ••• 5678" in caplog.text and PHONE not in caplog.text


def test_a_final_error_stops_the_chain():
    error = refused("a")
    first, second = Scripted("a", error), Scripted("b")
    with pytest.raises(GatewayError) as caught:
        FailoverSender([first, second]).send(PHONE, TEXT)
    assert caught.value is error and second.calls == 0


def test_unexpected_exceptions_count_as_retryable_failures():
    first, second = Scripted("a", RuntimeError("bug")), Scripted("b", DeliveryFailed())
    third = Scripted("c")
    assert FailoverSender([first, second, third]).send(PHONE, TEXT) == "c-1"


def test_when_every_gateway_fails_the_error_is_retryable_and_names_each():
    chain = FailoverSender([Scripted("a", down("a")), Scripted("b", RuntimeError(PHONE))])
    with pytest.raises(GatewayError) as caught:
        chain.send(PHONE, TEXT)
    assert caught.value.retryable
    assert caught.value.detail == ("every gateway failed (a: HTTP 503; b: unexpected RuntimeError)")
    assert PHONE not in repr(caught.value)


def test_the_breaker_skips_a_failing_gateway_for_a_while_then_probes_it():
    clock = FakeClock()
    first = Scripted("a", down(), down(), down())
    second = Scripted("b")
    chain = FailoverSender([first, second], failures=2, cooldown=30, clock=clock)
    chain.send(PHONE, TEXT)
    chain.send(PHONE, TEXT)  # the second failure in a row opens a's circuit
    assert first.calls == 2 and chain.breaker.is_open(0)
    chain.send(PHONE, TEXT)
    assert first.calls == 2 and second.calls == 3  # skipped
    clock.advance(30)
    chain.send(PHONE, TEXT)  # probed once more: it fails, and opens again at once
    assert first.calls == 3 and chain.breaker.is_open(0)
    clock.advance(30)
    assert chain.send(PHONE, TEXT) == "a-4"  # recovered: the circuit closes
    assert not chain.breaker.is_open(0)


def test_a_success_resets_the_count_of_failures():
    clock = FakeClock()
    first = Scripted("a", down(), None, down(), None)
    chain = FailoverSender([first, Scripted("b")], failures=2, cooldown=30, clock=clock)
    for _ in range(4):
        chain.send(PHONE, TEXT)
    assert first.calls == 4 and not chain.breaker.is_open(0)


def test_final_errors_do_not_open_the_circuit():
    first = Scripted("a", refused(), refused(), refused())
    chain = FailoverSender([first, Scripted("b")], failures=2)
    for _ in range(3):
        with pytest.raises(GatewayError):
            chain.send(PHONE, TEXT)
    assert not chain.breaker.is_open(0)


def test_when_every_circuit_is_open_it_fails_fast():
    clock = FakeClock()
    chain = FailoverSender([Scripted("a", down(), down())], failures=1, cooldown=5, clock=clock)
    with pytest.raises(GatewayError):
        chain.send(PHONE, TEXT)
    with pytest.raises(GatewayError) as caught:
        chain.send(PHONE, TEXT)
    assert caught.value.detail == "every gateway's circuit is open"
    assert chain.senders[0].calls == 1


def test_bad_configurations_are_refused():
    with pytest.raises(ConfigurationError):
        FailoverSender([])
    with pytest.raises(ConfigurationError):
        CircuitBreaker(failures=0)
    with pytest.raises(ConfigurationError):
        AsyncFailoverSender([ConsoleSender(), Scripted("blocking")])


async def test_the_async_chain_behaves_alike():
    clock = FakeClock()
    outbox = OutboxSender()  # a synchronous sender that never blocks is accepted
    first = AsyncScripted("a", down(), down())
    chain = AsyncFailoverSender([first, outbox], failures=2, cooldown=10, clock=clock)
    assert (await chain.send(PHONE, TEXT)).startswith("outbox-")
    await chain.send(PHONE, TEXT)
    await chain.send(PHONE, TEXT)
    assert first.calls == 2 and len(outbox.messages) == 3
    clock.advance(10)
    assert await chain.send(PHONE, TEXT) == "a-3"
    final = AsyncFailoverSender([AsyncScripted("a", refused()), outbox])
    with pytest.raises(GatewayError):
        await final.send(PHONE, TEXT)
    assert len(outbox.messages) == 3


def twilio_double(sleep):
    def answer(request):
        time.sleep(sleep)
        body = {"sid": "SM" + str(sleep).replace(".", "") * 16}
        return Answer(201, json.dumps(body).encode(), {"Content-Type": "application/json"})

    return answer


def gateway(server):
    return TwilioGateway("AC1", "token", sender="+15017122661", base_url=server.url)


def test_a_timeout_moves_on_to_the_next_gateway():
    with (
        FakeServer(twilio_double(1.0)) as slow,
        FakeServer(twilio_double(0)) as quick,
        TwilioSender(gateway(slow), timeout=0.3) as a,
        TwilioSender(gateway(quick)) as b,
    ):
        started = time.monotonic()
        assert FailoverSender([a, b]).send(PHONE, TEXT) == "SM" + "0" * 16
        assert time.monotonic() - started < 0.9


async def test_an_async_timeout_moves_on_to_the_next_gateway():
    with FakeServer(twilio_double(1.0)) as slow, FakeServer(twilio_double(0)) as quick:
        async with (
            AsyncTwilioSender(gateway(slow), timeout=0.3) as a,
            AsyncTwilioSender(gateway(quick)) as b,
        ):
            assert await AsyncFailoverSender([a, b]).send(PHONE, TEXT) == "SM" + "0" * 16
