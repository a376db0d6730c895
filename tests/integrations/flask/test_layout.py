"""The pages' layout defects reported in issue 15, measured in chromium at 375 and 1280 px:
the password field styled like the user name's, the method tabs on one row, "Cancel sign-in"
apart from the button above it, the QR code centred, Chinese semibold text drawn bold."""

from __future__ import annotations

import pyotp

from tests import browser as browsers
from tests.a11y import WIDTHS

from . import test_browser as shared

browser = shared.browser  # one chromium for this module, test_browser.py's
page = browsers.page
bank = shared.bank

ROW = """(els) => els.map(e => { const r = e.getBoundingClientRect();
  return {top: Math.round(r.top), left: r.left, right: r.right}; })"""


#: Dark pixels of an element's text drawn with its font as styled, and at regular weight
#: (a canvas draws with the page's fonts, synthetic bold included).
INK = """(e) => { const s = getComputedStyle(e); const c = document.createElement('canvas');
  c.width = 600; c.height = 80; const g = c.getContext('2d');
  const ink = (weight) => { g.clearRect(0, 0, 600, 80);
    g.font = `${weight} ${s.fontSize} ${s.fontFamily}`; g.fillText(e.textContent.trim(), 0, 50);
    return g.getImageData(0, 0, 600, 80).data.filter((v, i) => i % 4 === 3 && v > 128).length; };
  return {weight: s.fontWeight, drawn: ink(s.fontWeight), regular: ink(400)}; }"""


def box(page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def test_sign_in_tabs_and_cancel_hold_their_layout(page, bank):
    base, outbox = bank
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(base + "/login")
        name, password = box(page, "#username"), box(page, "#password")
        assert (password["width"], password["height"]) == (name["width"], name["height"])
    shared.sign_in(page, base, outbox)  # alice adds an app and recovery codes: three tabs
    page.locator("form[action$='/otp/verify/send'] button").first.click()
    page.locator("#otpgate-code").fill(outbox.last_code_for(shared.PHONE))
    page.locator("#otpgate-code").press("Enter")
    page.wait_for_url(base + "/")
    page.goto(base + "/otp/")
    page.locator("form[action$='/otp/totp'] button").click()
    totp = pyotp.TOTP(page.locator("code.key").inner_text().replace(" ", ""))
    page.locator("#otpgate-code").fill(totp.now())
    page.locator("#otpgate-code").press("Enter")
    page.locator("form[action$='/otp/recovery'] button").click()
    page.locator("ol.codes").wait_for()
    page.context.clear_cookies()
    shared.sign_in(page, base, outbox)
    tabs = page.locator(".tabs a")
    assert tabs.count() == 3
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        row = tabs.evaluate_all(ROW)
        assert len({tab["top"] for tab in row}) == 1, (width, row)  # one row of tabs
        if width >= 1280:  # room enough: each label on one line
            heights = tabs.evaluate_all(
                "(els) => els.map(e => { const r = document.createRange();"
                " r.selectNodeContents(e); return r.getClientRects().length; })"
            )
            assert heights == [1] * len(heights), (width, heights)
        card = box(page, "main")
        assert all(
            card["x"] <= tab["left"] and tab["right"] <= card["x"] + card["width"] for tab in row
        ), (width, row, card)
        cancel = box(page, "#otpgate-cancel")
        above = page.locator("#otpgate-cancel").evaluate(
            "(c) => { const f = c.closest('form').previousElementSibling;"
            " return f.getBoundingClientRect().bottom; }"
        )
        assert cancel["y"] - above >= 16, (width, cancel, above)


def test_qr_code_centred_and_chinese_bold(page, bank):
    base, outbox = bank
    page.context.add_cookies([{"name": "lang", "value": "zh-CN", "url": base}])
    shared.sign_in(page, base, outbox)
    page.locator("form[action$='/otp/verify/send'] button").first.click()
    page.locator("#otpgate-code").fill(outbox.last_code_for(shared.PHONE))
    page.locator("#otpgate-code").press("Enter")
    page.wait_for_url(base + "/")
    page.goto(base + "/otp/")
    page.locator("form[action$='/otp/totp'] button").click()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        figure, svg = box(page, "figure"), box(page, "figure svg")
        centre = figure["x"] + figure["width"] / 2
        assert abs(svg["x"] + svg["width"] / 2 - centre) <= 1, (width, figure, svg)
    for selector in ("label", "button[type=submit]"):
        ink = page.locator(selector).first.evaluate(INK)
        # CJK fonts have no semibold, and 600 was drawn at regular weight
        assert ink["drawn"] > ink["regular"] * 1.2, (selector, ink)
