"""Interleaving for the HTTP benches on a busy machine: every target measured between two
baseline slices (``loadgen.compare`` takes one baseline slice per round, seconds away from
some of the targets).

    from bracketed import compare_bracketed
    result = compare_bracketed(targets, rounds=8, seconds=1)   # a loadgen.Comparison

Each round runs the baseline (the first target), then each other target followed by the
baseline again: ``B T1 B T2 B T3 B``, the other targets' order rotated each round. A
target's ratio in a round is its requests per second over the mean of the two baseline
slices around it, so the machine's other load, which drifts from second to second, weighs
on both sides of a ratio alike. The report is, as ``compare``'s, the median ratio over the
rounds and the spread. What is compared is the same: each target against the baseline.

Given the servers' process ids (``cpu_of``: target name to pid), each slice also reads the
server's CPU time (``/proc/<pid>/schedstat``, nanoseconds) and the result's ``cpu`` holds,
per target, the baseline's CPU per request (around it) over the target's, per round: what
the server spent, which other processes' load moves far less than the rate.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from loadgen import Comparison, Target, requests_per_second


@dataclass
class Bracketed(Comparison):
    """A :class:`loadgen.Comparison`, and per target its CPU ratios (``cpu_of`` given)."""

    cpu: dict[str, list[float]] = field(default_factory=dict)

    def cpu_line(self, name: str) -> str:
        found = self.cpu[name]
        return (
            f"{'    the server CPU per request':<44} {statistics.median(found):5.2f}x  "
            f"(spread {min(found):.2f}-{max(found):.2f})"
        )


def cpu_seconds(pid: int) -> float:
    """CPU time of process ``pid`` so far (Linux ``schedstat``, nanoseconds)."""
    with open(f"/proc/{pid}/schedstat", encoding="ascii") as stat:
        return int(stat.read().split()[0]) / 1e9


def compare_bracketed(
    targets: Sequence[Target],
    *,
    rounds: int = 8,
    seconds: float = 1.0,
    warmup: float = 1.0,
    cpu_of: dict[str, int] | None = None,
) -> Bracketed:
    """``rounds`` rounds of ``B T1 B T2 … B`` (B: the first target, the baseline)."""
    base, others = targets[0], list(targets[1:])
    for target in targets:
        requests_per_second(target, warmup)
    result = Bracketed([t.name for t in targets])
    slice_seconds = max(1, round(seconds))  # what wrk runs

    def measure(target: Target) -> tuple[float, float]:
        """Requests per second, and the server's CPU seconds per request (0: not read)."""
        pid = (cpu_of or {}).get(target.name)
        start = cpu_seconds(pid) if pid else 0.0
        rate, bad = requests_per_second(target, seconds)
        spent = cpu_seconds(pid) - start if pid else 0.0
        result.non_2xx[target.name] = result.non_2xx.get(target.name, 0) + bad
        result.rates.setdefault(target.name, []).append(rate)
        return rate, spent / max(rate * slice_seconds, 1.0)

    for index in range(rounds):
        shift = index % len(others) if others else 0
        before, cpu_before = measure(base)
        if before <= 0:
            raise RuntimeError(f"{base.name} served nothing (keep-alive off? errors?)")
        result.ratios.setdefault(base.name, []).append(1.0)
        for target in others[shift:] + others[:shift]:
            rate, cpu = measure(target)
            after, cpu_after = measure(base)
            around_rate = statistics.mean((before, after))
            result.ratios.setdefault(target.name, []).append(rate / around_rate)
            if cpu > 0:
                around = statistics.mean((cpu_before, cpu_after))
                result.cpu.setdefault(target.name, []).append(around / cpu)
            before, cpu_before = after, cpu_after
    return result
