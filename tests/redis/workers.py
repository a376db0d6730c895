"""Worker processes for the race tests (started with the ``spawn`` context, so importable).

Each process builds its own ``Verifier`` on its own ``RedisStore`` (its own connections),
waits for every other process, then fires its calls from as many threads at once.
"""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

from otpgate import OtpgateError, OutboxSender, Settings, Verifier
from otpgate.redis import RedisStore
from tests.conftest import KEY


def gate_for(url: str, prefix: str, **settings: Any) -> Verifier:
    store = RedisStore.from_url(url, prefix=prefix, socket_timeout=5, socket_connect_timeout=5)
    return Verifier(Settings(secret_keys=(KEY,), **settings), store=store, sender=OutboxSender())


def call(gate: Verifier, action: str, argument: str) -> str:
    """One verifier call; "ok" or the error's code."""
    try:
        if action == "check":
            challenge_id, code = argument.split(" ")
            gate.check(challenge_id, code)
        elif action == "start":
            gate.start_sms("alice", argument, purpose="enroll")
        else:
            raise ValueError(action)
    except OtpgateError as error:
        return error.code
    return "ok"


def worker(
    url: str,
    prefix: str,
    settings: dict[str, Any],
    action: str,
    arguments: list[str],
    barrier: Any,
    results: Any,
) -> None:
    """Run ``action`` once per argument, each from its own thread, all released at once."""
    gate = gate_for(url, prefix, **settings)
    gate.store.load_scripts()  # type: ignore[attr-defined]
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(arguments) + 1)

    def run(argument: str) -> None:
        start.wait()
        outcome = call(gate, action, argument)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(a,)) for a in arguments]
    for thread in threads:
        thread.start()
    barrier.wait()  # every process is ready
    start.wait()  # every thread of this one too
    for thread in threads:
        thread.join()
    results.put(outcomes)
    gate.store.close()  # type: ignore[attr-defined]


def run_processes(
    url: str,
    prefix: str,
    action: str,
    per_process: list[list[str]],
    settings: dict[str, Any] | None = None,
) -> list[str]:
    """Every outcome of ``action`` run from ``len(per_process)`` processes at once."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(per_process))
    results = context.Queue()
    processes = [
        context.Process(
            target=worker,
            args=(url, prefix, settings or {}, action, arguments, barrier, results),
        )
        for arguments in per_process
    ]
    for process in processes:
        process.start()
    outcomes = [outcome for _ in processes for outcome in results.get(timeout=120)]
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    return outcomes
