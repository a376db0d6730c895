"""Simulation of SMS pumping against otpgate's guard (a script, not a test).

Replays synthetic traffic through the real ``Verifier`` and ``MemoryStore`` on a fake clock:
a warm-up day of legitimate traffic (so every range has its own baseline), then a measured
day of the same legitimate traffic plus three attacks:

- ``pump``: one number range (``+234 8031``) pumped at 1,000 codes an hour for 8 hours from
  rotating accounts (one code each) and client addresses (a new one every 15 codes);
- ``slow``: 8 codes an hour to each of 5 ranges of one country (+62 81x1), all day: under
  every fixed budget (per number, account, address, country) and never a surge;
- ``burst``: 2,000 codes in 20 minutes to random numbers of a country the service never
  sent to (+670).

Legitimate traffic: sign-ins (85 %, to numbers verified before) and new numbers being
added (15 %) over 30 countries with a daily cycle; 85 % of codes are entered, 10 s to 2
minutes after they were sent, the rest never. The day runs twice: with the fixed budgets
alone (``pumping_guard=False``), then with the guard, and the script prints, for each run,
the codes the attackers received, the legitimate sends refused, and the time from each
attack's first code to its first refusal (containment). Targets, as ratios: the guard lets
through at most 5 % of the attack codes the fixed budgets alone let through, and refuses at
most 0.1 % of legitimate sends.

    python bench/pumping.py               # defaults (about 20 s)
    python bench/pumping.py --legit 40000 --seed 7
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_SRC = Path(__file__).resolve().parents[1] / "src"
if (_SRC / "otpgate").is_dir():
    sys.path.insert(0, str(_SRC))  # measure this checkout, installed or not

import phonenumbers  # noqa: E402

from otpgate import (  # noqa: E402
    MemoryStore,
    OtpgateError,
    OutboxSender,
    SendLimitReached,
    Settings,
    SmsTemporarilyUnavailable,
    Verifier,
)
from otpgate.core.phone import parse_phone  # noqa: E402

KEY = "bench-key-0123456789abcdef0123456789"
START = 1_800_000_000.0
HOUR, DAY = 3600.0, 86_400.0
ATTACK_TARGET, LEGIT_TARGET = 0.05, 0.001

#: Legitimate traffic's countries and their share (a long tail, like most services).
COUNTRIES = {
    "US": 22, "GB": 9, "FR": 8, "DE": 8, "IN": 7, "BR": 6, "ES": 4, "IT": 4, "MX": 4,
    "CA": 3, "NL": 3, "PL": 2, "TR": 2, "AU": 2, "JP": 2, "ID": 2, "NG": 2, "ZA": 1,
    "KE": 1, "EG": 1, "PH": 1, "VN": 1, "TH": 1, "AR": 1, "CO": 1, "SE": 1, "CH": 1,
    "BE": 1, "PT": 1, "PG": 1,
}  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class Numbers:
    """Valid mobile numbers of a region (random digits after a kept head, validated)."""

    def __init__(self, settings: Settings, rng: random.Random) -> None:
        self.settings, self.rng = settings, rng

    def draw(self, region: str, head: str | None = None, check: bool = True) -> str:
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        national = phonenumbers.national_significant_number(example)
        head = head if head is not None else national[:2]
        for _ in range(200):
            tail = "".join(self.rng.choice("0123456789") for _ in range(len(national) - len(head)))
            text = f"+{example.country_code}{head}{tail}"
            if not check:  # (the attackers' ranges hold valid mobile numbers only)
                return text
            try:
                return parse_phone(text, self.settings).e164
            except OtpgateError:
                continue
        raise RuntimeError(f"no valid number for {region} {head}")


@dataclass
class Tally:
    sent: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    guard_refused: Counter[str] = field(default_factory=Counter)
    first_sent: dict[str, float] = field(default_factory=dict)
    first_refused: dict[str, float] = field(default_factory=dict)


Event = tuple[float, int, Callable[[], None]]


class Simulation:
    def __init__(self, guard: bool, legit_per_day: int, seed: int) -> None:
        self.clock = Clock()
        self.settings = Settings(secret_keys=(KEY,), pumping_guard=guard)
        self.outbox = OutboxSender()
        self.gate = Verifier(
            self.settings, store=MemoryStore(clock=self.clock), sender=self.outbox, clock=self.clock
        )
        self.rng = random.Random(seed)
        self.numbers = Numbers(self.settings, random.Random(seed + 1))
        self.legit_per_day = legit_per_day
        self.queue: list[Event] = []
        self.seq = 0
        self.tally = Tally()
        self.measuring = False
        self.users: list[tuple[str, str]] = []  # (subject, its verified number)
        self.regions = list(COUNTRIES)
        self.weights = list(COUNTRIES.values())

    def at(self, when: float, action: Callable[[], None]) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (when, self.seq, action))

    def run(self) -> Tally:
        for _ in range(self.legit_per_day // 2):  # users who verified a number before
            subject = f"user{len(self.users)}"
            number = self.numbers.draw(self._region())
            self.gate.credentials.add_phone(subject, number)
            self.users.append((subject, number))
        for day in (0, 1):
            self._legit_day(START + day * DAY)
        self._attacks(START + DAY)
        self.at(START + DAY, self._start_measuring)
        while self.queue:
            when, _, action = heapq.heappop(self.queue)
            self.clock.now = when
            action()
        return self.tally

    def _start_measuring(self) -> None:
        self.measuring = True

    def _region(self) -> str:
        return self.rng.choices(self.regions, self.weights)[0]

    # -- legitimate traffic --------------------------------------------------------------------

    def _legit_day(self, day: float) -> None:
        for _ in range(self.legit_per_day):
            # a daily cycle: twice as busy mid-afternoon as at night
            while True:
                offset = self.rng.uniform(0, DAY)
                if self.rng.random() < (2 - math.cos(2 * math.pi * offset / DAY)) / 3:
                    break
            if self.rng.random() < 0.85:
                self.at(day + offset, self._sign_in)
            else:
                self.at(day + offset, self._enroll)

    def _sign_in(self) -> None:
        subject, _ = self.rng.choice(self.users)
        self._legit_send(subject, None, "login")

    def _enroll(self) -> None:
        subject = f"new{self.seq}"
        self._legit_send(subject, self.numbers.draw(self._region()), "enroll")

    def _legit_send(self, subject: str, number: str | None, purpose: str) -> None:
        ip = f"10.{self.rng.randrange(256)}.{self.rng.randrange(256)}.{self.rng.randrange(256)}"
        try:
            challenge = self.gate.start_sms(subject, number, purpose=purpose, client_ip=ip)
        except (SendLimitReached, SmsTemporarilyUnavailable) as error:
            self._count("legit", refused=error)
            return
        self._count("legit")
        if self.rng.random() < 0.85:
            code = self.outbox.messages[-1].code
            delay = self.rng.uniform(10, 120)
            self.at(
                self.clock.now + delay, lambda: self._enter(challenge.id, code, subject, purpose)
            )

    def _enter(self, challenge_id: str, code: str, subject: str, purpose: str) -> None:
        self.gate.check(challenge_id, code, subject=subject)
        if purpose == "enroll":  # a new number verified: it signs in from now on
            self.users.append((subject, self.gate.credentials.phones(subject)[0]))

    # -- attacks -------------------------------------------------------------------------------

    def _attacks(self, day: float) -> None:
        pumped = [day + 2 * HOUR + i * HOUR / 1000 for i in range(8 * 1000)]
        for n, when in enumerate(pumped):
            self.at(when, lambda n=n: self._bot("pump", "NG", "8031", n))
        for n in range(24 * 40):  # 5 ranges x 8 an hour
            head = f"81{n % 5}1"
            self.at(day + n * HOUR / 40, lambda n=n, head=head: self._bot("slow", "ID", head, n))
        for n in range(2000):
            self.at(day + 16 * HOUR + n * 0.6, lambda n=n: self._bot("burst", "TL", None, n))

    def _bot(self, attack: str, region: str, head: str | None, n: int) -> None:
        attacks = ["pump", "slow", "burst"]
        number = self.numbers.draw(region, head, check=False)
        ip = f"203.{attacks.index(attack)}.{(n // 15) // 256 % 256}.{(n // 15) % 256}"
        try:
            self.gate.start_sms(f"{attack}-bot{n}", number, purpose="enroll", client_ip=ip)
        except (SendLimitReached, SmsTemporarilyUnavailable) as error:
            self._count(attack, refused=error)
            return
        self._count(attack)

    def _count(self, who: str, refused: Exception | None = None) -> None:
        if not self.measuring:
            return
        t = self.tally
        if refused is None:
            t.sent[who] += 1
            t.first_sent.setdefault(who, self.clock.now)
            return
        t.refused[who] += 1
        if isinstance(refused, SmsTemporarilyUnavailable):
            t.guard_refused[who] += 1
        t.first_refused.setdefault(who, self.clock.now)


def _containment(t: Tally, attack: str) -> str:
    if attack not in t.first_refused:
        return "never"
    seconds = t.first_refused[attack] - t.first_sent.get(attack, t.first_refused[attack])
    return f"{seconds / 60:.1f} min"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--legit", type=int, default=12_000, help="legitimate sends a day")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    began = time.perf_counter()
    fixed = Simulation(False, args.legit, args.seed).run()
    guarded = Simulation(True, args.legit, args.seed).run()
    attacks = ("pump", "slow", "burst")
    print(f"{'':26}{'fixed budgets':>16}{'with the guard':>16}")
    for attack in attacks:
        print(f"SMS to attackers: {attack:8}{fixed.sent[attack]:>16}{guarded.sent[attack]:>16}")
    for attack in attacks:
        print(
            f"containment: {attack:13}{_containment(fixed, attack):>16}"
            f"{_containment(guarded, attack):>16}"
        )
    legit = guarded.sent["legit"] + guarded.refused["legit"]
    print(f"legitimate sends{legit:>26}")
    print(f"legitimate refused{fixed.refused['legit']:>24}{guarded.refused['legit']:>16}")
    print(f"  of which by the guard{'':>19}{guarded.guard_refused['legit']:>16}")
    attack_ratio = sum(guarded.sent[a] for a in attacks) / max(
        1, sum(fixed.sent[a] for a in attacks)
    )
    legit_ratio = guarded.guard_refused["legit"] / max(1, legit)
    ok_attack, ok_legit = attack_ratio <= ATTACK_TARGET, legit_ratio <= LEGIT_TARGET
    print(
        f"attack SMS let through, guard / fixed: {attack_ratio:.2%} "
        f"(target <= {ATTACK_TARGET:.0%}) {'ok' if ok_attack else 'MISSED'}"
    )
    print(
        f"legitimate sends refused by the guard: {legit_ratio:.3%} "
        f"(target <= {LEGIT_TARGET:.1%}) {'ok' if ok_legit else 'MISSED'}"
    )
    print(f"({time.perf_counter() - began:.0f} s)")
    return 0 if ok_attack and ok_legit else 1


if __name__ == "__main__":
    sys.exit(main())
