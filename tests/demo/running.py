"""``otpgate demo`` as a user starts it: a process of its own, read from its output, stopped
with Ctrl-C (SIGINT to the launcher alone, as a terminal sends it to the foreground group)."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

BANNER_END = "Ctrl-C stops everything."
SITE = re.compile(r"\((Django|Flask|FastAPI)\)\n\s+(http://127\.0\.0\.1:\d+)")
INBOX = re.compile(r"SMS inbox\s+(http://127\.0\.0\.1:\d+)/")


def _background_job_signals() -> None:
    """As a shell starts a background job (``otpgate demo &`` in a script): SIGINT ignored. The
    demo must still stop on Ctrl-C (it restores SIGINT when it finds it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _terminal_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class RunningDemo:
    def __init__(
        self,
        *args: str,
        cwd: Path,
        env: dict[str, str] | None = None,
        background_job: bool = False,
    ) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "otpgate", "demo", "--port", "0", "--inbox-port", "0", *args],
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            # As typed in a terminal (SIGINT at its default, whatever these tests inherited),
            # or as a background job of a script (SIGINT ignored).
            preexec_fn=_background_job_signals if background_job else _terminal_signals,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.sites: dict[str, str] = {}
        self.inbox = ""
        self.child_pids: list[int] = []

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    @property
    def text(self) -> str:
        return "".join(self.output)

    def wait_for(self, needle: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            if self.process.poll() is not None and self.lines.empty():
                raise AssertionError(f"otpgate demo exited:\n{self.text}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} in:\n{self.text}")
            with contextlib.suppress(queue.Empty):
                self.lines.get(timeout=0.2)

    def wait_ready(self) -> RunningDemo:
        self.wait_for(BANNER_END)
        self.sites = {name.lower(): url for name, url in SITE.findall(self.text)}
        found = INBOX.search(self.text)
        assert found, self.text
        self.inbox = found.group(1)
        self.child_pids = self.children()
        return self

    def children(self) -> list[int]:
        """Process ids whose parent is the launcher (Linux /proc)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                found.append(int(entry.name))
        return found

    def latest_sms(self, number: str, newer_than: int = 0, timeout: float = 10) -> dict:
        """The newest SMS to ``number`` in the inbox's JSON API (id > ``newer_than``)."""
        deadline = time.monotonic() + timeout
        while True:
            answer = httpx.get(f"{self.inbox}/api/messages/latest", params={"to": number})
            if answer.status_code == 200 and answer.json()["id"] > newer_than:
                return answer.json()
            if time.monotonic() > deadline:
                raise AssertionError(f"no SMS to {number}: {answer.status_code} {answer.text}")
            time.sleep(0.1)

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C: SIGINT to the launcher only; its exit status (the launcher gives its
        children STOP_TIMEOUT, then kills them: 60 s leaves room on a loaded machine)."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """After a failed test: the launcher's group and each site's group, at once."""
        for group in [self.process.pid, *self.child_pids]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        self.process.wait(10)
        self._reader.join(10)
        assert self.process.stdout is not None
        self.process.stdout.close()


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
