"""The recovery codes as a text file (core.recovery_sheet): what every integration offers to
download, copy and print, and what FastAPI answers to ``Accept: text/plain``."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from urllib.parse import unquote

import pytest

from otpgate.core.i18n import SHIPPED, gettext
from otpgate.core.recovery_sheet import (
    ACCOUNT,
    CREATED,
    HOW_TO_USE,
    TITLE,
    data_url,
    file_name,
    recovery_sheet,
    wants_text,
)

CODES = ["ABCD-EFGH-JKMN", "2345-6789-PQRS", "TUVW-XYZ2-3456"]
#: 2026-12-01 23:30 UTC (already 2 December east of UTC+0:30).
LATE = datetime(2026, 12, 1, 23, 30, tzinfo=timezone.utc)


def test_the_file_names_brand_account_and_date_then_one_code_a_line():
    sheet = recovery_sheet(CODES, brand="Acme", account="alice@example.com", created=LATE)
    assert sheet.text == (
        "Acme recovery codes\n"
        "Account: alice@example.com\n"
        "Created: 2026-12-01\n"
        "\n"
        "ABCD-EFGH-JKMN\n2345-6789-PQRS\nTUVW-XYZ2-3456\n"
        "\n"
        "Each code works once, when you cannot use your phone or app to sign in. Keep this"
        " file somewhere safe. New codes replace these ones.\n"
    )
    assert sheet.title == "Acme recovery codes"
    assert sheet.heading == (
        "Acme recovery codes",
        "Account: alice@example.com",
        "Created: 2026-12-01",
    )
    assert sheet.file_name == "acme-recovery-codes.txt"


def test_the_date_is_the_utc_day_of_a_time_or_a_date_as_given():
    tokyo = LATE.astimezone(timezone(timedelta(hours=9)))  # 2 December there, same instant
    for created in (LATE, tokyo, LATE.timestamp(), date(2026, 12, 1)):
        sheet = recovery_sheet(CODES, brand="Acme", account="a", created=created)
        assert sheet.heading[2] == "Created: 2026-12-01", created


@pytest.mark.parametrize("language", SHIPPED[1:])
def test_every_language_translates_the_file_and_keeps_the_codes(language):
    sheet = recovery_sheet(CODES, brand="Acme", account="bob", created=LATE, locale=language)
    lines = sheet.text.split("\n")
    for line, source in zip(lines, (TITLE, ACCOUNT, CREATED), strict=False):
        assert line != source.format(brand="Acme", account="bob", date="2026-12-01"), language
    assert "Acme" in lines[0] and "bob" in lines[1] and "2026-12-01" in lines[2]
    assert lines[4:7] == CODES  # nothing else on a code's line, in any language
    assert lines[8] == gettext(HOW_TO_USE, language) != HOW_TO_USE
    assert sheet.file_name == "acme-recovery-codes.txt"  # the name does not change with it


def test_the_file_name_keeps_only_ascii_letters_digits_and_dashes():
    assert file_name("Acme Bank") == "acme-bank-recovery-codes.txt"
    assert file_name("../../etc/passwd") == "etc-passwd-recovery-codes.txt"
    assert file_name('a"b\r\nContent-Type: x') == "a-b-content-type-x-recovery-codes.txt"
    assert file_name("银行") == "recovery-codes.txt"


def test_the_data_url_holds_the_exact_text():
    sheet = recovery_sheet(CODES, brand="Ünï & <co>", account="#1 ?x", created=LATE, locale="ar")
    assert sheet.data_url.startswith("data:text/plain;charset=utf-8,")
    body = sheet.data_url.split(",", 1)[1]
    assert unquote(body) == sheet.text
    assert not set(body) & set(" \n\"'<>&#?")  # safe in an attribute, never cut at # or ?
    assert data_url("a b") == "data:text/plain;charset=utf-8,a%20b"


@pytest.mark.parametrize(
    ("accept", "text"),
    [
        ("text/plain", True),
        ("text/plain; charset=utf-8", True),
        ("application/json", False),
        ("", False),
        (None, False),
        ("*/*", False),
        ("text/plain, application/json", False),  # a tie: JSON, the default
        ("application/json;q=0.5, text/plain", True),
        ("text/plain;q=0.9, */*;q=0.1", True),
        ("text/plain;q=0", False),
        ("text/plain;q=oops", False),
        ("text/html, text/plain;q=0.8", True),
    ],
)
def test_text_is_answered_only_when_asked_for_above_json(accept, text):
    assert wants_text(accept) is text
