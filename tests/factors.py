"""A toy second factor for the tests that prove a factor registered in the core works
everywhere with no core or integration change."""

from __future__ import annotations

from otpgate import InvalidCode, Verification
from otpgate.core.factors import PassiveStart
from otpgate.core.factors.base import numeric_input


class PinFactor(PassiveStart):
    """A toy factor: a fixed four-digit PIN, for sign-in and step-up only."""

    name = "pin"
    rank = 5
    purposes = frozenset({"login", "action"})
    binds_details = False
    PIN = "2468"

    def input_spec(self, settings):
        return numeric_input(4)

    def enrolled(self, factors):
        return True

    def check(self, gate, subject, code, request):
        if code != self.PIN:
            raise InvalidCode()
        return Verification(subject, request.purpose, self.name, gate.clock())

    async def acheck(self, gate, subject, code, request):
        return self.check(gate, subject, code, request)
