"""Checks of a page showing fresh recovery codes, shared by the Django and Flask browser tests:
the codes never overlap, the Download link gives the text file, Copy puts it on the
clipboard and says so, printing shows only the codes under a short title."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

#: Where each code and its number are drawn: the list item's box, the ink of the code's text
#: (on one line), and the room its number ("10. ", drawn before the text whether the marker
#: is inside the box or hangs outside it) takes.
BOXES = """(items) => items.map(li => {
  const box = li.getBoundingClientRect();
  const probe = document.createElement('span'); probe.textContent = '10. ';
  li.appendChild(probe); const marker = probe.getBoundingClientRect().width; probe.remove();
  const range = document.createRange(); range.selectNodeContents(li);
  const ink = [...range.getClientRects()];
  const list = li.parentElement.getBoundingClientRect();
  return {left: box.left, right: box.right, top: box.top, bottom: box.bottom,
          inkLeft: Math.min(...ink.map(r => r.left)), inkRight: Math.max(...ink.map(r => r.right)),
          marker,
          lines: new Set(ink.map(r => Math.round(r.top))).size,
          listLeft: list.left, listRight: list.right, text: li.innerText.trim()};
})"""


def assert_codes_apart(page: Any, selector: str, where: str) -> int:
    """Each code on one line inside its own box, no two boxes overlapping, none beyond the
    list, and room for each number before its code up to the previous code on its row;
    returns how many codes share the first row."""
    boxes = page.locator(selector).evaluate_all(BOXES)
    assert len(boxes) == 10, (where, boxes)
    for box in boxes:
        assert box["lines"] == 1, (where, box)
        assert box["left"] - 0.5 <= box["inkLeft"] and box["inkRight"] <= box["right"] + 0.5, (
            where,
            box,
        )
        assert box["listLeft"] - 0.5 <= box["left"] and box["right"] <= box["listRight"] + 0.5, (
            where,
            box,
        )
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a["right"] <= b["left"] + 0.5
                or b["right"] <= a["left"] + 0.5
                or a["bottom"] <= b["top"] + 0.5
                or b["bottom"] <= a["top"] + 0.5
            )
            assert apart, (where, a, b)
            if abs(a["top"] - b["top"]) < 1:  # side by side: b's number fits after a's code
                first, second = (a, b) if a["inkLeft"] < b["inkLeft"] else (b, a)
                assert second["inkLeft"] - first["inkRight"] >= second["marker"], (where, a, b)
    return sum(1 for box in boxes if abs(box["top"] - boxes[0]["top"]) < 1)


def codes_on_page(page: Any, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


def download_sheet(page: Any, tmp: Path) -> tuple[str, str]:
    """Click Download; the file's suggested name and its text (read from disk)."""
    with page.expect_download() as info:
        page.locator("#otpgate-download").click()
    download = info.value
    target = tmp / download.suggested_filename
    download.save_as(target)
    return download.suggested_filename, target.read_text(encoding="utf-8")


def assert_sheet(text: str, codes: list[str], brand: str, account: str, day: str) -> None:
    """The file: a title naming the brand, the account, the date, then the codes one a line
    (nothing else on those lines), then how to use them."""
    lines = text.split("\n")
    assert lines[0] == f"{brand} recovery codes", lines
    assert lines[1] == f"Account: {account}", lines
    assert lines[2] == f"Created: {day}", lines
    assert lines[4 : 4 + len(codes)] == codes, lines
    assert all(re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code) for code in codes)
    assert "Each code works once" in text


def copy_sheet(page: Any, origin: str) -> tuple[str, str]:
    """Click Copy (clipboard permission granted to ``origin``); the clipboard's text and
    what the live region then says."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    status = page.locator("#otpgate-copied")
    assert status.get_attribute("role") == "status"
    page.get_by_role("button", name="Copy").click()
    page.wait_for_function("() => document.getElementById('otpgate-copied').textContent")
    return str(page.evaluate("() => navigator.clipboard.readText()")), status.inner_text()


def printed(page: Any, codes_selector: str, shot: str | None = None) -> dict[str, Any]:
    """What a printed page shows, with print media emulated: whether the codes and the page's
    heading are visible, the visible buttons and links, the printed title (screenshot to
    ``shot`` when given)."""
    page.emulate_media(media="print")
    try:
        if shot:
            page.screenshot(path=shot, full_page=True)
        shown = {
            "codes": all(item.is_visible() for item in page.locator(codes_selector).all()),
            "h1": page.locator("h1").is_visible(),
            "buttons": [b.inner_text() for b in page.locator("button, a").all() if b.is_visible()],
            "title": page.locator(".otpgate-print-only, .print-only").inner_text(),
        }
    finally:
        page.emulate_media(media="screen")
    return shown
