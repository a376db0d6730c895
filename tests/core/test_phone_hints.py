"""The phone form's example number, in every language of both catalogues, is one it accepts."""

from __future__ import annotations

import re
from pathlib import Path

import phonenumbers
import pytest
from babel.messages.pofile import read_po

SRC = Path(__file__).resolve().parents[2] / "src" / "otpgate"
CATALOGUES = sorted(
    [
        *SRC.glob("locale/*/LC_MESSAGES/otpgate.po"),
        *SRC.glob("integrations/django/locale/*/LC_MESSAGES/django.po"),
    ]
)
NUMBER = re.compile(r"\+[\d\s-]+\d")


def _hints(path: Path) -> list[str]:
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    found = [
        text
        for message in catalogue
        if isinstance(message.id, str) and message.id.startswith("With the country code")
        for text in (message.id, message.string)
    ]
    assert found, f"no phone hint in {path}"
    return found


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(SRC)))
def test_every_phone_hint_example_is_a_valid_number(path: Path) -> None:
    for text in _hints(path):
        example = NUMBER.search(text)
        assert example, text
        assert phonenumbers.is_valid_number(phonenumbers.parse(example.group())), text


def test_both_integrations_templates_use_a_valid_example() -> None:
    for template in (
        SRC / "integrations/flask/templates/otpgate/phone.html",
        SRC / "integrations/django/templates/otpgate/phone_add.html",
    ):
        hint = next(
            line
            for line in template.read_text().splitlines()
            if "otpgate-phone-hint" in line and "<p" in line
        )
        example = NUMBER.search(hint)
        assert example and phonenumbers.is_valid_number(phonenumbers.parse(example.group())), hint
