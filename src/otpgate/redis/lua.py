"""The Lua scripts the Redis store runs: read once from the package's ``scripts/`` folder,
each with the helpers of ``common.lua`` it uses (and only those: Redis runs a script's whole
text on every call)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

_SCRIPT_NAMES = (
    "budgets",
    "create",
    "get",
    "reserve",
    "failed",
    "check",
    "settle",
    "cancel",
    "unlock",
    "release",
    "state_get",
    "state_put",
    "tx_get",
    "transaction",
)


@dataclass(frozen=True)
class Script:
    """One Lua script: its text (with the helpers of ``common.lua`` it uses in front) and
    SHA1 for ``EVALSHA``."""

    name: str
    text: str
    sha: str
    #: ``sha`` as the bytes a command sends (redis-py passes bytes through as they are).
    binsha: bytes = b""


#: Where a script wants the helpers (default: in front): code above runs without them.
_HELPERS_HERE = "-- @helpers\n"
_DEFINED = re.compile(r"^local (?:function )?(\w+)", re.MULTILINE)


def _helpers(common: str) -> list[tuple[frozenset[str], str]]:
    """``common.lua`` as blocks (separated by a blank line), each with the names it defines
    (its ``local`` functions and constants); blocks that define nothing are comments."""
    blocks = []
    for block in common.split("\n\n"):
        names = frozenset(_DEFINED.findall(block))
        if names:
            blocks.append((names, block.strip("\n")))
    return blocks


def _prelude(helpers: Sequence[tuple[frozenset[str], str]], body: str) -> str:
    """The helpers ``body`` uses, and those they use, in their order in ``common.lua``:
    Redis runs a script's whole text on every call, so a script defines only what it calls
    (each unused ``local function`` would cost the hot path a closure per call)."""
    used = [False] * len(helpers)
    text, grown = body, True
    while grown:
        grown = False
        for index, (names, block) in enumerate(helpers):
            if not used[index] and any(re.search(rf"\b{name}\b", text) for name in names):
                used[index], grown = True, True
                text += "\n" + block
    return "\n\n".join(block for (_, block), wanted in zip(helpers, used, strict=True) if wanted)


@cache
def scripts() -> dict[str, Script]:
    """Every script, read once from the package's ``scripts/`` folder."""
    folder = resources.files("otpgate.redis").joinpath("scripts")
    helpers = _helpers(folder.joinpath("common.lua").read_text("utf-8"))
    loaded = {}
    for name in _SCRIPT_NAMES:
        body = folder.joinpath(f"{name}.lua").read_text("utf-8")
        head, marker, tail = body.partition(_HELPERS_HERE)
        if not marker:
            head, tail = "", body
        text = head + _prelude(helpers, body) + "\n" + tail
        sha = hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()
        loaded[name] = Script(name, text, sha, sha.encode("ascii"))
    return loaded
