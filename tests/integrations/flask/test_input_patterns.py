"""Every built-in factor's HTML input pattern, in chromium: the browser compiles it (a
pattern it cannot compile, e.g. an unescaped ``-`` in a class under the ``v`` flag browsers
now use, is silently ignored), lets through every code the core accepts (digits of other
scripts, separators, imported recovery codes) and blocks text no code can be."""

from __future__ import annotations

from typing import Any

import pytest

from otpgate import Settings
from otpgate.core.factors.registry import builtin_factors
from tests import browser as browsers

browser = browsers.browser  # one chromium for this module
page = browsers.page

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
SETTINGS = Settings(secret_keys=("input-patterns-key-0123456789abcdef",))

#: What the core accepts for each kind of typed code, and what no code can be.
ACCEPTED = {
    "numeric": ["123456", "123456".translate(ARABIC_INDIC), "１２３４５６"],
    "text": [
        "ABCD-EFGH-JKMN",
        "abcd efgh jkmn",
        "ABCDEFGHJKMN",
        "A1B2-C3D4-E5F6".translate(ARABIC_INDIC),
        "a1b2c3d4",  # a django-otp static token, imported
    ],
}
REFUSED = {"numeric": ["12345a", "abcdef", "12 345"], "text": ["ABCD", "ABCD_EFGH_JKMN", "!!!"]}


def _patterned() -> list[tuple[str, Any]]:
    specs = [(factor.name, factor.input_spec(SETTINGS)) for factor in builtin_factors()]
    return [(name, spec) for name, spec in specs if spec.pattern]


def _mismatch(page: Any, pattern: str, value: str) -> bool:
    return bool(
        page.evaluate(
            """([pattern, value]) => {
                const input = document.createElement('input');
                input.pattern = pattern;
                input.value = value;
                return input.validity.patternMismatch;
            }""",
            [pattern, value],
        )
    )


def test_every_patterned_factor_is_checked() -> None:
    kinds = {spec.kind for _, spec in _patterned()}
    assert {"numeric", "text"} <= kinds and kinds <= set(ACCEPTED)


@pytest.mark.parametrize(("name", "spec"), _patterned(), ids=[name for name, _ in _patterned()])
def test_the_browser_applies_the_pattern_as_the_core_reads_codes(page, name, spec) -> None:
    page.set_content("<!doctype html><title>patterns</title>")
    for value in REFUSED[spec.kind]:
        assert _mismatch(page, spec.pattern, value), (name, value)
    for value in ACCEPTED[spec.kind]:
        if spec.kind == "numeric":
            value = value[: spec.length].ljust(spec.length, value[-1])
        assert not _mismatch(page, spec.pattern, value), (name, value)
