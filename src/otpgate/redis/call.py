"""``Call``: one script call (its script, keys and arguments) and how to read its reply;
what every pure call builder (``codec.py``, ``keyed.py``) returns and the stores run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from .lua import Script
from .records import Arg

T = TypeVar("T")


class Call(Generic[T]):
    """A script to run with its keys and arguments, and how to read its reply. (A plain
    class with slots: one is made per store call, and that path is hot.)"""

    __slots__ = ("args", "decode", "keys", "script")

    def __init__(
        self,
        script: Script,
        keys: Sequence[Arg],
        args: Sequence[Arg],
        decode: Callable[[object], T],
    ) -> None:
        self.script = script
        self.keys = keys
        self.args = args
        self.decode = decode

    def evalsha(self) -> tuple[Arg, ...]:
        """The ``EVALSHA`` command as ``execute_command`` arguments."""
        count = len(self.keys)
        numkeys = _COUNTS[count] if count < len(_COUNTS) else count
        return ("EVALSHA", self.script.binsha, numkeys, *self.keys, *self.args)

    def eval(self) -> tuple[Arg, ...]:
        """The same as ``EVAL`` (runs it, and caches the script on that server)."""
        return ("EVAL", self.script.text, len(self.keys), *self.keys, *self.args)


#: Key counts as the bytes a command sends.
_COUNTS = tuple(str(count).encode() for count in range(10))
