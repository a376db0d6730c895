"""Benchmark of otpgate's core on MemoryStore (a script, not a test).

Prints operations per second for an SMS start+check, for ``gate.check_totp`` and for bare
``pyotp.TOTP(secret).verify(code, valid_window=1)``, and the ratio of the per-call cost of
``check_totp`` to bare pyotp, measured in the same run. The acceptance target is a ratio of
at most 1.2.

Each ``check_totp`` call needs a code that is accepted: a replayed step is refused, so an
injected clock moves one period (30 s) ahead before every call and the code for that time is
computed before the timed loop. pyotp verifies the same (time, code) pairs.

    python bench/core.py                 # defaults
    python bench/core.py -n 20000 -r 9   # more iterations and repetitions
    python bench/core.py --profile       # also where check_totp spends its time (cProfile)
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import platform
import pstats
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

_SRC = Path(__file__).resolve().parents[1] / "src"
if (_SRC / "otpgate").is_dir():
    sys.path.insert(0, str(_SRC))  # measure this checkout, installed or not

import pyotp  # noqa: E402

from otpgate import MemoryStore, OutboxSender, Settings, Verifier  # noqa: E402
from otpgate.core.codes import clean_numeric_code  # noqa: E402
from otpgate.core.totp import match_step, secret_key_bytes  # noqa: E402

SUBJECT = "alice"
PHONE = "+33612345678"
START = 1_800_000_000.0
DAY = 86_400.0
TARGET = 1.2


class Clock:
    """A clock that moves only when told."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- the three workloads ------------------------------------------------------------------------
#
# Each ``prepare_*`` does the untimed set-up for one repetition and returns the timed loop.
# The loops are as alike as possible: iterate over precomputed inputs, make one call each.


class SmsBench:
    """start_sms + check of the code just sent; the clock moves a day per pair so the send
    budgets (per phone, per subject) never run out, and MemoryStore sweeps old challenges."""

    def __init__(self, settings: Settings) -> None:
        self.clock = Clock()
        self.outbox = OutboxSender()
        self.store = MemoryStore(clock=self.clock)
        self.gate = Verifier(settings, store=self.store, sender=self.outbox, clock=self.clock)

    def prepare(self, n: int) -> Callable[[], None]:
        gate, clock, outbox = self.gate, self.clock, self.outbox
        outbox.messages.clear()
        times = [clock.now + DAY * (i + 1) for i in range(n)]

        def run() -> None:
            for now in times:
                clock.now = now
                challenge = gate.start_sms(SUBJECT, PHONE, purpose="enroll")
                code = outbox.messages[-1].code
                gate.check(challenge.id, code)  # type: ignore[arg-type]

        return run


class TotpBench:
    """check_totp with a fresh, accepted code for every call."""

    def __init__(self, settings: Settings) -> None:
        self.clock = Clock()
        self.settings = settings
        self.gate = Verifier(
            settings, store=MemoryStore(clock=self.clock), sender=OutboxSender(), clock=self.clock
        )
        enrollment = self.gate.totp.enroll(SUBJECT)
        self.secret = enrollment.secret
        self.reference = pyotp.TOTP(self.secret)
        self.gate.totp.confirm(SUBJECT, self.reference.at(self.clock.now))

    def pairs(self, n: int) -> list[tuple[float, str]]:
        """The next ``n`` (time, code) pairs, one period apart, after the clock's time."""
        period = self.settings.totp_period
        first = self.clock.now + period
        times = [first + period * i for i in range(n)]
        self.clock.now = times[-1]
        return [(t, self.reference.at(t)) for t in times]

    def prepare(self, n: int) -> Callable[[], None]:
        gate, clock = self.gate, self.clock
        pairs = self.pairs(n)

        def run() -> None:
            for now, code in pairs:
                clock.now = now
                gate.check_totp(SUBJECT, code)

        return run


def prepare_pyotp(bench: TotpBench, n: int) -> Callable[[], None]:
    """Bare pyotp on the same kind of input: a new TOTP(secret) and verify(...) per call."""
    secret = bench.secret
    pairs = [(t, pyotp.TOTP(secret).at(t)) for t in _times_after(bench.clock.now + 10**6, n)]
    assert all(pyotp.TOTP(secret).verify(c, for_time=t, valid_window=1) for t, c in pairs[:50])

    def run() -> None:
        for now, code in pairs:
            pyotp.TOTP(secret).verify(code, for_time=now, valid_window=1)

    return run


def prepare_pyotp_reused(bench: TotpBench, n: int) -> Callable[[], None]:
    """The same with one TOTP object made up front (the cheapest way to call pyotp)."""
    totp = pyotp.TOTP(bench.secret)
    pairs = [(t, totp.at(t)) for t in _times_after(bench.clock.now + 10**6, n)]

    def run() -> None:
        for now, code in pairs:
            totp.verify(code, for_time=now, valid_window=1)

    return run


def _times_after(start: float, n: int) -> list[float]:
    return [start + 30.0 * i for i in range(n)]


# -- timing -------------------------------------------------------------------------------------


def timed(run: Callable[[], None]) -> float:
    """Seconds for one call of ``run``, with the garbage collector paused (as timeit does)."""
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        run()
        return time.perf_counter() - started
    finally:
        if enabled:
            gc.enable()


def measure(
    workloads: dict[str, Callable[[int], Callable[[], None]]],
    n: int,
    repeat: int,
    warmup: int,
) -> dict[str, list[float]]:
    """Per-call seconds of each workload, ``repeat`` times, interleaved so drift hits all."""
    for prepare in workloads.values():
        for _ in range(warmup):
            prepare(max(1, n // 10))()
    results: dict[str, list[float]] = {name: [] for name in workloads}
    for _ in range(repeat):
        for name, prepare in workloads.items():
            run = prepare(n)
            results[name].append(timed(run) / n)
    return results


def profile_check_totp(bench: TotpBench, n: int, limit: int) -> str:
    """cProfile of ``n`` check_totp calls: the functions with the most own time."""
    run = bench.prepare(n)
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    out.write("\n-- cumulative --\n")
    stats.sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


def breakdown(bench: TotpBench, number: int) -> list[tuple[str, float]]:
    """The cost in microseconds of each step check_totp takes, timed one by one (timeit)."""
    gate, settings, now = bench.gate, bench.settings, bench.clock.now
    credential = gate.credentials.get_totp(SUBJECT)
    assert credential is not None
    sealed = credential.sealed_secret
    secret = gate.keyring.open(sealed, context=SUBJECT)
    key = secret_key_bytes(secret)
    code = bench.reference.at(now)
    other_key = gate.subject_key("breakdown")  # not SUBJECT: its replay mark stays untouched
    steps = iter(range(10**12))
    parts: dict[str, Callable[[], object]] = {
        "clean_numeric_code (input check)": lambda: clean_numeric_code(code, 6),
        "credentials.get_totp": lambda: gate.credentials.get_totp(SUBJECT),
        "keyring.open (AES-GCM decrypt of the secret)": lambda: gate.keyring.open(
            sealed, context=SUBJECT
        ),
        "secret_key_bytes (base32 decode)": lambda: secret_key_bytes(secret),
        "match_step (3 HMACs, constant time)": lambda: match_step(key, code, now, settings),
        "subject_key (HMAC-SHA256 digest)": lambda: gate.subject_key(SUBJECT),
        "store.settle_attempt (lock, replay mark)": lambda: gate.store.settle_attempt(
            other_key, True, now, gate.lockout, next(steps)
        ),
        "pyotp.TOTP(secret) (constructor alone)": lambda: pyotp.TOTP(secret),
    }
    return [
        (name, min(timeit.repeat(part, number=number, repeat=5)) / number * 1e6)
        for name, part in parts.items()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark otpgate's core (MemoryStore): SMS start+check, check_totp, "
        "and check_totp against bare pyotp verify.",
    )
    parser.add_argument(
        "-n",
        "--iterations",
        type=int,
        default=5000,
        help="calls per repetition of each workload (default: %(default)s)",
    )
    parser.add_argument(
        "-r",
        "--repeat",
        type=int,
        default=7,
        help="repetitions; the best and the median are reported (default: %(default)s)",
    )
    parser.add_argument(
        "--warmup", type=int, default=2, help="untimed warm-up rounds (default: %(default)s)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile check_totp with cProfile and print where the time goes",
    )
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.repeat < 1 or args.warmup < 0:
        parser.error("iterations and repeat must be at least 1, warmup at least 0")

    settings = Settings(secret_keys=("bench-key-" + "0123456789abcdef" * 2,))
    sms = SmsBench(settings)
    totp = TotpBench(settings)
    workloads: dict[str, Callable[[int], Callable[[], None]]] = {
        "sms": sms.prepare,
        "check_totp": totp.prepare,
        "pyotp": lambda n: prepare_pyotp(totp, n),
        "pyotp_reused": lambda n: prepare_pyotp_reused(totp, n),
    }
    n, repeat = args.iterations, args.repeat
    print(
        f"otpgate core benchmark: Python {platform.python_version()} "
        f"({platform.python_implementation()}), pyotp {_version('pyotp')}, "
        f"{n} calls x {repeat} repetitions, best and median per call"
    )
    results = measure(workloads, n, repeat, args.warmup)
    best = {name: min(costs) for name, costs in results.items()}
    median = {name: statistics.median(costs) for name, costs in results.items()}
    labels = {
        "sms": "SMS start_sms + check (MemoryStore, OutboxSender)",
        "check_totp": "gate.check_totp (MemoryStore, replay protection)",
        "pyotp": "bare pyotp.TOTP(secret).verify(code, valid_window=1)",
        "pyotp_reused": "pyotp verify on one reused TOTP object",
    }
    for name, label in labels.items():
        print(
            f"  {label:<54} {1 / best[name]:>10,.0f} ops/s  "
            f"{best[name] * 1e6:8.2f} us/op (median {median[name] * 1e6:.2f} us)"
        )
    ratio_best = best["check_totp"] / best["pyotp"]
    ratio_median = statistics.median(
        c / p for c, p in zip(results["check_totp"], results["pyotp"], strict=True)
    )
    verdict = "meets" if ratio_best <= TARGET else "MISSES"
    print(
        f"check_totp / bare pyotp verify, per call: {ratio_best:.2f}x best, "
        f"{ratio_median:.2f}x median of paired runs -> {verdict} the {TARGET}x target"
    )
    print(
        f"check_totp / pyotp verify on a reused TOTP object: "
        f"{best['check_totp'] / best['pyotp_reused']:.2f}x"
    )
    if args.profile:
        print("\nwhere check_totp spends its time, step by step (best of 5, us per call):")
        for name, cost in breakdown(totp, n):
            print(f"  {name:<46} {cost:7.2f}")
        print()
        print(profile_check_totp(totp, n, limit=25))
    return 0


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
